// Cancelling async_next with a timer, both ways the stream supports:
//   part 1, a heartbeat: each wait for a batch races a 2 ms timer in a parallel group. When the
//     timer wins, the group cancels the wait with a *partial* cancellation, which abandons only
//     that wait: the fetch goes on, and the batch that was on its way comes with the next
//     async_next, so none is lost;
//   part 2, a time limit: a timer emits a *terminal* cancellation on the wait's slot, which
//     cancels the whole fetch; that wait and every later one complete with operation_aborted.
// The program exits 0 only if part 1 got every job the engine delivered and part 2's fetch was
// cancelled.
#include "example_endpoint.hpp"

#include <dynjobs/client.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <iostream>
#include <tuple>

namespace asio = boost::asio;
using boost::system::error_code;
using namespace std::chrono_literals;

dynjobs::fetch_request first_half_of_2025() {
    dynjobs::fetch_request request;
    request.start = *dynjobs::parse_iso8601("2025-01-01T00:00:00Z");
    request.finish = *dynjobs::parse_iso8601("2025-07-01T00:00:00Z");
    return request;
}

// Part 1: returns true when every delivered job arrived despite the abandoned waits.
asio::awaitable<bool> heartbeat(dynjobs::client& client) {
    auto stream = client.fetch(first_half_of_2025());
    asio::steady_timer timer(co_await asio::this_coro::executor);
    std::size_t jobs = 0;
    std::size_t heartbeats = 0;
    for (;;) {
        timer.expires_after(2ms);
        // 1. Both operations start together; the first to finish makes the group cancel the
        //    other with cancellation_type::partial (wait_for_one's argument).
        auto [order, next_ec, batch, timer_ec] =
            co_await asio::experimental::make_parallel_group(stream.async_next(asio::deferred),
                                                             timer.async_wait(asio::deferred))
                .async_wait(asio::experimental::wait_for_one(asio::cancellation_type::partial),
                            asio::use_awaitable);
        if (next_ec == asio::error::operation_aborted) {
            ++heartbeats; // 2. The timer won: still waiting. The stream is as it was.
            continue;
        }
        if (next_ec) {
            std::cerr << "error: " << stream.error_diagnostics().message << '\n';
            co_return false;
        }
        if (!batch)
            break; // 3. The end.
        jobs += batch->jobs.size();
    }
    std::cout << "part 1: " << jobs << " jobs, " << heartbeats << " heartbeats\n";
    co_return jobs > 0 && jobs == stream.stats().jobs_delivered;
}

// Part 2: returns true when the time limit cancelled the fetch.
asio::awaitable<bool> time_limit(dynjobs::client& client) {
    auto stream = client.fetch(first_half_of_2025());
    asio::cancellation_signal stop;
    asio::steady_timer limit(co_await asio::this_coro::executor, 0ms);
    // 4. The timer emits on the same executor as the wait's handler (this coroutine's): a
    //    cancellation_signal is not thread-safe.
    limit.async_wait([&stop](error_code) { stop.emit(asio::cancellation_type::terminal); });
    error_code ec;
    std::size_t batches = 0;
    for (;;) {
        std::optional<dynjobs::job_batch> batch;
        std::tie(ec, batch) = co_await stream.async_next(
            asio::bind_cancellation_slot(stop.slot(), asio::as_tuple(asio::use_awaitable)));
        if (ec || !batch)
            break;
        ++batches;
    }
    // 5. After a terminal cancellation the stream is over: a later wait says so too.
    auto [again, none] = co_await stream.async_next(asio::as_tuple(asio::use_awaitable));
    std::cout << "part 2: cancelled after " << batches << " batch(es): " << ec.message() << '\n';
    co_return ec == asio::error::operation_aborted&& again == asio::error::operation_aborted;
}

int main() try {
    asio::io_context io;
    example_endpoint endpoint(io.get_executor());
    dynjobs::client client(io.get_executor(), endpoint.config());
    bool ok = false;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            const bool part1 = co_await heartbeat(client);
            const bool part2 = co_await time_limit(client);
            ok = part1 && part2;
            endpoint.stop();
        },
        [](std::exception_ptr e) {
            if (e)
                std::rethrow_exception(e);
        });
    io.run();
    return ok ? 0 : 1;
} catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << '\n';
    return 1;
}
