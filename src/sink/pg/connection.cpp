#include "sink/pg/connection.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <libpq-fe.h>

#include <algorithm>
#include <charconv>
#include <memory>

namespace dynjobs::sink::pg {
namespace asio = boost::asio;
using std::chrono::steady_clock;

namespace {

// libpq's messages end with a newline and may hold several lines ("FATAL:  ...\nDETAIL: ..."):
// the command prints one line.
std::string one_line(const char* text) {
    std::string out;
    for (const char* p = text ? text : ""; *p; ++p) {
        if (*p == '\n' || *p == '\r') {
            out += "; ";
        } else if (*p == ' ' || *p == '\t') {
            if (!out.empty() && out.back() != ' ')
                out.push_back(' ');
        } else {
            out.push_back(*p);
        }
    }
    while (!out.empty() && (out.back() == ' ' || out.back() == ';'))
        out.pop_back();
    return out.empty() ? "unknown error" : out;
}

// Class 08 (connection exception) and the shutdown codes of class 57 end the session: the
// statement may succeed on a new connection.
bool ends_session(const std::string& sqlstate) {
    return sqlstate.starts_with("08") || sqlstate == "57P01" || sqlstate == "57P02" ||
           sqlstate == "57P03";
}

// A connection attempt refused for a while rather than for its settings: nothing listens (a
// server restarting), or the server is starting up, shutting down or in recovery (57P03), or
// full (53300). libpq gives no SQLSTATE for a failed connection, only the message: these are
// its and the server's English texts (the sink's servers' lc_messages; another language falls
// back to "cannot connect", exit 1, as before).
bool unavailable_for_now(std::string_view message) {
    for (const std::string_view text :
         {"Connection refused", "the database system is starting up",
          "the database system is shutting down", "the database system is in recovery mode",
          "the database system is not yet accepting connections", "too many clients already",
          "remaining connection slots are reserved"})
        if (message.find(text) != message.npos)
            return true;
    return false;
}

struct result_deleter {
    void operator()(PGresult* r) const noexcept { PQclear(r); }
};
using result_ptr = std::unique_ptr<PGresult, result_deleter>;

} // namespace

connection::connection(asio::any_io_executor ex)
    : ex_(std::move(ex)) {}

connection::~connection() {
    close();
}

void connection::close() noexcept {
    if (socket_) {
        // The socket is libpq's: PQfinish closes it, asio must only forget it.
        socket_->release();
        socket_.reset();
    }
    fd_ = -1;
    if (conn_) {
        PQfinish(conn_);
        conn_ = nullptr;
    }
}

void connection::watch_socket() {
    const int fd = PQsocket(conn_);
    if (fd < 0)
        fail(failure::lost, "the connection has no socket");
    if (socket_ && fd == fd_)
        return;
    if (socket_)
        socket_->release();
    socket_.emplace(ex_, fd);
    fd_ = fd;
}

void connection::fail(failure kind, const std::string& message, std::string sqlstate) {
    if (kind != failure::query)
        close();
    throw error(kind, message, std::move(sqlstate));
}

void connection::fail_from_connection() {
    const bool bad = conn_ == nullptr || PQstatus(conn_) == CONNECTION_BAD;
    fail(bad ? failure::lost : failure::query,
         conn_ ? one_line(PQerrorMessage(conn_)) : "not connected");
}

asio::awaitable<void> connection::wait(bool for_write, steady_clock::time_point deadline) {
    watch_socket();
    asio::steady_timer timer(ex_);
    const bool by_caller = deadline_ < deadline;
    deadline = std::min(deadline, deadline_);
    const bool timed = deadline != steady_clock::time_point::max();
    if (timed) {
        timer.expires_at(deadline);
        timer.async_wait([this](boost::system::error_code ec) {
            if (!ec && socket_)
                socket_->cancel();
        });
    }
    const auto type = for_write ? asio::posix::stream_descriptor::wait_write
                                : asio::posix::stream_descriptor::wait_read;
    const auto [ec] = co_await socket_->async_wait(type, asio::as_tuple(asio::use_awaitable));
    timer.cancel();
    if (ec && by_caller && steady_clock::now() >= deadline)
        fail(failure::lost, "no answer from the database in time (a network or server that "
                            "stopped answering)");
    if (ec && timed && steady_clock::now() >= deadline)
        fail(failure::connect, "timed out connecting");
    if (ec)
        fail(failure::lost, "waiting on the connection: " + ec.message());
}

asio::awaitable<connection::ready> connection::wait_any() {
    using namespace asio::experimental::awaitable_operators;
    watch_socket();
    // A server or network that stopped reading leaves the send buffer full: without a bound this
    // waits forever (the kernel's tcp_user_timeout ends it too, this is the caller's own bound).
    asio::steady_timer timer(ex_, deadline_);
    const auto which = co_await (socket_->async_wait(asio::posix::stream_descriptor::wait_read,
                                                     asio::as_tuple(asio::use_awaitable)) ||
                                 socket_->async_wait(asio::posix::stream_descriptor::wait_write,
                                                     asio::as_tuple(asio::use_awaitable)) ||
                                 timer.async_wait(asio::as_tuple(asio::use_awaitable)));
    if (which.index() == 2)
        fail(failure::lost, "no answer from the database in time (a network or server that "
                            "stopped answering)");
    const auto [ec] = which.index() == 0 ? std::get<0>(which) : std::get<1>(which);
    if (ec)
        fail(failure::lost, "waiting on the connection: " + ec.message());
    co_return which.index() == 0 ? ready::read : ready::write;
}

asio::awaitable<std::optional<host_options>>
connection::look_up_hosts(const std::string& uri, steady_clock::time_point deadline) {
    using namespace asio::experimental::awaitable_operators;
    const auto hosts = hosts_to_look_up(uri);
    if (!hosts)
        co_return std::nullopt;
    std::vector<std::vector<std::string>> addresses(hosts->hosts.size());
    for (std::size_t i = 0; i < hosts->hosts.size(); ++i) {
        const auto& host = hosts->hosts[i];
        if (!needs_lookup(host))
            continue;
        asio::ip::tcp::resolver resolver(ex_);
        asio::steady_timer timer(ex_, deadline);
        auto which = co_await (resolver.async_resolve(host, hosts->ports[i],
                                                      asio::ip::tcp::resolver::numeric_service,
                                                      asio::as_tuple(asio::use_awaitable)) ||
                               timer.async_wait(asio::as_tuple(asio::use_awaitable)));
        if (which.index() == 1)
            fail(failure::lost, "timed out looking up host name \"" + host + "\"");
        const auto [ec, results] = std::get<0>(std::move(which));
        // libpq's wording; a DNS server that answers "try again" may answer later.
        if (ec)
            fail(ec == asio::error::host_not_found_try_again ? failure::lost : failure::connect,
                 "could not translate host name \"" + host + "\" to address: " + ec.message());
        for (const auto& entry : results) {
            auto address = entry.endpoint().address().to_string();
            if (std::find(addresses[i].begin(), addresses[i].end(), address) == addresses[i].end())
                addresses[i].push_back(std::move(address));
        }
    }
    co_return with_addresses(*hosts, addresses);
}

asio::awaitable<void> connection::connect(connect_params params) {
    close();
    const auto deadline = steady_clock::now() + params.timeout;
    const auto looked_up = co_await look_up_hosts(params.uri, deadline);
    // Ours first: the URI (expanded from dbname) overrides them, then what must not be
    // overridden (client_encoding: our text, COPY too, is UTF-8), the password file last.
    // Keepalives find a dead peer while the sink waits for an answer; tcp_user_timeout ends a
    // send that no one acknowledges (a black-holed network mid-COPY) after 30 s. Either makes
    // the connection lost, and the commit goes through the reconnect path.
    std::vector<const char*> keys{
        "application_name", "keepalives",       "keepalives_idle", "keepalives_interval",
        "keepalives_count", "tcp_user_timeout", "dbname",          "client_encoding"};
    std::vector<const char*> values{"dynjobs",          "1",   "10", "5", "3", "30000",
                                    params.uri.c_str(), "UTF8"};
    if (params.password) {
        keys.push_back("password");
        values.push_back(params.password->c_str());
    }
    if (looked_up) { // after dbname: they override the URI's host and port
        for (const auto* key : {"host", "hostaddr", "port"})
            keys.push_back(key);
        for (const auto* value :
             {looked_up->host.c_str(), looked_up->hostaddr.c_str(), looked_up->port.c_str()})
            values.push_back(value);
    }
    keys.push_back(nullptr);
    values.push_back(nullptr);
    conn_ = PQconnectStartParams(keys.data(), values.data(), 1);
    if (!conn_)
        throw error(failure::connect, "out of memory starting a connection");
    if (PQstatus(conn_) == CONNECTION_BAD)
        fail(failure::connect, one_line(PQerrorMessage(conn_)));
    // libpq prints the server's notices ("schema already exists, skipping") on stderr by
    // default; the command's stderr is its own.
    PQsetNoticeProcessor(
        conn_, [](void*, const char*) {}, nullptr);
    // libpq's protocol: start as if PQconnectPoll had asked to wait for writing.
    auto status = PGRES_POLLING_WRITING;
    for (;;) {
        if (status == PGRES_POLLING_OK)
            break;
        if (status == PGRES_POLLING_FAILED) {
            auto message = one_line(PQerrorMessage(conn_));
            fail(unavailable_for_now(message) ? failure::lost : failure::connect, message);
        }
        // libpq may switch sockets while connecting (the next address of a host): register
        // the current one afresh each time rather than trust a number that may be reused.
        if (socket_) {
            socket_->release();
            socket_.reset();
        }
        co_await wait(status == PGRES_POLLING_WRITING, deadline);
        status = PQconnectPoll(conn_);
    }
    if (PQsetnonblocking(conn_, 1) != 0)
        fail(failure::connect, one_line(PQerrorMessage(conn_)));
    watch_socket();
    // The server's own bounds, generous against the sink's largest statement (a commit group's
    // COPY takes seconds): a statement stuck behind another session's lock, or running away,
    // ends with an error instead of holding the run forever.
    // search_path: every name the sink uses is qualified, and a schema of the role's own (the
    // default "$user", public) must not be able to put a function or table in their place.
    co_await execute("SET statement_timeout = '15min'; SET lock_timeout = '1min'; SET "
                     "search_path = pg_catalog, pg_temp");
}

void connection::set_deadline(steady_clock::time_point at) noexcept {
    deadline_ = at;
}

asio::awaitable<void> connection::flush() {
    for (;;) {
        const int r = PQflush(conn_);
        if (r == 0)
            co_return;
        if (r < 0)
            fail_from_connection();
        // libpq's rule: while output is pending, input must be read too, or a server blocked
        // on writing to us never reads the rest.
        if (co_await wait_any() == ready::read && !PQconsumeInput(conn_))
            fail_from_connection();
    }
}

asio::awaitable<result> connection::results(bool until_copy_in) {
    result out;
    std::optional<std::pair<std::string, std::string>> first_error; // message, SQLSTATE
    for (;;) {
        while (PQisBusy(conn_)) {
            co_await wait(false, steady_clock::time_point::max());
            if (!PQconsumeInput(conn_))
                fail_from_connection();
        }
        const result_ptr r(PQgetResult(conn_));
        if (!r)
            break;
        switch (PQresultStatus(r.get())) {
        case PGRES_COPY_IN:
            if (until_copy_in)
                co_return out;
            fail(failure::query, "the server asked for COPY data unexpectedly");
        case PGRES_TUPLES_OK: {
            out.rows.clear();
            const int n = PQntuples(r.get());
            const int fields = PQnfields(r.get());
            for (int i = 0; i < n; ++i) {
                row values;
                for (int f = 0; f < fields; ++f) {
                    if (PQgetisnull(r.get(), i, f))
                        values.emplace_back();
                    else
                        values.emplace_back(
                            std::string(PQgetvalue(r.get(), i, f),
                                        static_cast<std::size_t>(PQgetlength(r.get(), i, f))));
                }
                out.rows.push_back(std::move(values));
            }
            break;
        }
        case PGRES_COMMAND_OK: {
            const std::string_view tuples = PQcmdTuples(r.get());
            out.affected = 0;
            std::from_chars(tuples.data(), tuples.data() + tuples.size(), out.affected);
            break;
        }
        case PGRES_EMPTY_QUERY:
        case PGRES_COPY_OUT:
        case PGRES_COPY_BOTH:
        case PGRES_SINGLE_TUPLE:
        case PGRES_PIPELINE_SYNC:
        case PGRES_PIPELINE_ABORTED:
        case PGRES_NONFATAL_ERROR:
            break;
        case PGRES_BAD_RESPONSE:
        case PGRES_FATAL_ERROR:
            if (!first_error) {
                const char* state = PQresultErrorField(r.get(), PG_DIAG_SQLSTATE);
                first_error.emplace(one_line(PQresultErrorMessage(r.get())), state ? state : "");
            }
            break;
        }
    }
    if (first_error) {
        auto& [message, state] = *first_error;
        const bool lost = PQstatus(conn_) == CONNECTION_BAD || ends_session(state);
        fail(lost ? failure::lost : failure::query,
             state.empty() ? message : message + " (SQLSTATE " + state + ")", state);
    }
    if (PQstatus(conn_) == CONNECTION_BAD)
        fail_from_connection();
    co_return out;
}

asio::awaitable<result> connection::query(std::string sql, std::vector<std::string> params) {
    if (!conn_)
        fail(failure::lost, "not connected");
    std::vector<const char*> values;
    for (const auto& p : params)
        values.push_back(p.c_str());
    if (!PQsendQueryParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr,
                           values.data(), nullptr, nullptr, 0))
        fail_from_connection();
    co_await flush();
    co_return co_await results(false);
}

asio::awaitable<result> connection::execute(std::string sql) {
    if (!conn_)
        fail(failure::lost, "not connected");
    if (!PQsendQuery(conn_, sql.c_str()))
        fail_from_connection();
    co_await flush();
    co_return co_await results(false);
}

asio::awaitable<std::uint64_t> connection::copy_in(std::string sql,
                                                   std::function<std::string_view()> next_piece) {
    if (!conn_)
        fail(failure::lost, "not connected");
    if (!PQsendQuery(conn_, sql.c_str()))
        fail_from_connection();
    co_await flush();
    co_await results(true);
    for (auto data = next_piece(); !data.empty(); data = next_piece()) {
        for (;;) {
            const int r = PQputCopyData(conn_, data.data(), static_cast<int>(data.size()));
            if (r < 0)
                fail_from_connection();
            if (r == 1)
                break;
            // Nonblocking mode and libpq's buffer full: wait until the socket takes it.
            co_await flush();
        }
        // libpq grows its buffer rather than refuse a piece (0 above means it could not), so a
        // COPY fed faster than the server reads would gather in it whole: hand each piece to
        // the socket before taking the next.
        co_await flush();
    }
    for (;;) {
        const int r = PQputCopyEnd(conn_, nullptr);
        if (r < 0)
            fail_from_connection();
        if (r == 1)
            break;
        co_await flush();
    }
    co_await flush();
    co_return (co_await results(false)).affected;
}

} // namespace dynjobs::sink::pg
