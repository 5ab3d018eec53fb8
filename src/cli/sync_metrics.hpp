// What `dynjobs sync` exposes on /metrics, and how one cycle's outcome moves it. The families
// follow the Prometheus conventions: a `dynjobs_` prefix, base units (seconds, bytes),
// `_total` on counters, labels for the dimensions a dashboard splits by.
#pragma once

#include "cli/metrics_registry.hpp"

#include <dynjobs/fetch_stats.hpp>
#include <dynjobs/job_status.hpp>
#include <dynjobs/timestamp.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace dynjobs::cli {

/// One cycle as the sync driver saw it.
struct cycle_report {
    fetch_stats stats;                                  ///< the cycle's fetch
    std::uint64_t jobs_upserted = 0;                    ///< rows written (new or changed)
    std::uint64_t jobs_changed = 0;                     ///< of those, rows that existed and changed
    std::uint64_t token_renewals = 0;                   ///< tokens fetched during the cycle
    std::map<job_status, std::uint64_t> jobs_by_status; ///< every job the cycle fetched
    std::chrono::duration<double> duration{0};
    bool succeeded = false;
    bool interrupted = false; ///< stopped by SIGTERM/SIGINT: neither success nor failure
    timestamp finished_at{};  ///< wall clock, when the cycle ended
};

class sync_metrics {
public:
    /// Declares every family, so a scrape before the first cycle already lists them (at zero).
    sync_metrics();

    /// One request's HTTP status (0 when no response came), as the client reports attempts.
    void record_request(unsigned status);
    /// A finished cycle, successful or not.
    void record_cycle(const cycle_report& cycle);
    /// The end of the range every job is known up to (the last successful cycle's finish).
    void set_high_water_mark(timestamp hwm);

    /// The exposition at `now` (the lag of the high-water mark is measured then).
    std::string render(timestamp now);

    const metrics_registry& registry() const noexcept { return registry_; }

private:
    metrics_registry registry_;
    std::optional<timestamp> high_water_mark_;
};

} // namespace dynjobs::cli
