// src/auth/token_manager.cpp - see token_manager.hpp.
//
// Shape: one "flight" coroutine at a time fetches a token (with retries); callers that need a
// token while none is usable park on a waiter, a steady_timer that never expires and is
// cancelled to wake them (a timer as a condition variable). Each waiter has its own timer, so
// a caller's own cancellation ends its wait without disturbing the others or the flight.
#include "auth/token_manager.hpp"

#include "auth/certificate_loader.hpp"
#include "auth/client_assertion.hpp"
#include "auth/token_response.hpp"
#include "policy/retry_after.hpp"

#include <dynjobs/error.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include <openssl/crypto.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <list>
#include <map>
#include <optional>
#include <random>
#include <variant>

namespace dynjobs::auth {

namespace asio = boost::asio;
using boost::system::error_code;
using clock = std::chrono::steady_clock;

namespace {

constexpr std::string_view jwt_bearer_type =
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// After a background renewal failed while the current token is still usable, the next renewal
/// waits this long at most (less when the token has less life left): a permanent error must not
/// turn every request into a token request.
constexpr std::chrono::seconds renewal_retry_pause{30};

/// Form encoding: everything but RFC 3986 unreserved characters is percent-encoded, so '+', '&'
/// and '=' in a secret survive the server's form decoding.
std::string form_encode(std::string_view value) {
    return boost::urls::encode(value, boost::urls::unreserved_chars);
}

/// The request target of the token URL (path and query), "/" when it has no path.
std::string target_of(std::string_view url) {
    auto u = boost::urls::parse_uri(url);
    if (!u)
        return {};
    std::string target(u->encoded_path());
    if (target.empty())
        target = "/";
    if (u->has_query()) {
        target += '?';
        target += u->encoded_query();
    }
    return target;
}

/// Wipes a string that held a secret before its memory is freed.
void wipe(std::string& s) {
    OPENSSL_cleanse(s.data(), s.size());
    s.clear();
}

/// A header value must not carry CR, LF or other control characters.
bool header_safe(std::string_view v) {
    return std::all_of(v.begin(), v.end(), [](char c) { return c >= 0x20 && c < 0x7F; });
}

error_code bad_argument(diagnostics& diag, std::string_view field, std::string_view message) {
    diag.field = std::string(field);
    diag.message = std::string(field) + ": " + std::string(message);
    return errc::invalid_argument;
}

} // namespace

/// A caller parked until the flight ends. It lives in the caller's coroutine frame and is
/// listed in the manager while parked; a frame destroyed while parked (its io_context torn down
/// with the fetch suspended) unlists it, so that a later wake_all never touches freed memory.
struct waiter {
    waiter(const asio::any_io_executor& ex, std::list<waiter*>& list)
        : timer(ex, clock::time_point::max())
        , parked_in(list)
        , position(list.insert(list.end(), this)) {}
    waiter(const waiter&) = delete;
    waiter& operator=(const waiter&) = delete;
    ~waiter() { leave(); }

    /// Unlists a waiter that gives up before the flight answers it.
    void leave() {
        if (!done)
            parked_in.erase(position);
        done = true;
    }

    asio::steady_timer timer;
    std::list<waiter*>& parked_in;
    std::list<waiter*>::iterator position;
    bool done = false; ///< off the list: answered by wake_all, or left
    error_code ec;
    std::string token;
    diagnostics diag;
};

/// One call of a user token_source: the flight waits on `answered`, which the source's handler
/// cancels once the answer is stored. Shared with that handler, which may come after the flight
/// has stopped waiting.
struct source_call {
    explicit source_call(const asio::any_io_executor& ex)
        : answered(ex, clock::time_point::max()) {}

    asio::steady_timer answered;
    asio::cancellation_signal stop;        ///< the slot the source's handler carries
    std::atomic<bool> handed_back = false; ///< the source has called its handler
    bool done = false;                     ///< the answer is stored (on our executor)
    error_code ec;
    access_token result;
};

struct token_manager::impl : std::enable_shared_from_this<impl> {
    impl(asio::any_io_executor ex, net::http_pool& p, token_manager_config c)
        : executor(std::move(ex))
        , pool(p)
        , config(std::move(c))
        , retry(config.retry, std::random_device{}())
        , target(config.token_path.empty() ? target_of(config.token_url) : config.token_path)
        , seed(std::random_device{}()) {}

    ~impl() { wipe(token); }

    static asio::awaitable<error_code> get_owned(std::shared_ptr<impl> self, std::string& token,
                                                 diagnostics& diag) {
        diag.clear();
        co_return co_await self->get(token, diag);
    }

    asio::any_io_executor executor;
    net::http_pool& pool;
    token_manager_config config;
    policy::retry_policy retry;
    std::string target;
    std::uint64_t seed;

    /// Loaded on first use (or by validate()), then kept: the file is read once.
    std::optional<signing_certificate> cert;

    std::string token; ///< the current token, empty when none
    std::optional<policy::token_lifetime> lifetime;
    clock::time_point renew_not_before{};
    bool bearer_rejected = false;

    bool in_flight = false;
    std::uint64_t flight_id = 0;
    /// Cancellation signals of flights whose coroutine may still run (a cancelled flight runs
    /// until its exchange notices). A signal is freed only after its coroutine has completed.
    std::map<std::uint64_t, std::shared_ptr<asio::cancellation_signal>> signals;
    std::list<waiter*> waiters;
    token_stats stats;
    std::optional<diagnostics> last_failure; // while the endpoint keeps failing

    error_code validate(diagnostics& diag);
    error_code ensure_certificate(diagnostics& diag);
    asio::awaitable<error_code> get(std::string& out, diagnostics& diag);
    void start_flight();
    static asio::awaitable<void> run_flight(std::shared_ptr<impl> self, std::uint64_t id);
    asio::awaitable<error_code> obtain(std::uint64_t id, issued_token& tok, diagnostics& diag,
                                       clock::time_point& sent_at);
    asio::awaitable<error_code> ask_source(std::uint64_t id, issued_token& tok, diagnostics& diag,
                                           clock::time_point& sent_at);
    error_code build_body(std::string& body, diagnostics& diag);
    void finish(error_code ec, issued_token& tok, const diagnostics& diag,
                clock::time_point sent_at);
    void wake_all(error_code ec, const std::string& tok, const diagnostics& diag);
    void abandon_flight();
    void cancel();
};

// --- validation -----------------------------------------------------------------------------

error_code token_manager::impl::validate(diagnostics& diag) {
    diag.clear();
    bool uses_endpoint = false;
    if (auto* s = std::get_if<client_secret_credentials>(&config.creds)) {
        if (s->client_id.empty())
            return bad_argument(diag, "client_id", "is empty");
        if (s->client_secret.empty())
            return bad_argument(diag, "client_secret", "is empty");
        uses_endpoint = true;
    } else if (auto* c = std::get_if<certificate_credentials>(&config.creds)) {
        if (c->client_id.empty())
            return bad_argument(diag, "client_id", "is empty");
        if (c->certificate_file.empty())
            return bad_argument(diag, "certificate_file", "is empty");
        if (auto ec = ensure_certificate(diag))
            return ec;
        uses_endpoint = true;
    } else if (auto* b = std::get_if<bearer_token_credentials>(&config.creds)) {
        if (b->access_token.empty())
            return bad_argument(diag, "access_token", "is empty");
        if (!header_safe(b->access_token))
            return bad_argument(diag, "access_token", "has characters an HTTP header cannot carry");
    } else if (!std::get<token_source>(config.creds)) {
        return bad_argument(diag, "token_source", "is empty");
    }
    if (uses_endpoint) {
        if (config.token_url.empty() || target.empty())
            return bad_argument(diag, "token_url", "is missing or not a URL");
        if (config.scope.empty())
            return bad_argument(diag, "scope", "is empty");
    }
    return {};
}

error_code token_manager::impl::ensure_certificate(diagnostics& diag) {
    if (cert)
        return {};
    const auto& c = std::get<certificate_credentials>(config.creds);
    signing_certificate loaded;
    if (auto ec = load_signing_certificate(c.certificate_file, c.password, loaded, diag))
        return ec;
    cert.emplace(std::move(loaded));
    return {};
}

// --- callers ----------------------------------------------------------------------------------

asio::awaitable<error_code> token_manager::impl::get(std::string& out, diagnostics& diag) {
    if (auto* b = std::get_if<bearer_token_credentials>(&config.creds)) {
        if (bearer_rejected) {
            diag.message = "the API refused the fixed bearer token (401) and nothing can renew it";
            co_return errc::unauthorized;
        }
        out = b->access_token;
        co_return error_code{};
    }

    const auto now = clock::now();
    if (lifetime && lifetime->usable(now)) {
        if (lifetime->needs_refresh(now) && !in_flight && now >= renew_not_before)
            start_flight(); // in the background: this caller goes on with the current token
        out = token;
        co_return error_code{};
    }

    waiter w(executor, waiters);
    if (!in_flight)
        start_flight();
    // Woken by timer.cancel() from wake_all (done = true), or by this coroutine's own
    // cancellation (done = false).
    auto [ignored] = co_await w.timer.async_wait(asio::as_tuple(asio::use_awaitable));
    (void)ignored;
    if (!w.done) {
        w.leave();
        // The last caller gone (its fetch cancelled or destroyed): nobody wants this token now,
        // so its request stops too, and a user token source hears it on its slot. The next
        // caller starts a new flight.
        if (waiters.empty())
            abandon_flight();
        diag.message = "waiting for an access token was cancelled";
        co_return asio::error::operation_aborted;
    }
    if (w.ec) {
        diag = std::move(w.diag);
        co_return w.ec;
    }
    out = std::move(w.token);
    co_return error_code{};
}

void token_manager::impl::wake_all(error_code ec, const std::string& tok, const diagnostics& diag) {
    auto parked = std::move(waiters);
    waiters.clear();
    for (waiter* w : parked) {
        w->done = true;
        w->ec = ec;
        if (ec)
            w->diag = diag;
        else
            w->token = tok;
        w->timer.cancel();
    }
}

// --- the flight ---------------------------------------------------------------------------------

void token_manager::impl::start_flight() {
    in_flight = true;
    const auto id = ++flight_id;
    auto signal = std::make_shared<asio::cancellation_signal>();
    signals.emplace(id, signal);
    auto self = shared_from_this();
    asio::co_spawn(
        executor, run_flight(self, id),
        asio::bind_cancellation_slot(signal->slot(), [self, id](const std::exception_ptr&) {
            // Freed later, not here: co_spawn may still touch the slot once
            // this handler returns.
            asio::post(self->executor, [self, id] { self->signals.erase(id); });
        }));
}

asio::awaitable<void> token_manager::impl::run_flight(std::shared_ptr<impl> self,
                                                      std::uint64_t id) {
    // co_spawn may start inline: posting first guarantees the caller that started the flight
    // has parked its waiter before the flight can end.
    co_await asio::post(self->executor, asio::use_awaitable);
    issued_token tok;
    diagnostics diag;
    clock::time_point sent_at = clock::now();
    error_code ec;
    try {
        ec = co_await self->obtain(id, tok, diag, sent_at);
    } catch (const std::exception& e) {
        diag.clear();
        diag.message = std::string("token request failed with an exception: ") + e.what();
        ec = errc::credential_error;
    }
    if (self->flight_id != id || !self->in_flight)
        co_return; // cancelled: cancel() already answered the waiters
    self->finish(ec, tok, diag, sent_at);
}

void token_manager::impl::finish(error_code ec, issued_token& tok, const diagnostics& diag,
                                 clock::time_point sent_at) {
    in_flight = false;
    const auto now = clock::now();
    if (!ec) {
        wipe(token);
        token = std::move(tok.access_token);
        lifetime.emplace(sent_at, tok.expires_in, config.refresh, seed++);
        renew_not_before = {};
        // Waiters get this token even when its lifetime says "unusable" (a server issuing
        // already-expired tokens): it is the freshest there is, and the API will judge it.
        wake_all({}, token, diag);
        return;
    }
    if (lifetime && lifetime->usable(now)) {
        const auto left =
            std::chrono::duration_cast<clock::duration>((lifetime->expires_at() - now) / 4);
        renew_not_before = now + std::min<clock::duration>(renewal_retry_pause, left);
    }
    wake_all(ec, {}, diag);
}

error_code token_manager::impl::build_body(std::string& body, diagnostics& diag) {
    body = "grant_type=client_credentials&client_id=";
    if (auto* s = std::get_if<client_secret_credentials>(&config.creds)) {
        body += form_encode(s->client_id);
        body += "&client_secret=";
        body += form_encode(s->client_secret);
    } else {
        const auto& c = std::get<certificate_credentials>(config.creds);
        if (auto ec = ensure_certificate(diag))
            return ec;
        std::string jwt;
        if (auto ec = build_client_assertion(*cert, c.client_id, config.token_url,
                                             std::chrono::system_clock::now(), jwt, diag))
            return ec;
        body += form_encode(c.client_id);
        body += "&client_assertion_type=";
        body += form_encode(jwt_bearer_type);
        body += "&client_assertion=";
        body += form_encode(jwt);
        wipe(jwt);
    }
    body += "&scope=";
    body += form_encode(config.scope);
    return {};
}

asio::awaitable<error_code> token_manager::impl::obtain(std::uint64_t id, issued_token& tok,
                                                        diagnostics& diag,
                                                        clock::time_point& sent_at) {
    if (std::holds_alternative<token_source>(config.creds))
        co_return co_await ask_source(id, tok, diag, sent_at);

    if (auto ec = validate(diag))
        co_return ec;

    for (unsigned attempt = 1;; ++attempt) {
        net::http_request request;
        request.method = boost::beast::http::verb::post;
        request.target = target;
        request.content_type = "application/x-www-form-urlencoded";
        request.user_agent = config.user_agent;
        // A fresh assertion (new jti) for every attempt: the server remembers used ones.
        if (auto ec = build_body(request.body, diag))
            co_return ec;

        net::http_response response;
        sent_at = clock::now();
        ++stats.token_requests;
        error_code ec = co_await pool.async_exchange(request, response, nullptr);
        wipe(request.body);
        if (flight_id != id)
            co_return asio::error::operation_aborted;

        policy::attempt_result result;
        diag.clear();
        if (ec) {
            ++stats.token_failures;
            diag.url = config.token_url;
            diag.message = "token request to " + config.token_url + " failed: " + ec.message();
            if (ec == asio::error::operation_aborted)
                co_return ec;
            if (const auto& proxy = pool.via()) {
                // Through a proxy, every failure names it: a refused connection may be its.
                if (ec == errc::proxy_refused || ec == errc::proxy_auth_required) {
                    diag.message = "token request to " + config.token_url + " failed: " +
                                   net::describe_tunnel_failure(*proxy, pool.where(), ec,
                                                                response.proxy_status);
                    diag.url = proxy->to_string();
                    diag.http_status = static_cast<int>(response.proxy_status);
                } else {
                    diag.message += " (via proxy " + proxy->to_string() + ")";
                }
                // Configuration, not chance: the proxy refuses every attempt the same way.
                if (ec == errc::proxy_auth_required)
                    co_return ec;
            }
            result.transport_error = ec;
            result.timed_out = is_timeout(ec);
        } else {
            const auto verdict = interpret_token_response(response.status, response.body,
                                                          config.token_url, tok, ec, diag);
            wipe(response.body);
            if (verdict == token_verdict::ok) {
                retry.on_success();
                last_failure.reset();
                co_return error_code{};
            }
            ++stats.token_failures;
            if (verdict == token_verdict::fail)
                co_return ec;
            result.http_status = response.status;
            if (!response.retry_after.empty())
                result.retry_after = policy::parse_retry_after(response.retry_after,
                                                               std::chrono::system_clock::now());
        }

        last_failure = diag;
        const auto decision = retry.on_failure(result, attempt, clock::now(), std::nullopt);
        if (!decision.retry) {
            diag.message += " (gave up after " + std::to_string(attempt) +
                            (attempt == 1 ? " attempt)" : " attempts)");
            co_return decision.error;
        }
        asio::steady_timer pause(executor, decision.wait);
        auto [wait_ec] = co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
        if (wait_ec || flight_id != id)
            co_return asio::error::operation_aborted;
    }
}

asio::awaitable<error_code> token_manager::impl::ask_source(std::uint64_t id, issued_token& tok,
                                                            diagnostics& diag,
                                                            clock::time_point& sent_at) {
    sent_at = clock::now();
    ++stats.token_requests;
    const auto& source = std::get<token_source>(config.creds);
    // The source's handler is a plain one that posts the answer back to our executor (the
    // source may complete from any thread), not the awaitable's own: with Boost 1.81, an
    // awaitable handler carried inside an any_completion_handler over a strand executor drops a
    // reference to the strand too many (a use-after-free, reproduced outside dynjobs).
    auto call = std::make_shared<source_call>(executor);
    source(asio::bind_cancellation_slot(call->stop.slot(), [call](error_code e, access_token t) {
        call->handed_back = true;
        auto ex = call->answered.get_executor();
        asio::post(ex, [call, e, t = std::move(t)]() mutable {
            call->done = true;
            call->ec = e;
            call->result = std::move(t);
            call->answered.cancel();
        });
    }));
    if (!call->done)
        co_await call->answered.async_wait(asio::as_tuple(asio::use_awaitable));
    if (!call->done) {
        // This flight was cancelled (the client going away, or its last waiter gone): a source
        // that listens on its handler's slot stops its request, on our executor.
        if (!call->handed_back)
            call->stop.emit(asio::cancellation_type::terminal);
        co_return asio::error::operation_aborted;
    }
    const error_code ec = call->ec;
    access_token result = std::move(call->result);
    if (flight_id != id)
        co_return asio::error::operation_aborted;
    if (ec) {
        ++stats.token_failures;
        diag.message = "the token source failed: " + ec.message();
        co_return ec;
    }
    if (result.value.empty() || !header_safe(result.value)) {
        ++stats.token_failures;
        wipe(result.value);
        diag.field = "access_token";
        diag.message = "the token source returned an empty token or one with characters an "
                       "HTTP header cannot carry";
        co_return errc::invalid_token_response;
    }
    tok.access_token = std::move(result.value);
    tok.expires_in = std::max(result.expires_in, std::chrono::seconds{0});
    co_return error_code{};
}

void token_manager::impl::abandon_flight() {
    if (!in_flight)
        return;
    in_flight = false;
    const auto id = flight_id++;
    if (auto it = signals.find(id); it != signals.end())
        it->second->emit(asio::cancellation_type::terminal);
}

void token_manager::impl::cancel() {
    abandon_flight();
    diagnostics diag;
    diag.message = "the token manager was cancelled";
    wake_all(asio::error::operation_aborted, {}, diag);
}

// --- the handle -------------------------------------------------------------------------------

token_manager::token_manager(asio::any_io_executor executor, net::http_pool& token_pool,
                             token_manager_config config)
    : impl_(std::make_shared<impl>(std::move(executor), token_pool, std::move(config))) {}

token_manager::~token_manager() {
    if (impl_)
        impl_->cancel();
}

error_code token_manager::validate(diagnostics& diag) const {
    return impl_->validate(diag);
}

asio::awaitable<error_code> token_manager::async_get(std::string& token, diagnostics& diag) {
    // Not a coroutine itself: the impl is captured now, not at the first resume, so the manager
    // may be destroyed before or while this caller waits.
    return impl::get_owned(impl_, token, diag);
}

void token_manager::invalidate(const std::string& token) {
    auto& s = *impl_;
    if (auto* b = std::get_if<bearer_token_credentials>(&s.config.creds)) {
        if (token == b->access_token && !s.bearer_rejected) {
            s.bearer_rejected = true;
            ++s.stats.invalidations;
        }
        return;
    }
    if (s.lifetime && !token.empty() && token == s.token) {
        s.lifetime.reset();
        wipe(s.token);
        ++s.stats.invalidations;
    }
}

void token_manager::cancel() {
    impl_->cancel();
}

token_stats token_manager::stats() const {
    return impl_->stats;
}

std::optional<diagnostics> token_manager::failing() const {
    return impl_->last_failure;
}

} // namespace dynjobs::auth
