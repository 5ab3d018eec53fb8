#include "cli/job_format.hpp"

#include <dynjobs/job_encoder.hpp>

#include <charconv>
#include <cmath>
#include <cstdint>

namespace dynjobs::cli {
namespace {

constexpr std::string_view csv_header =
    "module,type,jobId,startTime,finishTime,durationHours,status,successfulEntity,failedEntity,"
    "skippedEntity,warningEntity,totalEntity,successfulRecord,failedRecord,skippedRecord,"
    "warningRecord,totalRecord,backupSize,organizationId,organizationName\r\n";

void append_csv_text(std::string& out, std::string_view s) {
    if (s.find_first_of(",\"\r\n") == s.npos) {
        out.append(s);
        return;
    }
    out.push_back('"');
    for (char c : s) {
        if (c == '"')
            out.push_back('"');
        out.push_back(c);
    }
    out.push_back('"');
}

void append_csv_int(std::string& out, std::int64_t v) {
    char buffer[24];
    const auto r = std::to_chars(buffer, buffer + sizeof buffer, v);
    out.append(buffer, r.ptr);
}

void append_csv_job(std::string& out, const job& j) {
    append_csv_text(out, j.module);
    out.push_back(',');
    append_csv_int(out, static_cast<std::int32_t>(j.type));
    out.push_back(',');
    append_csv_text(out, j.job_id);
    out.push_back(',');
    append_iso8601(out, j.start_time);
    out.push_back(',');
    if (j.finish_time)
        append_iso8601(out, *j.finish_time);
    out.push_back(',');
    if (j.duration_hours && std::isfinite(*j.duration_hours)) {
        char buffer[32];
        const auto r = std::to_chars(buffer, buffer + sizeof buffer, *j.duration_hours);
        out.append(buffer, r.ptr);
    }
    out.push_back(',');
    append_csv_int(out, static_cast<std::int32_t>(j.status));
    for (std::int64_t v : {j.successful_entity, j.failed_entity, j.skipped_entity, j.warning_entity,
                           j.total_entity, j.successful_record, j.failed_record, j.skipped_record,
                           j.warning_record, j.total_record, j.backup_size}) {
        out.push_back(',');
        append_csv_int(out, v);
    }
    out.push_back(',');
    if (j.organization.is_guid())
        j.organization.append_to(out);
    else
        append_csv_text(out, j.organization.to_string());
    out.push_back(',');
    append_csv_text(out, j.organization_name);
    out.append("\r\n");
}

} // namespace

std::string_view to_string(output_format f) noexcept {
    return f == output_format::csv ? "csv" : "jsonl";
}

std::optional<output_format> parse_output_format(std::string_view text) noexcept {
    if (text == "jsonl")
        return output_format::jsonl;
    if (text == "csv")
        return output_format::csv;
    return std::nullopt;
}

std::string_view output_preamble(output_format f) noexcept {
    return f == output_format::csv ? csv_header : std::string_view{};
}

void append_job_line(std::string& out, output_format f, const job& j) {
    if (f == output_format::csv) {
        append_csv_job(out, j);
    } else {
        append_job_json(out, j);
        out.push_back('\n');
    }
}

const std::vector<std::string_view>& csv_columns() {
    static const std::vector<std::string_view> columns = [] {
        std::vector<std::string_view> out;
        std::string_view rest = csv_header.substr(0, csv_header.size() - 2);
        for (;;) {
            const auto comma = rest.find(',');
            out.push_back(rest.substr(0, comma));
            if (comma == rest.npos)
                return out;
            rest.remove_prefix(comma + 1);
        }
    }();
    return columns;
}

bool parse_csv_records(std::string_view text, std::vector<std::vector<std::string>>& records,
                       std::size_t& consumed) {
    consumed = 0;
    std::vector<std::string> record;
    std::string field;
    std::size_t i = 0;
    while (i < text.size()) {
        // One field starts at i.
        field.clear();
        if (text[i] == '"') {
            ++i;
            for (;;) {
                if (i >= text.size())
                    return true; // cut inside quotes: incomplete record
                if (text[i] == '"') {
                    if (i + 1 < text.size() && text[i + 1] == '"') {
                        field.push_back('"');
                        i += 2;
                        continue;
                    }
                    if (i + 1 >= text.size())
                        return true; // cannot tell yet whether a quote follows
                    ++i;
                    break;
                }
                field.push_back(text[i++]);
            }
            if (i < text.size() && text[i] != ',' && text[i] != '\r' && text[i] != '\n')
                return false; // text after a closing quote
        } else {
            const auto end = text.find_first_of(",\r\n\"", i);
            if (end == text.npos)
                return true; // no record end yet
            if (text[end] == '"')
                return false; // a quote inside an unquoted field
            field.assign(text.substr(i, end - i));
            i = end;
        }
        record.push_back(std::move(field));
        if (i >= text.size())
            return true;
        if (text[i] == ',') {
            ++i;
            continue;
        }
        // A record ends with CRLF (or a bare LF, tolerated).
        if (text[i] == '\r') {
            if (i + 1 >= text.size())
                return true;
            if (text[i + 1] != '\n')
                return false;
            ++i;
        }
        ++i;
        records.push_back(std::move(record));
        record.clear();
        consumed = i;
    }
    return true;
}

} // namespace dynjobs::cli
