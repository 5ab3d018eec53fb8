// src/sim/simulator.cpp - the public handle, start-up (config checks, certificates, listeners),
// the accept loops and stop().
#include <dynjobs/error.hpp>
#include <dynjobs/sim/simulator.hpp>

#include "shared_crypto.hpp"
#include "simulator_impl.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <openssl/ssl.h>

#include <set>

namespace dynjobs::sim {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

// ---------------------------------------------------------------- impl

simulator::impl::impl(asio::any_io_executor ex, sim_config cfg)
    : executor(std::move(ex))
    , config(std::move(cfg))
    , limiter(config.rate_limit) {
    if (config.bandwidth_bits_per_second != 0)
        link.emplace(config.bandwidth_bits_per_second);
}

const registered_client* simulator::impl::find_client(std::string_view id) const {
    for (const auto& c : config.clients)
        if (c.client_id == id)
            return &c;
    return nullptr;
}

void simulator::impl::record(request_log_entry entry) {
    ++counters.by_status[entry.status];
    if (entry.fault != fault_kind::none)
        ++counters.by_fault[entry.fault];
    if (config.request_log_capacity == 0)
        return;
    if (log.size() >= config.request_log_capacity)
        log.pop_front();
    log.push_back(std::move(entry));
}

std::uint64_t simulator::impl::add_connection(std::weak_ptr<detail::connection_base> c) {
    std::lock_guard lock(mutex);
    if (stopped)
        return 0;
    ++counters.connections_accepted;
    const std::uint64_t id = ++next_connection_id;
    connections.emplace(id, std::move(c));
    return id;
}

void simulator::impl::remove_connection(std::uint64_t id) {
    std::lock_guard lock(mutex);
    connections.erase(id);
}

void simulator::impl::close_all_connections() {
    std::vector<std::shared_ptr<detail::connection_base>> open;
    {
        std::lock_guard lock(mutex);
        ++counters.close_all_drains;
        for (auto& [id, weak] : connections)
            if (auto c = weak.lock())
                open.push_back(std::move(c));
    }
    // As in stop(): a socket is only touched on its own strand.
    for (auto& c : open)
        asio::post(c->executor(), [c] { c->close_when_idle(); });
}

void simulator::impl::count(std::uint64_t sim_counters::*counter) {
    std::lock_guard lock(mutex);
    ++(counters.*counter);
}

// ---------------------------------------------------------------- start-up helpers

namespace {

/// sim_config::tls_session_tickets' ceiling: every ticket costs the client a message to read.
constexpr std::size_t max_tls_session_tickets = 100;

error_code invalid(diagnostics& diag, std::string field, std::string value, std::string message) {
    diag.field = std::move(field);
    diag.value = std::move(value);
    diag.message = std::move(message);
    return errc::invalid_argument;
}

/// Fills in the default client and checks every registration.
error_code check_clients(std::vector<registered_client>& clients, diagnostics& diag) {
    if (clients.empty())
        clients.push_back(
            {std::string(default_client_id), std::string(default_client_secret), std::nullopt, {}});
    std::set<std::string> seen;
    for (const auto& c : clients) {
        if (c.client_id.empty())
            return invalid(diag, "clients", "", "a registered client has an empty client_id");
        if (!seen.insert(c.client_id).second)
            return invalid(diag, "clients", c.client_id,
                           "client " + c.client_id + " is registered twice");
        if (!c.client_secret && !c.certificate_pem)
            return invalid(diag, "clients", c.client_id,
                           "client " + c.client_id + " has neither a secret nor a certificate");
        if (c.certificate_pem && !detail::parse_certificate_pem(*c.certificate_pem))
            return invalid(diag, "clients", c.client_id,
                           "the certificate of client " + c.client_id + " is not PEM");
    }
    return {};
}

error_code make_tls_context(const server_pki& pki, const sim_config& cfg,
                            std::optional<asio::ssl::context>& out, diagnostics& diag) {
    asio::ssl::context ctx(asio::ssl::context::tls_server);
    error_code ec;
    ctx.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                        asio::ssl::context::no_sslv3 | asio::ssl::context::single_dh_use,
                    ec);
    // TLS 1.2 and 1.3 only, as the real service: older clients must fail the handshake.
    if (!ec && SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION) != 1)
        ec = detail::last_openssl_error();
    SSL_CTX* native = ctx.native_handle();
    if (cfg.session_resumption) {
        if (!ec && SSL_CTX_set_num_tickets(native, cfg.tls_session_tickets) != 1)
            ec = detail::last_openssl_error();
    } else {
        // Each way to resume is shut: TLS 1.2 tickets, TLS 1.3 tickets (with SSL_OP_NO_TICKET
        // alone OpenSSL would still send stateful 1.3 tickets) and TLS 1.2 session ids.
        SSL_CTX_set_options(native, SSL_OP_NO_TICKET);
        SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_OFF);
        if (!ec && SSL_CTX_set_num_tickets(native, 0) != 1)
            ec = detail::last_openssl_error();
    }
    if (!ec)
        ctx.use_certificate_chain(asio::buffer(pki.server_cert_pem), ec);
    if (!ec)
        ctx.use_private_key(asio::buffer(pki.server_key_pem), asio::ssl::context::pem, ec);
    if (ec) {
        diag.message = "cannot set up TLS with the server certificate: " + ec.message();
        return ec;
    }
    out.emplace(std::move(ctx));
    return {};
}

error_code listen(const asio::any_io_executor& ex, const asio::ip::address& address,
                  std::uint16_t port, std::shared_ptr<tcp::acceptor>& out, diagnostics& diag) {
    // The acceptor lives on its own strand so that stop() can close it from any thread.
    auto acceptor = std::make_shared<tcp::acceptor>(asio::make_strand(ex));
    const tcp::endpoint endpoint(address, port);
    error_code ec;
    acceptor->open(endpoint.protocol(), ec);
    if (!ec)
        acceptor->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec)
        acceptor->bind(endpoint, ec);
    if (!ec)
        acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
        diag.field = "port";
        diag.value = std::to_string(port);
        diag.message = "cannot listen on " + address.to_string() + ":" + std::to_string(port) +
                       ": " + ec.message();
        return ec;
    }
    out = std::move(acceptor);
    return {};
}

asio::awaitable<void> accept_loop(std::shared_ptr<simulator::impl> sim,
                                  std::shared_ptr<tcp::acceptor> acceptor, bool tls) {
    for (;;) {
        error_code ec;
        // Each connection gets its own strand: its coroutine and stop()'s abort never overlap.
        tcp::socket socket =
            co_await acceptor->async_accept(asio::any_io_executor(asio::make_strand(sim->executor)),
                                            asio::redirect_error(asio::use_awaitable, ec));
        if (ec == asio::error::operation_aborted || !acceptor->is_open())
            co_return;
        if (ec) {
            // Out of descriptors and the like: back off briefly instead of spinning.
            asio::steady_timer pause(acceptor->get_executor(), std::chrono::milliseconds(50));
            co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            continue;
        }
        socket.set_option(tcp::no_delay(true), ec);
        if (tls)
            detail::start_https_session(sim, std::move(socket));
        else
            detail::start_http_session(sim, std::move(socket));
    }
}

} // namespace

// ---------------------------------------------------------------- simulator

simulator::simulator(asio::any_io_executor executor, sim_config config)
    : impl_(std::make_shared<impl>(std::move(executor), std::move(config))) {}

simulator::~simulator() {
    stop();
}
simulator::simulator(simulator&&) noexcept = default;
simulator& simulator::operator=(simulator&& other) noexcept {
    if (this != &other) {
        stop();
        impl_ = std::move(other.impl_);
    }
    return *this;
}

error_code simulator::start() {
    diagnostics diag;
    return start(diag);
}

error_code simulator::start(diagnostics& diag) {
    diag.clear();
    impl& s = *impl_;
    if (s.started)
        return invalid(diag, "start", "", "the simulator is already started");
    {
        std::lock_guard lock(s.mutex);
        if (s.stopped)
            return invalid(diag, "start", "", "the simulator was stopped; make a new one");
    }
    sim_config& cfg = s.config;

    error_code ec;
    const auto address = asio::ip::make_address(cfg.host, ec);
    if (ec)
        return invalid(diag, "host", cfg.host,
                       "host must be an IP address, not '" + cfg.host + "'");
    if (cfg.cert_file.empty() != cfg.key_file.empty())
        return invalid(diag, cfg.cert_file.empty() ? "cert_file" : "key_file", "",
                       "cert_file and key_file must be given together");
    if (cfg.latency.count() < 0)
        return invalid(diag, "latency", std::to_string(cfg.latency.count()),
                       "latency must not be negative");
    if (cfg.token_lifetime.count() < 0)
        return invalid(diag, "token_lifetime", std::to_string(cfg.token_lifetime.count()),
                       "token_lifetime must not be negative");
    if (cfg.idle_timeout.count() <= 0)
        return invalid(diag, "idle_timeout", std::to_string(cfg.idle_timeout.count()),
                       "idle_timeout must be positive");
    if (cfg.compression.level < 1 || cfg.compression.level > 9)
        return invalid(diag, "compression.level", std::to_string(cfg.compression.level),
                       "compression.level must be from 1 to 9");
    if (cfg.tls_session_tickets > max_tls_session_tickets)
        return invalid(diag, "tls_session_tickets", std::to_string(cfg.tls_session_tickets),
                       "tls_session_tickets must be at most " +
                           std::to_string(max_tls_session_tickets));
    if (auto e = check_clients(cfg.clients, diag))
        return e;

    if (!cfg.cert_file.empty()) {
        if (auto e = load_server_pki(cfg.cert_file, cfg.key_file, s.pki, diag))
            return e;
        s.ca_file = cfg.cert_file;
    } else {
        pki_options options;
        options.validity_days = cfg.cert_validity_days;
        if (cfg.cert_dir.empty()) {
            if (auto e = generate_server_pki(options, s.pki, diag))
                return e;
        } else {
            if (auto e = load_or_make_server_pki(options, cfg.cert_dir, s.pki, diag))
                return e;
            s.ca_file = cfg.cert_dir / "ca.pem";
        }
    }
    if (auto e = make_tls_context(s.pki, cfg, s.tls, diag))
        return e;

    std::shared_ptr<tcp::acceptor> https, http;
    if (auto e = listen(s.executor, address, cfg.https_port, https, diag))
        return e;
    if (cfg.http_port)
        if (auto e = listen(s.executor, address, *cfg.http_port, http, diag))
            return e;

    // The dataset last: it is the slow part, not worth doing when a port is taken.
    s.endpoint.emplace(dataset(cfg.dataset), cfg.jobs);

    const std::string host =
        address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
    s.https_port = https->local_endpoint().port();
    s.base_url = "https://" + host + ":" + std::to_string(s.https_port);
    s.token_url = s.base_url + "/connect/token";
    s.token_url_localhost = "https://localhost:" + std::to_string(s.https_port) + "/connect/token";
    if (http) {
        s.http_port = http->local_endpoint().port();
        s.http_base_url = "http://" + host + ":" + std::to_string(s.http_port);
    }
    {
        std::lock_guard lock(s.mutex);
        s.faults = std::make_shared<fault_plan>(cfg.faults);
        s.acceptors.push_back(https);
        if (http)
            s.acceptors.push_back(http);
    }
    s.started = true;
    auto ignore = [](std::exception_ptr) {};
    asio::co_spawn(https->get_executor(), accept_loop(impl_, https, true), ignore);
    if (http)
        asio::co_spawn(http->get_executor(), accept_loop(impl_, http, false), ignore);
    return {};
}

void simulator::stop() {
    if (!impl_)
        return;
    std::vector<std::shared_ptr<tcp::acceptor>> acceptors;
    std::vector<std::shared_ptr<detail::connection_base>> connections;
    {
        std::lock_guard lock(impl_->mutex);
        if (impl_->stopped)
            return;
        impl_->stopped = true;
        acceptors.swap(impl_->acceptors);
        for (auto& [id, weak] : impl_->connections)
            if (auto c = weak.lock())
                connections.push_back(std::move(c));
    }
    // Closing happens on each object's strand: sockets are not safe to touch from here.
    for (auto& a : acceptors)
        asio::post(a->get_executor(), [a] {
            error_code ignored;
            a->close(ignored);
        });
    for (auto& c : connections)
        asio::post(c->executor(), [c] { c->abort(); });
}

std::uint16_t simulator::https_port() const {
    return impl_->https_port;
}
std::uint16_t simulator::http_port() const {
    return impl_->http_port;
}
std::string simulator::base_url() const {
    return impl_->base_url;
}
std::string simulator::http_base_url() const {
    return impl_->http_base_url;
}
std::string simulator::token_url() const {
    return impl_->token_url;
}
std::filesystem::path simulator::ca_file() const {
    return impl_->ca_file;
}
std::string simulator::ca_pem() const {
    return impl_->pki.ca_cert_pem.empty() ? impl_->pki.server_cert_pem : impl_->pki.ca_cert_pem;
}
const sim_config& simulator::config() const {
    return impl_->config;
}

void simulator::with_dataset(const std::function<void(const dataset&)>& f) const {
    std::shared_lock lock(impl_->data_mutex);
    f(impl_->endpoint->data());
}

std::vector<job> simulator::select(const filter& f) const {
    std::shared_lock lock(impl_->data_mutex);
    return impl_->endpoint->data().select(f);
}

std::vector<organization> simulator::organizations() const {
    std::shared_lock lock(impl_->data_mutex);
    return impl_->endpoint->data().organizations();
}

sim_counters simulator::counters() const {
    std::lock_guard lock(impl_->mutex);
    sim_counters snapshot = impl_->counters;
    snapshot.connections_open = impl_->connections.size();
    if (impl_->link)
        snapshot.link_bytes = impl_->link->bytes_booked();
    return snapshot;
}

std::vector<request_log_entry> simulator::request_log() const {
    std::lock_guard lock(impl_->mutex);
    return {impl_->log.begin(), impl_->log.end()};
}

void simulator::clear_request_log() {
    std::lock_guard lock(impl_->mutex);
    impl_->log.clear();
}

void simulator::set_fault_config(fault_config config) {
    auto plan = std::make_shared<fault_plan>(std::move(config));
    std::lock_guard lock(impl_->mutex);
    impl_->faults = std::move(plan);
}

void simulator::add_fault_rule(fault_rule rule) {
    std::lock_guard lock(impl_->mutex);
    // The current plan's config, not sim_config::faults: that one stays as configured at start
    // (config() hands out a reference to it without a lock).
    fault_config config = impl_->faults ? impl_->faults->config() : impl_->config.faults;
    config.schedule.push_back(std::move(rule));
    impl_->faults = std::make_shared<fault_plan>(std::move(config));
}

std::vector<job> simulator::finish_running_jobs(timestamp now) {
    std::unique_lock lock(impl_->data_mutex);
    return impl_->endpoint->data().finish_running(now);
}

void simulator::revoke_all_tokens() {
    std::lock_guard lock(impl_->mutex);
    impl_->tokens.revoke_all();
}

} // namespace dynjobs::sim
