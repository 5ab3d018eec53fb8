// The job encoder: writes jobs and pages as the API's JSON, by hand into one std::string.
//
// Why it is built this way:
// - Appending into the caller's string (no boost::json::value, no serializer) costs no
//   allocation beyond the output's growth, which matters for the simulator that answers every
//   request with encoded pages and for the benchmarks that generate input with it.
// - Field names and order are the API's, so the output reads like the published sample.
// - Exactness over looks: doubles are written by std::to_chars in their shortest form that reads
//   back to the same value, timestamps by append_iso8601 (millisecond precision, like the model),
//   organization ids verbatim when they are opaque. That is what decode(encode(x)) == x needs.
// - Strings are escaped per RFC 8259: `"` and `\`, control characters as \u00XX; everything else,
//   including UTF-8, is copied as runs, not byte by byte.
#include <dynjobs/job_encoder.hpp>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string_view>
#include <utility>

namespace dynjobs {
namespace {

void append_escaped(std::string& out, std::string_view s) {
    static constexpr char hex[] = "0123456789abcdef";
    out.push_back('"');
    std::size_t run = 0; // start of the pending run of bytes that need no escape
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        out.append(s.data() + run, i - run);
        run = i + 1;
        if (c == '"' || c == '\\') {
            out.push_back('\\');
            out.push_back(static_cast<char>(c));
        } else {
            const char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xF]};
            out.append(esc, sizeof esc);
        }
    }
    out.append(s.data() + run, s.size() - run);
    out.push_back('"');
}

void append_int(std::string& out, std::int64_t v) {
    char buffer[24];
    const auto r = std::to_chars(buffer, buffer + sizeof buffer, v);
    out.append(buffer, r.ptr);
}

void append_double(std::string& out, double v) {
    if (!std::isfinite(v)) { // JSON has no NaN or infinity
        out.append("null");
        return;
    }
    char buffer[32];
    const auto r = std::to_chars(buffer, buffer + sizeof buffer, v);
    out.append(buffer, r.ptr);
}

void append_time(std::string& out, timestamp t) {
    out.push_back('"');
    append_iso8601(out, t);
    out.push_back('"');
}

// `,"name":` (or `"name":` for the first member).
void append_key(std::string& out, std::string_view name, bool first = false) {
    if (!first)
        out.push_back(',');
    out.push_back('"');
    out.append(name);
    out.append("\":");
}

} // namespace

void append_job_json(std::string& out, const job& j) {
    out.push_back('{');
    append_key(out, "module", true);
    append_escaped(out, j.module);
    append_key(out, "type");
    append_int(out, static_cast<std::int32_t>(j.type));
    append_key(out, "jobId");
    append_escaped(out, j.job_id);
    append_key(out, "startTime");
    append_time(out, j.start_time);
    append_key(out, "finishTime");
    if (j.finish_time)
        append_time(out, *j.finish_time);
    else
        out.append("null");
    append_key(out, "durationHours");
    if (j.duration_hours)
        append_double(out, *j.duration_hours);
    else
        out.append("null");
    append_key(out, "status");
    append_int(out, static_cast<std::int32_t>(j.status));
    const std::pair<std::string_view, std::int64_t> counts[] = {
        {"successfulEntity", j.successful_entity},
        {"failedEntity", j.failed_entity},
        {"skippedEntity", j.skipped_entity},
        {"warningEntity", j.warning_entity},
        {"totalEntity", j.total_entity},
        {"successfulRecord", j.successful_record},
        {"failedRecord", j.failed_record},
        {"skippedRecord", j.skipped_record},
        {"warningRecord", j.warning_record},
        {"totalRecord", j.total_record},
        {"backupSize", j.backup_size},
    };
    for (const auto& [name, value] : counts) {
        append_key(out, name);
        append_int(out, value);
    }
    append_key(out, "organizationId");
    if (j.organization.is_guid()) { // hex digits and dashes: nothing to escape
        out.push_back('"');
        j.organization.append_to(out);
        out.push_back('"');
    } else {
        append_escaped(out, j.organization.to_string());
    }
    append_key(out, "organizationName");
    append_escaped(out, j.organization_name);
    out.push_back('}');
}

void append_page_json(std::string& out, const jobs_page& page) {
    // ~600 bytes per typical job: one reservation instead of repeated growth.
    out.reserve(out.size() + 128 + page.jobs.size() * 640);
    out.push_back('{');
    bool first = true;
    if (page.total_count) {
        append_key(out, "totalCount", first);
        append_int(out, *page.total_count);
        first = false;
    }
    append_key(out, "nextLink", first);
    if (page.next_link)
        append_escaped(out, *page.next_link);
    else
        out.append("null");
    append_key(out, "jobs");
    out.push_back('[');
    for (std::size_t i = 0; i < page.jobs.size(); ++i) {
        if (i != 0)
            out.push_back(',');
        append_job_json(out, page.jobs[i]);
    }
    out.push_back(']');
    if (page.page_index) {
        append_key(out, "pageIndex");
        append_int(out, *page.page_index);
    }
    if (page.page_size) {
        append_key(out, "pageSize");
        append_int(out, *page.page_size);
    }
    out.push_back('}');
}

} // namespace dynjobs
