// src/auth/token_manager.hpp - the access token every API request carries.
#pragma once

#include "net/http_pool.hpp"
#include "policy/retry_policy.hpp"
#include "policy/token_lifetime.hpp"

#include <dynjobs/credentials.hpp>
#include <dynjobs/diagnostics.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace dynjobs::auth {

struct token_manager_config {
    credentials creds;
    /// Token endpoint: the pool reaching its origin, and the path (e.g. "/connect/token").
    /// The full URL is also the JWT assertion's audience.
    std::string token_url;
    std::string token_path;
    std::string scope = "dynamics.readwrite.all";
    std::string user_agent;
    policy::token_refresh_config refresh;
    /// Transient token endpoint failures (transport errors, 408, 429, 5xx) are retried with this.
    policy::retry_config retry;
};

struct token_stats {
    std::uint64_t token_requests = 0; ///< requests sent to the token endpoint (or source calls)
    /// Of those, attempts that gave no token: HTTP errors, transport errors, malformed
    /// responses, source errors (token_requests - token_failures = tokens obtained).
    std::uint64_t token_failures = 0;
    std::uint64_t invalidations = 0; ///< tokens dropped after a 401
};

/// Single-flight token cache.
///
/// - async_get: the current token while usable; when it needs renewal, a background renewal is
///   started and the current token still returned; when there is none (or it is unusable), the
///   caller waits for the one request in flight. 100 concurrent callers cause one token request.
/// - invalidate(token): after a 401 with that token; drops it only if it is still the current one
///   (a renewal may already have replaced it), so a burst of 401s causes one renewal.
/// - Errors: permanent OAuth errors (invalid_client, invalid_scope, unauthorized_client,
///   invalid_grant, unsupported_grant_type, 400/401 from the endpoint) -> errc::oauth_error with
///   diag.oauth_error and oauth_error_description, at once, to every waiter; transient ones are
///   retried per config.retry, then reported; a malformed response -> errc::invalid_token_response;
///   certificate loading problems -> errc::credential_error; a proxy that wants credentials or
///   refuses them -> errc::proxy_auth_required at once (diag names the proxy, without
///   credentials), while its other refusals (errc::proxy_refused) are retried like transport
///   errors. Other token endpoint statuses (404, 405, ...) -> errc::http_status; retries run
///   out -> errc::retries_exhausted or retry_budget_exhausted (the manager has its own
///   retry_policy built from config.retry), with the last attempt's diagnostics.
/// - A failed background renewal keeps the current token in use and is not tried again for up to
///   30 s (less when the token has less life left), so a permanent error does not turn every
///   call into a token request.
/// - Bearer credentials: the fixed token is returned until invalidate(token) is called with it;
///   then async_get fails with errc::unauthorized (nothing can renew it).
///
/// Thread safety: use from one strand (the executor given); the destructor too, when a token
/// request may be in flight. Cancellation: cancel() aborts the token request in flight and fails
/// every waiter with operation_aborted (not final: a later async_get starts a new request); a
/// waiting coroutine's terminal cancellation ends its own wait, and when it was the last one
/// waiting, abandons the request in flight too (nobody needs that token; the next caller starts a
/// new one). Destroying the manager
/// cancels; callers still waiting then complete with operation_aborted (the state is shared).
/// Secrets (secret, key, assertion, token) never enter diagnostics.
class token_manager {
public:
    token_manager(boost::asio::any_io_executor executor, net::http_pool& token_pool,
                  token_manager_config config);
    ~token_manager();

    /// Checks the credentials before any request (certificate file readable, key matches,
    /// password right, non-empty ids): errc::invalid_argument / credential_error with diag.
    boost::system::error_code validate(diagnostics& diag) const;

    boost::asio::awaitable<boost::system::error_code> async_get(std::string& token,
                                                                diagnostics& diag);
    void invalidate(const std::string& token);
    void cancel();
    token_stats stats() const;
    /// The last token attempt's diagnostics while the endpoint keeps failing (retries still
    /// going on); nullopt once a token was obtained. Lets a caller whose deadline passes say why.
    std::optional<diagnostics> failing() const;

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

} // namespace dynjobs::auth
