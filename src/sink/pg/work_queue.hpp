// `backfill --worker`: a selection's segments as rows of SCHEMA.work that any number of worker
// processes, on any machines, claim with FOR UPDATE SKIP LOCKED (the work-queue pattern of
// River, Oban and Que) under a lease they renew while fetching. A worker that dies stops
// renewing; once its lease expires another worker claims the segment and fetches it again, and
// the upsert keeps the jobs table exact. A segment's jobs, its `segments` row and its done_at
// commit in one transaction (mark_done() runs inside the caller's), so a segment is done exactly
// when its jobs are there.
#pragma once

#include "sink/pg/transaction.hpp"
#include "sink/pg/turns.hpp"

#include <dynjobs/timestamp.hpp>

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace dynjobs::sink::pg {

/// Fetches of a segment that may fail before it is left to the operator (listed, exit 2): a
/// window the API cannot serve must not be retried forever by every worker in turn.
inline constexpr int default_max_failures = 3;

/// One segment: a tenant ("" without --tenants), an organization ("" for every organization)
/// and a window.
struct work_item {
    std::string tenant;
    std::string organization;
    timestamp start{};
    timestamp finish{};
    int claims = 0; ///< this claim included: more than 1 is a takeover or a retry
    /// Workers holding a live lease on this tenant's segments right after this claim, this one
    /// included: how many share the tenant's rate now.
    std::uint64_t live_workers = 1;
};

/// Where a selection's run stands, as the work table says.
struct work_counts {
    std::uint64_t total = 0;
    std::uint64_t done = 0;
    std::uint64_t leased = 0;  ///< not done, under a live lease
    std::uint64_t pending = 0; ///< not done, claimable now (never leased, or the lease expired)
    std::uint64_t failed = 0;  ///< not done, failed max_failures times: no longer claimed
    bool complete() const noexcept { return done == total; }
    bool nothing_left() const noexcept { return leased == 0 && pending == 0; }
};

/// What plan() found or made.
struct planned_run {
    bool planned_now = false; ///< this worker wrote the work rows
    timestamp start{};        ///< the run's range, as the planning worker resolved it
    timestamp finish{};
};

class work_queue {
public:
    /// `control`: the connection for claims and renewals (not the one that commits jobs, so a
    /// renewal never waits behind a long commit). `worker`: this process's name in the table.
    work_queue(boost::asio::any_io_executor ex, transaction_runner& control, std::string schema,
               std::string selection_hash, std::string worker, std::chrono::milliseconds lease,
               int max_failures);

    /// Writes the selection's `runs` row and one work row per segment, unless a worker already
    /// did: under a transaction-scoped advisory lock, so workers starting together plan once.
    /// A run that finished without workers (no work rows, completed_at set) is planned afresh,
    /// as a plain rerun would fetch it again. `segments`: (organization, start, finish).
    boost::asio::awaitable<planned_run> plan(const std::string& selection_text, timestamp start,
                                             timestamp finish,
                                             const std::vector<work_item>& segments);

    /// The next claimable segment, leased to this worker; nullopt when none is claimable now
    /// (all done, leased by live workers, or failed out).
    boost::asio::awaitable<std::optional<work_item>> claim();
    /// Extends every lease this worker holds on segments not done; returns those segments
    /// (tenant, organization and start set), so that a segment no longer among them (claimed
    /// by another worker after this one's lease ran out) is known.
    boost::asio::awaitable<std::vector<work_item>> renew();
    /// Gives a segment back after a failed fetch, counting the failure; after max_failures it
    /// is no longer claimed, and the run ends with it listed as failed.
    boost::asio::awaitable<void> give_back(const work_item& item, const std::string& error);
    /// Replaces `item`, leased by this worker, with the work rows `pieces` (shorter windows
    /// covering it, claimable at once by any worker). False when the lease is no longer this
    /// worker's (taken over): then nothing changes.
    boost::asio::awaitable<bool> split(const work_item& item, const std::vector<work_item>& pieces);
    /// Gives back every lease this worker holds, uncounted (an interrupt): others take over at
    /// once instead of after the lease.
    boost::asio::awaitable<void> give_back_all();
    boost::asio::awaitable<work_counts> counts();
    /// The failed-out segments with their last error, for the report: one line per segment, or
    /// per tenant and error when several failed alike.
    boost::asio::awaitable<std::vector<std::string>> failures();
    /// A tenant whose credentials the API refused: every segment of it not done is failed out
    /// with `error` (no worker claims them again), so that the other tenants go on and the run
    /// ends failed, naming it. Segments other workers are fetching still commit if they can.
    boost::asio::awaitable<void> fail_tenant(const std::string& tenant, const std::string& error);
    /// Per tenant, the workers holding a live lease on its segments: how many share its rate.
    boost::asio::awaitable<std::map<std::string, std::uint64_t>> live_workers_by_tenant();
    /// Records the run complete (runs.completed_at).
    boost::asio::awaitable<void> complete_run();

    /// Inside the caller's commit transaction on its own connection: the segment's `segments`
    /// row and its done_at, by this worker.
    boost::asio::awaitable<void> mark_done(connection& conn, const work_item& item,
                                           std::uint64_t jobs, std::uint32_t pages) const;

    const std::string& worker() const noexcept { return worker_; }

private:
    /// One transaction on the control connection, after the ones asked for before it.
    boost::asio::awaitable<void> in_turn(transaction_runner::statements_fn statements);
    std::string table(std::string_view name) const;
    boost::asio::awaitable<void> insert_work(connection& c,
                                             const std::vector<work_item>& segments) const;

    transaction_runner& control_;
    turns control_turns_;
    std::string schema_;
    std::string hash_;
    std::string worker_;
    std::string lease_seconds_;
    std::string max_failures_;
};

/// The windows `item` is cut into when its query matches `total` jobs, more than `above`: as
/// many equal spans as it takes for about `above` jobs each, in whole seconds, none shorter than
/// a minute (the API's times are in seconds; a burst within a minute stays whole). Empty when
/// the segment stays as it is.
std::vector<work_item> split_windows(const work_item& item, std::int64_t total, std::int64_t above);

/// A name for this process in the work table: host name, process id and a random suffix, so
/// that a restarted container (same host name, often the same pid) is a new worker.
std::string worker_name();

} // namespace dynjobs::sink::pg
