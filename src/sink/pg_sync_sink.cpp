// `dynjobs sync` into PostgreSQL. A cycle's jobs are held as COPY binary tuples and committed in
// groups of 10,000 (a first cycle may be a backfill of millions: memory stays bounded), each group
// one transaction of COPY + upsert; the cycle's last group and the new high-water mark in
// sync_state commit in one transaction, so the mark never covers a job that is not stored.
// Commits run in line with the fetch (not beside it as the backfill's do): after the first
// cycle a cycle is a few pages, and the stream's channel keeps fetching ahead meanwhile.
//
// A crash or a cycle that fails leaves the mark where it was: the next cycle fetches the same
// range again, and the upsert writes nothing for a job already stored as it is.
#include "sink/sync_sink.hpp"

#include "cli/arg_reader.hpp"
#include "sink/pg/connection.hpp"
#include "sink/pg/held_rows.hpp"
#include "sink/pg/schema.hpp"
#include "sink/pg/sql.hpp"
#include "sink/pg/transaction.hpp"

namespace dynjobs::sink {
namespace asio = boost::asio;

namespace {

using namespace dynjobs::cli;

class pg_sync_sink final : public sync_sink {
public:
    pg_sync_sink(const backfill_plan& plan, asio::any_io_executor ex)
        : plan_(plan)
        , target_(*plan.pg)
        , runner_(ex, pg::connect_params{target_.uri, target_.password}, target_.shown,
                  "the high-water mark is kept: the next cycle fetches its range again",
                  target_.retry_for, false)
        , hash_(pg::selection_hash(plan.chosen)) {}

    asio::awaitable<std::optional<timestamp>> open() override {
        auto& session = runner_.session();
        try {
            co_await session.connect(runner_.params());
            co_await pg::prepare_schema(session, target_.schema, true);
        } catch (const std::exception& e) {
            throw usage_error{"--output " + target_.shown + ": " + e.what()};
        }
        const auto r =
            co_await session.query(pg::read_sync_state_sql(target_.schema), pg::params(hash_));
        if (r.rows.empty())
            co_return std::nullopt;
        co_return timestamp(std::chrono::milliseconds(pg::as_integer(r.rows.front().at(0))));
    }

    asio::awaitable<void> write(job_batch batch) override {
        for (const auto& j : batch.jobs)
            rows_.append(j, ++seq_);
        held_ += batch.jobs.size();
        if (held_ >= pg::commit_jobs)
            co_await commit(std::nullopt);
    }

    asio::awaitable<cycle_counts> commit_cycle(timestamp high_water_mark) override {
        co_await commit(high_water_mark);
        co_return std::exchange(counts_, {});
    }

    asio::awaitable<cycle_counts> abandon_cycle() override {
        rows_.clear();
        held_ = 0;
        co_return std::exchange(counts_, {});
    }

    std::string output_name() const override { return target_.shown; }

private:
    // The held rows, and the mark when given, in one transaction.
    asio::awaitable<void> commit(std::optional<timestamp> high_water_mark) {
        cycle_counts written;
        co_await runner_.run(
            [&](pg::connection& c) { return statements(c, high_water_mark, written); });
        counts_.upserted += written.upserted;
        counts_.changed += written.changed;
        rows_.clear();
        held_ = 0;
    }

    asio::awaitable<void> statements(pg::connection& c, std::optional<timestamp> high_water_mark,
                                     cycle_counts& written) {
        written = {}; // a retried transaction counts once
        if (!rows_.empty()) {
            pg::copy_reader reader(std::span(&rows_, 1));
            co_await c.copy_in(pg::copy_sql(), [&reader] { return reader.next(); });
            const auto r = co_await c.execute(pg::upsert_counting_sql(target_.schema));
            const auto inserted = static_cast<std::uint64_t>(pg::as_integer(r.rows.at(0).at(0)));
            written.changed = static_cast<std::uint64_t>(pg::as_integer(r.rows.at(0).at(1)));
            written.upserted = inserted + written.changed;
        }
        if (high_water_mark)
            co_await c.query(pg::sync_state_sql(target_.schema),
                             pg::params(hash_, pg::selection_text(plan_.chosen),
                                        format_iso8601(*high_water_mark)));
    }

    const backfill_plan& plan_;
    const pg::target& target_;
    pg::transaction_runner runner_;
    std::string hash_;
    pg::held_rows rows_;    // the jobs not committed yet (held in memory: at most commit_jobs)
    std::uint64_t seq_ = 0; // rows staged so far: COPY's seq (the last version of a job wins)
    std::uint64_t held_ = 0;
    cycle_counts counts_; // committed during the current cycle
};

} // namespace

std::unique_ptr<sync_sink> make_pg_sync_sink(const backfill_plan& plan, asio::any_io_executor ex) {
    return std::make_unique<pg_sync_sink>(plan, std::move(ex));
}

} // namespace dynjobs::sink
