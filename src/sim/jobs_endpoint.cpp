// src/sim/jobs_endpoint.cpp - GET /dynamicsbackup/jobs: query validation, paging, JSON.
#include "sim/jobs_endpoint.hpp"
#include "prng.hpp"

#include <dynjobs/job_encoder.hpp>

#include <boost/json.hpp>
#include <boost/url.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <limits>
#include <optional>

namespace dynjobs::sim {
namespace {

constexpr std::string_view jobs_path = "/dynamicsbackup/jobs";
constexpr std::size_t max_echoed_value = 100; // longest value quoted back in an error message
/// The bad-link fault's nextLink: an IPv6 literal without its closing bracket.
constexpr std::string_view unparsable_link = "http://[::1";
/// The html fault's body: what a client gets from a gateway that wants an interactive sign-in.
constexpr std::string_view gateway_sign_in_page =
    "<!DOCTYPE html>\n<html><head><title>Sign in</title></head>\n<body><h1>Sign in to "
    "continue</h1>\n<form method=\"post\" action=\"/login\"><input name=\"username\">"
    "<input name=\"password\" type=\"password\"><button>Sign in</button></form>\n"
    "</body></html>\n";

enum param : std::size_t {
    p_page_index,
    p_page_size,
    p_type,
    p_start_time,
    p_finish_time,
    p_status,
    p_organization_id,
    param_count
};
constexpr std::array<std::string_view, param_count> param_names{
    "pageIndex", "pageSize", "type", "startTime", "finishTime", "status", "organizationId"};

bool iequals(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
               return lower(x) == lower(y);
           });
}

/// Length of the well-formed UTF-8 sequence `s` starts with (RFC 3629: no overlong forms, no
/// surrogates, nothing past U+10FFFF), or 0 when it does not start with one.
std::size_t utf8_sequence(std::string_view s) {
    const auto at = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char lead = at(0);
    if (lead < 0x80) {
        return 1;
    }
    std::size_t n = 0;
    unsigned char lo = 0x80, hi = 0xBF; // range of the second byte
    if (lead >= 0xC2 && lead <= 0xDF) {
        n = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        n = 3;
        lo = lead == 0xE0 ? 0xA0 : 0x80;
        hi = lead == 0xED ? 0x9F : 0xBF;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        n = 4;
        lo = lead == 0xF0 ? 0x90 : 0x80;
        hi = lead == 0xF4 ? 0x8F : 0xBF;
    } else {
        return 0;
    }
    if (s.size() < n || at(1) < lo || at(1) > hi) {
        return 0;
    }
    for (std::size_t k = 2; k < n; ++k) {
        if (at(k) < 0x80 || at(k) > 0xBF) {
            return 0;
        }
    }
    return n;
}

/// A value quoted back in an error body: at most max_echoed_value bytes, cut between characters,
/// every byte that is not well-formed UTF-8 replaced by U+FFFD, so that the body stays valid JSON
/// whatever the client sent (values are percent-decoded: %87 is a lone 0x87 byte).
std::string echo(std::string_view value) {
    static constexpr std::string_view replacement = "\xEF\xBF\xBD";
    std::string out;
    for (std::size_t i = 0; i < value.size();) {
        const std::size_t n = utf8_sequence(value.substr(i));
        const std::string_view piece = n != 0 ? value.substr(i, n) : replacement;
        if (out.size() + piece.size() > max_echoed_value) {
            break;
        }
        out += piece;
        i += n != 0 ? n : 1;
    }
    return out;
}

std::string not_valid(std::string_view value, std::size_t p) {
    return "The value '" + echo(value) + "' is not valid for " + std::string{param_names[p]} + ".";
}

std::string out_of_range(std::size_t p, std::int64_t lo, std::int64_t hi) {
    return "The field " + std::string{param_names[p]} + " must be between " + std::to_string(lo) +
           " and " + std::to_string(hi) + ".";
}

/// A decimal int32 with an optional sign, as ASP.NET binds an int.
std::optional<std::int64_t> parse_int32(std::string_view s) {
    if (!s.empty() && s.front() == '+') {
        s.remove_prefix(1);
    }
    std::int32_t v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc{} || end != s.data() + s.size()) {
        return std::nullopt;
    }
    return v;
}

void append_hex(std::string& out, std::uint64_t v, int digits) {
    constexpr std::string_view hex = "0123456789abcdef";
    for (int i = digits - 1; i >= 0; --i) {
        out += hex[(v >> (4 * i)) & 0xf];
    }
}

http_reply json_reply(unsigned status, std::string body) {
    http_reply r;
    r.status = status;
    r.headers.emplace_back("Content-Type", "application/json; charset=utf-8");
    r.body = std::move(body);
    return r;
}

void append_json_string(std::string& out, std::string_view s) {
    out += '"';
    for (char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (static_cast<unsigned char>(c) < 0x20) {
            out += "\\u00";
            append_hex(out, static_cast<unsigned char>(c), 2);
        } else {
            out += c;
        }
    }
    out += '"';
}

/// The query string of page `page_index` of `r`'s filter, in the published sample's parameter
/// order.
std::string page_query(const jobs_request& r, std::int64_t page_index) {
    boost::urls::url u;
    auto ps = u.params();
    ps.append({"pageIndex", std::to_string(page_index)});
    ps.append({"pageSize", std::to_string(r.page_size)});
    ps.append({"startTime", format_iso8601(r.where.start)});
    ps.append({"finishTime", format_iso8601(r.where.finish)});
    ps.append({"type", std::to_string(static_cast<std::int32_t>(r.where.type))});
    if (r.where.status) {
        ps.append({"status", std::to_string(static_cast<std::int32_t>(*r.where.status))});
    }
    if (r.where.organization) {
        ps.append({"organizationId", r.where.organization->to_string()});
    }
    return std::string{u.encoded_query()};
}

} // namespace

std::string error_body(unsigned status, std::string_view message,
                       const std::vector<std::pair<std::string, std::string>>& errors) {
    static std::atomic<std::uint64_t> counter{0};
    const std::uint64_t n = counter.fetch_add(1, std::memory_order_relaxed);
    const std::uint64_t a = detail::mix64(n * 2 + 1), b = detail::mix64(n * 2 + 2);

    boost::json::object o;
    o["statusCode"] = status;
    o["message"] = message;
    if (!errors.empty()) {
        boost::json::object e;
        for (const auto& [name, text] : errors) {
            e[name].emplace_array().emplace_back(boost::json::string{text});
        }
        o["errors"] = std::move(e);
    }
    std::string request_id; // a GUID: 8-4-4-4-12
    append_hex(request_id, a >> 32, 8);
    request_id += '-';
    append_hex(request_id, a >> 16, 4);
    request_id += '-';
    append_hex(request_id, (a & 0x0fff) | 0x4000, 4);
    request_id += '-';
    append_hex(request_id, (b >> 48 & 0x3fff) | 0x8000, 4);
    request_id += '-';
    append_hex(request_id, b, 12);
    std::string trace_id = "00-"; // W3C traceparent form, as ASP.NET writes traceId
    append_hex(trace_id, a, 16);
    append_hex(trace_id, b, 16);
    trace_id += '-';
    append_hex(trace_id, detail::mix64(a ^ b), 16);
    trace_id += "-00";
    o["requestId"] = request_id;
    o["traceId"] = trace_id;
    return boost::json::serialize(o);
}

jobs_endpoint::jobs_endpoint(dataset data, jobs_endpoint_config config)
    : data_(std::move(data))
    , config_(config) {}

std::variant<jobs_request, http_reply>
jobs_endpoint::parse(std::string_view target, const std::set<organization_id>* visible) {
    const auto parsed = boost::urls::parse_origin_form(target);
    if (!parsed) {
        return json_reply(400, error_body(400, "The request target is not a valid URL."));
    }
    std::string_view path = parsed->encoded_path();
    if (path.size() > jobs_path.size() && path.back() == '/') {
        path.remove_suffix(1);
    }
    if (!iequals(path, jobs_path)) {
        return json_reply(404, error_body(404, "No resource at " + echo(path) + "."));
    }

    // Collect: name -> value; a second occurrence is an error of its own.
    std::array<std::optional<std::string>, param_count> values;
    std::array<bool, param_count> duplicate{};
    boost::urls::encoding_opts opts;
    opts.space_as_plus = true; // form decoding, as ASP.NET reads a query string
    for (const auto& p : parsed->params(opts)) {
        const auto it = std::find_if(param_names.begin(), param_names.end(),
                                     [&](std::string_view n) { return iequals(n, p.key); });
        if (it == param_names.end()) {
            continue; // unknown parameters are ignored
        }
        const auto i = static_cast<std::size_t>(it - param_names.begin());
        if (values[i]) {
            duplicate[i] = true;
        } else {
            values[i] = p.has_value ? p.value : std::string{};
        }
    }

    std::vector<std::pair<std::string, std::string>> errors;
    auto fail = [&](std::size_t p, std::string message) {
        errors.emplace_back(std::string{param_names[p]}, std::move(message));
    };
    constexpr std::int64_t int32_max = std::numeric_limits<std::int32_t>::max();
    jobs_request r;
    r.where.visible = visible;
    r.where.window = config_.window;
    bool have_start = false, have_finish = false;

    for (std::size_t p = 0; p < param_count; ++p) {
        if (duplicate[p]) {
            fail(p,
                 "The parameter '" + std::string{param_names[p]} + "' was given more than once.");
            continue;
        }
        const std::optional<std::string>& v = values[p];
        const bool optional_param = p == p_status || p == p_organization_id;
        if (!v || (optional_param && v->empty())) {
            if (p == p_type || p == p_start_time || p == p_finish_time) {
                fail(p, "The " + std::string{param_names[p]} + " field is required.");
            }
            continue;
        }
        switch (p) {
        case p_page_index:
        case p_page_size: {
            const auto n = parse_int32(*v);
            if (!n) {
                fail(p, not_valid(*v, p));
            } else if (*n < 1) {
                fail(p, out_of_range(p, 1, int32_max));
            } else if (p == p_page_index) {
                r.page_index = *n;
            } else if (*n > config_.max_page_size && config_.oversize == oversize_page::reject) {
                fail(p, out_of_range(p, 1, config_.max_page_size));
            } else {
                r.page_size = std::min(*n, config_.max_page_size);
            }
            break;
        }
        case p_type: {
            const auto n = parse_int32(*v);
            // 0 or one of the documented single bits 1..32 (types are not combined as flags).
            const bool documented = n && *n >= 0 && *n <= 32 && (*n & (*n - 1)) == 0;
            if (!documented) {
                fail(p, not_valid(*v, p));
            } else {
                r.where.type = static_cast<job_type>(*n);
            }
            break;
        }
        case p_start_time:
        case p_finish_time: {
            const auto t = parse_iso8601(*v);
            if (!t) {
                fail(p, not_valid(*v, p));
            } else {
                (p == p_start_time ? r.where.start : r.where.finish) = *t;
                (p == p_start_time ? have_start : have_finish) = true;
            }
            break;
        }
        case p_status: {
            const auto n = parse_int32(*v);
            if (!n || (*n != 2 && *n != 3 && *n != 4 && *n != 7)) {
                fail(p, not_valid(*v, p));
            } else {
                r.where.status = static_cast<job_status>(*n);
            }
            break;
        }
        case p_organization_id: {
            const auto id = organization_id::parse(*v);
            if (!id) {
                fail(p, not_valid(*v, p));
            } else {
                r.where.organization = *id;
            }
            break;
        }
        default:
            break;
        }
        if (p == p_finish_time && have_start && have_finish && r.where.finish < r.where.start) {
            fail(p, "finishTime must not be earlier than startTime.");
        }
    }
    if (!errors.empty()) {
        return json_reply(400, error_body(400, errors.front().second, errors));
    }
    if (r.where.organization && visible && !visible->contains(*r.where.organization)) {
        return json_reply(403, error_body(403, "The application has no access to organization '" +
                                                   r.where.organization->to_string() + "'."));
    }
    if (config_.huge_total) {
        r.page_size = 1;
    }
    if (config_.unstable_order) {
        // Shared by every endpoint: a seed only has to differ from the previous requests'.
        static std::atomic<std::uint64_t> draws{0};
        r.tie_seed = detail::mix64(draws.fetch_add(1, std::memory_order_relaxed));
    }
    return r;
}

http_reply respond_page(const dataset& data, const jobs_endpoint_config& config,
                        const jobs_request& r, std::string_view base_url, fault_kind distortion) {
    if (distortion == fault_kind::html_body) {
        http_reply reply;
        reply.headers.emplace_back("Content-Type", "text/html; charset=utf-8");
        reply.body = std::string{gateway_sign_in_page};
        return reply;
    }
    if (distortion == fault_kind::no_jobs_body) {
        return json_reply(200, R"({"message":"ok"})");
    }
    // Both factors are int32, so the offset fits; a page past the end is simply empty.
    const auto offset = static_cast<std::size_t>((r.page_index - 1) * r.page_size);
    const auto size = static_cast<std::size_t>(r.page_size);
    const page_view page = config.unstable_order
                               ? data.page_with_ties(r.where, offset, size, r.tie_seed)
                               : data.page(r.where, offset, size);
    const bool lie_about_total = config.huge_total || distortion == fault_kind::huge_total;
    const std::uint64_t total = lie_about_total ? huge_total_count : page.total;
    const bool has_next = offset + page.jobs.size() < total;
    // short_page drops the second half: the client sees a page shorter than pageSize while
    // totalCount says more follow.
    const std::size_t served =
        distortion == fault_kind::short_page ? page.jobs.size() / 2 : page.jobs.size();

    std::string body;
    body.reserve(128 + served * 640);
    body += "{\"totalCount\":";
    body += std::to_string(total);

    auto link_style = config.link_style;
    std::optional<std::string> link; // written as a string, or null when nullopt
    bool write_link = true;
    if (!has_next &&
        (link_style == next_link_style::published || link_style == next_link_style::absolute)) {
        link_style = config.last_link == last_link_style::empty     ? next_link_style::empty
                     : config.last_link == last_link_style::omitted ? next_link_style::omitted
                                                                    : next_link_style::null;
    }
    if (distortion == fault_kind::repeat_link || distortion == fault_kind::bad_link) {
        // These lies need a link on every page, whatever the configured style says.
        link_style = config.link_style == next_link_style::absolute ? next_link_style::absolute
                                                                    : next_link_style::published;
    }
    const std::int64_t linked_page =
        distortion == fault_kind::repeat_link ? r.page_index : r.page_index + 1;
    switch (link_style) {
    case next_link_style::published:
        link = "/jobs?" + page_query(r, linked_page);
        break;
    case next_link_style::absolute:
        link = std::string{base_url} + std::string{jobs_path} + "?" + page_query(r, linked_page);
        break;
    case next_link_style::empty:
        link = std::string{};
        break;
    case next_link_style::omitted:
        write_link = false;
        break;
    case next_link_style::null:
        break;
    }
    if (distortion == fault_kind::bad_link) {
        link = std::string{unparsable_link};
    }
    if (write_link) {
        body += ",\"nextLink\":";
        if (link) {
            append_json_string(body, *link);
        } else {
            body += "null";
        }
    }
    body += ",\"jobs\":[";
    for (std::size_t i = 0; i < served; ++i) {
        if (i != 0) {
            body += ',';
        }
        append_job_json(body, *page.jobs[i]);
    }
    body += "],\"pageIndex\":";
    body += std::to_string(r.page_index);
    body += ",\"pageSize\":";
    body += std::to_string(r.page_size);
    body += '}';
    return json_reply(200, std::move(body));
}

http_reply jobs_endpoint::respond(const jobs_request& r, std::string_view base_url,
                                  fault_kind distortion) const {
    return respond_page(data_, config_, r, base_url, distortion);
}

http_reply jobs_endpoint::handle(std::string_view target, const std::set<organization_id>* visible,
                                 std::string_view base_url) {
    auto parsed = parse(target, visible);
    if (auto* reply = std::get_if<http_reply>(&parsed)) {
        return std::move(*reply);
    }
    return respond(std::get<jobs_request>(parsed), base_url);
}

} // namespace dynjobs::sim
