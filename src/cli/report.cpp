#include "cli/report.hpp"

#include <dynjobs/retry_config.hpp>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <cstdio>

namespace dynjobs::cli {
namespace {

double per_second(std::uint64_t n, std::chrono::milliseconds elapsed) {
    return elapsed.count() > 0 ? static_cast<double>(n) * 1000.0 / elapsed.count() : 0.0;
}

std::string clock_text(std::chrono::seconds s) {
    char buffer[32];
    const auto total = s.count();
    if (total >= 3600)
        std::snprintf(buffer, sizeof buffer, "%lld:%02lld:%02lld",
                      static_cast<long long>(total / 3600), static_cast<long long>(total / 60 % 60),
                      static_cast<long long>(total % 60));
    else
        std::snprintf(buffer, sizeof buffer, "%lld:%02lld", static_cast<long long>(total / 60),
                      static_cast<long long>(total % 60));
    return buffer;
}

constexpr policy::retry_cause causes[] = {
    policy::retry_cause::transport, policy::retry_cause::timeout,  policy::retry_cause::http_408,
    policy::retry_cause::http_429,  policy::retry_cause::http_500, policy::retry_cause::http_502,
    policy::retry_cause::http_503,  policy::retry_cause::http_504, policy::retry_cause::http_401,
    policy::retry_cause::decode,
};

std::string_view outcome_text(run_outcome o) {
    switch (o) {
    case run_outcome::complete:
        return "complete";
    case run_outcome::failed:
        return "failed";
    case run_outcome::auth_failed:
        return "authentication failed";
    case run_outcome::interrupted:
        return "interrupted";
    case run_outcome::misconfigured:
        return "misconfigured";
    }
    return "unknown";
}

// The engine's message already says which window and page; this adds the organization.
std::string failure_line(const page_failure& f) {
    std::string out = "organization ";
    out += f.organization ? f.organization->to_string() : "(all)";
    out += ", ";
    if (!f.diag.message.empty())
        return out + f.diag.message;
    return out + "window " + format_iso8601(f.window_start) + ".." +
           format_iso8601(f.window_finish) + ", page " + std::to_string(f.page_index) + ": " +
           f.error.message();
}

} // namespace

int exit_status(run_outcome o) noexcept {
    switch (o) {
    case run_outcome::complete:
        return 0;
    case run_outcome::failed:
        return 2;
    case run_outcome::auth_failed:
        return 3;
    case run_outcome::interrupted:
        return 130;
    case run_outcome::misconfigured:
        return 1;
    }
    return 2;
}

std::string seconds_text(std::chrono::milliseconds ms) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.1f s", static_cast<double>(ms.count()) / 1000.0);
    return buffer;
}

std::string with_separators(std::uint64_t n) {
    // Appended digit by digit: GCC 12 warns -Wrestrict (a false positive) on inserting in place.
    const auto digits = std::to_string(n);
    std::string out;
    out.reserve(digits.size() + digits.size() / 3);
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0)
            out += ',';
        out += digits[i];
    }
    return out;
}

std::string format_progress(const run_snapshot& s) {
    std::string out = "pages " + with_separators(s.stats.pages_done) + "/" +
                      with_separators(s.stats.pages_planned);
    out += " | jobs " + with_separators(s.jobs_before + s.jobs_written) + " (" +
           with_separators(static_cast<std::uint64_t>(per_second(s.jobs_written, s.elapsed))) +
           "/s)";
    out +=
        " | windows " + with_separators(s.segments_done) + "/" + with_separators(s.segments_total);
    const auto done_now = s.segments_done - s.segments_before;
    const auto left = s.segments_total - s.segments_done;
    if (done_now > 0 && left > 0) {
        const auto eta =
            s.elapsed * static_cast<std::int64_t>(left) / static_cast<std::int64_t>(done_now);
        out += " | ETA " + clock_text(std::chrono::duration_cast<std::chrono::seconds>(eta));
    }
    out += " | retries " + with_separators(s.stats.retries);
    out += " | 429s " + with_separators(s.stats.throttled);
    return out;
}

std::string format_summary(const run_result& r) {
    const auto& t = r.totals;
    const auto& st = t.stats;
    std::string out = "dynjobs: backfill " + std::string(outcome_text(r.outcome)) + ": " +
                      with_separators(t.jobs_written) + " jobs written";
    if (t.jobs_before > 0)
        out += " (" + with_separators(t.jobs_before + t.jobs_written) + " in the output)";
    out += " in " + seconds_text(t.elapsed) + ", " +
           with_separators(static_cast<std::uint64_t>(per_second(t.jobs_written, t.elapsed))) +
           " jobs/s\n";
    out += "  duplicates dropped " + with_separators(st.duplicates_dropped + t.resume_duplicates) +
           " | windows " + with_separators(t.segments_done) + "/" +
           with_separators(t.segments_total) + " | pages " + with_separators(st.pages_done) +
           " (failed " + with_separators(st.pages_failed) + ") | requests " +
           with_separators(st.requests) + " | 429s " + with_separators(st.throttled) + "\n";
    out += "  retries " + with_separators(st.retries);
    std::string by_cause;
    for (auto cause : causes)
        if (const auto n = st.retries_for(cause))
            by_cause += (by_cause.empty() ? "" : ", ") + std::string(policy::to_string(cause)) +
                        " " + with_separators(n);
    if (!by_cause.empty())
        out += " (" + by_cause + ")";
    out += " | token requests " + with_separators(st.token_requests) + "\n";
    out += "  server time filter: " + std::string(to_string(st.server_time_filter));
    if (st.time_filter_contradicted)
        out += " (contradicts --time-filter)";
    out += " | jobs owned elsewhere " + with_separators(st.jobs_owned_elsewhere);
    if (st.jobs_out_of_range != 0)
        out += " | out of range " + with_separators(st.jobs_out_of_range);
    if (st.windows_merged != 0)
        out += " | windows merged " + with_separators(st.windows_merged);
    if (st.job_ids_spilled != 0)
        out += " | jobIds on disk " + with_separators(st.job_ids_spilled);
    out += " | completeness refetches " + with_separators(st.completeness_refetches);
    if (st.jobs_missing != 0)
        out += " | JOBS MISSING " + with_separators(st.jobs_missing);
    out += "\n";
    out += "  connections " + with_separators(st.connections_opened) + " (TLS resumed " +
           with_separators(st.tls_sessions_resumed) + ") | reconnects: server close " +
           with_separators(st.reconnects_server_close) + ", idle " +
           with_separators(st.reconnects_idle) + ", stale retry " +
           with_separators(st.reconnects_stale_retry) + ", request cap " +
           with_separators(st.reconnects_request_cap) + "\n";
    out += "  output " + r.output;
    if (!r.checkpoint.empty())
        out += " | checkpoint " + r.checkpoint;
    out += "\n";
    if (!r.error.empty())
        out += "  stopped: " + r.error + "\n";
    if (!r.failures.empty()) {
        out += "  " + with_separators(r.failures.size()) +
               " failed page(s); --resume fetches "
               "their windows again:\n";
        for (const auto& f : r.failures)
            out += "    " + failure_line(f) + "\n";
    }
    if (r.outcome == run_outcome::interrupted && !r.checkpoint.empty())
        out += "  run the same command with --resume to finish\n";
    return out;
}

std::string format_summary_json(const run_result& r) {
    namespace json = boost::json;
    const auto& t = r.totals;
    const auto& st = t.stats;
    json::object retries;
    for (auto cause : causes)
        retries[policy::to_string(cause)] = st.retries_for(cause);
    json::array failures;
    for (const auto& f : r.failures)
        failures.push_back(json::object{
            {"organizationId", f.organization ? f.organization->to_string() : ""},
            {"windowStart", format_iso8601(f.window_start)},
            {"windowFinish", format_iso8601(f.window_finish)},
            {"pageIndex", f.page_index},
            {"httpStatus", f.diag.http_status},
            {"url", f.diag.url},
            {"message", f.diag.message.empty() ? f.error.message() : f.diag.message},
        });
    const json::object root{
        {"outcome", outcome_text(r.outcome)},
        {"exitStatus", exit_status(r.outcome)},
        {"jobsWritten", t.jobs_written},
        {"jobsInOutput", t.jobs_before + t.jobs_written},
        {"duplicatesDropped", st.duplicates_dropped + t.resume_duplicates},
        {"jobIdsSpilled", st.job_ids_spilled},
        {"windowsTotal", t.segments_total},
        {"windowsDone", t.segments_done},
        {"pagesDone", st.pages_done},
        {"pagesFailed", st.pages_failed},
        {"requests", st.requests},
        {"retries", st.retries},
        {"retriesByCause", std::move(retries)},
        {"throttled", st.throttled},
        {"tokenRequests", st.token_requests},
        {"connectionsOpened", st.connections_opened},
        {"tlsSessionsResumed", st.tls_sessions_resumed},
        {"reconnects", json::object{{"serverClose", st.reconnects_server_close},
                                    {"idle", st.reconnects_idle},
                                    {"staleRetry", st.reconnects_stale_retry},
                                    {"requestCap", st.reconnects_request_cap}}},
        {"serverTimeFilter", to_string(st.server_time_filter)},
        {"timeFilterContradicted", st.time_filter_contradicted},
        {"jobsOwnedElsewhere", st.jobs_owned_elsewhere},
        {"jobsOutOfRange", st.jobs_out_of_range},
        {"jobsMissing", st.jobs_missing},
        {"windowsMerged", st.windows_merged},
        {"pageSizeReductions", st.page_size_reductions},
        {"completenessRefetches", st.completeness_refetches},
        {"driftRefetches", st.drift_refetches},
        {"bytesReceived", st.bytes_received},
        {"bytesDecoded", st.bytes_decoded},
        {"elapsedSeconds", static_cast<double>(t.elapsed.count()) / 1000.0},
        {"jobsPerSecond", per_second(t.jobs_written, t.elapsed)},
        {"output", r.output},
        {"checkpoint", r.checkpoint},
        {"error", r.error},
        {"failures", std::move(failures)},
    };
    return json::serialize(root) + "\n";
}

} // namespace dynjobs::cli
