// The Asio face of client and job_stream: executors, the default completion token, a moved
// client, per-operation cancellation of async_next of each type (from another thread too), and
// the work a pending async_next holds on its handler's executor.
#include "engine_fixture.hpp"
#include "silent_server.hpp"

#include <dynjobs/error.hpp>
#include <dynjobs/with_diagnostics.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <atomic>
#include <functional>
#include <future>
#include <limits>
#include <optional>

using namespace dynjobs;
using namespace dynjobs::testkit;
namespace asio = boost::asio;
using boost::system::error_code;

namespace {

// A request of the small simulator in many small pages: many batches to wait for.
fetch_request many_batches(sim_fixture& fx) {
    auto request = whole_dataset(fx);
    request.page_size = 50;
    return request;
}

struct abandon_outcome {
    std::vector<job> jobs;
    int abandoned = 0; ///< waits that completed with operation_aborted
    error_code ec;     ///< how the stream ended
};

// Reads a whole fetch with async_next, on a strand of an io_context run by `threads` threads.
// With one thread, every other wait is cancelled with `type` right after it starts; with more,
// another thread cancels whatever wait is pending at random moments, racing the deliveries.
abandon_outcome fetch_abandoning_waits(const client_config& config, const fetch_request& request,
                                       asio::cancellation_type type, int threads) {
    asio::io_context ioc;
    client c(ioc.get_executor(), config);
    auto stream = c.fetch(request);
    auto consumer = asio::make_strand(ioc);
    abandon_outcome out;
    // The signal is touched only on `consumer`: emitted there, and its slot assigned and cleared
    // there (async_next does both on the side of the handler's executor).
    asio::cancellation_signal signal;
    bool pending = false;
    bool every_other = true;
    std::atomic<bool> done = false;
    std::function<void()> next = [&] {
        pending = true;
        stream.async_next(asio::bind_cancellation_slot(
            signal.slot(),
            asio::bind_executor(consumer, [&](error_code ec, std::optional<job_batch> batch) {
                pending = false;
                if (ec == asio::error::operation_aborted) {
                    ++out.abandoned;
                    if (out.abandoned < 100'000) // a wait that never gets a batch: give up
                        return next();
                }
                if (ec || !batch) {
                    out.ec = ec;
                    done = true;
                    return;
                }
                for (auto& j : batch->jobs)
                    out.jobs.push_back(std::move(j));
                next();
            })));
        if (threads == 1 && (every_other = !every_other))
            signal.emit(type);
    };
    asio::post(consumer, next);
    std::thread canceller;
    if (threads > 1)
        canceller = std::thread([&] {
            while (!done) {
                asio::post(consumer, [&] {
                    if (pending)
                        signal.emit(type);
                });
                std::this_thread::sleep_for(std::chrono::microseconds(300));
            }
        });
    run_on_threads(ioc, threads);
    if (canceller.joinable())
        canceller.join();
    return out;
}

// Reads the whole stream in a coroutine spawned on `where`, awaiting each batch with `token`;
// runs `ioc` until then.
template <class Executor, class Token>
std::vector<job> read_in_a_coroutine(asio::io_context& ioc, Executor where, job_stream& stream,
                                     Token token) {
    std::vector<job> jobs;
    asio::co_spawn(
        where,
        [&]() -> asio::awaitable<void> {
            while (auto batch = co_await stream.async_next(token))
                for (auto& j : batch->jobs)
                    jobs.push_back(std::move(j));
        },
        [](std::exception_ptr e) {
            if (e)
                std::rethrow_exception(e);
        });
    ioc.run();
    return jobs;
}

} // namespace

BOOST_AUTO_TEST_SUITE(engine_asio)

BOOST_AUTO_TEST_CASE(a_moved_client_fetches_with_the_default_token) {
    sim_fixture fx;
    const auto request = many_batches(fx);
    asio::io_context ioc;
    client first(ioc.get_executor(), engine_config(fx));
    client c(std::move(first));
    BOOST_TEST((c.get_executor() == ioc.get_executor()));
    auto stream = c.fetch(request);
    BOOST_TEST((stream.get_executor() == ioc.get_executor()));
    // No token: asio::deferred, awaitable as is.
    require_exactly(read_in_a_coroutine(ioc, ioc.get_executor(), stream, asio::deferred),
                    expected_jobs(fx, request));
}

BOOST_AUTO_TEST_CASE(a_plain_handler_runs_on_the_clients_executor) {
    sim_fixture fx;
    asio::io_context ioc;
    auto executor = asio::make_strand(ioc);
    client c(executor, engine_config(fx));
    auto stream = c.fetch(whole_dataset(fx));
    bool on_executor = false;
    bool called = false;
    stream.async_next([&](error_code ec, std::optional<job_batch> batch) {
        called = true;
        on_executor = executor.running_in_this_thread();
        BOOST_TEST(!ec, ec.message());
        BOOST_TEST(batch.has_value());
        stream.cancel();
    });
    ioc.run();
    BOOST_TEST(called);
    BOOST_TEST(on_executor);
}

// A consumer coroutine on a strand awaiting async_next with use_awaitable: the common shape of a
// service's reader.
BOOST_AUTO_TEST_CASE(a_coroutine_on_a_strand_reads_with_use_awaitable) {
    sim_fixture fx;
    const auto request = many_batches(fx);
    asio::io_context ioc;
    client c(ioc.get_executor(), engine_config(fx));
    auto stream = c.fetch(request);
    require_exactly(read_in_a_coroutine(ioc, asio::make_strand(ioc), stream, asio::use_awaitable),
                    expected_jobs(fx, request));
}

// One consumer: a wait that overlaps a pending one fails with already_started, and the pending
// wait and the rest of the stream go on as if it had not been made.
BOOST_AUTO_TEST_CASE(an_overlapping_wait_fails_with_already_started) {
    sim_fixture fx;
    const auto request = many_batches(fx);
    asio::io_context ioc;
    client c(ioc.get_executor(), engine_config(fx));
    auto stream = c.fetch(request);
    std::vector<job> jobs;
    std::optional<error_code> overlapping;
    std::optional<error_code> ended;
    std::function<void(error_code, std::optional<job_batch>)> take =
        [&](error_code ec, std::optional<job_batch> batch) {
            if (ec || !batch) {
                ended = ec;
                return;
            }
            for (auto& j : batch->jobs)
                jobs.push_back(std::move(j));
            stream.async_next(take);
        };
    stream.async_next(take);
    stream.async_next([&](error_code ec, std::optional<job_batch> batch) {
        overlapping = ec;
        BOOST_TEST(!batch.has_value());
    });
    ioc.run();
    BOOST_TEST_REQUIRE(overlapping.has_value());
    BOOST_TEST(*overlapping == asio::error::already_started);
    BOOST_TEST_REQUIRE(ended.has_value());
    BOOST_TEST(!*ended, ended->message());
    require_exactly(jobs, expected_jobs(fx, request));
}

// Reads a fetch abandoning waits (see fetch_abandoning_waits) with each cancellation type that
// spares the fetch: every job must still come, once. Returns the fewest waits abandoned.
int check_no_batch_lost(int threads) {
    sim_fixture fx;
    const auto request = many_batches(fx);
    int fewest = std::numeric_limits<int>::max();
    for (const auto type : {asio::cancellation_type::partial, asio::cancellation_type::total}) {
        BOOST_TEST_CONTEXT("cancellation type " << static_cast<int>(type)) {
            const auto out = fetch_abandoning_waits(engine_config(fx), request, type, threads);
            BOOST_TEST(!out.ec, out.ec.message());
            // Not one batch went with an abandoned wait: every job came, once.
            require_exactly(out.jobs, expected_jobs(fx, request));
            fewest = std::min(fewest, out.abandoned);
        }
    }
    return fewest;
}

BOOST_AUTO_TEST_CASE(a_partial_or_total_cancellation_abandons_only_that_wait) {
    // One thread: every other wait is cancelled as it starts, so some certainly are abandoned.
    BOOST_TEST(check_no_batch_lost(1) > 0);
}

BOOST_AUTO_TEST_CASE(cancellations_from_another_thread_lose_no_batch,
                     *boost::unit_test::label("threads")) {
    // How many waits another thread catches pending is up to the scheduler: not checked.
    check_no_batch_lost(3);
}

// Against a server that never answers, so that each wait is certainly pending when cancelled:
// a partial cancellation from another thread ends that wait and leaves the fetch running; a
// terminal one from another thread ends the fetch, and every later wait says so.
BOOST_AUTO_TEST_CASE(cancellation_types_from_another_thread, *boost::unit_test::label("threads")) {
    silent_server server;
    asio::io_context ioc;
    client c(ioc.get_executor(), silent_config(server));
    auto stream = c.fetch(january_2024());
    auto consumer = asio::make_strand(ioc);
    asio::cancellation_signal signal;
    auto work = asio::make_work_guard(ioc);
    std::thread runner([&] { ioc.run(); });

    // Starts a wait on `consumer`, cancels it from this thread with `type` (when given) once it
    // is pending, and returns how it ended.
    const auto wait = [&](std::optional<asio::cancellation_type> type) {
        std::promise<void> started;
        std::promise<error_code> ended;
        asio::post(consumer, [&] {
            stream.async_next(asio::bind_cancellation_slot(
                signal.slot(),
                asio::bind_executor(consumer, [&](error_code ec, std::optional<job_batch>) {
                    ended.set_value(ec);
                })));
            started.set_value();
        });
        started.get_future().wait();
        if (type)
            asio::post(consumer, [&, type] { signal.emit(*type); });
        return ended.get_future().get();
    };

    BOOST_TEST((wait(asio::cancellation_type::partial) == asio::error::operation_aborted));
    // The fetch went on: its request is still out, and nothing was closed.
    for (int i = 0; i < 500 && server.accepted < 1; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    BOOST_TEST_REQUIRE(server.accepted >= 1);
    // A cancelled fetch closes its connection within milliseconds; give it ample time to.
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    BOOST_TEST(server.closed == 0);
    BOOST_TEST((wait(asio::cancellation_type::terminal) == asio::error::operation_aborted));
    BOOST_TEST((wait(std::nullopt) == asio::error::operation_aborted));
    wait_all_closed(server);
    BOOST_TEST(server.closed == server.accepted);
    work.reset();
    stream = job_stream();
    runner.join();
}

BOOST_AUTO_TEST_CASE(a_pending_wait_keeps_its_handlers_executor_busy,
                     *boost::unit_test::label("threads")) {
    silent_server server;
    asio::io_context ioc;
    client c(ioc.get_executor(), silent_config(server));
    auto stream = c.fetch(january_2024());
    asio::io_context consumer;
    error_code result;
    bool called = false;
    stream.async_next(asio::bind_executor(consumer, [&](error_code ec, std::optional<job_batch>) {
        called = true;
        result = ec;
    }));
    // consumer has nothing else to do: run() returns only because async_next holds work on it
    // until its handler has run.
    std::atomic<bool> running = false;
    std::atomic<bool> returned = false;
    std::thread consumer_thread([&] {
        running = true;
        consumer.run();
        returned = true;
    });
    run_until_accepted(ioc, server, 1);
    while (!running)
        std::this_thread::yield();
    // Without that work, run() would return at once, and the handler never run.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    BOOST_TEST(!returned);
    stream.cancel();
    ioc.run();
    consumer_thread.join();
    BOOST_TEST(called);
    BOOST_TEST((result == asio::error::operation_aborted));
}

// A request refused before anything is sent: its error carries the field at fault.
fetch_request refused_request() {
    auto request = january_2024();
    request.finish = request.start;
    return request;
}

BOOST_AUTO_TEST_CASE(with_diagnostics_makes_use_future_throw_the_diagnostics) {
    silent_server server;
    asio::io_context ioc;
    client c(ioc.get_executor(), silent_config(server));
    auto stream = c.fetch(refused_request());
    auto result = stream.async_next(with_diagnostics(asio::use_future));
    ioc.run();
    try {
        result.get();
        BOOST_FAIL("a refused request must fail");
    } catch (const error_with_diagnostics& e) {
        BOOST_TEST((e.code() == errc::invalid_argument));
        BOOST_TEST(e.get_diagnostics().field == "startTime");
    }
    BOOST_TEST(server.accepted == 0);
}

BOOST_AUTO_TEST_CASE(with_diagnostics_makes_use_awaitable_throw_the_diagnostics) {
    silent_server server;
    asio::io_context ioc;
    client c(ioc.get_executor(), silent_config(server));
    auto stream = c.fetch(refused_request());
    diagnostics caught;
    boost::system::error_code code;
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            try {
                co_await stream.async_next(with_diagnostics(asio::use_awaitable));
            } catch (const error_with_diagnostics& e) {
                code = e.code();
                caught = e.get_diagnostics();
            }
        },
        asio::detached);
    ioc.run();
    BOOST_TEST((code == errc::invalid_argument));
    BOOST_TEST(caught.field == "startTime");
    BOOST_TEST(caught.message == stream.error_diagnostics().message);
}

BOOST_AUTO_TEST_SUITE_END()
