// How the command writes jobs: JSON Lines or CSV, one job per line (record).
//
// JSONL: each line is the job as the API's JSON object (same names, same values).
// CSV: RFC 4180: a header row of the API's field names in the API's order, CRLF line ends, a
// field quoted when it holds a comma, a quote, CR or LF, quotes doubled inside. Values as in the
// JSON (type and status as numbers, times ISO 8601 UTC); a null (finishTime, durationHours of a
// job still running) is an empty field. Bytes are copied as they came: UTF-8 in, UTF-8 out.
#pragma once

#include <dynjobs/job.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dynjobs::cli {

enum class output_format {
    jsonl,
    csv,
};

std::string_view to_string(output_format f) noexcept;
std::optional<output_format> parse_output_format(std::string_view text) noexcept;

/// What starts a fresh output: the CSV header row; nothing for JSONL.
std::string_view output_preamble(output_format f) noexcept;

/// Walks a job's 20 fields in the API's order (the CSV columns' order, and the PostgreSQL jobs
/// table's), one call each: on.text(std::string_view), on.number(std::int64_t) (type, status
/// and the counters), on.time(std::optional<timestamp>), on.real(std::optional<double>),
/// on.organization(const organization_id&). Writers differ only in how they spell a value.
template <class Fields>
void for_each_field(const job& j, Fields&& on) {
    on.text(j.module);
    on.number(static_cast<std::int32_t>(j.type));
    on.text(j.job_id);
    on.time(std::optional<timestamp>(j.start_time));
    on.time(j.finish_time);
    on.real(j.duration_hours);
    on.number(static_cast<std::int32_t>(j.status));
    for (std::int64_t v : {j.successful_entity, j.failed_entity, j.skipped_entity, j.warning_entity,
                           j.total_entity, j.successful_record, j.failed_record, j.skipped_record,
                           j.warning_record, j.total_record, j.backup_size})
        on.number(v);
    on.organization(j.organization);
    on.text(j.organization_name);
}

/// Appends a number as its shortest exact decimal form (what JSON and PostgreSQL read back
/// to the same value).
void append_number(std::string& out, std::int64_t v);
void append_number(std::string& out, double v);

/// Appends one job as one line (JSONL) or one record (CSV), with its line end.
void append_job_line(std::string& out, output_format f, const job& j);

/// The CSV columns, in order (the API's field names).
const std::vector<std::string_view>& csv_columns();

/// Splits CSV text into records of fields (RFC 4180: quoted fields may hold CR, LF, commas and
/// doubled quotes). Complete records only: a record cut off by the end of `text` is left out
/// and `consumed` tells where it starts. Returns false for malformed quoting.
bool parse_csv_records(std::string_view text, std::vector<std::vector<std::string>>& records,
                       std::size_t& consumed);

} // namespace dynjobs::cli
