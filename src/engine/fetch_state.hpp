// src/engine/fetch_state.hpp - one fetch: its plan, dedupe memory, channel and counters.
#pragma once

#include "engine/client_state.hpp"
#include "engine/latency_histogram.hpp"
#include "policy/dedupe_set.hpp"
#include "policy/page_plan.hpp"
#include "policy/time_filter_inference.hpp"

#include <dynjobs/fetch_request.hpp>
#include <dynjobs/job_stream.hpp>

#include <boost/asio/any_completion_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/experimental/channel.hpp>

#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <unordered_map>

namespace dynjobs::detail {

using batch_channel =
    boost::asio::experimental::channel<void(boost::system::error_code, std::optional<job_batch>)>;

/// The consumer's pending async_next.
struct next_wait {
    std::uint64_t id = 0;
    next_handler handler;
    /// The handler's executor with outstanding_work.tracked: it keeps that executor from running
    /// out of work while the consumer waits.
    boost::asio::any_completion_executor work;
    /// The handler's cancellation slot (assigned by async_next on the consumer's side, cleared
    /// there too, just before the handler runs).
    boost::asio::cancellation_slot slot;
};

struct fetch_state : std::enable_shared_from_this<fetch_state> {
    fetch_state(std::shared_ptr<client_state> owner, fetch_request req);

    std::shared_ptr<client_state> client;
    fetch_request request;
    std::vector<std::pair<timestamp, timestamp>> windows;
    std::optional<policy::page_plan> plan;
    /// What the server's time filter does, learnt from the jobs it returns.
    policy::time_filter_inference inference;
    /// jobIds delivered, per delegate segment still open (memory goes when it and the segments
    /// merged into it settle). Holds the jobs that lie within one window.
    std::unordered_map<std::size_t, policy::dedupe_set> seen;
    /// jobIds delivered that start in one window and finish in another, per organization slot:
    /// which window returns such a job depends on the server's time filter, and the fetch may
    /// learn that only after one window delivered it. Few jobs cross a boundary.
    std::vector<policy::dedupe_set> crossers;
    /// The budget of every set above (client_config::dedupe, its folder resolved).
    policy::dedupe_spill spill;
    bool spill_failure_reported = false;
    bool windows_merged = false;
    bool page_size_reduction_reported = false;
    std::vector<std::size_t> org_in_flight;
    std::size_t pages_in_flight = 0;
    std::optional<std::chrono::steady_clock::time_point> deadline;
    std::chrono::steady_clock::time_point started;

    batch_channel channel;
    /// The scheduler sleeps on this until a page completes (a timer used as a condition variable).
    boost::asio::steady_timer wake;
    boost::asio::steady_timer deadline_timer;
    std::map<std::uint64_t, boost::asio::cancellation_signal> tasks;
    std::uint64_t next_task_id = 0;

    /// The consumer's side, all on the strand. At most one channel receive is out at a time; it
    /// may outlive the wait that started it (abandoned by a partial or total cancellation): the
    /// batch it brings then waits in `kept` for the next async_next.
    std::optional<next_wait> waiting;
    std::optional<job_batch> kept;
    bool receiving = false;
    std::atomic<std::uint64_t> next_wait_id = 0; ///< taken in async_next, before the hop

    bool finishing = false;       ///< the end is decided; no new requests
    bool final_delivered = false; ///< the consumer has seen (or is seeing) the end
    boost::system::error_code final_error;

    /// Read from any thread through job_stream; written on the strand.
    mutable std::mutex mutex;
    fetch_stats stats;
    latency_histogram latency;
    std::vector<page_failure> failures;
    diagnostics final_diag;

    /// The window that owns a job starting at `t` (clamped to the first and last).
    std::size_t window_of(timestamp t) const noexcept;
    /// The window that delivers `j` under the time-filter semantics `belief`; nullopt when `j`
    /// is outside the fetch (only with a server that ignores the filter).
    std::optional<std::size_t> owner_window(time_filter belief, const job& j) const noexcept;
    /// The time range a segment's requests ask for: its window, or from its window to the end
    /// of the range once other windows were merged into it.
    std::pair<timestamp, timestamp> query_range(std::size_t segment) const noexcept;
    /// The set of jobIds delivered for `delegate`'s jobs, made on first use.
    policy::dedupe_set& seen_by(std::size_t delegate);
    /// "organization <guid>, window <start>..<finish>" (no organization when unfiltered).
    std::string describe(std::size_t segment) const;
};

/// Cancels the fetch (job_stream::cancel, its destructor, client::cancel): on the strand.
void cancel_fetch(const std::shared_ptr<fetch_state>& self);

/// Runs a fetch to its end (the scheduler). Spawned on the client's strand by client::fetch.
boost::asio::awaitable<void> run_fetch(std::shared_ptr<fetch_state> self);

/// Ends the fetch: every request stops. `through_channel`: the end is queued behind the batches
/// already sent (natural ends); otherwise the consumer sees it at once (cancel, deadline).
void finish(const std::shared_ptr<fetch_state>& self, boost::system::error_code ec,
            diagnostics diag, bool through_channel);

} // namespace dynjobs::detail
