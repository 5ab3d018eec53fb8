// dynjobs/sim/simulator.hpp - the AvePoint Graph API simulator: HTTPS server, OAuth, jobs, faults.
#pragma once

#include <dynjobs/diagnostics.hpp>
#include <dynjobs/export.hpp>
#include <dynjobs/sim/dataset.hpp>
#include <dynjobs/sim/faults.hpp>
#include <dynjobs/sim/sim_config.hpp>
#include <dynjobs/sim/sim_stats.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/system/error_code.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace dynjobs::sim {

/// A running simulator of the AvePoint Graph API endpoints the library uses:
///
/// - `POST /connect/token`: OAuth 2.0 client credentials with a client secret or a private_key_jwt
///   assertion (RS256, verified against the registered certificate); opaque bearer tokens.
/// - `GET /dynamicsbackup/jobs`: bearer token check (401 with WWW-Authenticate), the per-client
///   rate limit (429 with Retry-After from the token bucket), fault injection (fault_plan), then
///   the jobs_endpoint over the dataset; the answer gzip- or deflate-compressed when the
///   request's Accept-Encoding asks (sim_config::compression), with Vary: Accept-Encoding.
/// - anything else: 404 with a JSON body.
///
/// It serves HTTPS (TLS 1.2 and 1.3 only) and optionally plain HTTP, HTTP/1.1 with keep-alive,
/// every connection a coroutine on its own strand of the given executor; it runs on an
/// io_context driven by one thread or several. With sim_config::bandwidth_bits_per_second, all
/// responses together are paced to that bandwidth.
///
/// Lifetime: the handle owns a shared implementation that every connection also holds, so the
/// handle may be destroyed while connections are open (the destructor calls stop()). Work still
/// queued on the executor then finishes against the implementation, which dies with its last
/// connection.
///
/// Thread safety: every member function may be called from any thread, concurrently with the
/// server running (shared state is behind mutexes held briefly), except that start() must not
/// run concurrently with itself.
class simulator {
public:
    /// Does not bind or generate anything yet: see start().
    DYNJOBS_DECL simulator(boost::asio::any_io_executor executor, sim_config config = {});
    DYNJOBS_DECL ~simulator();
    /// Takes over `other`'s server; `other` may then only be destroyed or assigned to.
    DYNJOBS_DECL simulator(simulator&&) noexcept;
    /// Stops this simulator's server, then takes over `other`'s.
    DYNJOBS_DECL simulator& operator=(simulator&&) noexcept;

    /// Generates the dataset and the certificates (or loads them), writes the CA to cert_dir,
    /// binds the listeners and starts accepting on the executor. Errors: address in use, bad
    /// host, certificate files, an invalid config (errc::invalid_argument with diag.field).
    /// Calling it twice, or after stop(), is an error (errc::invalid_argument).
    DYNJOBS_DECL boost::system::error_code start(diagnostics& diag);
    /// As start(diagnostics&), without the details.
    DYNJOBS_DECL boost::system::error_code start();

    /// Closes the listeners and every connection, cancelling their pending operations; returns
    /// at once (the closing itself runs on the executor). Idempotent. cancel() is the same.
    DYNJOBS_DECL void stop();
    /// The same as stop(), under the name Asio's objects use.
    void cancel() { stop(); }

    /// Bound ports, valid after a successful start(); http_port() is 0 without a plain listener.
    DYNJOBS_DECL std::uint16_t https_port() const;
    DYNJOBS_DECL std::uint16_t http_port() const; ///< see https_port()
    /// "https://127.0.0.1:<port>" (the configured host); "" before start().
    DYNJOBS_DECL std::string base_url() const;
    /// "http://127.0.0.1:<port>", or "" without a plain listener.
    DYNJOBS_DECL std::string http_base_url() const;
    /// base_url() + "/connect/token": also the `aud` JWT assertions must carry (the same URL with
    /// host `localhost` is accepted too, as it names the same server).
    DYNJOBS_DECL std::string token_url() const;
    /// Path of ca.pem when it was written (cert_dir set), else empty.
    DYNJOBS_DECL std::filesystem::path ca_file() const;
    /// The CA certificate clients should trust, PEM; with loaded certificates, the loaded chain.
    DYNJOBS_DECL std::string ca_pem() const;
    /// The configuration as completed by start() (the default client filled in). Run-time
    /// changes made with set_fault_config()/add_fault_rule() are not reflected in `faults`.
    DYNJOBS_DECL const sim_config& config() const;

    /// Runs `f` with the dataset while no request can modify it (drift), for ground truth.
    /// Do not call simulator members from `f`. Precondition: start() succeeded.
    DYNJOBS_DECL void with_dataset(const std::function<void(const dataset&)>& f) const;
    /// Convenience: dataset().select(f) under the lock.
    DYNJOBS_DECL std::vector<job> select(const filter& f) const;
    /// Convenience: the dataset's organizations (a copy).
    DYNJOBS_DECL std::vector<organization> organizations() const;

    /// A snapshot of the counters.
    DYNJOBS_DECL sim_counters counters() const;
    /// The requests served, oldest first, at most sim_config::request_log_capacity of them.
    DYNJOBS_DECL std::vector<request_log_entry> request_log() const;
    /// Empties the request log (counters are kept).
    DYNJOBS_DECL void clear_request_log();

    /// Replaces the fault configuration; rule counters restart from zero.
    DYNJOBS_DECL void set_fault_config(fault_config config);
    /// Appends a scheduled rule. The plan is rebuilt, so every rule's count restarts from zero
    /// (fault_plan has no way to add a rule in place): "nth=2" means the 2nd matching request
    /// from now.
    DYNJOBS_DECL void add_fault_rule(fault_rule rule);
    /// dataset::finish_running(now) under the dataset's lock: running jobs whose time has come
    /// finish. Returns them.
    DYNJOBS_DECL std::vector<job> finish_running_jobs(timestamp now);
    /// Makes every issued token invalid (401 "token has been revoked").
    DYNJOBS_DECL void revoke_all_tokens();

    struct impl;

private:
    std::shared_ptr<impl> impl_;
};

} // namespace dynjobs::sim
