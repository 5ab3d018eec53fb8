#include "cli/sync_log.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <cstdio>

namespace dynjobs::cli {

namespace {

std::uint64_t jobs_fetched(const cycle_report& c) {
    std::uint64_t n = 0;
    for (const auto& [status, count] : c.jobs_by_status)
        n += count;
    return n;
}

} // namespace

std::optional<log_format> parse_log_format(std::string_view text) noexcept {
    if (text == "text")
        return log_format::text;
    if (text == "json")
        return log_format::json;
    return std::nullopt;
}

std::string format_cycle_line(log_format format, const sync_range& range,
                              const cycle_report& cycle) {
    const auto& s = cycle.stats;
    if (format == log_format::json) {
        boost::json::object o;
        o["time"] = format_iso8601(cycle.finished_at);
        o["level"] = cycle.succeeded || cycle.interrupted ? "info" : "error";
        o["event"] = "cycle";
        o["result"] = cycle.succeeded ? "success" : cycle.interrupted ? "interrupted" : "failure";
        o["start"] = format_iso8601(range.start);
        o["finish"] = format_iso8601(range.finish);
        o["jobs"] = jobs_fetched(cycle);
        o["upserted"] = cycle.jobs_upserted;
        o["changed"] = cycle.jobs_changed;
        o["pages"] = s.pages_done;
        o["pages_failed"] = s.pages_failed;
        o["requests"] = s.requests;
        o["throttled"] = s.throttled;
        o["retries"] = s.retries;
        o["duration_seconds"] = cycle.duration.count();
        return boost::json::serialize(o);
    }
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%.1fs", cycle.duration.count());
    std::string line = format_iso8601(cycle.finished_at);
    line += cycle.succeeded     ? " info cycle ok "
            : cycle.interrupted ? " info cycle interrupted "
                                : " error cycle failed ";
    line += format_iso8601(range.start) + ".." + format_iso8601(range.finish);
    line += " jobs " + std::to_string(jobs_fetched(cycle));
    line += " upserted " + std::to_string(cycle.jobs_upserted);
    line += " changed " + std::to_string(cycle.jobs_changed);
    line += " pages " + std::to_string(s.pages_done);
    if (s.pages_failed != 0)
        line += " failed " + std::to_string(s.pages_failed);
    line += " requests " + std::to_string(s.requests);
    line += " 429s " + std::to_string(s.throttled);
    line += " retries " + std::to_string(s.retries) + " " + seconds;
    return line;
}

std::string format_error_line(log_format format, timestamp at, std::string_view message) {
    if (format == log_format::json) {
        boost::json::object o;
        o["time"] = format_iso8601(at);
        o["level"] = "error";
        o["event"] = "error";
        o["message"] = message;
        return boost::json::serialize(o);
    }
    // A message spanning lines would break one-line-per-event for collectors that read text.
    std::string line = format_iso8601(at) + " error ";
    for (char c : message)
        line += c == '\n' ? ' ' : c;
    return line;
}

} // namespace dynjobs::cli
