// src/model/wire_values.hpp - private to the page decoder: the conversions of wire text to job
// values that run for every job (GUID, timestamp) or must be exact (a double's text to an integer).
//
// Why a header of inline functions: they sit on the decoder's hot path, and inlining them into
// the handler is part of what makes it fast; a separate header keeps page_decoder.cpp about the
// JSON structure. Each fast path falls back to the model's own parser (organization_id::from_wire,
// parse_iso8601) for any text it does not handle, so the results are the model's by construction.
#pragma once

#include <dynjobs/organization_id.hpp>
#include <dynjobs/timestamp.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>

namespace dynjobs::wire_values {

// The canonical 8-4-4-4-12 GUID, parsed with a table: every job carries one. Anything else goes
// to organization_id::from_wire, which also takes braces and keeps non-GUIDs opaque.
inline constexpr std::array<std::uint8_t, 256> hex_table = [] {
    std::array<std::uint8_t, 256> t{};
    for (auto& v : t)
        v = 0xF0;
    for (int c = '0'; c <= '9'; ++c)
        t[c] = static_cast<std::uint8_t>(c - '0');
    for (int c = 'a'; c <= 'f'; ++c)
        t[c] = static_cast<std::uint8_t>(c - 'a' + 10);
    for (int c = 'A'; c <= 'F'; ++c)
        t[c] = static_cast<std::uint8_t>(c - 'A' + 10);
    return t;
}();

inline organization_id organization_from_wire(std::string_view v) {
    static constexpr std::uint8_t at[16] = {0,  2,  4,  6,  9,  11, 14, 16,
                                            19, 21, 24, 26, 28, 30, 32, 34};
    if (v.size() == 36 && v[8] == '-' && v[13] == '-' && v[18] == '-' && v[23] == '-') {
        std::array<std::uint8_t, 16> bytes;
        unsigned bad = 0;
        for (int i = 0; i < 16; ++i) {
            const std::uint8_t hi = hex_table[static_cast<unsigned char>(v[at[i]])];
            const std::uint8_t lo = hex_table[static_cast<unsigned char>(v[at[i] + 1])];
            bad |= hi | lo;
            bytes[i] = static_cast<std::uint8_t>(hi << 4 | lo);
        }
        if (!(bad & 0xF0))
            return organization_id(bytes);
    }
    return organization_id::from_wire(v);
}

// The form the API sends, "YYYY-MM-DDTHH:MM:SS[.fraction]Z", with fixed offsets and no bounds
// checks; anything else (offsets, no seconds, leap seconds, errors) goes to parse_iso8601, which
// gives the same result for this form. Two timestamps per job make this worth its lines.
inline std::optional<timestamp> parse_time(std::string_view v) {
    const char* p = v.data();
    const std::size_t n = v.size();
    if (n >= 20 && p[4] == '-' && p[7] == '-' && p[10] == 'T' && p[13] == ':' && p[16] == ':' &&
        p[n - 1] == 'Z') {
        auto dd = [p](int i) {
            return static_cast<unsigned>(p[i] - '0') * 10 + static_cast<unsigned>(p[i + 1] - '0');
        };
        bool digits = true;
        for (int i : {0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18})
            digits &= static_cast<unsigned>(p[i] - '0') < 10;
        const unsigned y = dd(0) * 100 + dd(2);
        const unsigned mo = dd(5), d = dd(8), h = dd(11), mi = dd(14), sec = dd(17);
        if (digits && y >= 1 && h < 24 && mi < 60 && sec < 60) {
            const std::chrono::year_month_day date{std::chrono::year{static_cast<int>(y)},
                                                   std::chrono::month{mo}, std::chrono::day{d}};
            unsigned ms = 0;
            bool ok = date.ok();
            if (n > 20) {
                ok &= p[19] == '.' && n > 21;
                for (std::size_t i = 20; ok && i < n - 1; ++i) {
                    const unsigned c = static_cast<unsigned>(p[i] - '0');
                    ok = c < 10;
                    if (i < 23)
                        ms = ms * 10 + c;
                }
                for (std::size_t k = n - 1 - 20; k < 3; ++k)
                    ms *= 10;
            }
            if (ok)
                return timestamp{std::chrono::sys_days{date}} + std::chrono::hours{h} +
                       std::chrono::minutes{mi} + std::chrono::seconds{sec} +
                       std::chrono::milliseconds{ms};
        }
    }
    return parse_iso8601(v);
}

enum class int_text { ok, fractional, too_large };

// Exact conversion of a JSON number's text ("1.0", "-2.50e1", "1e3") to an integer: a double
// holding it could already have lost digits.
inline int_text exact_integer(std::string_view t, std::int64_t& out) noexcept {
    std::size_t i = 0;
    const bool neg = !t.empty() && t[0] == '-';
    if (neg)
        ++i;
    const std::size_t int_begin = i;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9')
        ++i;
    const std::size_t int_len = i - int_begin;
    std::size_t frac_begin = i;
    std::size_t frac_len = 0;
    if (i < t.size() && t[i] == '.') {
        frac_begin = ++i;
        while (i < t.size() && t[i] >= '0' && t[i] <= '9')
            ++i;
        frac_len = i - frac_begin;
    }
    std::int64_t exp = 0;
    if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
        ++i;
        bool exp_neg = false;
        if (i < t.size() && (t[i] == '+' || t[i] == '-'))
            exp_neg = t[i++] == '-';
        for (; i < t.size(); ++i)
            if (exp < 1'000'000'000) // saturate: anything this large overflows anyway
                exp = exp * 10 + (t[i] - '0');
        if (exp_neg)
            exp = -exp;
    }
    auto digit = [&](std::size_t k) {
        return k < int_len ? t[int_begin + k] : t[frac_begin + (k - int_len)];
    };
    std::size_t first = 0;
    std::size_t last = int_len + frac_len; // one past
    while (first < last && digit(first) == '0')
        ++first;
    while (last > first && digit(last - 1) == '0')
        --last;
    if (first == last) {
        out = 0;
        return int_text::ok;
    }
    // value = digits[first, last) * 10^scale
    const std::int64_t scale = exp - static_cast<std::int64_t>(frac_len) +
                               static_cast<std::int64_t>(int_len + frac_len - last);
    if (scale < 0)
        return int_text::fractional;
    if (static_cast<std::int64_t>(last - first) + scale > 19)
        return int_text::too_large;
    std::uint64_t v = 0; // below 10^19 < 2^64: no overflow
    for (std::size_t k = first; k < last; ++k)
        v = v * 10 + static_cast<std::uint64_t>(digit(k) - '0');
    for (std::int64_t s = 0; s < scale; ++s)
        v *= 10;
    constexpr auto max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    if (neg) {
        if (v > max + 1)
            return int_text::too_large;
        out =
            v == max + 1 ? std::numeric_limits<std::int64_t>::min() : -static_cast<std::int64_t>(v);
    } else {
        if (v > max)
            return int_text::too_large;
        out = static_cast<std::int64_t>(v);
    }
    return int_text::ok;
}

} // namespace dynjobs::wire_values
