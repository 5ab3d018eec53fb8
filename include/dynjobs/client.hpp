// dynjobs/client.hpp - the entry point: a client of GET /dynamicsbackup/jobs.
#pragma once

#include <dynjobs/client_config.hpp>
#include <dynjobs/diagnostics.hpp>
#include <dynjobs/export.hpp>
#include <dynjobs/fetch_request.hpp>
#include <dynjobs/job_stream.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/system/error_code.hpp>

#include <memory>

namespace dynjobs {

namespace detail {
struct client_state;
}

/// A client of the AvePoint Graph API's job reports.
///
/// Owns the connection pools (API and token endpoint), the token manager, the retry budget and
/// the host gate, shared by all its fetches. Runs everything on a strand of the executor given,
/// so it is correct on a single-threaded io_context and on one run by several threads.
///
/// Usage:
/// \code
///   dynjobs::client c(io.get_executor(), config);
///   auto stream = c.fetch(request);
///   while (auto batch = co_await stream.next())
///       for (auto& job : batch->jobs) ...
/// \endcode
///
/// Thread safety: every member function may be called from any thread. Destroying the client
/// cancels its fetches; their streams then end with operation_aborted.
///
/// A client is movable, not copyable. A moved-from client may only be destroyed or assigned to.
class client {
public:
    /// The executor the client was constructed with: its fetches' completion handlers that have
    /// no associated executor of their own run on it.
    using executor_type = boost::asio::any_io_executor;

    /// Creates a client that runs its work on a strand of `executor`. Sends nothing, and never
    /// fails: it reads the environment's proxy settings and loads the CA files and the
    /// certificate here (on the calling thread, so that no fetch reads a file inside the event
    /// loop); a problem is reported by validate() and ends the first fetch's stream.
    DYNJOBS_DECL client(executor_type executor, client_config config);
    /// Cancels every fetch of this client (see cancel()).
    DYNJOBS_DECL ~client();
    client(const client&) = delete;
    client& operator=(const client&) = delete;
    /// Takes over `other`'s fetches, pools and tokens; `other` is left moved-from.
    DYNJOBS_DECL client(client&& other) noexcept;
    /// Cancels this client's fetches, then takes over `other`'s; `other` is left moved-from.
    DYNJOBS_DECL client& operator=(client&& other) noexcept;

    /// The executor given at construction.
    DYNJOBS_DECL executor_type get_executor() const noexcept;

    /// Checks the configuration and a request without sending anything: region or base URL,
    /// token URL, https (or loopback http), proxy settings (those of the environment only for
    /// the hosts that would use them), credentials present and loadable, request fields.
    /// errc::invalid_argument, insecure_scheme or credential_error with diag naming the field.
    DYNJOBS_DECL boost::system::error_code validate(const fetch_request& request,
                                                    diagnostics& diag) const;

    /// Starts fetching. Never fails here: a refused request or configuration ends the stream's
    /// first async_next with the error, before any request is sent.
    DYNJOBS_DECL job_stream fetch(fetch_request request);

    /// Cancels every fetch of this client.
    DYNJOBS_DECL void cancel();

    /// Changes rate_config::max_requests_per_second (0 = no ceiling) for every fetch of this
    /// client, for the requests that start from now on: for processes that share one rate
    /// limit and rebalance it as they come and go. The adaptive rate keeps what it learnt and
    /// still applies below the ceiling. Thread-safe: the change is posted to the client's
    /// strand. Throws std::invalid_argument, naming the field and the value, for a negative or
    /// non-finite rate.
    DYNJOBS_DECL void set_max_rate(double requests_per_second);

private:
    std::shared_ptr<detail::client_state> state_;
};

} // namespace dynjobs
