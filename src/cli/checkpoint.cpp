#include "cli/checkpoint.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace dynjobs::cli {
namespace json = boost::json;

namespace {
constexpr std::int64_t format_version = 1;
constexpr std::string_view magic = "dynjobs-backfill-checkpoint";
} // namespace

std::string encode_checkpoint(const checkpoint& c) {
    json::object sel;
    for (const auto& [option, value] : c.chosen)
        sel[option] = value;
    json::array done;
    done.reserve(c.done.size());
    for (const auto& key : c.done)
        done.push_back(json::array{key.org_slot, key.window});
    const json::object root{
        {"format", magic},
        {"version", format_version},
        {"selection", std::move(sel)},
        {"start", format_iso8601(c.start)},
        {"finish", format_iso8601(c.finish)},
        {"outputOffset", c.output_offset},
        {"scanFrom", c.scan_from},
        {"jobsWritten", c.jobs_written},
        {"complete", c.complete},
        {"segmentsDone", std::move(done)},
    };
    return json::serialize(root) + "\n";
}

std::optional<checkpoint> decode_checkpoint(std::string_view text, std::string& error) {
    boost::system::error_code ec;
    const json::value root = json::parse(text, ec);
    const json::object* obj = root.if_object();
    if (ec || !obj) {
        error = "not JSON";
        return std::nullopt;
    }
    const auto string_at = [&](std::string_view name) -> const json::string* {
        const json::value* v = obj->if_contains(name);
        return v ? v->if_string() : nullptr;
    };
    const auto count_at = [&](std::string_view name) -> std::optional<std::uint64_t> {
        const json::value* v = obj->if_contains(name);
        if (v && v->is_uint64())
            return v->get_uint64();
        if (v && v->is_int64() && v->get_int64() >= 0)
            return static_cast<std::uint64_t>(v->get_int64());
        return std::nullopt;
    };
    const json::string* format = string_at("format");
    const json::value* version = obj->if_contains("version");
    if (!format || *format != magic || !version || !version->is_int64() ||
        version->get_int64() != format_version) {
        error = "not a version-1 dynjobs checkpoint";
        return std::nullopt;
    }
    checkpoint c;
    const json::value* sel = obj->if_contains("selection");
    if (!sel || !sel->is_object()) {
        error = "field 'selection' missing";
        return std::nullopt;
    }
    for (const auto& member : sel->get_object()) {
        if (!member.value().is_string()) {
            error = "field 'selection' holds a non-string";
            return std::nullopt;
        }
        c.chosen.emplace_back(std::string(member.key()), std::string(member.value().get_string()));
    }
    for (auto [name, target] : {std::pair{"start", &c.start}, std::pair{"finish", &c.finish}}) {
        const json::string* s = string_at(name);
        const auto t = s ? parse_iso8601(*s) : std::nullopt;
        if (!t) {
            error = std::string("field '") + name + "' missing or not a time";
            return std::nullopt;
        }
        *target = *t;
    }
    for (auto [name, target] :
         {std::pair{"outputOffset", &c.output_offset}, std::pair{"scanFrom", &c.scan_from},
          std::pair{"jobsWritten", &c.jobs_written}}) {
        const auto n = count_at(name);
        if (!n) {
            error = std::string("field '") + name + "' missing or not a count";
            return std::nullopt;
        }
        *target = *n;
    }
    if (c.scan_from > c.output_offset) {
        error = "field 'scanFrom' is past 'outputOffset'";
        return std::nullopt;
    }
    const json::value* complete = obj->if_contains("complete");
    const json::value* done = obj->if_contains("segmentsDone");
    if (!complete || !complete->is_bool() || !done || !done->is_array()) {
        error = "field 'complete' or 'segmentsDone' missing";
        return std::nullopt;
    }
    c.complete = complete->get_bool();
    for (const auto& item : done->get_array()) {
        const json::array* pair = item.if_array();
        if (!pair || pair->size() != 2 || !(*pair)[0].is_number() || !(*pair)[1].is_number()) {
            error = "field 'segmentsDone' holds something other than [organization, window]";
            return std::nullopt;
        }
        boost::system::error_code a, b;
        const auto org = (*pair)[0].to_number<std::size_t>(a);
        const auto window = (*pair)[1].to_number<std::size_t>(b);
        if (a || b) {
            error = "field 'segmentsDone' holds a negative or fractional number";
            return std::nullopt;
        }
        c.done.push_back({org, window});
    }
    return c;
}

std::optional<std::string> selection_mismatch(const selection& saved, const selection& now) {
    const auto value_in = [](const selection& s, const std::string& option) -> std::string {
        for (const auto& [o, v] : s)
            if (o == option)
                return v;
        return {};
    };
    const auto describe = [](const std::string& v) { return v.empty() ? "(none)" : "'" + v + "'"; };
    for (const auto& [option, value] : now) {
        const auto before = value_in(saved, option);
        if (before != value)
            return "the checkpoint was made with " + option + " " + describe(before) +
                   ", this run has " + describe(value);
    }
    for (const auto& [option, value] : saved)
        if (value_in(now, option).empty() && !value.empty())
            return "the checkpoint was made with " + option + " " + describe(value) +
                   ", this run has (none)";
    return std::nullopt;
}

} // namespace dynjobs::cli
