// src/sim/fault_plan.hpp - deterministic decisions of which request gets which fault.
#pragma once

#include <dynjobs/sim/faults.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace dynjobs::sim {

/// The facts about a request that fault decisions depend on.
struct request_facts {
    std::string_view path;                  ///< "/dynamicsbackup/jobs", "/connect/token"
    std::optional<std::int64_t> page_index; ///< jobs requests: pageIndex asked (1 when absent)
    std::string_view client;                ///< client id, empty when unknown
};

/// Decides, request by request, which fault (if any) to inject.
///
/// Scheduled rules first (in order; each rule counts its matching requests, every matching rule
/// counts the request even if another fires), then the random draw. The same sequence of
/// requests always gets the same decisions; random decisions even depend only on each
/// (path, page index)'s own sequence.
///
/// Thread safety: decide() may be called concurrently (an internal mutex guards the counters).
class fault_plan {
public:
    explicit fault_plan(fault_config config = {});

    fault_kind decide(const request_facts& facts);

    /// Appends a scheduled rule; it counts matching requests from now on, the other rules keep
    /// their counts.
    void add_rule(fault_rule rule);

    const fault_config& config() const noexcept { return config_; }
    /// How many faults of each kind were decided so far (none excluded).
    std::map<fault_kind, std::size_t> counts() const;

private:
    fault_config config_;
    mutable std::mutex mutex_;
    std::vector<std::size_t> rule_matches_; // per rule: matching requests seen
    std::map<std::tuple<std::string, std::int64_t>, std::uint64_t> seen_; // (path, page) -> n
    std::map<fault_kind, std::size_t> counts_;
};

/// The Retry-After header value a fault of kind `k` carries, or nullopt when it carries none:
/// "1" (429, 503), "1.5" (429-frac: seconds + 0.5), an IMF-fixdate `now + seconds` (429-date).
std::optional<std::string> retry_after_value(fault_kind k, const fault_config& config,
                                             std::chrono::system_clock::time_point now);

/// Formats an IMF-fixdate (RFC 9110): "Sun, 06 Nov 1994 08:49:37 GMT".
std::string format_http_date(std::chrono::system_clock::time_point t);

} // namespace dynjobs::sim
