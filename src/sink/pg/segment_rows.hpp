// One segment's jobs as the PostgreSQL writers hold them until the segment commits (the
// backfill's sink and `backfill --worker`), and the statements that write held rows.
#pragma once

#include "sink/pg/connection.hpp"
#include "sink/pg/sql.hpp"

#include <dynjobs/job_stream.hpp>

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>

namespace dynjobs::sink::pg {

struct segment_rows {
    std::string rows; ///< COPY binary tuples
    /// Distinct jobs: a job fetched twice (re-fetched after it finished) is one row, counted once.
    std::unordered_set<std::string> ids;
    std::uint32_t pages = 0;

    /// Appends a page's jobs; `seq` numbers the rows staged so far (COPY's seq).
    void add(const job_batch& batch, std::uint64_t& seq) {
        for (const auto& j : batch.jobs) {
            append_copy_row(rows, j, ++seq);
            ids.insert(j.job_id);
        }
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

/// Inside a transaction: stages `rows` (COPY binary tuples) and upserts them into SCHEMA.jobs;
/// nothing when there are none. `tenant`: the jobs' tenant (a worker's segment), written to
/// jobs.tenant; none leaves new jobs at '' and stored ones as they are.
inline boost::asio::awaitable<void> upsert_rows(connection& conn, std::string_view schema,
                                                const std::string& rows,
                                                std::optional<std::string> tenant = std::nullopt) {
    if (rows.empty())
        co_return;
    co_await conn.copy_in(copy_sql(), copy_stream(rows));
    if (tenant)
        co_await conn.query(upsert_sql(schema, true), params(*tenant));
    else
        co_await conn.execute(upsert_sql(schema));
}

} // namespace dynjobs::sink::pg
