// dynjobs/job_stream.hpp - the jobs of one fetch, page by page, as the consumer asks for them.
#pragma once

#include <dynjobs/diagnostics.hpp>
#include <dynjobs/export.hpp>
#include <dynjobs/fetch_stats.hpp>
#include <dynjobs/job.hpp>
#include <dynjobs/timestamp.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/system/error_code.hpp>

#include <cstdint>
#include <functional>
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
    /// The page's totalCount: how many jobs the server says its query matches (the whole
    /// segment's, or of the windows merged with it). A hint for sizing work, never a promise:
    /// the API documents no guarantee, and the count may move while the segment is paged. None
    /// for a batch that only reports a completed segment, or a page without the field.
    std::optional<std::int64_t> total_count;
    /// True when every job of (organization_slot, window) has now been delivered: the batch a
    /// resumable consumer checkpoints on. It may come with no jobs.
    bool segment_complete = false;
};

/// A page (or a window) given up for good, with why.
struct page_failure {
    std::size_t organization_slot = 0; ///< index into fetch_request::organizations
    /// The organization the page was for; none for an unfiltered fetch.
    std::optional<organization_id> organization;
    std::size_t window = 0;      ///< index into fetch_request::windows()
    timestamp window_start{};    ///< the window's startTime
    timestamp window_finish{};   ///< the window's finishTime
    std::int64_t page_index = 0; ///< 1-based
    /// Why the page was given up: errc::retries_exhausted, errc::http_status, errc::forbidden,
    /// errc::drift_unresolved, ...
    boost::system::error_code error;
    /// The detail: the URL, the last response's HTTP status and body excerpt, and a message
    /// naming the page and its last error.
    diagnostics diag;
    /// The last attempt's own error: a transport error (errc::connect_timeout, an SSL or socket
    /// error, ...), a decoding error, or errc::http_status when the server answered a status
    /// (diag.http_status holds it). For a window the fetch gave up on as a whole (drift,
    /// incompleteness), the same as `error`.
    boost::system::error_code last_error;
    /// Requests made for the page before it was given up; 0 for a window given up as a whole.
    unsigned attempts = 0;
};

namespace detail {
struct fetch_state;
/// async_next's handler, type-erased: the operation is compiled once, in src/engine.
using next_handler =
    boost::asio::any_completion_handler<void(boost::system::error_code, std::optional<job_batch>)>;
/// async_next's compiled part (see async_next for the contract).
DYNJOBS_DECL void async_next_erased(const std::shared_ptr<fetch_state>& state,
                                    next_handler handler);
/// The diagnostics of the error the fetch ended with (empty without a fetch or before its end).
DYNJOBS_DECL diagnostics final_diagnostics(const std::shared_ptr<fetch_state>& state);

/// async_next's initiation: the fetch is captured when async_next is called, so the stream may
/// be moved or destroyed while a deferred or awaitable operation is still to be started.
struct next_initiation {
    /// The fetch waited on (null for a stream without one).
    std::shared_ptr<fetch_state> state;

    /// Starts the wait with `handler`.
    template <class Handler>
    void operator()(Handler handler) const {
        async_next_erased(state, next_handler(std::move(handler)));
    }

    /// For with_diagnostics: what went wrong, asked after the wait failed.
    std::function<diagnostics()> diagnostics_source() const {
        return [state = state] { return final_diagnostics(state); };
    }
};
} // namespace detail

/// The stream of one fetch (client::fetch). The consumer asks for the next batch; the engine
/// fetches ahead into a bounded channel (client_config::channel_capacity pages) and stops
/// requesting when the channel and the pages in flight are full, so memory is bounded however
/// many jobs there are.
///
/// Every job of the request's range is delivered exactly once, or the stream ends with an error
/// saying which organization, window and page failed and why.
///
/// Thread safety: async_next/next must not overlap (one consumer; an overlapping one completes
/// with boost::asio::error::already_started); cancel(), stats() and failures() may be called from
/// any thread at any time. Destroying the stream cancels the fetch.
class job_stream {
public:
    /// The completion signature of async_next.
    using next_signature = void(boost::system::error_code, std::optional<job_batch>);
    /// The client's executor (client::executor_type).
    using executor_type = boost::asio::any_io_executor;
    /// async_next's default completion token: asio::deferred, so that `co_await
    /// stream.async_next()` works in an asio::awaitable (throwing boost::system::system_error on
    /// error) and `stream.async_next()` composes with other deferred operations. (Boost 1.81's
    /// default_completion_token_t of any_io_executor is void, which no operation can take.)
    using default_completion_token_type = boost::asio::deferred_t;

    /// A stream of no fetch; client::fetch() returns real ones.
    job_stream() = default;
    /// Takes over `other`'s fetch; `other` is left empty.
    job_stream(job_stream&&) noexcept = default;
    /// Cancels this stream's fetch, then takes over `other`'s.
    DYNJOBS_DECL job_stream& operator=(job_stream&& other) noexcept;
    DYNJOBS_DECL ~job_stream();

    /// Completes with the next batch, nullopt at the end of a fully successful fetch, or an
    /// error: the failed page's error (failure_policy::stop), errc::pages_failed (go_on, see
    /// failures()), errc::invalid_argument (the request or config was refused before any
    /// request), operation_aborted (cancelled). After an error, diagnostics() has the detail.
    ///
    /// The handler runs on its associated executor, else on get_executor(); never inside
    /// async_next. A stream without a fetch (default-constructed or moved-from) completes with
    /// boost::asio::error::bad_descriptor.
    ///
    /// While it is pending, the operation holds work on the handler's executor
    /// (outstanding_work.tracked), so that executor's run() does not return before the handler.
    ///
    /// Per-operation cancellation (the handler's associated cancellation slot, assigned here in
    /// the initiating function and cleared on the handler's executor just before the handler
    /// runs; emit on that executor, as Asio requires of a cancellation_signal):
    /// - terminal: cancels the whole fetch (every request stops promptly); this and every later
    ///   async_next complete with operation_aborted;
    /// - partial or total: abandons only this wait, which completes with operation_aborted; the
    ///   fetch goes on, and a batch that arrives for the abandoned wait is kept for the next
    ///   async_next, so none is lost.
    /// A cancellation that comes after the operation completed has no effect.
    template <BOOST_ASIO_COMPLETION_TOKEN_FOR(next_signature)
                  CompletionToken = default_completion_token_type>
    auto async_next(CompletionToken&& token = default_completion_token_type()) {
        return boost::asio::async_initiate<CompletionToken, next_signature>(
            detail::next_initiation{state_}, token);
    }

    /// The executor of the client that started the fetch; an empty executor for a stream without
    /// a fetch.
    DYNJOBS_DECL executor_type get_executor() const noexcept;

    /// Coroutine face of async_next: the next batch or nullopt at the end; throws
    /// error_with_diagnostics on error. The same as
    /// `async_next(with_diagnostics(boost::asio::use_awaitable))` (see with_diagnostics.hpp).
    /// The fetch is captured now: the stream may be moved or destroyed while the awaitable is
    /// pending.
    DYNJOBS_DECL boost::asio::awaitable<std::optional<job_batch>> next();

    /// The detail of the error the stream ended with (empty before that).
    DYNJOBS_DECL diagnostics error_diagnostics() const;
    /// A snapshot of the fetch's counters.
    DYNJOBS_DECL fetch_stats stats() const;
    /// Pages given up so far (failure_policy::go_on collects them all).
    DYNJOBS_DECL std::vector<page_failure> failures() const;
    /// The windows of the request, indexed like job_batch::window.
    DYNJOBS_DECL std::vector<std::pair<timestamp, timestamp>> windows() const;

    /// Stops every request of the fetch promptly; a pending or later async_next completes with
    /// operation_aborted. Idempotent.
    DYNJOBS_DECL void cancel();

private:
    friend class client;
    explicit job_stream(std::shared_ptr<detail::fetch_state> state)
        : state_(std::move(state)) {}
    std::shared_ptr<detail::fetch_state> state_;
};

} // namespace dynjobs
