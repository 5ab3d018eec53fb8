// The PostgreSQL sink's SQL, built as text: no socket here, so every statement and the COPY
// encoding are unit-tested alone (test/cli_unit/cli_pg_sql_tests.cpp).
//
// Tables (schema `dynjobs` by default; README "PostgreSQL"):
//   jobs           one row per job: the API's fields as typed snake_case columns, plus
//                  first_seen, last_seen, last_changed
//   runs           one row per selection (its hash): the resolved range, started, completed
//   segments       (selection, organization, window) -> completed_at, jobs, pages: the
//                  progress marker, committed in the same transaction as the segment's jobs
//   sync_state     `dynjobs sync`: selection hash -> high-water mark (version 2)
//   work           `backfill --worker`: a selection's segments as leased work items, claimed
//                  with FOR UPDATE SKIP LOCKED (version 3; sink/pg/work_queue.hpp)
//                  work and segments carry the tenant of `--tenants` ('' without; version 4)
//   schema_version the migrations applied
#pragma once

#include <dynjobs/job.hpp>
#include <dynjobs/timestamp.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dynjobs::sink::pg {

/// The schema version this build creates and expects.
inline constexpr int schema_version = 5;

/// A column of `jobs` as information_schema.columns names its type.
struct column {
    std::string_view name;
    std::string_view type; ///< "text", "integer", "bigint", "double precision", ...
};

/// The API's fields, in the API's order (cli::for_each_field's), as `jobs` stores them.
const std::vector<column>& job_columns();
/// The bookkeeping columns after them: first_seen, last_seen, last_changed.
const std::vector<column>& tracking_columns();

/// "schema".table: the schema quoted (it is a plain identifier: see identifier.hpp).
std::string qualified(std::string_view schema, std::string_view table);

/// The schema_version table, if missing (run before reading the version; the schema exists).
std::string bootstrap_sql(std::string_view schema);

/// The DDL that takes a schema from version `from` to schema_version (`from` < schema_version).
/// Idempotent where it can be (IF NOT EXISTS): a `jobs` table that was there before is left as
/// it is, for the shape check to judge.
std::string migration_sql(std::string_view schema, int from);

/// The session's staging table (temporary, emptied at each commit): the job columns and `seq`.
std::string staging_table_sql();
/// COPY into the staging table, binary format: the job columns, then `seq`. Its data is
/// copy_header, rows from append_copy_row(), copy_trailer.
std::string copy_sql();
/// Staging -> jobs (of a job staged twice, the highest seq): inserts new jobs, updates a job only
/// when a field changed (then last_changed moves) or when its last_seen is over a day old; an
/// unchanged re-fetch writes nothing, so costs no dead tuple. `with_tenant`: the statement takes
/// the jobs' tenant (`--tenants`) as parameter $1, and sets it on new and stored jobs alike;
/// without it, new jobs get the column's default '' and stored ones keep theirs.
std::string upsert_sql(std::string_view schema, bool with_tenant = false);
/// upsert_sql, counting: one row (new jobs, stored jobs whose fields changed). A job only
/// re-seen (last_seen refreshed) counts in neither.
std::string upsert_counting_sql(std::string_view schema);
/// Moves the high-water mark of a selection: parameters (selection_hash, selection, mark). Never
/// backwards, so two syncs of one selection cannot undo each other's progress.
std::string sync_state_sql(std::string_view schema);
/// The high-water mark of a selection, as epoch milliseconds: parameter (selection_hash).
std::string read_sync_state_sql(std::string_view schema);

/// Records the start of a selection's run (a fresh one, or one planned anew): parameters
/// (selection_hash, selection, range_start, range_finish); clears completed_at.
std::string start_run_sql(std::string_view schema);

/// A `work` or `segments` row's window_start and window_finish as epoch milliseconds, two
/// select-list columns (read back with from_millis).
inline constexpr const char* window_millis = "(extract(epoch FROM window_start) * 1000)::bigint, "
                                             "(extract(epoch FROM window_finish) * 1000)::bigint";

/// An instant read back as epoch milliseconds (`(extract(epoch FROM t) * 1000)::bigint`).
inline timestamp from_millis(std::int64_t ms) {
    return timestamp(std::chrono::milliseconds(ms));
}

/// Records `count` segments as done: parameters (selection_hash, tenant, organization_id,
/// window_start, window_finish, jobs, pages) per segment.
std::string segments_sql(std::string_view schema, std::size_t count);

/// Appends one job as a tuple of COPY binary format (each field's length, -1 for null, then its
/// big-endian value; a NUL character in text as U+FFFD since PostgreSQL text cannot hold it),
/// with `seq`, the running number of the rows staged (the last of a job's versions wins).
void append_copy_row(std::string& out, const job& j, std::uint64_t seq);
/// What copy_sql() reads: this header (the signature, flags without OIDs, an empty header
/// extension), tuples of append_copy_row, this trailer (a tuple of -1 fields). copy_reader
/// (held_rows.hpp) puts them together.
inline constexpr std::string_view copy_header("PGCOPY\n\xFF\r\n\0\0\0\0\0\0\0\0\0", 19);
inline constexpr std::string_view copy_trailer("\xFF\xFF", 2);

/// A stable name for a selection (the options that decide which jobs a run fetches): hex SHA-256
/// of its "option=value" lines.
std::string selection_hash(const std::vector<std::pair<std::string, std::string>>& selection);
/// The advisory lock key (text for hashtextextended) of a selection's run: a plain backfill
/// holds it exclusively for its whole run, workers hold it shared, so that the two never write
/// one selection at the same time (a plain run resets its segments when it starts).
std::string run_lock_key(std::string_view schema, std::string_view selection_hash);
/// The same lines, for the `runs` table (operators read it).
std::string selection_text(const std::vector<std::pair<std::string, std::string>>& selection);

} // namespace dynjobs::sink::pg
