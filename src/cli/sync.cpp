// The sync driver: one coroutine runs the cycles on a single-threaded io_context, which the
// status server, the signal set and the client (its connection pool, token and learnt rate
// kept across cycles) share. Each cycle: a fresh client.fetch of the cycle's range into the
// sink, then commit (jobs and high-water mark together) or abandon, then the metrics and the
// log line. The schedule's rules are sync_schedule's, the formats sync_metrics' and sync_log's.
#include "cli/sync.hpp"

#include "cli/arg_reader.hpp"
#include "cli/fetch_error.hpp"
#include "cli/second_signal.hpp"
#include "cli/status_server.hpp"
#include "cli/sync_metrics.hpp"
#include "sink/sync_sink.hpp"

#include <dynjobs/client.hpp>
#include <dynjobs/error_with_diagnostics.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <csignal>
#include <iostream>
#include <unistd.h>

namespace dynjobs::cli {
namespace asio = boost::asio;
using std::chrono::steady_clock;

namespace {

timestamp wall_now() {
    return std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

// What the cycles share with the signal handler and the status server: all on the one thread.
struct service_state {
    std::optional<timestamp> high_water_mark;
    std::optional<steady_clock::time_point> last_success;
    std::uint64_t token_requests_seen = 0; // the client's counter, at the last cycle's end
    bool stopping = false;
    int once_status = 0;
};

struct cycle_end {
    cycle_report report;
    std::string error; // empty when the cycle succeeded or was interrupted
    bool authentication = false;
    bool interrupted = false;
};

asio::awaitable<cycle_end> run_cycle(client& api, sink::sync_sink& out, fetch_request request,
                                     const service_state& state) {
    cycle_end end;
    const auto started = steady_clock::now();
    // A clock set back behind the mark gives an empty range: nothing to fetch, nothing moves.
    if (request.start < request.finish) {
        job_stream stream = api.fetch(request);
        try {
            for (;;) {
                auto batch = co_await stream.next();
                if (!batch)
                    break;
                for (const auto& j : batch->jobs)
                    ++end.report.jobs_by_status[j.status];
                co_await out.write(std::move(*batch));
            }
            const auto counts = co_await out.commit_cycle(request.finish);
            end.report.jobs_upserted = counts.upserted;
            end.report.jobs_changed = counts.changed;
            end.report.succeeded = true;
        } catch (const error_with_diagnostics& e) {
            end.interrupted = e.code() == asio::error::operation_aborted && state.stopping;
            end.authentication = is_authentication_error(e.code());
            end.error = in_command_terms(e.get_diagnostics(), e.code());
        } catch (const std::exception& e) {
            end.error = e.what(); // the output could not be written
            stream.cancel();
        }
        if (!end.report.succeeded) {
            const auto counts = co_await out.abandon_cycle();
            end.report.jobs_upserted = counts.upserted;
            end.report.jobs_changed = counts.changed;
        }
        end.report.stats = stream.stats();
    } else {
        end.report.succeeded = true;
    }
    end.report.duration = steady_clock::now() - started;
    end.report.finished_at = wall_now();
    co_return end;
}

asio::awaitable<void> serve(const sync_plan& p, client& api, sink::sync_sink& out,
                            sync_metrics& metrics, service_state& state,
                            asio::steady_timer& pause) {
    state.high_water_mark = co_await out.open();
    if (state.high_water_mark)
        metrics.set_high_water_mark(*state.high_water_mark);
    const auto say = [&](const std::string& line) { std::cerr << line << std::endl; };
    while (!state.stopping) {
        const auto started = steady_clock::now();
        // Whole seconds, as the backfill's "now": a server may not take milliseconds.
        const auto range = cycle_range(p.schedule, state.high_water_mark,
                                       std::chrono::floor<std::chrono::seconds>(wall_now()));
        fetch_request request = p.plan.request;
        request.start = range.start;
        request.finish = range.finish;
        auto end = co_await run_cycle(api, out, std::move(request), state);
        // Token requests are the client's, shared by every fetch: the cycle's are the growth
        // (none when the cycle fetched nothing and its stats are empty).
        const auto tokens = end.report.stats.token_requests;
        if (tokens > state.token_requests_seen) {
            end.report.token_renewals = tokens - state.token_requests_seen;
            state.token_requests_seen = tokens;
        }
        if (end.interrupted) {
            // Not a failure, and not counted: the range is fetched again at the next start.
            end.report.interrupted = true;
            say(format_cycle_line(p.log, range, end.report));
            break;
        }
        if (end.report.succeeded) {
            if (range.start < range.finish) {
                state.high_water_mark = range.finish;
                metrics.set_high_water_mark(range.finish);
            }
            state.last_success = steady_clock::now();
        } else {
            say(format_error_line(p.log, end.report.finished_at,
                                  end.authentication ? "authentication failed: " + end.error
                                                     : end.error));
            state.once_status = end.authentication ? 3 : 2;
        }
        metrics.record_cycle(end.report);
        say(format_cycle_line(p.log, range, end.report));
        // A signal during the cycle found no pause to cancel: look before waiting.
        if (p.once || state.stopping)
            break;
        pause.expires_at(next_cycle_start(started, steady_clock::now(), p.schedule.every));
        co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
    }
}

} // namespace

int run_sync(sync_plan p) {
    asio::io_context ioc(1);
    auto& plan = p.plan;
    sync_metrics metrics;
    service_state state;
    // The hooks run on the client's strand of this single-threaded io_context: the metrics
    // need no lock.
    plan.config.on_request = [&metrics](const request_event& e) {
        metrics.record_request(e.status);
    };
    const auto log = p.log;
    plan.config.on_fetch_event = [log](const fetch_event& e) {
        // The user stated something about the server that is not true, and should know.
        if (e.kind == fetch_event_kind::time_filter_contradicted)
            std::cerr << format_error_line(log, wall_now(), e.message) << std::endl;
    };

    client api(ioc.get_executor(), plan.config);
    diagnostics diag;
    // plan.request's range is the first cycle's: the widest any cycle asks for.
    if (auto ec = api.validate(plan.request, diag))
        throw usage_error{in_command_terms(diag, ec)};
    const auto out = plan.pg ? sink::make_pg_sync_sink(plan, ioc.get_executor())
                             : sink::make_file_sync_sink(plan);

    std::optional<status_server> server;
    if (p.listen) {
        try {
            server.emplace(ioc.get_executor(), *p.listen,
                           status_server::handlers{
                               [&metrics] { return metrics.render(wall_now()); },
                               [&state, every = p.schedule.every] {
                                   return is_ready(state.last_success, steady_clock::now(), every);
                               }});
        } catch (const std::system_error& e) {
            throw usage_error{"--listen: " + std::string(e.what())};
        }
        server->start();
    }

    asio::steady_timer pause(ioc);
    asio::steady_timer watchdog(ioc);
    asio::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&](boost::system::error_code ec, int) {
        if (ec)
            return;
        state.stopping = true;
        // A second signal must not wait for anything: the high-water mark in the output is
        // true at every moment, so exiting at once loses only the cycle in progress.
        signals.clear();
        exit_on_next_signal();
        api.cancel();
        pause.cancel();
        // An orchestrator kills after its grace period (Kubernetes: 30 s; the issue: 10 s). A
        // commit stuck on a database that does not answer must not hold the exit: the server
        // rolls the open transaction back when the connection drops with the process.
        watchdog.expires_after(std::chrono::seconds(9));
        watchdog.async_wait([](boost::system::error_code wait_ec) {
            if (!wait_ec)
                ::_exit(0);
        });
    });

    std::exception_ptr error;
    asio::co_spawn(ioc, serve(p, api, *out, metrics, state, pause), [&](std::exception_ptr e) {
        error = e;
        signals.cancel();
        watchdog.cancel();
        api.cancel();
        if (server)
            server->stop();
    });
    ioc.run();
    if (error)
        std::rethrow_exception(error);
    return state.stopping ? 0 : state.once_status;
}

} // namespace dynjobs::cli
