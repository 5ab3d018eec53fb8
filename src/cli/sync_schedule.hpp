// When `dynjobs sync` runs a cycle, which range of time a cycle fetches, and when the service
// counts as ready. Pure functions of the settings, the stored high-water mark and the clock, so
// every rule is unit-tested without waiting.
#pragma once

#include <dynjobs/timestamp.hpp>

#include <chrono>
#include <optional>

namespace dynjobs::cli {

struct sync_schedule {
    /// The earliest start time ever fetched (`--since`): the first cycle is a backfill from it.
    timestamp since{};
    /// Time between the starts of two cycles (`--every`, default 5 minutes).
    std::chrono::milliseconds every = std::chrono::minutes(5);
    /// How far back of the high-water mark each cycle fetches again (`--lookback`, default 2
    /// days): a job that was running when it was last fetched is fetched until it has finished,
    /// as long as it runs for less than this.
    std::chrono::milliseconds lookback = std::chrono::hours(48);
};

/// The start-time range of one cycle: [start, finish).
struct sync_range {
    timestamp start{};
    timestamp finish{};
};

/// [max(since, high_water_mark - lookback), now). `high_water_mark` is the finish of the last
/// cycle that completed (nullopt before the first one). A clock that went back behind the start
/// gives an empty range (start == finish), never an inverted one.
sync_range cycle_range(const sync_schedule& schedule, std::optional<timestamp> high_water_mark,
                       timestamp now);

/// When the cycle after one that started at `last_start` begins: `every` after that start, or at
/// once (`now`) when the cycle overran its interval. Missed cycles are not caught up in a burst.
std::chrono::steady_clock::time_point
next_cycle_start(std::chrono::steady_clock::time_point last_start,
                 std::chrono::steady_clock::time_point now, std::chrono::milliseconds every);

/// /readyz: the last cycle succeeded, and it finished within two intervals of `now` (one cycle
/// may be running late; two missed mean the service is stuck or the API is failing it).
bool is_ready(std::optional<std::chrono::steady_clock::time_point> last_success,
              std::chrono::steady_clock::time_point now, std::chrono::milliseconds every);

} // namespace dynjobs::cli
