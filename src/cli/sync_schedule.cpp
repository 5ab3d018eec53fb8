#include "cli/sync_schedule.hpp"

#include <algorithm>

namespace dynjobs::cli {

sync_range cycle_range(const sync_schedule& schedule, std::optional<timestamp> high_water_mark,
                       timestamp now) {
    timestamp start = schedule.since;
    if (high_water_mark)
        start = std::max(start, *high_water_mark - schedule.lookback);
    return {std::min(start, now), now};
}

std::chrono::steady_clock::time_point
next_cycle_start(std::chrono::steady_clock::time_point last_start,
                 std::chrono::steady_clock::time_point now, std::chrono::milliseconds every) {
    return std::max(last_start + every, now);
}

bool is_ready(std::optional<std::chrono::steady_clock::time_point> last_success,
              std::chrono::steady_clock::time_point now, std::chrono::milliseconds every) {
    return last_success && now - *last_success <= 2 * every;
}

} // namespace dynjobs::cli
