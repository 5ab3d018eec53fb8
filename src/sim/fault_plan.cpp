// src/sim/fault_plan.cpp - fault kinds, the schedule parser, and deterministic decisions.
#include "sim/fault_plan.hpp"
#include "prng.hpp"

#include <algorithm>
#include <array>
#include <charconv>

namespace dynjobs::sim {
namespace {

struct kind_name {
    fault_kind kind;
    std::string_view name;
};
constexpr std::array<kind_name, 27> kind_names{{
    {fault_kind::none, "none"},
    {fault_kind::throttle_429, "429"},
    {fault_kind::throttle_429_fractional, "429-frac"},
    {fault_kind::throttle_429_http_date, "429-date"},
    {fault_kind::throttle_429_no_retry_after, "429-none"},
    {fault_kind::error_500, "500"},
    {fault_kind::error_502, "502"},
    {fault_kind::error_503, "503"},
    {fault_kind::error_504, "504"},
    {fault_kind::close_before_response, "close"},
    {fault_kind::reset_mid_body, "reset"},
    {fault_kind::truncated_body, "truncate"},
    {fault_kind::delay_first_byte, "delay"},
    {fault_kind::trickle_body, "trickle"},
    {fault_kind::malformed_json, "malformed"},
    {fault_kind::revoke_token, "revoke"},
    {fault_kind::drift_insert, "drift-insert"},
    {fault_kind::drift_remove, "drift-remove"},
    {fault_kind::close_after_response, "close-after"},
    {fault_kind::no_jobs_body, "no-jobs"},
    {fault_kind::repeat_link, "repeat-link"},
    {fault_kind::bad_link, "bad-link"},
    {fault_kind::huge_total, "huge-total"},
    {fault_kind::short_page, "short-page"},
    {fault_kind::html_body, "html"},
    {fault_kind::corrupt_gzip, "corrupt-gzip"},
    {fault_kind::truncated_gzip, "truncated-gzip"},
}};

bool iequals(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
               return lower(x) == lower(y);
           });
}

std::optional<std::uint64_t> parse_count(std::string_view s) {
    std::uint64_t v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc{} || end != s.data() + s.size()) {
        return std::nullopt;
    }
    return v;
}

bool rule_matches(const fault_rule& rule, const request_facts& facts) {
    return (!rule.path || *rule.path == facts.path) &&
           (!rule.page_index || rule.page_index == facts.page_index) &&
           (!rule.client || *rule.client == facts.client);
}

void put2(std::string& out, unsigned v) {
    out += static_cast<char>('0' + v / 10);
    out += static_cast<char>('0' + v % 10);
}

} // namespace

std::string_view to_string(fault_kind k) noexcept {
    for (const auto& n : kind_names) {
        if (n.kind == k) {
            return n.name;
        }
    }
    return "unknown";
}

std::optional<fault_kind> parse_fault_kind(std::string_view text) noexcept {
    for (const auto& n : kind_names) {
        if (iequals(n.name, text)) {
            return n.kind;
        }
    }
    return std::nullopt;
}

const std::vector<fault_kind>& all_fault_kinds() {
    static const std::vector<fault_kind> kinds = [] {
        std::vector<fault_kind> v;
        for (const auto& n : kind_names) {
            if (n.kind != fault_kind::none && n.kind <= fault_kind::drift_remove) {
                v.push_back(n.kind);
            }
        }
        return v;
    }();
    return kinds;
}

const std::vector<fault_kind>& server_quirk_fault_kinds() {
    static const std::vector<fault_kind> kinds = [] {
        std::vector<fault_kind> v;
        for (const auto& n : kind_names) {
            if (n.kind > fault_kind::drift_remove) {
                v.push_back(n.kind);
            }
        }
        return v;
    }();
    return kinds;
}

std::optional<fault_rule> parse_fault_rule(std::string_view text, std::string& error) {
    error.clear();
    auto fail = [&](std::string_view part, const std::string& why) {
        error = "fault rule '" + std::string{text} + "': " + std::string{part} + ": " + why;
        return std::nullopt;
    };
    fault_rule rule;
    const auto colon = text.rfind(':');
    const std::string_view kind_text = colon == text.npos ? text : text.substr(colon + 1);
    const auto kind = parse_fault_kind(kind_text);
    if (!kind) {
        std::string names;
        for (const auto& n : kind_names) {
            names += names.empty() ? "" : ", ";
            names += n.name;
        }
        return fail(kind_text.empty() ? "kind" : kind_text,
                    "unknown fault kind (expected one of " + names + ")");
    }
    rule.kind = *kind;
    if (colon == text.npos) {
        return rule;
    }

    std::string_view criteria = text.substr(0, colon);
    std::array<bool, 5> seen{};
    while (true) {
        const auto comma = criteria.find(',');
        const std::string_view item = criteria.substr(0, comma);
        const auto eq = item.find('=');
        if (eq == item.npos) {
            return fail(item.empty() ? "criteria" : item, "expected key=value");
        }
        const std::string_view key = item.substr(0, eq), value = item.substr(eq + 1);
        constexpr std::array<std::string_view, 5> keys{"page", "nth", "times", "path", "client"};
        const auto k = static_cast<std::size_t>(
            std::find_if(keys.begin(), keys.end(),
                         [&](std::string_view n) { return iequals(n, key); }) -
            keys.begin());
        if (k == keys.size()) {
            return fail(key, "unknown key (expected page, nth, times, path or client)");
        }
        if (seen[k]) {
            return fail(key, "given more than once");
        }
        seen[k] = true;
        const auto n = parse_count(value);
        // Appended rather than `"'" + std::string{value} + "' "`, which GCC 12 at -O3 flags
        // with a false -Wrestrict (GCC bug 105329).
        std::string quoted = "'";
        quoted.append(value).append("' ");
        switch (k) {
        case 0:
            if (!n || *n < 1 || *n > std::uint64_t{INT64_MAX}) {
                return fail(key, quoted + "is not an integer >= 1");
            }
            rule.page_index = static_cast<std::int64_t>(*n);
            break;
        case 1:
            if (!n || *n < 1) {
                return fail(key, quoted + "is not an integer >= 1");
            }
            rule.nth = static_cast<std::size_t>(*n);
            break;
        case 2:
            if (!n) {
                return fail(key, quoted + "is not an integer >= 0");
            }
            rule.times = static_cast<std::size_t>(*n);
            break;
        case 3:
            if (value.empty() || value.front() != '/') {
                return fail(key, quoted + "does not start with '/'");
            }
            rule.path = std::string{value};
            break;
        default:
            if (value.empty()) {
                return fail(key, "empty client id");
            }
            rule.client = std::string{value};
            break;
        }
        if (comma == criteria.npos) {
            break;
        }
        criteria.remove_prefix(comma + 1);
    }
    return rule;
}

std::string to_string(const fault_rule& rule) {
    std::string criteria;
    auto add = [&](std::string_view key, const std::string& value) {
        criteria += criteria.empty() ? "" : ",";
        criteria += key;
        criteria += '=';
        criteria += value;
    };
    if (rule.page_index) {
        add("page", std::to_string(*rule.page_index));
    }
    if (rule.nth != 1) {
        add("nth", std::to_string(rule.nth));
    }
    if (rule.times != 1) {
        add("times", std::to_string(rule.times));
    }
    if (rule.path) {
        add("path", *rule.path);
    }
    if (rule.client) {
        add("client", *rule.client);
    }
    const std::string kind{to_string(rule.kind)};
    return criteria.empty() ? kind : criteria + ":" + kind;
}

fault_plan::fault_plan(fault_config config)
    : config_(std::move(config))
    , rule_matches_(config_.schedule.size(), 0) {}

fault_kind fault_plan::decide(const request_facts& facts) {
    const std::lock_guard lock{mutex_};
    fault_kind kind = fault_kind::none;
    for (std::size_t i = 0; i < config_.schedule.size(); ++i) {
        const fault_rule& rule = config_.schedule[i];
        if (!rule_matches(rule, facts)) {
            continue;
        }
        const std::size_t n = ++rule_matches_[i];
        if (kind == fault_kind::none && n >= rule.nth &&
            (rule.times == 0 || n - rule.nth < rule.times)) {
            kind = rule.kind;
        }
    }
    // The random draw is a pure function of (seed, path, page, how many requests for that path
    // and page came before), independent of other pages' traffic and of scheduled faults.
    const std::int64_t page = facts.page_index.value_or(0);
    const std::uint64_t n = seen_[{std::string{facts.path}, page}]++;
    if (kind == fault_kind::none && config_.rate > 0 && !config_.kinds.empty() &&
        (config_.random_path.empty() || config_.random_path == facts.path)) {
        std::uint64_t h = detail::mix64(config_.seed ^ detail::fnv1a(facts.path));
        h = detail::mix64(h ^ static_cast<std::uint64_t>(page));
        h = detail::mix64(h + n);
        const double u = static_cast<double>(h >> 11) * 0x1.0p-53;
        if (u < config_.rate) {
            kind = config_.kinds[detail::mix64(h) % config_.kinds.size()];
        }
    }
    if (kind != fault_kind::none) {
        ++counts_[kind];
    }
    return kind;
}

void fault_plan::add_rule(fault_rule rule) {
    const std::lock_guard lock{mutex_};
    config_.schedule.push_back(std::move(rule));
    rule_matches_.push_back(0);
}

std::map<fault_kind, std::size_t> fault_plan::counts() const {
    const std::lock_guard lock{mutex_};
    return counts_;
}

std::optional<std::string> retry_after_value(fault_kind k, const fault_config& config,
                                             std::chrono::system_clock::time_point now) {
    switch (k) {
    case fault_kind::throttle_429:
    case fault_kind::error_503:
        return std::to_string(config.retry_after_seconds);
    case fault_kind::throttle_429_fractional:
        return std::to_string(config.retry_after_seconds) + ".5";
    case fault_kind::throttle_429_http_date: {
        // The date has whole seconds: round `now` up so the client never waits too little.
        const auto at = std::chrono::ceil<std::chrono::seconds>(now) +
                        std::chrono::seconds{config.retry_after_seconds};
        return format_http_date(at);
    }
    default:
        return std::nullopt;
    }
}

std::string format_http_date(std::chrono::system_clock::time_point t) {
    using namespace std::chrono;
    constexpr std::array<std::string_view, 7> wdays{"Sun", "Mon", "Tue", "Wed",
                                                    "Thu", "Fri", "Sat"};
    constexpr std::array<std::string_view, 12> months{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const auto secs = floor<seconds>(t);
    const auto day = floor<days>(secs);
    const year_month_day ymd{day};
    const hh_mm_ss hms{secs - day};
    std::string out;
    out += wdays[weekday{day}.c_encoding()];
    out += ", ";
    put2(out, static_cast<unsigned>(ymd.day()));
    out += ' ';
    out += months[static_cast<unsigned>(ymd.month()) - 1];
    out += ' ';
    out += std::to_string(static_cast<int>(ymd.year()));
    out += ' ';
    put2(out, static_cast<unsigned>(hms.hours().count()));
    out += ':';
    put2(out, static_cast<unsigned>(hms.minutes().count()));
    out += ':';
    put2(out, static_cast<unsigned>(hms.seconds().count()));
    out += " GMT";
    return out;
}

} // namespace dynjobs::sim
