// test/integration/auth_fixture.hpp - a token manager talking to the simulator's token endpoint.
#pragma once

#include "auth/token_manager.hpp"

#include "net_fixture.hpp"

#include <dynjobs/sim/certificates.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/strand.hpp>

#include <fstream>
#include <memory>
#include <string>

namespace dynjobs::auth_test {

namespace asio = boost::asio;
using boost::system::error_code;
using net_test::sim_server;

inline constexpr const char* secret_client = "auth-secret-client";
inline constexpr const char* client_secret = "s3cr3t+/=&value%20with spaces";
inline constexpr const char* cert_client = "auth-cert-client";

/// The outcome of one async_get.
struct get_result {
    bool done = false;
    error_code ec;
    std::string token;
    diagnostics diag;
};

inline asio::awaitable<void> get_into(auth::token_manager& m, get_result& r) {
    r.ec = co_await m.async_get(r.token, r.diag);
    r.done = true;
}

/// Starts an async_get on `ioc`; `r` must outlive the run.
inline void spawn_get(asio::io_context& ioc, auth::token_manager& m, get_result& r) {
    asio::co_spawn(ioc, get_into(m, r), asio::detached);
}

/// spawn_get whose wait `signal` can cancel, as a fetch's cancellation would.
inline void spawn_cancellable_get(asio::io_context& ioc, auth::token_manager& m, get_result& r,
                                  asio::cancellation_signal& signal) {
    asio::co_spawn(ioc, get_into(m, r),
                   asio::bind_cancellation_slot(signal.slot(), asio::detached));
}

/// One async_get, run to completion on `ioc`.
inline get_result get_now(asio::io_context& ioc, auth::token_manager& m) {
    get_result r;
    spawn_get(ioc, m, r);
    ioc.restart();
    ioc.run();
    BOOST_REQUIRE(r.done);
    return r;
}

/// Settings that keep retry tests fast: tiny backoff.
inline policy::retry_config fast_retry(unsigned attempts = 4) {
    policy::retry_config r;
    r.max_attempts = attempts;
    r.initial_backoff = std::chrono::milliseconds(5);
    r.max_backoff = std::chrono::milliseconds(20);
    return r;
}

/// A simulator with a secret client and a certificate client, and a pool to its origin.
struct auth_env {
    auth_env()
        : auth_env(make_config(std::chrono::hours(1))) {}
    explicit auth_env(sim::sim_config config)
        : server(std::move(config)) {}

    static sim::sim_config make_config(std::chrono::seconds token_lifetime) {
        auto c = sim_server::small_config();
        c.token_lifetime = token_lifetime;
        sim::registered_client s;
        s.client_id = secret_client;
        s.client_secret = client_secret;
        c.clients.push_back(s);
        sim::registered_client k;
        k.client_id = cert_client;
        k.certificate_pem = certificate().cert_pem;
        c.clients.push_back(k);
        return c;
    }

    /// The certificate client's certificate, made once per process (RSA generation is slow).
    static const sim::client_certificate& certificate() {
        static const sim::client_certificate cert = [] {
            sim::client_certificate c;
            diagnostics diag;
            const auto ec = sim::make_client_certificate(cert_client, c, diag);
            BOOST_REQUIRE_MESSAGE(!ec, diag.message);
            return c;
        }();
        return cert;
    }

    auth::token_manager_config secret_config(std::string id = secret_client,
                                             std::string secret = client_secret) {
        auth::token_manager_config c;
        c.creds = client_secret_credentials{std::move(id), std::move(secret)};
        c.token_url = server->token_url();
        c.token_path = "/connect/token";
        c.user_agent = "dynjobs-auth-tests";
        c.retry = fast_retry();
        return c;
    }

    auth::token_manager_config certificate_config(std::string file, std::string password = {}) {
        auth::token_manager_config c = secret_config();
        c.creds = certificate_credentials{cert_client, std::move(file), std::move(password)};
        return c;
    }

    /// Writes `content` into a fresh file in the temp folder (removed with the env); its path.
    std::string write_file(const std::string& name, const std::string& content) {
        const auto path = std::filesystem::temp_directory_path() /
                          ("dynjobs-auth-" + std::to_string(std::random_device{}()) + "-" + name);
        std::ofstream(path, std::ios::binary) << content;
        // It holds a private key: owner only, as a real deployment would keep it.
        std::filesystem::permissions(path, std::filesystem::perms::owner_read |
                                               std::filesystem::perms::owner_write);
        files.push_back(path);
        return path.string();
    }

    ~auth_env() {
        for (const auto& f : files) {
            std::error_code ignored;
            std::filesystem::remove(f, ignored);
        }
    }

    /// A manager on a strand, as a client's is.
    std::unique_ptr<auth::token_manager> manager(auth::token_manager_config config) {
        return std::make_unique<auth::token_manager>(asio::make_strand(ioc), pool,
                                                     std::move(config));
    }

    std::uint64_t sim_token_requests() { return server.sim().counters().token_requests; }

    sim_server server;
    asio::io_context ioc;
    net::http_pool pool{ioc.get_executor(), server.https_origin(), server.context(), pool_config{}};
    std::vector<std::filesystem::path> files;
};

} // namespace dynjobs::auth_test
