// src/engine/client_state.hpp - what a client's fetches share: pools, tokens, retry budget, gate.
#pragma once

#include "auth/token_manager.hpp"
#include "net/http_pool.hpp"
#include "policy/host_gate.hpp"
#include "policy/retry_policy.hpp"

#include <dynjobs/client_config.hpp>
#include <dynjobs/diagnostics.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <deque>
#include <memory>
#include <optional>
#include <vector>

namespace dynjobs::detail {

struct fetch_state;

/// Where requests go, resolved from client_config.
struct endpoints {
    net::origin api;
    std::string jobs_path; ///< api.base_path + "/dynamicsbackup/jobs"
    net::origin token;
    std::string token_url;
    std::string token_path;
    /// The proxy each origin's connections tunnel through (none: direct), chosen for each host.
    std::optional<net::proxy_endpoint> api_proxy;
    std::optional<net::proxy_endpoint> token_proxy;
};

/// Resolves region / base URL / token URL into origins, checking schemes (field names as in
/// client_config: "region", "base_url", "token_url"), and chooses their proxies from
/// client_config::proxy and the process's environment (net::choose_proxy).
boost::system::error_code resolve_endpoints(const client_config& config, endpoints& out,
                                            diagnostics& diag);

/// Checks every numeric setting of `config` (limits at least 1, timeouts positive, factors in
/// range): errc::invalid_argument with diag.field the setting's path ("rate.max_in_flight") and
/// diag.value its value.
boost::system::error_code check_numbers(const client_config& config, diagnostics& diag);

/// Shared by every fetch of a client; touched only on `strand`.
struct client_state {
    client_state(boost::asio::any_io_executor executor, client_config cfg);

    /// The executor the client was given: completions without an associated executor run there.
    boost::asio::any_io_executor executor;
    boost::asio::strand<boost::asio::any_io_executor> strand;
    client_config config;

    /// Builds pools and the token manager (reading CA and certificate files) once, when the
    /// client is constructed; the outcome is kept for every fetch.
    boost::system::error_code prepare(diagnostics& diag);

    /// Waits until the host gate admits one more request (pause, rate ceiling, in-flight limit).
    /// Completes with operation_aborted when the awaiting coroutine is cancelled.
    boost::asio::awaitable<boost::system::error_code> admit();
    /// Pairs with a successful admit().
    void release(policy::host_gate::outcome outcome);

    bool prepared = false;
    boost::system::error_code prepare_error;
    diagnostics prepare_diag;
    endpoints where;
    std::unique_ptr<net::http_pool> api_pool;
    std::unique_ptr<net::http_pool> token_pool; // null when the token endpoint shares api_pool
    std::unique_ptr<auth::token_manager> tokens;
    policy::retry_policy retry;
    /// Pages answered 200, by every fetch: a page refused 401 again and again while others
    /// succeed sees tokens revoked, not credentials refused.
    std::uint64_t pages_accepted = 0;
    policy::host_gate gate;
    /// Requests waiting for an in-flight slot; release() wakes the oldest.
    std::deque<boost::asio::steady_timer*> gate_waiters;
    std::vector<std::weak_ptr<fetch_state>> fetches;
};

} // namespace dynjobs::detail
