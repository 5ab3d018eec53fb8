// dynjobs/job_stream.hpp - the jobs of one fetch, page by page, as the consumer asks for them.
#pragma once

#include <dynjobs/diagnostics.hpp>
#include <dynjobs/fetch_stats.hpp>
#include <dynjobs/job.hpp>
#include <dynjobs/timestamp.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

namespace dynjobs {

/// One page's worth of new jobs.
struct job_batch {
    /// The page's jobs minus those already delivered; in the server's order.
    std::vector<job> jobs;
    /// Index into fetch_request::organizations (0 when the fetch is unfiltered).
    std::size_t organization_slot = 0;
    /// Index into fetch_request::windows().
    std::size_t window = 0;
    std::int64_t page_index = 0; ///< the page the jobs came from, 1-based
    /// True when every job of (organization_slot, window) has now been delivered: the batch a
    /// resumable consumer checkpoints on. It may come with no jobs.
    bool segment_complete = false;
};

/// A page given up for good, with why.
struct page_failure {
    std::size_t organization_slot = 0; ///< index into fetch_request::organizations
    /// The organization the page was for; none for an unfiltered fetch.
    std::optional<organization_id> organization;
    std::size_t window = 0;          ///< index into fetch_request::windows()
    timestamp window_start{};        ///< the window's startTime
    timestamp window_finish{};       ///< the window's finishTime
    std::int64_t page_index = 0;     ///< 1-based
    boost::system::error_code error; ///< why it was given up (the last attempt's error)
    diagnostics diag;                ///< that error's details
};

namespace detail {
struct fetch_state;
using next_handler =
    boost::asio::any_completion_handler<void(boost::system::error_code, std::optional<job_batch>)>;
void async_next_erased(std::shared_ptr<fetch_state> state, next_handler handler);
} // namespace detail

/// The stream of one fetch (client::fetch). The consumer asks for the next batch; the engine
/// fetches ahead into a bounded channel (client_config::channel_capacity pages) and stops
/// requesting when the channel and the pages in flight are full, so memory is bounded however
/// many jobs there are.
///
/// Every job of the request's range is delivered exactly once, or the stream ends with an error
/// saying which organization, window and page failed and why.
///
/// Thread safety: async_next/next must not overlap (one consumer); cancel(), stats() and
/// failures() may be called from any thread at any time. Destroying the stream cancels the fetch.
class job_stream {
public:
    /// The completion signature of async_next.
    using next_signature = void(boost::system::error_code, std::optional<job_batch>);

    /// A stream of no fetch; client::fetch() returns real ones.
    job_stream() = default;
    /// Takes over `other`'s fetch; `other` is left empty.
    job_stream(job_stream&&) noexcept = default;
    /// Cancels this stream's fetch, then takes over `other`'s.
    job_stream& operator=(job_stream&& other) noexcept;
    ~job_stream();

    /// Completes with the next batch, nullopt at the end of a fully successful fetch, or an
    /// error: the failed page's error (failure_policy::stop), errc::pages_failed (go_on, see
    /// failures()), errc::invalid_argument (the request or config was refused before any
    /// request), operation_aborted (cancelled). After an error, diagnostics() has the detail.
    ///
    /// Per-operation cancellation: terminal cancellation of this operation cancels the whole
    /// fetch (every request stops promptly) and completes it with operation_aborted.
    template <BOOST_ASIO_COMPLETION_TOKEN_FOR(next_signature) CompletionToken>
    auto async_next(CompletionToken&& token) {
        return boost::asio::async_initiate<CompletionToken, next_signature>(
            [](auto handler, std::shared_ptr<detail::fetch_state> state) {
                detail::async_next_erased(std::move(state), std::move(handler));
            },
            token, state_);
    }

    /// Coroutine face of async_next: the next batch or nullopt at the end; throws
    /// error_with_diagnostics on error.
    boost::asio::awaitable<std::optional<job_batch>> next();

    /// The detail of the error the stream ended with (empty before that).
    diagnostics error_diagnostics() const;
    /// A snapshot of the fetch's counters.
    fetch_stats stats() const;
    /// Pages given up so far (failure_policy::go_on collects them all).
    std::vector<page_failure> failures() const;
    /// The windows of the request, indexed like job_batch::window.
    std::vector<std::pair<timestamp, timestamp>> windows() const;

    /// Stops every request of the fetch promptly; a pending or later async_next completes with
    /// operation_aborted. Idempotent.
    void cancel();

private:
    friend class client;
    explicit job_stream(std::shared_ptr<detail::fetch_state> state)
        : state_(std::move(state)) {}
    std::shared_ptr<detail::fetch_state> state_;
};

} // namespace dynjobs
