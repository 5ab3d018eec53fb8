// The backfill run: one consumer coroutine drains the job stream into the output file, and
// checkpoints at intervals; a progress timer and a signal set share its io_context thread.
//
// Exactly-once across crashes rests on three rules:
// - a segment (organization x window) is listed as done only once every job of it is in the
//   output, and the checkpoint is written only after the output bytes it covers are synced;
// - resume cuts the output back to the checkpoint's offset (which drops a torn last line);
// - jobs of unfinished segments that are already in the output (after scanFrom) are collected
//   on resume and dropped when their segments are fetched again.
#include "cli/backfill.hpp"

#include "cli/arg_reader.hpp"
#include "cli/output_file.hpp"
#include "cli/report.hpp"
#include "cli/resume_scan.hpp"

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
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <thread>
#include <unistd.h>
#include <unordered_set>

namespace dynjobs::cli {
namespace asio = boost::asio;
using std::chrono::steady_clock;

namespace {

void say(const backfill_plan& plan, const std::string& line) {
    if (plan.level != verbosity::quiet)
        std::cerr << "dynjobs: " << line << '\n';
}

std::string read_whole(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// A library error in the command's terms: "base_url: 'x' ..." becomes "--base-url: 'x' ...".
std::string in_command_terms(const diagnostics& diag, boost::system::error_code ec) {
    std::string message = diag.message.empty() ? ec.message() : diag.message;
    if (!diag.field.empty()) {
        const auto option = option_for_field(diag.field);
        if (message.starts_with(diag.field + ": "))
            message = std::string(option) + message.substr(diag.field.size());
        else if (message.find(option) == message.npos)
            message = std::string(option) + ": " + message;
    }
    return message;
}

bool is_authentication_error(boost::system::error_code ec) {
    return ec == errc::oauth_error || ec == errc::invalid_token_response ||
           ec == errc::unauthorized || ec == errc::forbidden || ec == errc::credential_error;
}

struct segment_less {
    bool operator()(const policy::segment_key& a, const policy::segment_key& b) const {
        return std::pair(a.org_slot, a.window) < std::pair(b.org_slot, b.window);
    }
};

// Loads the checkpoint this run continues (or checks that starting afresh overwrites nothing
// unfinished). Returns the checkpoint to start from.
checkpoint prepare_checkpoint(backfill_plan& plan) {
    checkpoint cp;
    cp.chosen = plan.chosen;
    cp.start = plan.request.start;
    cp.finish = plan.request.finish;
    if (plan.checkpoint_path.empty())
        return cp;
    const auto& path = plan.checkpoint_path;
    std::error_code exists_ec;
    const bool exists = std::filesystem::exists(path, exists_ec);
    if (!exists) {
        // Killed before its first checkpoint, a run has written nothing: "resume" from the
        // start, so that the same command finishes after a crash at any moment.
        if (plan.resume)
            say(plan, "no checkpoint at '" + path.string() + "': starting from the beginning");
        plan.resume = false;
        return cp;
    }
    std::string error;
    auto saved = decode_checkpoint(read_whole(path), error);
    if (!saved)
        throw usage_error{"--checkpoint: '" + path.string() + "' is not a usable checkpoint (" +
                          error + "); move it away to start over"};
    if (!plan.resume) {
        if (!saved->complete)
            throw usage_error{"an unfinished backfill's checkpoint is at '" + path.string() +
                              "': add --resume to finish it, or delete it to start over"};
        return cp; // a finished backfill: starting it again is a fresh run
    }
    if (auto mismatch = selection_mismatch(saved->chosen, plan.chosen))
        throw usage_error{"--resume refused: " + *mismatch +
                          "; resume with the first run's selection, or delete '" + path.string() +
                          "' to start over"};
    plan.request.start = saved->start;
    plan.request.finish = saved->finish;
    plan.request.skip = saved->done;
    return *saved;
}

// The embedded simulator: its own thread, so serving and fetching do not queue behind each
// other.
class embedded_simulator {
public:
    explicit embedded_simulator(backfill_plan& plan) {
        sim::sim_config config;
        config.cert_dir = std::filesystem::temp_directory_path() /
                          ("dynjobs-embedded-" + std::to_string(::getpid()));
        cert_dir_ = config.cert_dir;
        sim_.emplace(ioc_.get_executor(), config);
        diagnostics diag;
        if (auto ec = sim_->start(diag))
            throw std::runtime_error("cannot start the embedded simulator: " +
                                     (diag.message.empty() ? ec.message() : diag.message));
        thread_ = std::thread([this] { ioc_.run(); });
        plan.config.base_url = sim_->base_url();
        plan.config.token_url = sim_->token_url();
        plan.config.tls.ca_file = sim_->ca_file().string();
        plan.config.creds = client_secret_credentials{std::string(sim::default_client_id),
                                                      std::string(sim::default_client_secret)};
        const auto& d = config.dataset;
        say(plan, "no --region, --base-url or credentials: backfilling from the embedded "
                  "simulator (" +
                      std::to_string(d.organizations) + " organizations, " +
                      with_separators(d.jobs) + " jobs from " + format_iso8601(d.begin) + " to " +
                      format_iso8601(d.end) + ", seed " + std::to_string(d.seed) + ") at " +
                      sim_->base_url());
    }
    ~embedded_simulator() {
        sim_->stop();
        work_.reset();
        ioc_.stop();
        thread_.join();
        std::error_code ec;
        std::filesystem::remove_all(cert_dir_, ec);
    }
    embedded_simulator(const embedded_simulator&) = delete;
    embedded_simulator& operator=(const embedded_simulator&) = delete;

private:
    asio::io_context ioc_{1};
    asio::executor_work_guard<asio::io_context::executor_type> work_{ioc_.get_executor()};
    std::optional<sim::simulator> sim_;
    std::thread thread_;
    std::filesystem::path cert_dir_;
};

// The writing side of one run.
class backfill_run {
public:
    backfill_run(backfill_plan& plan, checkpoint cp, std::size_t segments_total)
        : plan_(plan)
        , cp_(std::move(cp))
        , segments_total_(segments_total)
        , segments_before_(cp_.done.size())
        , jobs_before_(cp_.jobs_written)
        , started_(steady_clock::now())
        , last_checkpoint_(started_) {
        for (const auto& key : cp_.done)
            done_.insert(key);
        // Jobs of segments that were unfinished at the checkpoint lie after its scanFrom; until
        // this run ends we cannot tell which of them are done, so later checkpoints keep
        // pointing there.
        if (cp_.scan_from < cp_.output_offset)
            carried_scan_from_ = cp_.scan_from;
    }

    // Opens the output: cut back to the checkpoint on resume, and learns which jobs of
    // unfinished segments are in it already.
    void open_output() {
        if (plan_.to_stdout) {
            out_.emplace(output_file::standard_output());
        } else if (plan_.resume && cp_.output_offset == 0) {
            // Killed between the first checkpoint and the first sync: nothing to keep, and the
            // output may not even exist yet.
            out_.emplace(output_file::create(plan_.output));
        } else if (plan_.resume) {
            out_.emplace(output_file::resume(plan_.output, cp_.output_offset));
            std::string error;
            if (!collect_job_ids(plan_.format,
                                 read_file_range(plan_.output, cp_.scan_from, cp_.output_offset),
                                 written_before_, error))
                throw std::runtime_error("output " + plan_.output.string() + " after byte " +
                                         std::to_string(cp_.scan_from) + ": " + error +
                                         "; it was changed since the checkpoint: start over");
        } else {
            save_checkpoint(false); // before the output is truncated: never a stale offset
            out_.emplace(output_file::create(plan_.output));
        }
        if (out_->offset() == 0)
            out_->append(output_preamble(plan_.format));
    }

    void write(const job_batch& batch) {
        const policy::segment_key key{batch.organization_slot, batch.window};
        if (!batch.jobs.empty() && !open_.contains(key))
            open_.emplace(key, out_->offset());
        auto& buffer = out_->buffer();
        for (const auto& j : batch.jobs) {
            if (!written_before_.empty() && written_before_.erase(j.job_id)) {
                ++resume_duplicates_;
                continue;
            }
            append_job_line(buffer, plan_.format, j);
            ++jobs_written_;
        }
        out_->commit_buffer();
        if (batch.segment_complete) {
            open_.erase(key);
            done_.insert(key);
        }
        if (!plan_.checkpoint_path.empty() &&
            steady_clock::now() - last_checkpoint_ >= plan_.checkpoint_interval)
            save_checkpoint(false);
    }

    // Makes everything written durable and records it.
    void finish(bool complete) {
        if (!out_)
            return;
        if (plan_.checkpoint_path.empty())
            out_->flush();
        else
            save_checkpoint(complete);
    }

    bool all_done() const { return done_.size() == segments_total_; }

    run_snapshot snapshot(const fetch_stats& stats) const {
        run_snapshot s;
        s.stats = stats;
        s.jobs_written = jobs_written_;
        s.jobs_before = jobs_before_;
        s.resume_duplicates = resume_duplicates_;
        s.segments_total = segments_total_;
        s.segments_done = done_.size();
        s.segments_before = segments_before_;
        s.elapsed =
            std::chrono::duration_cast<std::chrono::milliseconds>(steady_clock::now() - started_);
        return s;
    }

private:
    void save_checkpoint(bool complete) {
        if (plan_.checkpoint_path.empty())
            return;
        std::uint64_t offset = 0;
        if (out_) {
            out_->sync(); // the checkpoint may only cover bytes that are on disk
            offset = out_->offset();
        }
        cp_.output_offset = offset;
        cp_.scan_from = carried_scan_from_.value_or(offset);
        for (const auto& [key, first] : open_)
            cp_.scan_from = std::min(cp_.scan_from, first);
        cp_.jobs_written = jobs_before_ + jobs_written_;
        cp_.done.assign(done_.begin(), done_.end());
        cp_.complete = complete;
        write_file_atomically(plan_.checkpoint_path, encode_checkpoint(cp_));
        last_checkpoint_ = steady_clock::now();
    }

    backfill_plan& plan_;
    checkpoint cp_;
    std::size_t segments_total_;
    std::size_t segments_before_;
    std::uint64_t jobs_before_;
    steady_clock::time_point started_;
    steady_clock::time_point last_checkpoint_;
    std::optional<output_file> out_;
    std::set<policy::segment_key, segment_less> done_;
    std::map<policy::segment_key, std::uint64_t, segment_less> open_; // -> first job's offset
    std::optional<std::uint64_t> carried_scan_from_;
    std::unordered_set<std::string> written_before_;
    std::uint64_t jobs_written_ = 0;
    std::uint64_t resume_duplicates_ = 0;
};

struct run_end {
    boost::system::error_code error;
    diagnostics diag;
    std::string local_error; // the output or checkpoint could not be written
};

asio::awaitable<void> drain(job_stream& stream, backfill_run& run, run_end& end) {
    try {
        for (;;) {
            auto batch = co_await stream.next();
            if (!batch)
                break;
            run.write(*batch);
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
asio::awaitable<void> show_progress(job_stream& stream, backfill_run& run, bool terminal,
                                    asio::steady_timer& timer, const bool& ended) {
    const auto period = terminal ? std::chrono::milliseconds(250) : std::chrono::seconds(5);
    while (!ended) {
        timer.expires_after(period);
        const auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
        if (ec || ended)
            break;
        const auto line = format_progress(run.snapshot(stream.stats()));
        if (terminal)
            std::cerr << '\r' << line << "\x1b[K" << std::flush;
        else
            std::cerr << "dynjobs: " << line << std::endl;
    }
    if (terminal)
        std::cerr << "\r\x1b[K" << std::flush;
}

extern "C" void exit_now(int) {
    ::_exit(130);
}

void log_request(const request_event& e) {
    if (e.retry == policy::retry_cause::none && !e.error && e.status < 400)
        return;
    std::string line = "dynjobs: GET " + e.url + " -> ";
    line += e.error ? e.error.message() : "HTTP " + std::to_string(e.status);
    if (e.retry != policy::retry_cause::none)
        line += ", retry " + std::to_string(e.attempt) + " (" +
                std::string(policy::to_string(e.retry)) + ") in " +
                std::to_string(e.retry_wait.count()) + " ms";
    std::cerr << line << '\n';
}

} // namespace

int run_backfill(backfill_plan plan) {
    auto cp = prepare_checkpoint(plan);
    if (plan.resume && cp.complete) {
        say(plan, "the backfill in '" + plan.checkpoint_path.string() + "' is already complete (" +
                      with_separators(cp.jobs_written) + " jobs): nothing to do");
        return 0;
    }

    std::optional<embedded_simulator> simulator;
    if (plan.embedded)
        simulator.emplace(plan);
    if (plan.level == verbosity::verbose)
        plan.config.on_request = log_request;
    plan.config.on_fetch_event = [level = plan.level](const fetch_event& e) {
        // A contradicted --time-filter is printed even under --quiet: the user stated something
        // about the server that is not true, and should know.
        if (e.kind == fetch_event_kind::time_filter_contradicted)
            std::cerr << "\ndynjobs: warning: " << e.message << '\n';
        else if (level == verbosity::verbose ||
                 (level == verbosity::normal &&
                  e.kind != fetch_event_kind::window_refetched_for_completeness))
            std::cerr << "\ndynjobs: " << e.message << '\n';
    };

    asio::io_context ioc(1);
    client api(ioc.get_executor(), plan.config);
    diagnostics diag;
    if (auto ec = api.validate(plan.request, diag))
        throw usage_error{in_command_terms(diag, ec)};

    const std::size_t org_slots = std::max<std::size_t>(1, plan.request.organizations.size());
    backfill_run run(plan, cp, org_slots * plan.request.windows().size());
    run.open_output();
    if (plan.resume)
        say(plan, "resuming: " + with_separators(cp.jobs_written) + " jobs and " +
                      std::to_string(cp.done.size()) + " windows already in " +
                      plan.output.string());

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
        std::signal(SIGINT, exit_now);
        std::signal(SIGTERM, exit_now);
        if (plan.level != verbosity::quiet)
            std::cerr << "\ndynjobs: interrupted: stopping requests and saving the checkpoint "
                         "(Ctrl-C again to quit at once)\n";
        stream.cancel();
    });
    const bool terminal = ::isatty(STDERR_FILENO) == 1;
    const bool progress =
        plan.level != verbosity::quiet && (terminal || plan.level == verbosity::verbose);
    asio::steady_timer progress_timer(ioc);
    asio::co_spawn(ioc, drain(stream, run, end), [&](std::exception_ptr) {
        ended = true;
        signals.cancel();
        progress_timer.cancel();
    });
    if (progress)
        asio::co_spawn(ioc, show_progress(stream, run, terminal, progress_timer, ended),
                       asio::detached);
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
    if (result.outcome == run_outcome::complete && (!result.failures.empty() || !run.all_done()))
        result.outcome = run_outcome::failed;

    try {
        run.finish(result.outcome == run_outcome::complete);
    } catch (const std::exception& e) {
        result.outcome = run_outcome::failed;
        result.error = e.what();
    }
    result.totals = run.snapshot(stream.stats());
    result.output = plan.to_stdout ? "<stdout>" : plan.output.string();
    result.checkpoint = plan.checkpoint_path.string();
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
