// ISO 8601 by hand rather than std::chrono::parse: it runs for every job on the decode hot path,
// must accept any fraction length and the offset forms servers really send, and must not allocate.
#include <dynjobs/timestamp.hpp>

namespace dynjobs {
namespace {

using namespace std::chrono;

// Reads exactly `count` decimal digits at `pos`, advancing it. -1 when they are not all digits.
int read_digits(std::string_view text, std::size_t& pos, int count) noexcept {
    if (text.size() - pos < static_cast<std::size_t>(count))
        return -1;
    int value = 0;
    for (int i = 0; i < count; ++i) {
        const char c = text[pos + i];
        if (c < '0' || c > '9')
            return -1;
        value = value * 10 + (c - '0');
    }
    pos += count;
    return value;
}

bool consume(std::string_view text, std::size_t& pos, char expected) noexcept {
    if (pos < text.size() && text[pos] == expected) {
        ++pos;
        return true;
    }
    return false;
}

// Parses the zone suffix into an offset east of UTC, in minutes. False if malformed.
bool parse_zone(std::string_view text, std::size_t& pos, int& offset_minutes) noexcept {
    offset_minutes = 0;
    if (pos == text.size())
        return true; // no zone: the API's times are UTC
    if (text[pos] == 'Z' || text[pos] == 'z') {
        ++pos;
        return true;
    }
    if (text[pos] != '+' && text[pos] != '-')
        return false;
    const int sign = text[pos++] == '-' ? -1 : 1;
    const int hours = read_digits(text, pos, 2);
    if (hours < 0 || hours > 23)
        return false;
    int minutes = 0;
    if (pos < text.size()) {
        consume(text, pos, ':');
        minutes = read_digits(text, pos, 2);
        if (minutes < 0 || minutes > 59)
            return false;
    }
    offset_minutes = sign * (hours * 60 + minutes);
    return true;
}

void append_digits(std::string& out, int value, int width) {
    char buffer[4];
    for (int i = width - 1; i >= 0; --i) {
        buffer[i] = static_cast<char>('0' + value % 10);
        value /= 10;
    }
    out.append(buffer, static_cast<std::size_t>(width));
}

} // namespace

std::optional<timestamp> parse_iso8601(std::string_view text) {
    std::size_t pos = 0;
    const int y = read_digits(text, pos, 4);
    if (y < 1 || !consume(text, pos, '-'))
        return std::nullopt;
    const int mo = read_digits(text, pos, 2);
    if (mo < 1 || mo > 12 || !consume(text, pos, '-'))
        return std::nullopt;
    const int d = read_digits(text, pos, 2);
    const year_month_day date{year{y}, month{static_cast<unsigned>(mo)},
                              day{static_cast<unsigned>(d < 0 ? 0 : d)}};
    if (d < 1 || !date.ok())
        return std::nullopt;
    if (!(consume(text, pos, 'T') || consume(text, pos, 't') || consume(text, pos, ' ')))
        return std::nullopt;

    const int h = read_digits(text, pos, 2);
    if (h < 0 || h > 23 || !consume(text, pos, ':'))
        return std::nullopt;
    const int mi = read_digits(text, pos, 2);
    if (mi < 0 || mi > 59)
        return std::nullopt;
    int s = 0;
    int ms = 0;
    if (consume(text, pos, ':')) {
        s = read_digits(text, pos, 2);
        if (s < 0 || s > 60)
            return std::nullopt;
        if (consume(text, pos, '.') || consume(text, pos, ',')) {
            int digits = 0;
            while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
                if (digits < 3)
                    ms = ms * 10 + (text[pos] - '0');
                ++digits;
                ++pos;
            }
            if (digits == 0)
                return std::nullopt;
            for (; digits < 3; ++digits)
                ms *= 10;
        }
        if (s == 60) { // a leap second has no sys_time of its own; keep it inside the minute
            s = 59;
            ms = 999;
        }
    }
    int offset_minutes = 0;
    if (!parse_zone(text, pos, offset_minutes) || pos != text.size())
        return std::nullopt;

    const timestamp t = timestamp{sys_days{date}} + hours{h} + minutes{mi - offset_minutes} +
                        seconds{s} + milliseconds{ms};
    // The offset can carry a time of 0001-01-01 or 9999-12-31 out of years 0001-9999, which
    // format_iso8601 cannot write back (year 0, or 10000 cut to four digits).
    constexpr timestamp first{sys_days{year{1} / 1 / 1}};
    constexpr timestamp end{sys_days{year{10000} / 1 / 1}};
    if (t < first || t >= end)
        return std::nullopt;
    return t;
}

void append_iso8601(std::string& out, timestamp t) {
    const auto day_start = floor<days>(t);
    const year_month_day date{day_start};
    const hh_mm_ss<milliseconds> time{t - day_start};
    append_digits(out, static_cast<int>(date.year()), 4);
    out.push_back('-');
    append_digits(out, static_cast<int>(static_cast<unsigned>(date.month())), 2);
    out.push_back('-');
    append_digits(out, static_cast<int>(static_cast<unsigned>(date.day())), 2);
    out.push_back('T');
    append_digits(out, static_cast<int>(time.hours().count()), 2);
    out.push_back(':');
    append_digits(out, static_cast<int>(time.minutes().count()), 2);
    out.push_back(':');
    append_digits(out, static_cast<int>(time.seconds().count()), 2);
    if (const auto ms = time.subseconds().count(); ms != 0) {
        out.push_back('.');
        append_digits(out, static_cast<int>(ms), 3);
    }
    out.push_back('Z');
}

std::string format_iso8601(timestamp t) {
    std::string out;
    out.reserve(24);
    append_iso8601(out, t);
    return out;
}

} // namespace dynjobs
