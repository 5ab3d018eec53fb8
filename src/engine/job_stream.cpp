#include <dynjobs/job_stream.hpp>

#include "engine/fetch_state.hpp"

#include <dynjobs/with_diagnostics.hpp>

#include <boost/asio/append.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/system_executor.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace dynjobs {

namespace asio = boost::asio;
using boost::system::error_code;

namespace detail {
namespace {

// Completes a wait: never inline, and on the handler's executor (the one its work guard holds).
// There, and not on the strand, the slot is cleared: the consumer owns the slot, and clears it
// where it may also emit, so the two never race.
void complete(const asio::any_io_executor& strand, next_wait wait, error_code ec,
              std::optional<job_batch> batch) {
    const auto target = wait.work;
    asio::post(strand, asio::bind_executor(target, [wait = std::move(wait), ec,
                                                    batch = std::move(batch)]() mutable {
                   if (wait.slot.is_connected())
                       wait.slot.clear();
                   auto handler = std::move(wait.handler);
                   wait.work = nullptr;
                   std::move(handler)(ec, std::move(batch));
               }));
}

// Gives the pending wait, if any, what the channel brought. Without one (it was abandoned), a
// batch is kept for the next async_next and an end is remembered in final_delivered.
void on_received(const std::shared_ptr<fetch_state>& state, error_code ec,
                 std::optional<job_batch> batch) {
    state->receiving = false;
    if (ec || !batch) {
        // The end: queued by the scheduler, or delivered directly by a cancel.
        state->final_delivered = true;
        ec = state->final_error;
        batch.reset();
    }
    if (!state->waiting) {
        if (batch)
            state->kept = std::move(batch);
        return;
    }
    next_wait wait = std::move(*state->waiting);
    state->waiting.reset();
    complete(state->client->strand, std::move(wait), ec, std::move(batch));
}

// A cancellation emitted on wait `id`'s slot, now on the strand. Terminal: the whole fetch
// stops, and the wait completes with its end. Partial or total: only the wait ends; a batch on
// its way is kept for the next async_next. Too late (the wait already completed): nothing.
void cancel_wait(const std::shared_ptr<fetch_state>& state, std::uint64_t id,
                 asio::cancellation_type type) {
    if (!state->waiting || state->waiting->id != id)
        return;
    if ((type & asio::cancellation_type::terminal) != asio::cancellation_type::none) {
        cancel_fetch(state);
        return;
    }
    next_wait wait = std::move(*state->waiting);
    state->waiting.reset();
    complete(state->client->strand, std::move(wait), asio::error::operation_aborted, std::nullopt);
}

} // namespace

fetch_state::fetch_state(std::shared_ptr<client_state> owner, fetch_request req)
    : client(std::move(owner))
    , request(std::move(req))
    , inference(request.server_time_filter)
    , started(std::chrono::steady_clock::now())
    , channel(client->strand, std::max<std::size_t>(1, client->config.channel_capacity))
    , wake(client->strand)
    , deadline_timer(client->strand) {}

void async_next_erased(const std::shared_ptr<fetch_state>& state, next_handler handler) {
    if (!state) { // a default-constructed or moved-from stream
        const auto target = asio::get_associated_executor(handler, asio::system_executor());
        asio::post(asio::system_executor(),
                   asio::bind_executor(target, asio::append(std::move(handler),
                                                            error_code(asio::error::bad_descriptor),
                                                            std::optional<job_batch>())));
        return;
    }
    // Here, in the initiating function and before any hop: the work guard on the handler's
    // executor and the slot's handler. The slot belongs to the consumer, so it is assigned on
    // the consumer's side and only read from the strand.
    next_wait wait;
    wait.work = asio::prefer(asio::any_completion_executor(
                                 asio::get_associated_executor(handler, state->client->executor)),
                             asio::execution::outstanding_work.tracked);
    wait.slot = asio::get_associated_cancellation_slot(handler);
    // swap, not move assignment: Boost 1.81's any_completion_handler::operator=(&&) copies its
    // argument as an lvalue into a new wrapper, which wraps itself again, without end.
    wait.handler.swap(handler);
    const asio::any_io_executor strand = state->client->strand;
    // Ids are handed out here, before the hop, so that the slot's handler knows its wait.
    wait.id = state->next_wait_id++;
    if (wait.slot.is_connected())
        wait.slot.assign(
            [weak = std::weak_ptr(state), strand, id = wait.id](asio::cancellation_type type) {
                asio::dispatch(strand, [weak, id, type] {
                    if (auto s = weak.lock())
                        cancel_wait(s, id, type);
                });
            });
    asio::dispatch(strand, [state, wait = std::move(wait)]() mutable {
        const asio::any_io_executor& strand = state->client->strand;
        if (state->final_delivered) {
            complete(strand, std::move(wait), state->final_error, std::nullopt);
            return;
        }
        if (state->kept) {
            auto batch = std::move(state->kept);
            state->kept.reset();
            complete(strand, std::move(wait), {}, std::move(batch));
            return;
        }
        if (state->waiting) { // two overlapping waits: the stream has one consumer
            complete(strand, std::move(wait), asio::error::already_started, std::nullopt);
            return;
        }
        state->waiting.emplace(std::move(wait)); // constructs: see the swap above
        if (state->receiving) // a receive of an abandoned wait is still out: it serves this one
            return;
        state->receiving = true;
        state->channel.async_receive(
            [state](error_code ec, std::optional<job_batch> batch) mutable {
                on_received(state, ec, std::move(batch));
            });
    });
}

diagnostics final_diagnostics(const std::shared_ptr<fetch_state>& state) {
    if (!state)
        return {};
    std::lock_guard lock(state->mutex);
    return state->final_diag;
}

} // namespace detail

job_stream& job_stream::operator=(job_stream&& other) noexcept {
    if (this != &other) {
        cancel();
        state_ = std::move(other.state_);
    }
    return *this;
}

job_stream::~job_stream() {
    cancel();
}

asio::awaitable<std::optional<job_batch>> job_stream::next() {
    return async_next(with_diagnostics(asio::use_awaitable));
}

job_stream::executor_type job_stream::get_executor() const noexcept {
    return state_ ? state_->client->executor : executor_type();
}

diagnostics job_stream::error_diagnostics() const {
    return detail::final_diagnostics(state_);
}

fetch_stats job_stream::stats() const {
    if (!state_)
        return {};
    std::lock_guard lock(state_->mutex);
    fetch_stats copy = state_->stats;
    copy.latency = state_->latency.summary();
    if (copy.elapsed.count() == 0) // still running: finish() fixes elapsed under the lock
        copy.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::steady_clock::now() - state_->started);
    return copy;
}

std::vector<page_failure> job_stream::failures() const {
    if (!state_)
        return {};
    std::lock_guard lock(state_->mutex);
    return state_->failures;
}

std::vector<std::pair<timestamp, timestamp>> job_stream::windows() const {
    return state_ ? state_->request.windows() : std::vector<std::pair<timestamp, timestamp>>{};
}

void job_stream::cancel() {
    if (!state_)
        return;
    asio::dispatch(state_->client->strand, [state = state_] { detail::cancel_fetch(state); });
}

} // namespace dynjobs
