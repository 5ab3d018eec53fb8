#include <dynjobs/job_stream.hpp>

#include "engine/fetch_state.hpp"

#include <dynjobs/error_with_diagnostics.hpp>

#include <boost/asio/append.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
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

// Completes the consumer's handler: never inline, and on the handler's own executor, else the
// client's (post runs it through `via`, then hands it over to that executor, tracking work on
// it meanwhile).
template <class Executor>
void complete(next_handler handler, const Executor& via, const asio::any_io_executor& fallback,
              error_code ec, std::optional<job_batch> batch) {
    const auto target = asio::get_associated_executor(handler, fallback);
    asio::post(via,
               asio::bind_executor(target, asio::append(std::move(handler), ec, std::move(batch))));
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
        complete(std::move(handler), asio::system_executor(), asio::system_executor(),
                 asio::error::bad_descriptor, std::nullopt);
        return;
    }
    const asio::any_io_executor strand = state->client->strand;
    asio::dispatch(strand, [state, handler = std::move(handler), strand]() mutable {
        // Terminal cancellation of this wait cancels the whole fetch.
        auto slot = asio::get_associated_cancellation_slot(handler);
        if (slot.is_connected())
            slot.assign([weak = std::weak_ptr(state), strand](asio::cancellation_type type) {
                if ((type & asio::cancellation_type::terminal) == asio::cancellation_type::none)
                    return;
                asio::dispatch(strand, [weak] {
                    if (auto s = weak.lock())
                        cancel_fetch(s);
                });
            });
        if (state->final_delivered) {
            if (slot.is_connected())
                slot.clear();
            complete(std::move(handler), strand, state->client->executor, state->final_error,
                     std::nullopt);
            return;
        }
        state->channel.async_receive([state, handler = std::move(handler), strand,
                                      slot](error_code ec, std::optional<job_batch> batch) mutable {
            if (slot.is_connected())
                slot.clear();
            if (ec || !batch) {
                // The end: queued by the scheduler, or delivered directly by a cancel.
                state->final_delivered = true;
                ec = state->final_error;
                batch.reset();
            }
            complete(std::move(handler), strand, state->client->executor, ec, std::move(batch));
        });
    });
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

namespace {

asio::awaitable<std::optional<job_batch>> next_owned(std::shared_ptr<detail::fetch_state> state) {
    auto token = asio::as_tuple(asio::use_awaitable);
    auto [ec, batch] = co_await asio::async_initiate<decltype(token), job_stream::next_signature>(
        detail::next_initiation{state}, token);
    if (ec) {
        diagnostics diag;
        if (state) {
            std::lock_guard lock(state->mutex);
            diag = state->final_diag;
        }
        throw error_with_diagnostics(ec, std::move(diag));
    }
    co_return std::move(batch);
}

} // namespace

asio::awaitable<std::optional<job_batch>> job_stream::next() {
    // Not a coroutine itself: the fetch is captured now, so the stream object may be moved or
    // destroyed while the returned awaitable is pending.
    return next_owned(state_);
}

job_stream::executor_type job_stream::get_executor() const noexcept {
    return state_ ? state_->client->executor : executor_type();
}

diagnostics job_stream::error_diagnostics() const {
    if (!state_)
        return {};
    std::lock_guard lock(state_->mutex);
    return state_->final_diag;
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
