// src/sim/router.cpp - decides the answer to one request: auth, rate limit, faults, endpoints.
//
// Socket-free: the session hands in a request_view and plays the returned wire_plan. Everything
// here that touches shared state takes the simulator's locks briefly; nothing waits.
#include "sim/compression.hpp"
#include "simulator_impl.hpp"

#include <boost/url/params_view.hpp>
#include <boost/url/parse_query.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace dynjobs::sim::detail {

namespace {

constexpr std::string_view token_path = "/connect/token";
constexpr std::string_view jobs_path = "/dynamicsbackup/jobs";

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

/// The path as routed: case-insensitive and tolerant of one trailing slash, like ASP.NET.
std::string canonical_path(std::string_view path) {
    std::string p = lower(path);
    if (p.size() > 1 && p.back() == '/')
        p.pop_back();
    return p;
}

http_reply json_error(unsigned status, std::string_view message) {
    http_reply r;
    r.status = status;
    r.headers = {{"Content-Type", "application/json; charset=utf-8"}};
    r.body = error_body(status, message);
    return r;
}

/// pageIndex as the fault plan sees it: 1 when absent (the API's default), nullopt when it is
/// not a number (the endpoint will answer 400 anyway).
std::optional<std::int64_t> page_index_of(std::string_view query) {
    if (!boost::urls::parse_query(query))
        return std::nullopt;
    for (const auto& p : boost::urls::params_view(query)) {
        if (lower(p.key) != "pageindex")
            continue;
        std::int64_t v = 0;
        const auto* end = p.value.data() + p.value.size();
        auto [ptr, ec] = std::from_chars(p.value.data(), end, v);
        if (ec != std::errc{} || ptr != end)
            return std::nullopt;
        return v;
    }
    return 1;
}

/// 401 as RFC 6750 section 3 wants it: no error attribute when no token was presented.
http_reply unauthorized(std::string_view description, bool token_presented) {
    http_reply r = json_error(401, description);
    if (token_presented)
        r.headers.emplace_back("WWW-Authenticate",
                               "Bearer error=\"invalid_token\", error_description=\"" +
                                   std::string(description) + "\"");
    else
        r.headers.emplace_back("WWW-Authenticate", "Bearer");
    return r;
}

std::string_view reason_of(fault_kind k) {
    switch (k) {
    case fault_kind::error_500:
        return "Internal server error (injected fault)";
    case fault_kind::error_502:
        return "Bad gateway (injected fault)";
    case fault_kind::error_503:
        return "Service unavailable (injected fault)";
    case fault_kind::error_504:
        return "Gateway timeout (injected fault)";
    default:
        return "Too many requests (injected fault)";
    }
}

unsigned status_of(fault_kind k) {
    switch (k) {
    case fault_kind::error_500:
        return 500;
    case fault_kind::error_502:
        return 502;
    case fault_kind::error_503:
        return 503;
    case fault_kind::error_504:
        return 504;
    default:
        return 429;
    }
}

bool is_error_fault(fault_kind k) {
    switch (k) {
    case fault_kind::throttle_429:
    case fault_kind::throttle_429_fractional:
    case fault_kind::throttle_429_http_date:
    case fault_kind::throttle_429_no_retry_after:
    case fault_kind::error_500:
    case fault_kind::error_502:
    case fault_kind::error_503:
    case fault_kind::error_504:
        return true;
    default:
        return false;
    }
}

/// Turns a well-formed body into one that no JSON parser accepts, with its true length (so the
/// client's HTTP layer is satisfied and only the decoder can notice): the second half is
/// replaced by text that is invalid at any position, inside a string or not.
void corrupt(std::string& body) {
    body.resize(body.size() / 2);
    body += "\x01<<malformed by fault injection>>";
}

std::shared_ptr<fault_plan> current_plan(simulator::impl& sim) {
    std::lock_guard lock(sim.mutex);
    return sim.faults;
}

/// The faults that make a jobs page lie (jobs_endpoint::respond plays them).
bool is_page_fault(fault_kind k) {
    switch (k) {
    case fault_kind::no_jobs_body:
    case fault_kind::repeat_link:
    case fault_kind::bad_link:
    case fault_kind::huge_total:
    case fault_kind::short_page:
    case fault_kind::html_body:
        return true;
    default:
        return false;
    }
}

/// The jobs endpoint proper, with drift applied first when the fault asks for it, and the page
/// distorted when the fault is a lying page.
http_reply jobs_reply(simulator::impl& sim, std::string_view target,
                      const std::set<organization_id>* visible, std::string_view base_url,
                      fault_kind fault) {
    if (fault != fault_kind::drift_insert && fault != fault_kind::drift_remove) {
        std::shared_lock lock(sim.data_mutex);
        auto parsed = sim.endpoint->parse(target, visible);
        if (auto* error = std::get_if<http_reply>(&parsed))
            return std::move(*error);
        return sim.endpoint->respond(std::get<jobs_request>(parsed), base_url, fault);
    }
    // Drift changes the dataset, so it needs the exclusive lock; the page is answered under the
    // same lock so that the client sees the data right after the change.
    std::unique_lock lock(sim.data_mutex);
    auto parsed = sim.endpoint->parse(target, visible);
    if (auto* error = std::get_if<http_reply>(&parsed))
        return std::move(*error);
    const auto& request = std::get<jobs_request>(parsed);
    if (fault == fault_kind::drift_insert)
        sim.endpoint->data().insert_matching(request.where);
    else
        sim.endpoint->data().remove_first_matching(request.where);
    return sim.endpoint->respond(request, base_url);
}

/// Applies fault `k` to the plan; `answer` produces the normal reply.
template <class Answer>
void apply_fault(const fault_plan& plan, fault_kind k, wire_plan& out, Answer&& answer) {
    const auto& cfg = plan.config();
    if (is_error_fault(k)) {
        out.reply = json_error(status_of(k), reason_of(k));
        if (auto ra = retry_after_value(k, cfg, std::chrono::system_clock::now()))
            out.reply.headers.emplace_back("Retry-After", *ra);
        return;
    }
    out.reply = answer();
    switch (k) {
    case fault_kind::close_before_response:
    case fault_kind::reset_mid_body:
    case fault_kind::truncated_body:
    case fault_kind::trickle_body:
    case fault_kind::close_after_response:
        out.transport_fault = k;
        out.trickle_chunk_bytes = std::max<std::size_t>(1, cfg.trickle_chunk_bytes);
        out.trickle_interval = cfg.trickle_interval;
        break;
    case fault_kind::delay_first_byte:
        out.delay += cfg.delay;
        break;
    case fault_kind::malformed_json:
        corrupt(out.reply.body);
        break;
    default:
        break;
    }
}

wire_plan route_jobs(simulator::impl& sim, const request_view& rq, request_log_entry& entry) {
    wire_plan out;
    if (rq.method != "GET") {
        out.reply = json_error(405, "Only GET is allowed on /dynamicsbackup/jobs");
        out.reply.headers.emplace_back("Allow", "GET");
        return out;
    }
    // "Bearer" is case-insensitive (RFC 7235); anything else counts as no token at all.
    std::string_view auth = rq.authorization;
    if (auth.size() < 7 || lower(auth.substr(0, 7)) != "bearer ") {
        out.reply = unauthorized("An access token is required", false);
        return out;
    }
    std::string_view token = auth.substr(7);
    while (!token.empty() && token.front() == ' ')
        token.remove_prefix(1);
    const auto now = std::chrono::steady_clock::now();
    {
        std::lock_guard lock(sim.mutex);
        auto checked = sim.tokens.check(token, now);
        if (auto* refusal = std::get_if<token_store::refusal>(&checked)) {
            out.reply = unauthorized(token_store::describe(*refusal), true);
            return out;
        }
        entry.client_id = std::get<std::string>(checked);
    }

    if (auto wait = sim.limiter.try_acquire(entry.client_id, now)) {
        out.reply = json_error(429, "Rate limit exceeded for client " + entry.client_id);
        const auto seconds = std::max<std::int64_t>(1, (wait->count() + 999) / 1000);
        out.reply.headers.emplace_back("Retry-After", std::to_string(seconds));
        std::lock_guard lock(sim.mutex);
        ++sim.counters.rate_limited;
        return out;
    }

    const registered_client* client = sim.find_client(entry.client_id);
    const std::set<organization_id>* visible =
        client != nullptr && !client->visible_organizations.empty() ? &client->visible_organizations
                                                                    : nullptr;
    const std::string& base = rq.tls ? sim.base_url : sim.http_base_url;

    auto plan = current_plan(sim);
    const fault_kind k = plan->decide({jobs_path, page_index_of(entry.query), entry.client_id});
    entry.fault = k;
    if (k == fault_kind::revoke_token) {
        std::lock_guard lock(sim.mutex);
        sim.tokens.revoke_client(entry.client_id);
        out.reply = unauthorized(token_store::describe(token_store::refusal::revoked), true);
        return out;
    }
    apply_fault(*plan, k, out, [&] { return jobs_reply(sim, rq.target, visible, base, k); });
    return out;
}

/// A jobs endpoint reply compressed as the request's Accept-Encoding and the configuration
/// ask (or broken as a corrupt-gzip or truncated-gzip fault says), and framed as configured.
void encode(const compression_config& config, std::string_view accept_encoding,
            request_log_entry& entry, wire_plan& out) {
    if (out.transport_fault == fault_kind::close_before_response)
        return; // nothing will be sent
    http_reply& reply = out.reply;
    // On every response that could have been compressed, as gateways do: a cache must not hand
    // a gzip body to a client that did not ask for it.
    if (config.any())
        reply.headers.emplace_back("Vary", "Accept-Encoding");
    content_coding coding = content_coding::gzip;
    if (auto broken = faulty_gzip(reply.body, entry.fault, config.level)) {
        reply.body = std::move(*broken);
    } else {
        coding = negotiate_coding(accept_encoding, config);
        if (coding == content_coding::identity || reply.body.size() < config.min_size)
            return;
        reply.body = compress_body(reply.body, coding, config.level, config.raw_deflate);
    }
    reply.headers.emplace_back("Content-Encoding", std::string(to_string(coding)));
    entry.coding = coding;
    if (config.awkward_chunks)
        out.chunks = awkward_chunk_sizes(reply.body.size());
}

wire_plan route_token(simulator::impl& sim, const request_view& rq, request_log_entry& entry) {
    wire_plan out;
    // The form's client_id, so that rules with `client=` can target a client's token requests.
    std::string client;
    if (boost::urls::parse_query(rq.body))
        for (const auto& p : boost::urls::params_view(rq.body))
            if (p.key == "client_id")
                client = p.value;
    auto plan = current_plan(sim);
    fault_kind k = plan->decide({token_path, std::nullopt, client});
    // Revocation, drift, lying pages and broken gzip mean nothing to the token endpoint (it
    // never compresses): answered normally, logged as none.
    if (k == fault_kind::revoke_token || k == fault_kind::drift_insert ||
        k == fault_kind::drift_remove || is_page_fault(k) || k == fault_kind::corrupt_gzip ||
        k == fault_kind::truncated_gzip)
        k = fault_kind::none;
    entry.fault = k;
    apply_fault(*plan, k, out, [&] { return handle_token_request(sim, rq, entry.client_id); });
    return out;
}

} // namespace

wire_plan route(simulator::impl& sim, const request_view& rq) {
    request_log_entry entry;
    entry.time = std::chrono::steady_clock::now();
    entry.method = std::string(rq.method);
    const auto q = rq.target.find('?');
    entry.path = std::string(rq.target.substr(0, q));
    entry.query =
        q == std::string_view::npos ? std::string() : std::string(rq.target.substr(q + 1));
    entry.connection_id = rq.connection_id;

    const std::string path = canonical_path(entry.path);
    wire_plan out;
    if (path == token_path) {
        out = route_token(sim, rq, entry);
    } else if (path == jobs_path) {
        out = route_jobs(sim, rq, entry);
        encode(sim.config.compression, rq.accept_encoding, entry, out);
    } else {
        out.reply = json_error(404, "No resource at " + entry.path);
    }
    out.delay += sim.config.latency;
    entry.status = out.transport_fault == fault_kind::close_before_response ? 0 : out.reply.status;

    bool drain = false;
    {
        std::lock_guard lock(sim.mutex);
        ++sim.counters.requests;
        if (path == token_path) {
            ++sim.counters.token_requests;
        } else if (path == jobs_path) {
            ++sim.counters.jobs_requests;
            const std::uint64_t every = sim.config.close_all_every;
            drain = every != 0 && sim.counters.jobs_requests % every == 0;
        }
        sim.record(std::move(entry));
    }
    // This request's own connection is among those drained: it closes after this response.
    if (drain)
        sim.close_all_connections();
    return out;
}

} // namespace dynjobs::sim::detail
