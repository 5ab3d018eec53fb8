// Transaction granularity: a transaction per group of completed segments. A segment's jobs are
// held (as COPY binary tuples) until the segment completes, in memory up to held_in_memory for
// all open segments together, the rest in temporary files (held_rows); completed segments are
// committed together once they hold 10,000 jobs or --checkpoint-interval has passed since the last
// commit, and at the end. One transaction: COPY into a temporary staging table, one INSERT ... ON
// CONFLICT into jobs, the segments' rows. A commit runs while the fetch goes on (one at a time):
// the database's work overlaps the network's instead of adding to it. A crash rolls back the open
// transaction: its segments are not recorded done, so the next run fetches them again; an
// unfinished segment was never written.
//
// A connection lost mid-commit (server restart) is retried on a new connection with backoff
// for --pg-retry-for (pg/transaction.hpp); the retry repeats the whole transaction, which is
// idempotent (the upsert and the segments' ON CONFLICT), so a COMMIT that did land before the
// loss is harmless.
#include "sink/pg_sink.hpp"

#include "cli/arg_reader.hpp"
#include "common/temporary_file.hpp"
#include "sink/pg/connection.hpp"
#include "sink/pg/schema.hpp"
#include "sink/pg/segment_rows.hpp"
#include "sink/pg/sql.hpp"
#include "sink/pg/transaction.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <iostream>
#include <map>
#include <utility>

namespace dynjobs::sink {
namespace asio = boost::asio;
using std::chrono::steady_clock;

namespace {

using namespace dynjobs::cli;

// Parameters per statement are limited to 65,535: seven per segment.
constexpr std::size_t segments_per_statement = 1'000;

// Open segments' rows in memory at most, together; past it the largest open segment's rows move
// to its temporary file. 8 MiB is about 25,000 jobs: 30-day windows of most organizations never
// spill, and ten million jobs in one window (`--window none`) hold 8 MiB, not gigabytes.
constexpr std::size_t held_in_memory = 8u << 20;
// A segment whose rows went to disk sends the rest after them in pieces of this size, instead
// of growing a buffer up to held_in_memory again.
constexpr std::size_t spill_piece = 1u << 20;

// Completed segments committed together: their jobs as COPY binary tuples, and (key, jobs, pages).
struct commit_group {
    std::vector<pg::held_rows> rows; // one per segment
    std::uint64_t jobs = 0;
    std::vector<std::tuple<policy::segment_key, std::uint64_t, std::uint32_t>> segments;
};

class pg_sink final : public job_sink {
public:
    pg_sink(const backfill_plan& plan, asio::any_io_executor ex)
        : plan_(plan)
        , target_(*plan.pg)
        , ex_(ex)
        , runner_(ex, pg::connect_params{target_.uri, target_.password}, target_.shown,
                  "every committed segment is kept: run the same command to finish",
                  target_.retry_for, plan.level != verbosity::quiet)
        , conn_(runner_.session()) {
        hash_ = pg::selection_hash(plan.chosen);
        runner_.set_on_connect([this](pg::connection&) { return relock_selection(); });
    }

    asio::awaitable<resume_point> open() override {
        try {
            co_await conn_.connect(runner_.params());
            co_await pg::prepare_schema(conn_, target_.schema, true);
            if (!co_await lock_selection())
                throw std::runtime_error(
                    "another dynjobs run of this selection is in progress (schema " +
                    target_.schema + "): wait for it, or stop it");
        } catch (const std::exception&) {
            rethrow_as_open_failure(target_);
        }
        resume_point out;
        out.start = plan_.request.start;
        out.finish = plan_.request.finish;
        const auto run = co_await conn_.query(
            "SELECT (extract(epoch FROM range_start) * 1000)::bigint, (extract(epoch FROM "
            "range_finish) * 1000)::bigint, completed_at IS NOT NULL FROM " +
                table("runs") + " WHERE selection_hash = $1",
            pg::params(hash_));
        if (run.rows.empty())
            co_return out; // never run
        const auto& row = run.rows.front();
        const bool completed = pg::holds(row.at(2), "t");
        if (completed && !plan_.resume)
            co_return out; // finished before: a fresh run fetches it all again (and updates)
        const auto stored_start = pg::from_millis(pg::as_integer(row.at(0)));
        const auto stored_finish = pg::from_millis(pg::as_integer(row.at(1)));
        // Unfinished (a crash, an interrupt): the same command (the same resolved range)
        // continues it, so kill -9 then the same command line finishes. A relative --since that
        // now resolves to another range must not quietly finish the old one instead: as the file
        // sink does without --resume, say so and let the operator choose.
        if (!completed && !plan_.resume &&
            (stored_start != plan_.request.start || stored_finish != plan_.request.finish))
            throw usage_error{
                "--output " + target_.shown + ": an unfinished run of this selection covers " +
                format_iso8601(stored_start) + " .. " + format_iso8601(stored_finish) + ", not " +
                format_iso8601(plan_.request.start) + " .. " +
                format_iso8601(plan_.request.finish) +
                ": add --resume to finish it, or delete its row (DELETE FROM " + table("runs") +
                " WHERE selection_hash = '" + hash_ + "') to start over"};
        // Continued with the range fixed at its first start.
        out.resuming = true;
        out.complete = completed;
        out.start = stored_start;
        out.finish = stored_finish;
        resuming_ = true;
        fetch_request request = plan_.request;
        request.start = out.start;
        request.finish = out.finish;
        const auto windows = request.windows();
        // A row counts only for the very window it names: --worker may have split a window
        // into shorter pieces, and a piece sharing a window's start is not the window.
        std::map<std::tuple<std::string, std::int64_t, std::int64_t>, policy::segment_key> keys;
        for (std::size_t slot = 0; slot < org_slots(); ++slot)
            for (std::size_t w = 0; w < windows.size(); ++w)
                keys.emplace(std::tuple(org_text(slot), windows[w].first.time_since_epoch().count(),
                                        windows[w].second.time_since_epoch().count()),
                             policy::segment_key{slot, w});
        const auto done = co_await conn_.query(std::string("SELECT organization_id, ") +
                                                   pg::window_millis + ", jobs FROM " +
                                                   table("segments") + " WHERE selection_hash = $1",
                                               pg::params(hash_));
        for (const auto& segment : done.rows) {
            const auto it = keys.find({segment.at(0).value_or(""), pg::as_integer(segment.at(1)),
                                       pg::as_integer(segment.at(2))});
            if (it == keys.end())
                continue; // a piece of a split window, or unknown: never skip what is not known
            out.done.push_back(it->second);
            out.jobs_before += static_cast<std::uint64_t>(pg::as_integer(segment.at(3)));
        }
        jobs_before_ = out.jobs_before;
        segments_before_ = out.done.size();
        co_return out;
    }

    asio::awaitable<void> start(std::size_t) override {
        windows_ = plan_.request.windows();
        last_commit_ = steady_clock::now();
        if (resuming_)
            co_return;
        // A fresh run of this selection: forget an earlier finished one's segments.
        co_await conn_.execute("BEGIN");
        co_await conn_.query("DELETE FROM " + table("segments") + " WHERE selection_hash = $1",
                             pg::params(hash_));
        co_await conn_.query(pg::start_run_sql(target_.schema),
                             pg::params(hash_, pg::selection_text(plan_.chosen),
                                        format_iso8601(plan_.request.start),
                                        format_iso8601(plan_.request.finish)));
        co_await conn_.execute("COMMIT");
    }

    asio::awaitable<void> write(job_batch batch) override {
        // A commit that failed for good ends the run at the next page, not at the next group:
        // fetching on would only fill memory with jobs that will not be written.
        if (commit_error_)
            std::rethrow_exception(commit_error_);
        const policy::segment_key key{batch.organization_slot, batch.window};
        auto& segment = open_.try_emplace(key, spill_directory_).first->second;
        open_memory_ -= segment.rows.memory_bytes();
        segment.add(batch, seq_);
        open_memory_ += segment.rows.memory_bytes();
        if (open_memory_ > held_in_memory)
            spill_largest();
        else if (segment.rows.spilled_bytes() > 0 && segment.rows.memory_bytes() >= spill_piece)
            spill(segment); // on disk already: the rest follows piece by piece
        if (!batch.segment_complete)
            co_return;
        open_memory_ -= segment.rows.memory_bytes();
        ready_.rows.push_back(std::move(segment.rows));
        ready_.jobs += segment.jobs;
        ready_.segments.emplace_back(key, segment.jobs, segment.pages);
        open_.erase(key);
        if (ready_.jobs >= pg::commit_jobs ||
            steady_clock::now() - last_commit_ >= plan_.checkpoint_interval)
            co_await start_commit(false);
    }

    asio::awaitable<void> finish(bool complete) override {
        if (!ready_.segments.empty() || complete)
            co_await start_commit(complete);
        co_await wait_for_commit();
        if (commit_error_)
            std::rethrow_exception(commit_error_);
    }

    sink_totals totals() const override {
        sink_totals t;
        // Completed segments waiting for their commit count while every commit succeeds:
        // finish() commits them (and the command decides completeness before it does). Once a
        // commit failed for good they never will: only what was committed counts.
        const bool pending_count = !commit_error_;
        t.jobs_written = jobs_written_ + (pending_count ? in_flight_jobs_ + ready_.jobs : 0);
        t.jobs_before = jobs_before_;
        t.segments_done = segments_before_ + segments_committed_ +
                          (pending_count ? in_flight_segments_ + ready_.segments.size() : 0);
        t.segments_before = segments_before_;
        return t;
    }

    std::string output_name() const override { return target_.shown; }
    std::string progress_name() const override { return table("segments"); }

private:
    std::string table(std::string_view name) const { return pg::qualified(target_.schema, name); }

    // A session advisory lock on the selection, held for the whole run: two runs of one
    // selection at once would reset and complete each other's progress (start()'s DELETE, the
    // runs row's completed_at). Session-level, so it is re-taken on every new connection.
    asio::awaitable<bool> lock_selection() {
        const auto r = co_await conn_.query("SELECT pg_catalog.pg_try_advisory_lock("
                                            "pg_catalog.hashtextextended($1, 0))",
                                            pg::params(pg::run_lock_key(target_.schema, hash_)));
        co_return pg::holds(r.rows.at(0).at(0), "t");
    }

    // Our old session may still hold the lock until the server notices it is gone: retried
    // like a lost connection, within --pg-retry-for.
    asio::awaitable<void> relock_selection() {
        const bool locked = co_await lock_selection();
        if (!locked)
            throw pg::error(pg::failure::lost,
                            "the selection's lock is still held (by our old session, or another "
                            "dynjobs run of this selection)");
    }

    // Moves the rows of the open segment that holds most in memory to its temporary file.
    void spill_largest() {
        spill(std::max_element(open_.begin(), open_.end(), [](auto& a, auto& b) {
                  return a.second.rows.memory_bytes() < b.second.rows.memory_bytes();
              })->second);
    }

    // If the rows cannot move (a full disk), they stay in memory and the run goes on, saying so
    // once: exactness is never traded for memory.
    void spill(pg::segment_rows& segment) {
        if (spill_failed_)
            return;
        const auto before = segment.rows.memory_bytes();
        std::error_code error;
        if (segment.rows.spill(error)) {
            open_memory_ -= before;
            return;
        }
        spill_failed_ = true;
        if (plan_.level != verbosity::quiet) // as the engine's own dedupe_kept_in_memory
            std::cerr << "\ndynjobs: cannot move held jobs to a temporary file in "
                      << spill_directory_ << " (" << error.message()
                      << "); keeping them in memory, which grows with the largest open window\n";
    }

    std::size_t org_slots() const {
        return std::max<std::size_t>(1, plan_.request.organizations.size());
    }

    // The organization a slot stands for, as `segments` records it: "" for every organization.
    std::string org_text(std::size_t slot) const {
        return plan_.request.organizations.empty()
                   ? std::string()
                   : plan_.request.organizations.at(slot).to_string();
    }

    // Commits run beside the fetch, one at a time: the next group waits for the previous
    // commit (so at most two groups are held), and a failed commit stops the run at the next
    // write or at finish().
    asio::awaitable<void> start_commit(bool mark_complete) {
        co_await wait_for_commit();
        if (commit_error_)
            std::rethrow_exception(commit_error_);
        committing_ = true;
        in_flight_jobs_ = ready_.jobs;
        in_flight_segments_ = ready_.segments.size();
        last_commit_ = steady_clock::now();
        asio::co_spawn(ex_, commit(std::exchange(ready_, {}), mark_complete),
                       [this](std::exception_ptr e) {
                           committing_ = false;
                           commit_error_ = e;
                           if (!e) {
                               jobs_written_ += in_flight_jobs_;
                               segments_committed_ += in_flight_segments_;
                           }
                           in_flight_jobs_ = 0;
                           in_flight_segments_ = 0;
                           commit_done_.cancel();
                       });
    }

    asio::awaitable<void> wait_for_commit() {
        while (committing_) {
            commit_done_.expires_at(steady_clock::time_point::max());
            co_await commit_done_.async_wait(asio::as_tuple(asio::use_awaitable));
        }
    }

    asio::awaitable<void> commit(commit_group group, bool mark_complete) {
        co_await runner_.run(
            [&](pg::connection& c) { return commit_statements(c, group, mark_complete); },
            pg::attempt_budget(group.jobs));
    }

    // One commit's statements, between the runner's BEGIN and COMMIT.
    asio::awaitable<void> commit_statements(pg::connection& conn, const commit_group& group,
                                            bool mark_complete) {
        co_await pg::upsert_rows(conn, target_.schema, group.rows);
        const auto& segments = group.segments;
        for (std::size_t first = 0; first < segments.size(); first += segments_per_statement) {
            const auto n = std::min(segments_per_statement, segments.size() - first);
            std::vector<std::string> params;
            params.reserve(n * 7);
            for (std::size_t i = first; i < first + n; ++i) {
                const auto& [key, jobs, pages] = segments[i];
                const auto& window = windows_.at(key.window);
                params.push_back(hash_);
                params.push_back(""); // a plain run has no --tenants
                params.push_back(org_text(key.org_slot));
                params.push_back(format_iso8601(window.first));
                params.push_back(format_iso8601(window.second));
                params.push_back(std::to_string(jobs));
                params.push_back(std::to_string(pages));
            }
            co_await conn.query(pg::segments_sql(target_.schema, n), std::move(params));
        }
        if (mark_complete)
            co_await conn.query("UPDATE " + table("runs") +
                                    " SET completed_at = now() WHERE selection_hash = $1",
                                pg::params(hash_));
    }

    const backfill_plan& plan_;
    const pg::target& target_;
    asio::any_io_executor ex_;
    pg::transaction_runner runner_;
    pg::connection& conn_; // the runner's session: open()'s and start()'s statements
    std::string hash_;
    bool resuming_ = false;
    std::uint64_t seq_ = 0; // rows staged so far: COPY's seq
    std::vector<std::pair<timestamp, timestamp>> windows_;
    std::map<policy::segment_key, pg::segment_rows, segment_less> open_;
    std::size_t open_memory_ = 0; // open_'s rows in memory
    // Where held rows past held_in_memory go, as the engine's spilled jobIds do.
    std::string spill_directory_ = detail::temporary_directory();
    bool spill_failed_ = false;
    commit_group ready_; // completed segments not yet handed to a commit
    bool committing_ = false;
    std::uint64_t in_flight_jobs_ = 0;
    std::size_t in_flight_segments_ = 0;
    std::exception_ptr commit_error_;
    asio::steady_timer commit_done_{ex_};
    steady_clock::time_point last_commit_;
    std::uint64_t jobs_written_ = 0;
    std::uint64_t jobs_before_ = 0;
    std::size_t segments_before_ = 0;
    std::size_t segments_committed_ = 0;
};

} // namespace

void rethrow_as_open_failure(const pg::target& target) {
    try {
        throw;
    } catch (const pg::error& e) {
        // A database that is not available now (restarting, starting up, full) is not bad
        // input: exit status 2, as for a database lost mid-run, so that a scheduler retries.
        if (e.kind == pg::failure::lost)
            throw std::runtime_error("--output " + target.shown + ": " + e.what() +
                                     " (the database is not available now; run again later)");
        throw usage_error{"--output " + target.shown + ": " + e.what()};
    } catch (const std::exception& e) {
        throw usage_error{"--output " + target.shown + ": " + e.what()};
    }
}

std::unique_ptr<job_sink> make_pg_sink(const backfill_plan& plan, asio::any_io_executor ex) {
    return std::make_unique<pg_sink>(plan, std::move(ex));
}

} // namespace dynjobs::sink
