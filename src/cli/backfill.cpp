// The backfill run: one consumer coroutine drains the job stream into the sink (sink/sink.hpp:
// the output file with its checkpoint, or PostgreSQL), which records progress as it goes; a
// progress timer and a signal set share its io_context thread.
#include "cli/backfill.hpp"

#include "cli/arg_reader.hpp"
#include "cli/embedded_simulator.hpp"
#include "cli/fetch_error.hpp"
#include "cli/fetch_log.hpp"
#include "cli/output_file.hpp"
#include "cli/report.hpp"
#include "cli/run_to_end.hpp"
#include "cli/second_signal.hpp"
#include "cli/worker.hpp"
#include "sink/file_sink.hpp"
#include "sink/pg_sink.hpp"

#include <dynjobs/client.hpp>
#include <dynjobs/error.hpp>
#include <dynjobs/error_with_diagnostics.hpp>
#include <dynjobs/sim/simulator.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <csignal>
#include <iostream>
#include <thread>
#include <unistd.h>

namespace dynjobs::cli {
namespace asio = boost::asio;
using std::chrono::steady_clock;

namespace {

void say(const backfill_plan& plan, const std::string& line) {
    if (plan.level != verbosity::quiet)
        std::cerr << "dynjobs: " << line << '\n';
}

// What the progress line and the summary count: the fetch's numbers and the sink's.
run_snapshot snapshot(const sink::job_sink& out, std::size_t segments_total,
                      const fetch_stats& stats, steady_clock::time_point started) {
    const auto t = out.totals();
    run_snapshot s;
    s.stats = stats;
    s.jobs_written = t.jobs_written;
    s.jobs_before = t.jobs_before;
    s.resume_duplicates = t.resume_duplicates;
    s.segments_total = segments_total;
    s.segments_done = t.segments_done;
    s.segments_before = t.segments_before;
    s.elapsed =
        std::chrono::duration_cast<std::chrono::milliseconds>(steady_clock::now() - started);
    return s;
}

struct run_end {
    boost::system::error_code error;
    diagnostics diag;
    std::string local_error; // the output or checkpoint could not be written
};

asio::awaitable<void> drain(job_stream& stream, sink::job_sink& out, run_end& end) {
    try {
        for (;;) {
            auto batch = co_await stream.next();
            if (!batch)
                break;
            co_await out.write(std::move(*batch));
        }
    } catch (const error_with_diagnostics& e) {
        end.error = e.code();
        end.diag = e.get_diagnostics();
    } catch (const std::exception& e) {
        end.local_error = e.what();
        stream.cancel();
    }
}

// On a terminal: one line redrawn in place. Otherwise, with --verbose: a line every 5 s.
asio::awaitable<void> show_progress(job_stream& stream, const sink::job_sink& out,
                                    std::size_t segments_total, steady_clock::time_point started,
                                    bool terminal, asio::steady_timer& timer, const bool& ended) {
    const auto period = terminal ? std::chrono::milliseconds(250) : std::chrono::seconds(5);
    while (!ended) {
        timer.expires_after(period);
        const auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
        if (ec || ended)
            break;
        const auto line = format_progress(snapshot(out, segments_total, stream.stats(), started));
        if (terminal)
            std::cerr << '\r' << line << "\x1b[K" << std::flush;
        else
            std::cerr << "dynjobs: " << line << std::endl;
    }
    if (terminal)
        std::cerr << "\r\x1b[K" << std::flush;
}

} // namespace

int run_backfill(backfill_plan plan) {
    if (plan.worker)
        return run_worker(std::move(plan));
    const auto started = steady_clock::now();
    asio::io_context ioc(1);
    const auto out =
        plan.pg ? sink::make_pg_sink(plan, ioc.get_executor()) : sink::make_file_sink(plan);
    const auto from = run_to_end(ioc, out->open());
    if (from.complete) {
        say(plan, "the backfill in '" + out->progress_name() + "' is already complete (" +
                      with_separators(from.jobs_before) + " jobs): nothing to do");
        return 0;
    }
    plan.resume = from.resuming;
    if (from.resuming) {
        plan.request.start = from.start;
        plan.request.finish = from.finish;
        plan.request.skip = from.done;
    }

    std::optional<embedded_simulator> simulator;
    if (plan.embedded)
        simulator.emplace(plan);
    attach_fetch_log(plan.level, plan.config);

    client api(ioc.get_executor(), plan.config);
    diagnostics diag;
    if (auto ec = api.validate(plan.request, diag))
        throw usage_error{in_command_terms(diag, ec)};

    const std::size_t org_slots = std::max<std::size_t>(1, plan.request.organizations.size());
    std::size_t other_shards = 0;
    if (plan.shard) {
        // From the range the run covers, which a resume fixes at the first run's.
        const auto others = segments_of_other_shards(plan.request, *plan.shard);
        other_shards = others.size();
        plan.request.skip.insert(plan.request.skip.end(), others.begin(), others.end());
    }
    const std::size_t segments_total = org_slots * plan.request.windows().size() - other_shards;
    run_to_end(ioc, out->start(segments_total));
    if (plan.resume)
        say(plan, "resuming: " + with_separators(from.jobs_before) + " jobs and " +
                      std::to_string(from.done.size()) + " windows already in " +
                      out->output_name());

    job_stream stream = api.fetch(plan.request);
    run_end end;
    bool ended = false;
    bool interrupted = false;
    asio::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&](boost::system::error_code ec, int) {
        if (ec)
            return;
        interrupted = true;
        // A second signal must not wait for anything: the checkpoint on disk is valid at every
        // moment, so exiting at once loses at most the work since it.
        signals.clear();
        exit_on_next_signal();
        if (plan.level != verbosity::quiet)
            std::cerr << "\ndynjobs: interrupted: stopping requests and saving the checkpoint "
                         "(Ctrl-C again to quit at once)\n";
        stream.cancel();
    });
    const bool terminal = ::isatty(STDERR_FILENO) == 1;
    const bool progress =
        plan.level != verbosity::quiet && (terminal || plan.level == verbosity::verbose);
    asio::steady_timer progress_timer(ioc);
    asio::co_spawn(ioc, drain(stream, *out, end), [&](std::exception_ptr) {
        ended = true;
        signals.cancel();
        progress_timer.cancel();
    });
    if (progress)
        asio::co_spawn(
            ioc,
            show_progress(stream, *out, segments_total, started, terminal, progress_timer, ended),
            asio::detached);
    ioc.restart();
    ioc.run();

    run_result result;
    const bool cancelled = end.error == boost::asio::error::operation_aborted;
    if (!end.local_error.empty()) {
        result.outcome = run_outcome::failed;
        result.error = end.local_error;
    } else if (interrupted) {
        result.outcome = run_outcome::interrupted;
    } else if (end.error == errc::proxy_auth_required) {
        result.outcome = run_outcome::misconfigured;
        result.error = in_command_terms(end.diag, end.error);
    } else if (end.error && is_authentication_error(end.error)) {
        result.outcome = run_outcome::auth_failed;
        result.error = in_command_terms(end.diag, end.error);
    } else if (end.error && !cancelled) {
        result.outcome = run_outcome::failed;
        result.error = in_command_terms(end.diag, end.error);
    }
    result.failures = stream.failures();
    if (result.outcome == run_outcome::complete &&
        (!result.failures.empty() || out->totals().segments_done != segments_total))
        result.outcome = run_outcome::failed;

    try {
        run_to_end(ioc, out->finish(result.outcome == run_outcome::complete));
    } catch (const std::exception& e) {
        result.outcome = run_outcome::failed;
        result.error = e.what();
    }
    result.totals = snapshot(*out, segments_total, stream.stats(), started);
    result.output = out->output_name();
    result.checkpoint = out->progress_name();
    // A configuration that cannot work gets one line, as bad usage does: a summary would only
    // bury it. The checkpoint keeps whatever was written, for --resume once it is fixed.
    if (result.outcome == run_outcome::misconfigured)
        std::cerr << "dynjobs: " << result.error << std::endl;
    else if (plan.level != verbosity::quiet || result.outcome != run_outcome::complete)
        std::cerr << format_summary(result) << std::flush;
    if (plan.stats_json)
        write_file_atomically(*plan.stats_json, format_summary_json(result));
    return exit_status(result.outcome);
}

} // namespace dynjobs::cli
