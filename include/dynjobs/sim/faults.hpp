// dynjobs/sim/faults.hpp - the faults a simulator can inject, and how to schedule them.
#pragma once

#include <dynjobs/export.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dynjobs::sim {

/// A fault the simulator can inject into one request. The text names (to_string/parse_fault_kind)
/// are used by schedules and the CLI's --fault.
enum class fault_kind {
    none,                        ///< "none": answer normally
    throttle_429,                ///< "429": 429 with Retry-After: <seconds>
    throttle_429_fractional,     ///< "429-frac": 429 with Retry-After: <seconds>.5
    throttle_429_http_date,      ///< "429-date": 429 with Retry-After: <HTTP-date>
    throttle_429_no_retry_after, ///< "429-none": 429 without Retry-After
    error_500,                   ///< "500"
    error_502,                   ///< "502"
    error_503,                   ///< "503" (with Retry-After: <seconds>)
    error_504,                   ///< "504"
    close_before_response,       ///< "close": close the connection without answering
    reset_mid_body,              ///< "reset": send headers and part of the body, then RST
    truncated_body,              ///< "truncate": Content-Length promises more than is sent
    delay_first_byte,            ///< "delay": wait fault_config::delay before answering
    trickle_body,                ///< "trickle": send the body in small chunks, slowly
    malformed_json,              ///< "malformed": 200 with a body that is not valid JSON
    revoke_token,                ///< "revoke": revoke the caller's token, then answer 401
    drift_insert,                ///< "drift-insert": insert a matching job before answering
    drift_remove,                ///< "drift-remove": remove the first match before answering
    /// "close-after": the whole response (saying keep-alive), then the connection is closed at
    /// once, without close_notify: the client learns only when it reuses the stale connection.
    close_after_response,
    // Pages that lie (jobs endpoint only; a token request gets none of them):
    no_jobs_body, ///< "no-jobs": 200 `{"message":"ok"}`, with neither jobs nor totalCount
    repeat_link,  ///< "repeat-link": nextLink names the page just served (same pageIndex)
    bad_link,     ///< "bad-link": nextLink "http://[::1", which no URL parser accepts
    huge_total,   ///< "huge-total": totalCount 10^15, with the page's real jobs
    short_page,   ///< "short-page": the first half of the page's jobs, the true totalCount
    html_body,    ///< "html": 200 text/html, a gateway's sign-in page
    // Compressed bodies that break (jobs endpoint only): sent as gzip whatever the request's
    // Accept-Encoding says, with Content-Encoding: gzip and a Content-Length that fits the bytes
    // sent (see faulty_gzip() in compression.hpp for the exact bytes).
    corrupt_gzip,   ///< "corrupt-gzip": the gzip stream turns invalid in its middle
    truncated_gzip, ///< "truncated-gzip": the gzip stream without its 8-byte trailer
};

/// The text name of a kind ("429-frac", "drift-insert", ...).
DYNJOBS_DECL std::string_view to_string(fault_kind k) noexcept;
/// Parses a text name (exact, case-insensitive). Nullopt for anything else.
DYNJOBS_DECL std::optional<fault_kind> parse_fault_kind(std::string_view text) noexcept;
/// The default pool of random faults, in enum order: every kind but none from throttle_429 to
/// drift_remove, the bad moments of a server that a correct client gets through by retrying or
/// by waiting. The kinds after them are not in it: see server_quirk_fault_kinds().
DYNJOBS_DECL const std::vector<fault_kind>& all_fault_kinds();
/// The kinds that play how servers other than the simulator behave (stale keep-alive
/// connections, pages that lie), in enum order. Drawn at random only when listed in
/// fault_config::kinds; scheduled with --fault like any other kind.
DYNJOBS_DECL const std::vector<fault_kind>& server_quirk_fault_kinds();

/// One scheduled fault: the `nth` request matching the rule's criteria (and the `times - 1`
/// matching requests after it) get `kind`. Each rule counts the requests it matches on its own.
struct fault_rule {
    fault_kind kind = fault_kind::none; ///< the fault the matching requests get
    /// Only requests for this pageIndex (only jobs requests have one). nullopt = any.
    std::optional<std::int64_t> page_index;
    /// Fire on the nth matching request, 1-based.
    std::size_t nth = 1;
    /// How many consecutive matching requests, from the nth, get the fault. 0 = all from the nth.
    std::size_t times = 1;
    /// Only requests for this path ("/connect/token", "/dynamicsbackup/jobs"). nullopt = any.
    std::optional<std::string> path;
    /// Only requests from this client id. nullopt = any.
    std::optional<std::string> client;

    /// Every field equal.
    friend bool operator==(const fault_rule&, const fault_rule&) = default;
};

/// Parses one rule from text: `[criteria:]kind`, criteria being comma-separated `key=value` with
/// keys page (int >= 1), nth (int >= 1), times (int >= 0), path (starts with '/'), client.
/// Examples: "503" (the first request of all), "page=7,nth=3:503",
/// "path=/connect/token,nth=2,times=3:500", "page=2:drift-insert".
/// On error returns nullopt and sets `error` to a message naming the bad part, e.g.
/// "fault rule 'page=x:503': page: 'x' is not an integer >= 1".
DYNJOBS_DECL std::optional<fault_rule> parse_fault_rule(std::string_view text, std::string& error);
/// The text form of a rule, as parse_fault_rule accepts it.
DYNJOBS_DECL std::string to_string(const fault_rule& rule);

/// Configuration of fault injection. Default: no faults at all.
struct fault_config {
    /// Seed of the random faults. Decisions are a pure function of (seed, path, page index, how
    /// many requests for that path and page came before), so they do not depend on how requests
    /// for different pages interleave.
    std::uint64_t seed = 1;
    /// Probability in [0, 1] that a request gets a random fault. 0 = no random faults.
    double rate = 0;
    /// The pool random faults are drawn from, uniformly. Default: every kind but none.
    std::vector<fault_kind> kinds = all_fault_kinds();
    /// Random faults hit only requests for this path; empty = every path. Default: the jobs
    /// endpoint, so token requests fail only when scheduled.
    std::string random_path = "/dynamicsbackup/jobs";
    /// Scheduled faults; they take precedence over random ones, the first firing rule wins.
    std::vector<fault_rule> schedule;
    /// How long delay_first_byte waits. 2 s: longer than a typical client's first-byte patience
    /// in tests that set short timeouts, short enough to keep the suite fast.
    std::chrono::milliseconds delay{2000};
    /// trickle_body: bytes per chunk (16) and the pause between chunks (50 ms); a 60 KB page then
    /// takes minutes, enough to trip body timeouts.
    std::size_t trickle_chunk_bytes = 16;
    std::chrono::milliseconds trickle_interval{50}; ///< see trickle_chunk_bytes
    /// The Retry-After of 429 and 503 faults, in whole seconds. 1 keeps retry tests fast.
    std::int64_t retry_after_seconds = 1;
};

} // namespace dynjobs::sim
