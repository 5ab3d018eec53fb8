#include "engine/client_state.hpp"

#include "common/bad_input.hpp"

#include <dynjobs/error.hpp>
#include <dynjobs/region.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>

namespace dynjobs::detail {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

std::uint64_t seed_of(const client_config& config) {
    return config.seed != 0 ? config.seed
                            : static_cast<std::uint64_t>(
                                  std::chrono::steady_clock::now().time_since_epoch().count());
}

} // namespace

error_code resolve_endpoints(const client_config& config, endpoints& out, diagnostics& diag) {
    diag.clear();
    std::string base_url = config.base_url;
    std::string token_url = config.token_url;
    if (!config.region.empty()) {
        if (!base_url.empty())
            return bad_input(diag, "region", config.region,
                             "and base_url '" + base_url + "' are both set; give one");
        const auto r = find_region(config.region);
        if (!r) {
            std::string names;
            for (const auto& known : regions())
                names += (names.empty() ? "" : ", ") + std::string(known.name);
            return bad_input(diag, "region", config.region,
                             "is not a known region (" + names + ")");
        }
        base_url = r->api_base_url;
        if (token_url.empty())
            token_url = r->token_url;
    }
    if (base_url.empty())
        return bad_input(diag, "base_url", "", "is required (or a region)");
    while (base_url.size() > 1 && base_url.back() == '/')
        base_url.pop_back();
    if (auto ec = net::parse_origin(base_url, config.tls, "base_url", out.api, diag))
        return ec;
    out.jobs_path = out.api.base_path + "/dynamicsbackup/jobs";
    if (token_url.empty()) {
        const auto r = find_region_by_host(out.api.host);
        token_url = r ? std::string(r->token_url) : base_url + "/connect/token";
    }
    if (auto ec = net::parse_origin(token_url, config.tls, "token_url", out.token, diag))
        return ec;
    // The token path is whatever follows the origin in the token URL.
    out.token_path = out.token.base_path.empty() ? "/" : out.token.base_path;
    out.token.base_path.clear();
    out.token_url = token_url;
    const auto env = net::process_environment();
    if (auto ec = net::choose_proxy(config.proxy, out.api, env, out.api_proxy, diag))
        return ec;
    return net::choose_proxy(config.proxy, out.token, env, out.token_proxy, diag);
}

client_state::client_state(asio::any_io_executor ex, client_config cfg)
    : executor(std::move(ex))
    , strand(asio::make_strand(executor))
    , config(std::move(cfg))
    , retry(config.retry, seed_of(config))
    , gate(config.rate) {}

error_code client_state::prepare(diagnostics& diag) {
    if (prepared) {
        diag = prepare_diag;
        return prepare_error;
    }
    prepared = true;
    auto fail = [&](error_code ec) {
        prepare_error = ec;
        prepare_diag = diag;
        return ec;
    };
    if (auto ec = check_numbers(config, diag))
        return fail(ec);
    if (auto ec = resolve_endpoints(config, where, diag))
        return fail(ec);
    std::shared_ptr<asio::ssl::context> tls;
    if (where.api.tls || where.token.tls)
        if (auto ec = net::make_tls_context(config.tls, tls, diag))
            return fail(ec);
    api_pool = std::make_unique<net::http_pool>(strand, where.api, where.api.tls ? tls : nullptr,
                                                config.pool, where.api_proxy);
    net::origin token_origin = where.token;
    token_origin.base_path = where.api.base_path;
    net::http_pool* token_target = api_pool.get();
    // A pool is an origin reached one way: the same server through another proxy (or none)
    // needs connections of its own.
    if (!(token_origin == where.api) || where.token_proxy != where.api_proxy) {
        pool_config token_pool_config = config.pool;
        token_pool_config.max_connections = 2; // one token request at a time, plus a spare
        token_pool =
            std::make_unique<net::http_pool>(strand, where.token, where.token.tls ? tls : nullptr,
                                             token_pool_config, where.token_proxy);
        token_target = token_pool.get();
    }
    auth::token_manager_config token_config;
    token_config.creds = config.creds;
    token_config.token_url = where.token_url;
    token_config.token_path = where.token_path;
    token_config.scope = config.scope;
    token_config.user_agent = config.user_agent;
    token_config.refresh = config.token_refresh;
    token_config.retry = config.retry;
    tokens = std::make_unique<auth::token_manager>(strand, *token_target, std::move(token_config));
    if (auto ec = tokens->validate(diag))
        return fail(ec);
    return {};
}

asio::awaitable<error_code> client_state::admit() {
    // Cancellation is an outcome here, not a throw. (Asio keeps this setting per awaitable
    // thread, not per frame: it holds for the calling page task too, which wants the same.)
    co_await asio::this_coro::throw_if_cancelled(false);
    for (;;) {
        const auto now = std::chrono::steady_clock::now();
        const auto start = gate.next_start(now);
        if (start && *start <= now) {
            gate.on_start(now);
            co_return error_code{};
        }
        asio::steady_timer timer(strand, start ? *start : asio::steady_timer::time_point::max());
        // Listed while parked; unlisted on every way out, a frame destroyed while suspended
        // included, so that release() never cancels a timer that no longer exists.
        struct listing {
            std::deque<asio::steady_timer*>& waiters;
            asio::steady_timer* timer;
            ~listing() {
                if (timer != nullptr)
                    std::erase(waiters, timer);
            }
        } listed{gate_waiters, start ? nullptr : &timer};
        if (!start)
            gate_waiters.push_back(&timer);
        co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
        const asio::cancellation_state state = co_await asio::this_coro::cancellation_state;
        if (state.cancelled() != asio::cancellation_type::none)
            co_return asio::error::operation_aborted;
    }
}

void client_state::release(policy::host_gate::outcome outcome) {
    gate.on_finish(outcome, std::chrono::steady_clock::now());
    if (!gate_waiters.empty()) {
        gate_waiters.front()->cancel();
        gate_waiters.pop_front();
    }
}

} // namespace dynjobs::detail
