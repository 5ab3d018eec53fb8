// src/net/http_pool.cpp - acquiring, reusing and retiring the connections of one origin.
#include "net/http_pool.hpp"

#include "net/connection.hpp"

#include <dynjobs/error.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include <openssl/ssl.h>

#include <algorithm>
#include <list>
#include <unordered_set>
#include <vector>

namespace dynjobs::net {
namespace asio = boost::asio;
namespace http = boost::beast::http;
using boost::system::error_code;
using clock_type = std::chrono::steady_clock;

namespace {

bool is_idempotent(http::verb method) {
    switch (method) {
    case http::verb::get:
    case http::verb::head:
    case http::verb::options:
    case http::verb::put:
    case http::verb::delete_:
    case http::verb::trace:
        return true;
    default:
        return false;
    }
}

/// How a kept-alive connection looks when the server dropped it while idle.
bool is_stale_error(const error_code& ec) {
    return ec == errc::connection_closed || ec == asio::error::connection_reset ||
           ec == asio::error::broken_pipe || ec == asio::error::connection_aborted;
}

void reset_response(http_response& r) {
    r.status = 0;
    r.retry_after.clear();
    r.www_authenticate.clear();
    r.content_type.clear();
    r.content_encoding.clear();
    r.body.clear(); // keeps its capacity for the next exchange
    r.body_bytes = 0;
    r.decoded_bytes = 0;
    r.reused_connection = false;
    r.proxy_status = 0;
}

/// An https origin given no context gets the default one (system trust, verification on)
/// rather than plain TCP: a missing context must never downgrade to clear text.
std::shared_ptr<asio::ssl::context> default_if_null(std::shared_ptr<asio::ssl::context> ctx) {
    if (!ctx) {
        diagnostics ignored;
        if (make_tls_context(tls_config{}, ctx, ignored)) {
            // No default trust store: verification stays on and every handshake fails.
            ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
            ctx->set_verify_mode(asio::ssl::verify_peer);
        }
    }
    return ctx;
}

std::string host_header_of(const origin& o) {
    std::string s = o.to_string();
    return s.substr(s.find("//") + 2);
}

} // namespace

struct http_pool::impl : std::enable_shared_from_this<impl> {
    /// A coroutine waiting for a connection. The timer is its condition variable: a releaser
    /// sets `granted` (with a connection, or null = permission to open one) and cancels it.
    struct waiter {
        impl& pool;
        asio::steady_timer timer;
        std::list<waiter*>::iterator position;
        bool queued = false;
        bool granted = false;
        std::shared_ptr<connection> conn;

        waiter(impl& p)
            : pool(p)
            , timer(p.executor) {}
        waiter(const waiter&) = delete;
        waiter& operator=(const waiter&) = delete;
        ~waiter() {
            if (queued) {
                pool.waiters.erase(position);
            }
            if (granted) {
                // Woken, then cancelled before it could use the grant: pass it on.
                const bool usable = conn != nullptr && conn->is_open();
                pool.release(std::move(conn), usable);
            }
        }
    };

    /// One exchange's hold on a connection slot (counted in `open`), returned on every path,
    /// including a coroutine destroyed or unwound by a cancellation exception.
    struct lease {
        impl& pool;
        std::shared_ptr<connection> conn;
        bool holds_slot = false;

        explicit lease(impl& p)
            : pool(p) {}
        lease(const lease&) = delete;
        lease& operator=(const lease&) = delete;
        ~lease() {
            if (holds_slot) {
                pool.release(std::move(conn), false);
            }
        }
        void give_back(bool reusable) {
            holds_slot = false;
            pool.release(std::move(conn), reusable);
        }
    };

    impl(asio::any_io_executor ex, origin o, std::shared_ptr<asio::ssl::context> ctx,
         pool_config cfg, std::optional<proxy_endpoint> through)
        : executor(std::move(ex))
        , where(std::move(o))
        , via(std::move(through))
        , tls(where.tls ? default_if_null(std::move(ctx)) : nullptr)
        , config(cfg)
        , host_header(host_header_of(where)) {
        config.max_connections = std::max<std::size_t>(config.max_connections, 1);
        config.max_requests_per_connection =
            std::max<std::size_t>(config.max_requests_per_connection, 1);
    }

    asio::any_io_executor executor;
    origin where;
    std::optional<proxy_endpoint> via;
    std::shared_ptr<asio::ssl::context> tls;
    pool_config config;
    std::string host_header;

    /// Connection slots in use: idle, busy or being opened.
    std::size_t open = 0;
    /// Most recently used last.
    std::vector<std::shared_ptr<connection>> idle;
    std::list<waiter*> waiters;
    /// Every open connection, idle or busy, so that cancel() can close them all.
    std::unordered_set<connection*> live;
    /// The last resumable TLS session; every new connection offers its own reference to it.
    ssl_session_ptr session;
    /// Bumped by cancel(): exchanges that started before see it and end with operation_aborted.
    std::uint64_t generation = 0;
    pool_stats stats;

    void drop(std::shared_ptr<connection>& c) {
        c->close();
        live.erase(c.get());
        c.reset();
    }

    bool expired(const connection& c, clock_type::time_point now) const {
        return now - c.idle_since >= config.idle_timeout;
    }

    /// Returns a slot, with its connection when `reusable`: to the first waiter, else to idle.
    void release(std::shared_ptr<connection> c, bool reusable) {
        if (c && !reusable) {
            drop(c);
        }
        if (c) {
            c->idle_since = clock_type::now();
        }
        if (!waiters.empty()) {
            waiter* w = waiters.front();
            waiters.pop_front();
            w->queued = false;
            w->granted = true;
            w->conn = std::move(c);
            w->timer.cancel();
            return;
        }
        if (c) {
            idle.push_back(std::move(c));
        } else {
            --open;
        }
    }

    void evict_idle(clock_type::time_point now) {
        // Oldest first: the front of `idle` went idle longest ago.
        auto keep = std::find_if(idle.begin(), idle.end(),
                                 [&](const auto& c) { return !expired(*c, now); });
        for (auto it = idle.begin(); it != keep; ++it) {
            drop(*it);
            --open;
            ++stats.closed_idle;
        }
        idle.erase(idle.begin(), keep);
    }

    void remember_session(connection& c) {
        if (auto s = c.resumable_session()) {
            session = std::move(s);
        }
    }

    asio::awaitable<error_code> acquire(lease& l, std::uint64_t gen,
                                        const asio::cancellation_state& cs) {
        const auto now = clock_type::now();
        evict_idle(now);
        while (!idle.empty()) {
            auto c = std::move(idle.back());
            idle.pop_back();
            if (expired(*c, now) || c->peer_closed()) {
                drop(c);
                --open;
                ++stats.closed_idle;
                continue;
            }
            l.conn = std::move(c);
            l.holds_slot = true;
            co_return error_code{};
        }
        if (open < config.max_connections) {
            ++open;
            l.holds_slot = true;
            co_return error_code{};
        }
        waiter w(*this);
        w.timer.expires_after(config.acquire_timeout);
        w.position = waiters.insert(waiters.end(), &w);
        w.queued = true;
        auto [ec] = co_await w.timer.async_wait(asio::as_tuple(asio::use_awaitable));
        if (gen != generation || cs.cancelled() != asio::cancellation_type::none) {
            co_return asio::error::operation_aborted; // ~waiter passes any grant on
        }
        if (w.granted) {
            w.granted = false;
            l.conn = std::move(w.conn);
            l.holds_slot = true;
            if (l.conn && (expired(*l.conn, clock_type::now()) || l.conn->peer_closed())) {
                drop(l.conn); // keep the slot: the caller opens a new connection in it
                ++stats.closed_idle;
            }
            co_return error_code{};
        }
        if (!ec) {
            co_return errc::pool_acquire_timeout;
        }
        co_return asio::error::operation_aborted;
    }

    asio::awaitable<error_code> exchange(const http_request& request, http_response& response,
                                         const body_sink* sink) {
        const auto cs = co_await asio::this_coro::cancellation_state;
        const auto gen = generation;
        const auto aborted = [&] {
            return gen != generation || cs.cancelled() != asio::cancellation_type::none;
        };
        lease l(*this);
        if (auto ec = co_await acquire(l, gen, cs)) {
            co_return ec;
        }
        bool reused = l.conn != nullptr;
        for (int attempt = 0;; ++attempt) {
            if (!l.conn) {
                l.conn =
                    std::make_shared<connection>(executor, tls.get(), config.max_inflated_body);
                live.insert(l.conn.get());
                ++stats.connections_opened;
                open_outcome opened;
                auto ec = co_await l.conn->async_open(where, via ? &*via : nullptr, config.timeouts,
                                                      share_session(session), opened);
                if (aborted()) {
                    co_return asio::error::operation_aborted;
                }
                if (ec) {
                    response.proxy_status = opened.proxy_status;
                    co_return ec; // ~lease closes the connection and frees the slot
                }
                if (opened.resumed) {
                    ++stats.tls_sessions_resumed;
                }
            } else {
                ++stats.connections_reused;
            }
            response.reused_connection = reused;
            exchange_outcome outcome;
            auto ec = co_await l.conn->async_exchange(request, host_header, response, sink,
                                                      config.timeouts, outcome);
            ++l.conn->requests;
            if (aborted()) {
                co_return asio::error::operation_aborted;
            }
            if (ec && reused && attempt == 0 && !outcome.got_response_byte &&
                is_idempotent(request.method) && is_stale_error(ec)) {
                // The server dropped the kept-alive connection; the request never reached it.
                ++stats.stale_connection_retries;
                drop(l.conn); // the slot stays ours for the fresh connection
                reset_response(response);
                reused = false;
                continue;
            }
            if (!ec && tls && l.conn->requests == 1) {
                // With TLS 1.3 the ticket comes after the handshake; by the end of the first
                // response OpenSSL has read it.
                remember_session(*l.conn);
            }
            const bool capped = l.conn->requests >= config.max_requests_per_connection;
            if (!ec && !outcome.keep_alive) {
                ++stats.closed_by_server;
            } else if (!ec && capped) {
                ++stats.retired_request_cap;
            }
            l.give_back(!ec && outcome.keep_alive && !capped);
            co_return ec;
        }
    }

    static asio::awaitable<error_code> run(std::shared_ptr<impl> self, const http_request& request,
                                           http_response& response, const body_sink* sink) {
        reset_response(response);
        try {
            co_return co_await self->exchange(request, response, sink);
        } catch (const boost::system::system_error& e) {
            // A co_await in a coroutine whose cancellation was requested throws (Asio's
            // throw_if_cancelled default); the caller gets an error code as documented.
            co_return e.code();
        }
    }

    void cancel() {
        ++generation;
        for (connection* c : live) {
            c->close();
        }
        live.clear();
        open -= idle.size();
        idle.clear();
        auto woken = std::move(waiters);
        waiters.clear();
        for (waiter* w : woken) {
            w->queued = false;
            w->timer.cancel();
        }
    }
};

http_pool::http_pool(asio::any_io_executor executor, origin where,
                     std::shared_ptr<asio::ssl::context> tls, pool_config config,
                     std::optional<proxy_endpoint> via)
    : impl_(std::make_shared<impl>(std::move(executor), std::move(where), std::move(tls), config,
                                   std::move(via))) {}

http_pool::~http_pool() {
    impl_->cancel();
}

asio::awaitable<error_code> http_pool::async_exchange(const http_request& request,
                                                      http_response& response,
                                                      const body_sink* sink) {
    // Not a coroutine itself: the frame below owns the impl, so the pool may be destroyed while
    // the exchange is in flight.
    return impl::run(impl_, request, response, sink);
}

void http_pool::cancel() {
    impl_->cancel();
}

pool_stats http_pool::stats() const {
    pool_stats s = impl_->stats;
    s.open = impl_->open;
    s.idle = impl_->idle.size();
    return s;
}

const origin& http_pool::where() const noexcept {
    return impl_->where;
}

const std::optional<proxy_endpoint>& http_pool::via() const noexcept {
    return impl_->via;
}

} // namespace dynjobs::net
