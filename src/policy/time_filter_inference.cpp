#include "policy/time_filter_inference.hpp"

#include <array>
#include <utility>

namespace dynjobs {

namespace {

constexpr std::array<std::pair<time_filter, std::string_view>, 5> names{{
    {time_filter::auto_detect, "auto"},
    {time_filter::start, "start"},
    {time_filter::finish, "finish"},
    {time_filter::overlap, "overlap"},
    {time_filter::ignored, "ignored"},
}};

} // namespace

std::string_view to_string(time_filter t) noexcept {
    for (const auto& [value, name] : names)
        if (value == t)
            return name;
    return "unknown";
}

std::optional<time_filter> parse_time_filter(std::string_view text) noexcept {
    for (const auto& [value, name] : names)
        if (name == text)
            return value;
    return std::nullopt;
}

} // namespace dynjobs

namespace dynjobs::policy {

time_filter_inference::time_filter_inference(time_filter stated) noexcept
    : stated_(stated)
    , possible_(bit(time_filter::start) | bit(time_filter::finish) | bit(time_filter::overlap) |
                bit(time_filter::ignored))
    , conclusion_(stated == time_filter::auto_detect ? time_filter::start : stated) {}

time_filter time_filter_inference::pick() const noexcept {
    if (stated_ != time_filter::auto_detect && (possible_ & bit(stated_)))
        return stated_;
    for (auto t : {time_filter::start, time_filter::finish, time_filter::overlap})
        if (possible_ & bit(t))
            return t;
    return time_filter::ignored;
}

bool time_filter_inference::observe(timestamp window_start, timestamp window_finish, const job& j) {
    const auto inside = [&](timestamp t) { return window_start <= t && t <= window_finish; };
    unsigned ruled_out = 0;
    if (!inside(j.start_time))
        ruled_out |= bit(time_filter::start);
    if (!j.finish_time || !inside(*j.finish_time))
        ruled_out |= bit(time_filter::finish);
    if (j.start_time > window_finish || (j.finish_time && *j.finish_time < window_start))
        ruled_out |= bit(time_filter::overlap);
    if ((possible_ & ruled_out) == 0)
        return false;
    possible_ &= ~ruled_out;
    if (stated_ != time_filter::auto_detect && (ruled_out & bit(stated_)))
        contradicted_ = true;
    const time_filter before = conclusion_;
    conclusion_ = pick();
    if (conclusion_ != before && evidence_.empty()) {
        evidence_ = "job " + j.job_id + " (startTime " + format_iso8601(j.start_time) +
                    ", finishTime " +
                    (j.finish_time ? format_iso8601(*j.finish_time) : std::string("none")) +
                    ") was returned for the window " + format_iso8601(window_start) + ".." +
                    format_iso8601(window_finish);
    }
    return conclusion_ != before;
}

} // namespace dynjobs::policy
