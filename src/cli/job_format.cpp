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

// One CSV record: fields separated by commas, a null as an empty field.
struct csv_fields {
    std::string& out;
    bool first = true;

    void separate() {
        if (!first)
            out.push_back(',');
        first = false;
    }
    void text(std::string_view s) {
        separate();
        append_csv_text(out, s);
    }
    void number(std::int64_t v) {
        separate();
        append_number(out, v);
    }
    void time(const std::optional<timestamp>& t) {
        separate();
        if (t)
            append_iso8601(out, *t);
    }
    void real(const std::optional<double>& v) {
        separate();
        if (v && std::isfinite(*v))
            append_number(out, *v);
    }
    void organization(const organization_id& id) {
        separate();
        if (id.is_guid())
            id.append_to(out);
        else
            append_csv_text(out, id.to_string());
    }
};

} // namespace

void append_number(std::string& out, std::int64_t v) {
    char buffer[24];
    const auto r = std::to_chars(buffer, buffer + sizeof buffer, v);
    out.append(buffer, r.ptr);
}

void append_number(std::string& out, double v) {
    char buffer[32];
    const auto r = std::to_chars(buffer, buffer + sizeof buffer, v);
    out.append(buffer, r.ptr);
}

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
        for_each_field(j, csv_fields{out});
        out.append("\r\n");
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
