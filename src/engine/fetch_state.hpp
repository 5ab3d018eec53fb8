// src/engine/fetch_state.hpp - one fetch: its plan, dedupe memory, channel and counters.
#pragma once

#include "engine/client_state.hpp"
#include "engine/latency_histogram.hpp"

#include <dynjobs/fetch_request.hpp>
#include <dynjobs/job_stream.hpp>
#include <dynjobs/policy/dedupe_set.hpp>
#include <dynjobs/policy/page_plan.hpp>

#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/experimental/channel.hpp>

#include <map>
#include <mutex>
#include <optional>
#include <unordered_map>

namespace dynjobs::detail {

using batch_channel =
    boost::asio::experimental::channel<void(boost::system::error_code, std::optional<job_batch>)>;

struct fetch_state : std::enable_shared_from_this<fetch_state> {
    fetch_state(std::shared_ptr<client_state> owner, fetch_request req);

    std::shared_ptr<client_state> client;
    fetch_request request;
    std::vector<std::pair<timestamp, timestamp>> windows;
    std::optional<policy::page_plan> plan;
    /// jobIds delivered, per segment still open (memory goes when the segment settles).
    std::unordered_map<std::size_t, policy::dedupe_set> seen;
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
