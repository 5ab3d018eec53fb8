// One transaction of a sink, made to survive a lost connection: on a connected session with the
// staging table, BEGIN, the caller's statements, COMMIT; a connection lost on the way (server
// restart, network, an attempt past its deadline) or a refusal that says nothing about the data
// (serialization failure, deadlock, lock or statement timeout) is retried on a new connection
// with backoff for --pg-retry-for. The retry repeats the whole transaction, so the statements
// must be idempotent (the upsert and ON CONFLICT are), and a COMMIT that landed before the loss
// is harmless. Whatever fails, the session is closed: no attempt runs in an aborted transaction.
#pragma once

#include "sink/pg/connection.hpp"
#include "sink/pg/reconnect_backoff.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <functional>
#include <string>

namespace dynjobs::sink::pg {

/// Jobs per commit, for the backfill's and sync's sinks alike: enough rows per COPY that a
/// commit's fixed cost (round trips, the fsync of COMMIT) is small against its data, few enough
/// that a crash refetches little and that a commit's rows stay small in memory.
constexpr std::uint64_t commit_jobs = 10'000;

class transaction_runner {
public:
    /// `shown`: the database as messages name it (no password). `gave_up_hint`: what the
    /// message for a database that stayed away tells the user to do. `announce`: print a line on
    /// stderr when the connection is lost (the backfill's progress output; not sync's log).
    transaction_runner(boost::asio::any_io_executor ex, connect_params params, std::string shown,
                       std::string gave_up_hint, std::chrono::milliseconds retry_for,
                       bool announce);

    /// The session (for reads outside a transaction: open's checks).
    connection& session() noexcept { return conn_; }
    const connect_params& params() const noexcept { return params_; }

    using statements_fn = std::function<boost::asio::awaitable<void>(connection&)>;

    /// Runs after every new connection, before the staging table: e.g. re-taking a session lock.
    /// It throws pg::error (failure::lost to be retried like a lost connection).
    void set_on_connect(statements_fn on_connect) { on_connect_ = std::move(on_connect); }

    /// Runs `statements` between BEGIN and COMMIT, retried as above; an attempt that takes
    /// longer than `attempt_budget` is given up (the connection dropped) and retried, so a
    /// network gone silent cannot hold the run past retry_for. Throws std::runtime_error for a
    /// statement the server refused, or once the database stayed unreachable for retry_for
    /// (naming it); the session is then closed, which rolls the transaction back, so the next
    /// run() starts on a clean one.
    boost::asio::awaitable<void>
    run(statements_fn statements,
        std::chrono::milliseconds attempt_budget = std::chrono::minutes(1));

private:
    boost::asio::awaitable<void> run_once(const statements_fn& statements);

    boost::asio::any_io_executor ex_;
    connection conn_;
    connect_params params_;
    std::string shown_;
    std::string gave_up_hint_;
    reconnect_backoff backoff_;
    bool announce_;
    bool staging_ready_ = false;
    statements_fn on_connect_;
};

/// Refusals that say nothing about the data, so the same transaction may succeed when tried
/// again: serialization failure, deadlock, lock_timeout, statement_timeout.
bool is_transient_refusal(const std::string& sqlstate) noexcept;

} // namespace dynjobs::sink::pg
