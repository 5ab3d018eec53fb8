#include "cli/time_spec.hpp"

#include <charconv>
#include <cstdint>
#include <string>

namespace dynjobs::cli {

std::optional<std::chrono::milliseconds> parse_span(std::string_view text) noexcept {
    using namespace std::chrono;
    if (text.size() < 2)
        return std::nullopt;
    std::int64_t count = 0;
    const char* digits_end = text.data() + text.size() - 1;
    const auto [ptr, ec] = std::from_chars(text.data(), digits_end, count);
    if (ec != std::errc{} || ptr != digits_end || count <= 0)
        return std::nullopt;
    std::int64_t unit_seconds = 0;
    switch (text.back()) {
    case 's':
        unit_seconds = 1;
        break;
    case 'm':
        unit_seconds = 60;
        break;
    case 'h':
        unit_seconds = 3600;
        break;
    case 'd':
        unit_seconds = 86'400;
        break;
    case 'w':
        unit_seconds = 7 * 86'400;
        break;
    default:
        return std::nullopt;
    }
    constexpr std::int64_t hundred_years = 100LL * 366 * 86'400;
    if (count > hundred_years / unit_seconds)
        return std::nullopt;
    return milliseconds(count * unit_seconds * 1000);
}

std::optional<timestamp> parse_time_point(std::string_view text, timestamp now) {
    if (auto span = parse_span(text))
        return now - *span;
    // A bare date is midnight UTC. Checked by shape so that "2024-1-1" is not half-accepted.
    if (text.size() == 10 && text[4] == '-' && text[7] == '-') {
        std::string full(text);
        full += "T00:00:00Z";
        return parse_iso8601(full);
    }
    return parse_iso8601(text);
}

} // namespace dynjobs::cli
