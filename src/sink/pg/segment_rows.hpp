// One segment's jobs as the PostgreSQL writers hold them until the segment commits (the
// backfill's sink and `backfill --worker`), and the statements that write held rows.
#pragma once

#include "sink/pg/connection.hpp"
#include "sink/pg/held_rows.hpp"
#include "sink/pg/sql.hpp"

#include <dynjobs/job_stream.hpp>

#include <boost/asio/awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace dynjobs::sink::pg {

struct segment_rows {
    held_rows rows;
    /// The jobs added: distinct, as a job_stream delivers each jobId once per fetch.
    std::uint64_t jobs = 0;
    std::uint32_t pages = 0;

    /// `spill_directory`: where rows.spill() puts them.
    explicit segment_rows(std::string spill_directory = {})
        : rows(std::move(spill_directory)) {}

    /// Appends a page's jobs; `seq` numbers the rows staged so far (COPY's seq).
    void add(const job_batch& batch, std::uint64_t& seq) {
        for (const auto& j : batch.jobs)
            rows.append(j, ++seq);
        jobs += batch.jobs.size();
        ++pages;
    }
};

/// A commit attempt that has not finished by then is given up (connection dropped, then the
/// reconnect path): a network that went silent must not hold the run past --pg-retry-for. A
/// group of 10,000 jobs commits in well under a second; a huge single window (one segment, all
/// its jobs) gets time in proportion.
inline std::chrono::milliseconds attempt_budget(std::uint64_t jobs) {
    return std::chrono::seconds(60) + std::chrono::milliseconds(jobs / 20);
}

/// Inside a transaction: stages `parts` (their rows in turn) and upserts them into SCHEMA.jobs;
/// nothing when they hold none. `tenant`: the jobs' tenant (a worker's segment), written to
/// jobs.tenant; none leaves new jobs at '' and stored ones as they are. `parts` must outlive it.
inline boost::asio::awaitable<void> upsert_rows(connection& conn, std::string_view schema,
                                                std::span<const held_rows> parts,
                                                std::optional<std::string> tenant = std::nullopt) {
    if (std::all_of(parts.begin(), parts.end(), [](const held_rows& p) { return p.empty(); }))
        co_return;
    copy_reader reader(parts);
    co_await conn.copy_in(copy_sql(), [&reader] { return reader.next(); });
    if (tenant)
        co_await conn.query(upsert_sql(schema, true), params(*tenant));
    else
        co_await conn.execute(upsert_sql(schema));
}

} // namespace dynjobs::sink::pg
