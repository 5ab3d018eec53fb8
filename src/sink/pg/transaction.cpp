#include "sink/pg/transaction.hpp"

#include "sink/pg/sql.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <iostream>
#include <optional>

namespace dynjobs::sink::pg {
namespace asio = boost::asio;
using std::chrono::steady_clock;

transaction_runner::transaction_runner(asio::any_io_executor ex, connect_params params,
                                       std::string shown, std::string gave_up_hint,
                                       std::chrono::milliseconds retry_for, bool announce)
    : ex_(ex)
    , conn_(ex)
    , params_(std::move(params))
    , shown_(std::move(shown))
    , gave_up_hint_(std::move(gave_up_hint))
    , backoff_(std::chrono::milliseconds(100), std::chrono::seconds(5), retry_for)
    , announce_(announce) {}

bool is_transient_refusal(const std::string& sqlstate) noexcept {
    return sqlstate == "40001" || sqlstate == "40P01" || sqlstate == "55P03" || sqlstate == "57014";
}

asio::awaitable<void> transaction_runner::run(statements_fn statements,
                                              std::chrono::milliseconds attempt_budget) {
    std::optional<steady_clock::time_point> outage;
    for (;;) {
        std::optional<pg::error> lost;
        try {
            conn_.set_deadline(steady_clock::now() + attempt_budget);
            co_await run_once(statements);
            conn_.set_deadline(steady_clock::time_point::max());
            break;
        } catch (const pg::error& e) {
            conn_.set_deadline(steady_clock::time_point::max());
            // The session may hold an aborted transaction: the next attempt (or run()) gets a
            // new one.
            conn_.close();
            if (e.kind == pg::failure::query && !is_transient_refusal(e.sqlstate))
                throw std::runtime_error("PostgreSQL refused the commit: " + std::string(e.what()));
            lost = e;
        } catch (...) {
            conn_.set_deadline(steady_clock::time_point::max());
            conn_.close();
            throw;
        }
        const auto now = steady_clock::now();
        if (!outage) {
            outage = now;
            if (announce_)
                std::cerr << (lost->kind == pg::failure::query
                                  ? "\ndynjobs: the commit was interrupted ("
                                  : "\ndynjobs: lost the database connection (")
                          << lost->what() << "); retrying on a new connection\n";
        }
        const auto wait =
            backoff_.next(std::chrono::duration_cast<std::chrono::milliseconds>(now - *outage));
        if (!wait)
            throw std::runtime_error("the database at " + shown_ + " stayed unreachable for " +
                                     std::to_string(backoff_.give_up_after().count() / 1000) +
                                     " s (--pg-retry-for): " + lost->what() + "; " + gave_up_hint_);
        asio::steady_timer timer(ex_, *wait);
        co_await timer.async_wait(asio::use_awaitable);
    }
    backoff_.reset();
}

asio::awaitable<void> transaction_runner::run_once(const statements_fn& statements) {
    if (!conn_.connected()) {
        co_await conn_.connect(params_);
        staging_ready_ = false;
        if (on_connect_)
            co_await on_connect_(conn_);
    }
    if (!staging_ready_) {
        co_await conn_.execute(staging_table_sql());
        staging_ready_ = true;
    }
    co_await conn_.execute("BEGIN");
    co_await statements(conn_);
    co_await conn_.execute("COMMIT");
}

} // namespace dynjobs::sink::pg
