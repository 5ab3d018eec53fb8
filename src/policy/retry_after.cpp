// Hand-written rather than std::chrono::parse: three date grammars, fractional seconds, and no
// locale or allocation involved in a function every throttled response goes through.
#include "policy/retry_after.hpp"

#include <array>
#include <cctype>

namespace dynjobs::policy {
namespace {

using namespace std::chrono;

constexpr auto max_wait = hours{24 * 366};

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

std::optional<milliseconds> parse_seconds(std::string_view s) {
    // delay-seconds, optionally with a fraction; milliseconds is the finest wait we honour.
    std::int64_t whole = 0;
    std::size_t i = 0;
    for (; i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])); ++i) {
        whole = whole * 10 + (s[i] - '0');
        if (whole > duration_cast<seconds>(max_wait).count())
            return std::nullopt;
    }
    if (i == 0)
        return std::nullopt;
    std::int64_t ms = 0;
    if (i < s.size() && s[i] == '.') {
        int digits = 0;
        for (++i; i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])); ++i, ++digits)
            if (digits < 3)
                ms = ms * 10 + (s[i] - '0');
        if (digits == 0)
            return std::nullopt;
        for (; digits < 3; ++digits)
            ms *= 10;
    }
    if (i != s.size())
        return std::nullopt;
    return milliseconds{whole * 1000 + ms};
}

// A tiny cursor over the date text.
struct cursor {
    std::string_view s;
    std::size_t pos = 0;

    bool literal(char c) {
        if (pos < s.size() && s[pos] == c) {
            ++pos;
            return true;
        }
        return false;
    }
    void spaces() {
        while (pos < s.size() && s[pos] == ' ')
            ++pos;
    }
    int number(int min_digits, int max_digits) {
        int value = 0;
        int digits = 0;
        while (digits < max_digits && pos < s.size() &&
               std::isdigit(static_cast<unsigned char>(s[pos]))) {
            value = value * 10 + (s[pos++] - '0');
            ++digits;
        }
        return digits >= min_digits ? value : -1;
    }
    std::string_view word() {
        const auto start = pos;
        while (pos < s.size() && std::isalpha(static_cast<unsigned char>(s[pos])))
            ++pos;
        return s.substr(start, pos - start);
    }
    bool at_end() const { return pos == s.size(); }
};

int month_number(std::string_view name) {
    static constexpr std::array<std::string_view, 12> names = {
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    for (std::size_t i = 0; i < names.size(); ++i)
        if (name == names[i])
            return static_cast<int>(i) + 1;
    return -1;
}

bool time_of_day(cursor& c, int& h, int& m, int& s) {
    h = c.number(2, 2);
    if (h < 0 || !c.literal(':'))
        return false;
    m = c.number(2, 2);
    if (m < 0 || !c.literal(':'))
        return false;
    s = c.number(2, 2);
    return s >= 0 && h < 24 && m < 60 && s <= 60;
}

std::optional<sys_seconds> make_time(int y, int mo, int d, int h, int mi, int s) {
    const year_month_day date{year{y}, month{static_cast<unsigned>(mo)},
                              day{static_cast<unsigned>(d)}};
    if (mo < 1 || d < 1 || !date.ok())
        return std::nullopt;
    return sys_days{date} + hours{h} + minutes{mi} + seconds{s};
}

std::optional<sys_seconds> parse_http_date(std::string_view text) {
    cursor c{text};
    const auto weekday = c.word();
    if (weekday.size() < 3)
        return std::nullopt;
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
    if (c.literal(',')) {
        c.spaces();
        d = c.number(2, 2);
        if (d < 0)
            return std::nullopt;
        if (c.literal('-')) { // RFC 850: 06-Nov-94
            mo = month_number(c.word());
            if (!c.literal('-'))
                return std::nullopt;
            y = c.number(2, 2);
            if (y < 0)
                return std::nullopt;
            // RFC 9110: a two-digit year more than 50 years ahead is in the past century.
            y += y < 70 ? 2000 : 1900;
        } else { // IMF-fixdate: 06 Nov 1994
            c.spaces();
            mo = month_number(c.word());
            c.spaces();
            y = c.number(4, 4);
        }
        c.spaces();
        if (y < 0 || mo < 0 || !time_of_day(c, h, mi, s))
            return std::nullopt;
        c.spaces();
        if (c.word() != "GMT" || !c.at_end())
            return std::nullopt;
    } else { // asctime: Sun Nov  6 08:49:37 1994
        c.spaces();
        mo = month_number(c.word());
        c.spaces();
        d = c.number(1, 2);
        c.spaces();
        if (mo < 0 || d < 0 || !time_of_day(c, h, mi, s))
            return std::nullopt;
        c.spaces();
        y = c.number(4, 4);
        if (y < 0 || !c.at_end())
            return std::nullopt;
    }
    return make_time(y, mo, d, h, mi, s > 59 ? 59 : s);
}

} // namespace

std::optional<milliseconds> parse_retry_after(std::string_view value,
                                              system_clock::time_point now) {
    value = trim(value);
    if (value.empty())
        return std::nullopt;
    if (std::isdigit(static_cast<unsigned char>(value.front())))
        return parse_seconds(value);
    const auto when = parse_http_date(value);
    if (!when)
        return std::nullopt;
    // Dates stay in seconds and the wait in milliseconds: system_clock counts nanoseconds, which
    // overflow past the year 2262, and an HTTP-date may say 9999.
    const auto wait = *when - floor<milliseconds>(now);
    if (wait > max_wait)
        return std::nullopt;
    return wait < milliseconds::zero() ? milliseconds::zero() : wait;
}

} // namespace dynjobs::policy
