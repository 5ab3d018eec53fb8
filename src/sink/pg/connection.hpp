// One libpq connection driven by an Asio executor: every call is non-blocking (PQconnectPoll,
// PQsendQuery*, PQputCopyData in nonblocking mode, PQconsumeInput/PQisBusy), and waits are
// async_wait on PQsocket, so the fetch's io_context thread never blocks on the database.
// Host names are resolved here, asynchronously, and given to libpq as addresses
// (host_lookup.hpp): libpq's own lookup is a blocking getaddrinfo.
//
// Failures throw pg::error: one line with libpq's or the server's message and the SQLSTATE,
// never the password (libpq's messages name host, port and user only).
#pragma once

#include "sink/pg/host_lookup.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <charconv>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct pg_conn; // libpq's PGconn: libpq-fe.h stays out of the headers

namespace dynjobs::sink::pg {

enum class failure {
    connect, ///< could not connect or authenticate
    lost,    ///< the connection broke (server restart, network), or the server refused it for
             ///< now (starting up, full, nothing listening): a reconnect may help
    query,   ///< the server refused a statement (SQLSTATE says why)
};

class error : public std::runtime_error {
public:
    error(failure kind, const std::string& message, std::string sqlstate = {})
        : std::runtime_error(message)
        , kind(kind)
        , sqlstate(std::move(sqlstate)) {}
    failure kind;
    std::string sqlstate; ///< e.g. "42501" (insufficient privilege); empty when none
};

/// The connection's settings: a libpq URI (postgresql://...), and the password when it comes
/// from a file (otherwise libpq reads PGPASSWORD or ~/.pgpass itself).
struct connect_params {
    std::string uri;
    std::optional<std::string> password;
    std::chrono::milliseconds timeout{10'000};
};

using row = std::vector<std::optional<std::string>>;

/// Query parameters. (A braced list inside a co_await expression trips GCC 12's coroutine
/// lowering: "array used as initializer".)
template <class... Text>
std::vector<std::string> params(Text&&... text) {
    std::vector<std::string> out;
    out.reserve(sizeof...(text));
    (out.emplace_back(std::forward<Text>(text)), ...);
    return out;
}

/// A field as an integer; 0 for null or text that is not one (counts and epochs the sink asked
/// the server for).
inline std::int64_t as_integer(const std::optional<std::string>& field) noexcept {
    std::int64_t v = 0;
    if (field)
        std::from_chars(field->data(), field->data() + field->size(), v);
    return v;
}

/// Whether a field is not null and equal to `text` (for "t", "on"...).
inline bool holds(const std::optional<std::string>& field, std::string_view text) noexcept {
    return field && *field == text;
}

struct result {
    std::vector<row> rows;      ///< of the last statement that returned rows
    std::uint64_t affected = 0; ///< rows the last statement inserted, updated or copied
};

class connection {
public:
    explicit connection(boost::asio::any_io_executor ex);
    ~connection();
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;

    boost::asio::awaitable<void> connect(connect_params params);
    bool connected() const noexcept { return conn_ != nullptr; }
    /// Drops the connection (a server in a transaction rolls it back).
    void close() noexcept;
    /// Bounds every wait of the calls that follow, until set to time_point::max() again: past
    /// it the connection is dropped and the call throws failure::lost. (connect() keeps its own
    /// timeout; the session also has statement_timeout 15 min and lock_timeout 1 min.)
    void set_deadline(std::chrono::steady_clock::time_point at) noexcept;

    /// One statement with text parameters (extended protocol).
    boost::asio::awaitable<result> query(std::string sql, std::vector<std::string> params = {});
    /// Statements without parameters, several allowed (simple protocol).
    boost::asio::awaitable<result> execute(std::string sql);
    /// COPY ... FROM STDIN with the data in the COPY's format from `next_piece`, called until
    /// it returns an empty piece (each piece is sent before the next call); returns the rows
    /// copied. An exception from `next_piece` leaves the COPY unfinished: close the connection.
    boost::asio::awaitable<std::uint64_t> copy_in(std::string sql,
                                                  std::function<std::string_view()> next_piece);

private:
    enum class ready { read, write };
    boost::asio::awaitable<std::optional<host_options>>
    look_up_hosts(const std::string& uri, std::chrono::steady_clock::time_point deadline);
    boost::asio::awaitable<ready> wait_any();
    boost::asio::awaitable<void> wait(bool for_write,
                                      std::chrono::steady_clock::time_point deadline);
    boost::asio::awaitable<void> flush();
    boost::asio::awaitable<result> results(bool until_copy_in);
    void watch_socket();
    [[noreturn]] void fail(failure kind, const std::string& message, std::string sqlstate = {});
    [[noreturn]] void fail_from_connection();

    boost::asio::any_io_executor ex_;
    pg_conn* conn_ = nullptr;
    std::optional<boost::asio::posix::stream_descriptor> socket_;
    int fd_ = -1;
    std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
};

} // namespace dynjobs::sink::pg
