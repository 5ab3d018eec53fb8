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

asio::awaitable<void>
transaction_runner::run(std::function<asio::awaitable<void>(connection&)> statements) {
    std::optional<steady_clock::time_point> outage;
    for (;;) {
        std::optional<pg::error> lost;
        try {
            co_await run_once(statements);
            break;
        } catch (const pg::error& e) {
            if (e.kind == pg::failure::query) {
                conn_.close(); // not left in an aborted transaction for the next run()
                throw std::runtime_error("PostgreSQL refused the commit: " + std::string(e.what()));
            }
            lost = e;
        }
        conn_.close();
        const auto now = steady_clock::now();
        if (!outage) {
            outage = now;
            if (announce_)
                std::cerr << "\ndynjobs: lost the database connection (" << lost->what()
                          << "); reconnecting\n";
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

asio::awaitable<void>
transaction_runner::run_once(const std::function<asio::awaitable<void>(connection&)>& statements) {
    if (!conn_.connected()) {
        co_await conn_.connect(params_);
        staging_ready_ = false;
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
