// A worker: plans the run if it is the first, then keeps `slots` segments in flight, each
// claimed from the work table, fetched as a fetch of its own on its tenant's client (one pool,
// one token, one learnt rate per tenant), and committed with its done mark in one transaction.
// Two connections: the control one (claims, lease renewals, counts) and the commit one, so that
// a renewal never waits behind a commit's COPY.
#include "cli/worker.hpp"

#include "cli/arg_reader.hpp"
#include "cli/embedded_simulator.hpp"
#include "cli/fetch_error.hpp"
#include "cli/fetch_log.hpp"
#include "cli/report.hpp"
#include "cli/run_to_end.hpp"
#include "sink/pg/schema.hpp"
#include "sink/pg/segment_rows.hpp"
#include "sink/pg/sql.hpp"
#include "sink/pg/work_queue.hpp"
#include "sink/pg_sink.hpp"

#include <dynjobs/client.hpp>
#include <dynjobs/error_with_diagnostics.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <iostream>
#include <map>

namespace dynjobs::cli {
namespace asio = boost::asio;
namespace pg = sink::pg;
using std::chrono::steady_clock;

namespace {

// What this worker did, for its summary line.
struct worker_totals {
    std::uint64_t segments = 0;
    std::uint64_t taken_over = 0; ///< claimed after another claim of the same segment
    std::uint64_t given_back = 0; ///< fetched with failures, returned to the queue
    std::uint64_t split = 0;      ///< too big at the first page: cut into shorter windows
    std::uint64_t lost = 0;       ///< stopped: its lease was found to be another worker's
    std::uint64_t jobs = 0;
    std::uint64_t pages = 0;
    std::uint64_t requests = 0;
    std::uint64_t throttled = 0;
};

// A segment being fetched here. `dropped` says why it was stopped before its end by someone
// else than the fetch itself: its lease is another worker's now, or its tenant was refused.
struct active_fetch {
    enum class drop { no, lease_lost, tenant_refused };
    pg::work_item item;
    std::shared_ptr<job_stream> stream;
    drop dropped = drop::no;
};

// One tenant's client, and its part of the tenant's --max-rate.
struct tenant_client {
    std::unique_ptr<client> api;
    std::vector<organization_id> organizations; ///< empty: every organization its app sees
    double max_rate = 0;                        ///< for all workers together; 0 = no ceiling
    std::uint64_t sharing_with = 1;             ///< the workers max_rate is divided between now
    std::string refused;                        ///< why its credentials were refused, if they were
};

class worker_run {
public:
    worker_run(backfill_plan& plan, asio::io_context& ioc)
        : plan_(plan)
        , ioc_(ioc)
        , control_(ioc.get_executor(), params(), plan.pg->shown, hint, plan.pg->retry_for,
                   plan.level != verbosity::quiet)
        , commits_(ioc.get_executor(), params(), plan.pg->shown, hint, plan.pg->retry_for,
                   plan.level != verbosity::quiet)
        , commit_turns_(ioc.get_executor())
        , queue_(ioc.get_executor(), control_, plan.pg->schema, pg::selection_hash(plan.chosen),
                 pg::worker_name(), plan.lease, pg::default_max_failures)
        , renew_timer_(ioc) {}

    // Before any API request: the database works and holds the sink's schema.
    asio::awaitable<void> open() {
        try {
            co_await control_.session().connect(control_.params());
            co_await pg::prepare_schema(control_.session(), plan_.pg->schema, true);
            co_await pg::check_work_writable(control_.session(), plan_.pg->schema);
            if (!co_await lock_selection(control_.session()))
                throw std::runtime_error("a dynjobs run of this selection without --worker is in "
                                         "progress (schema " +
                                         plan_.pg->schema + "): wait for it, or stop it");
        } catch (const std::exception&) {
            sink::rethrow_as_open_failure(*plan_.pg);
        }
        control_.set_on_connect([this](pg::connection& c) -> asio::awaitable<void> {
            if (!co_await lock_selection(c))
                throw pg::error(pg::failure::lost, "the selection's lock is held by a dynjobs run "
                                                   "without --worker");
        });
    }

    /// A client for `tenant` ("" without --tenants), checked against the request before any
    /// is sent. Called for every tenant before plan_run(); the map is not changed after.
    void add_tenant(const std::string& tenant, client_config config,
                    std::vector<organization_id> organizations) {
        attach_fetch_log(plan_.level, config, tenant);
        auto api = std::make_unique<client>(ioc_.get_executor(), config);
        fetch_request r = plan_.request;
        r.organizations = organizations;
        diagnostics diag;
        if (auto ec = api->validate(r, diag))
            throw usage_error{(tenant.empty() ? "" : "tenant '" + tenant + "': ") +
                              in_command_terms(diag, ec)};
        auto& entry = clients_[tenant];
        entry.api = std::move(api);
        entry.organizations = std::move(organizations);
        entry.max_rate = config.rate.max_requests_per_second;
    }

    asio::awaitable<pg::work_counts> plan_run() {
        std::vector<pg::work_item> segments;
        for (const auto& [start, finish] : plan_.request.windows())
            for (const auto& [tenant, c] : clients_) {
                if (c.organizations.empty())
                    segments.push_back({tenant, "", start, finish});
                for (const auto& org : c.organizations)
                    segments.push_back({tenant, org.to_string(), start, finish});
            }
        const auto planned = co_await queue_.plan(
            pg::selection_text(plan_.chosen), plan_.request.start, plan_.request.finish, segments);
        const auto counts = co_await queue_.counts();
        say((planned.planned_now ? "planned " : "joined ") + std::to_string(counts.total) +
            " segments of " + format_iso8601(planned.start) + " .. " +
            format_iso8601(planned.finish) + " in " + pg::qualified(plan_.pg->schema, "work") +
            " (" + std::to_string(counts.done) + " done) as worker " + queue_.worker());
        co_return counts;
    }

    void start() {
        started_ = steady_clock::now();
        const auto slots = std::max<std::size_t>(2, plan_.config.rate.max_in_flight / 2);
        for (std::size_t i = 0; i < slots; ++i) {
            idle_slots_.push_back(std::make_unique<idle_slot>(ioc_));
            asio::co_spawn(ioc_, slot(*idle_slots_.back()), [this](std::exception_ptr e) {
                if (e && !failure_)
                    failure_ = e;
                if (e)
                    stop();
                if (++slots_ended_ == idle_slots_.size()) {
                    ended_ = true;
                    renew_timer_.cancel();
                    share_timer_.cancel();
                    lookout_timer_.cancel();
                    if (on_end_)
                        on_end_();
                }
            });
        }
        asio::co_spawn(ioc_, renew_leases(), asio::detached);
        asio::co_spawn(ioc_, look_out(), [this](std::exception_ptr e) {
            if (e && !failure_)
                failure_ = e;
            if (e)
                stop();
        });
        if (any_rate_shared())
            asio::co_spawn(ioc_, follow_the_workers(), asio::detached);
    }

    void set_on_end(std::function<void()> f) { on_end_ = std::move(f); }

    // Stops claiming and cancels the fetches in flight; their segments are given back by end().
    void stop() {
        stopping_ = true;
        for (const auto& fetch : active_)
            fetch->stream->cancel();
        wake_idle_slots();
    }

    // After every slot ended: gives back what this worker still holds when it stopped early,
    // marks the run complete when it is. The outcome for the exit status.
    asio::awaitable<run_outcome> end(bool interrupted) {
        if (interrupted || !auth_error_.empty() || failure_) {
            try {
                co_await queue_.give_back_all();
            } catch (const std::exception& e) {
                say(std::string("could not give the leases back (they expire by themselves): ") +
                    e.what());
            }
        }
        if (failure_) {
            try {
                std::rethrow_exception(failure_);
            } catch (const std::exception& e) {
                error_ = e.what();
            }
            co_return run_outcome::failed;
        }
        if (!auth_error_.empty()) {
            error_ = auth_error_;
            co_return run_outcome::auth_failed;
        }
        if (interrupted)
            co_return run_outcome::interrupted;
        counts_ = co_await queue_.counts();
        if (counts_.complete()) {
            co_await queue_.complete_run();
            co_return run_outcome::complete;
        }
        failures_ = co_await queue_.failures();
        co_return run_outcome::failed;
    }

    std::string summary(run_outcome outcome) const {
        const auto elapsed =
            std::chrono::duration_cast<std::chrono::milliseconds>(steady_clock::now() - started_);
        std::string s =
            "dynjobs: worker " + queue_.worker() + ": " + with_separators(totals_.segments) +
            " segments (" + with_separators(totals_.taken_over) + " taken over, " +
            with_separators(totals_.given_back) + " given back, " + with_separators(totals_.split) +
            " split, " + with_separators(totals_.lost) + " leases lost), " +
            with_separators(totals_.jobs) + " jobs, " + with_separators(totals_.pages) +
            " pages, " + with_separators(totals_.requests) + " requests (429s " +
            with_separators(totals_.throttled) + ") in " + seconds_text(elapsed) + "\n";
        if (outcome == run_outcome::complete)
            s += "  run complete: " + with_separators(counts_.total) + " segments done\n";
        else if (!error_.empty())
            s += "  stopped: " + error_ + "\n";
        else if (outcome == run_outcome::interrupted)
            s += "  interrupted: its segments were given back to the other workers\n";
        else
            s += "  run ended with segments not done: they failed " +
                 std::to_string(pg::default_max_failures) +
                 " times, or their tenant's credentials were refused. Fix the cause, then reset "
                 "their failures (UPDATE " +
                 pg::qualified(plan_.pg->schema, "work") +
                 " SET failures = 0 WHERE done_at IS NULL) and run a worker again:\n";
        for (const auto& [tenant, c] : clients_)
            if (!c.refused.empty())
                s += "    tenant " + tenant + ": credentials refused: " + c.refused + "\n";
        for (const auto& f : failures_)
            s += "    " + f + "\n";
        return s;
    }

private:
    static constexpr const char* hint = "every committed segment is kept: start the workers again";

    // Shared with the other workers, refused while a plain run holds it (sql.hpp run_lock_key).
    asio::awaitable<bool> lock_selection(pg::connection& c) const {
        const auto r = co_await c.query(
            "SELECT pg_catalog.pg_try_advisory_lock_shared(pg_catalog.hashtextextended($1, 0))",
            pg::params(pg::run_lock_key(plan_.pg->schema, pg::selection_hash(plan_.chosen))));
        co_return pg::holds(r.rows.at(0).at(0), "t");
    }

    pg::connect_params params() const { return {plan_.pg->uri, plan_.pg->password}; }

    void say(const std::string& line) const {
        if (plan_.level != verbosity::quiet)
            std::cerr << "dynjobs: " << line << '\n';
    }

    // A slot with nothing to claim: it sleeps until the lookout sees work or the run's end.
    struct idle_slot {
        explicit idle_slot(asio::io_context& ioc)
            : timer(ioc) {}
        asio::steady_timer timer;
        bool waiting = false;
    };

    asio::awaitable<void> slot(idle_slot& idle) {
        while (!stopping_ && !nothing_left_) {
            auto item = co_await queue_.claim();
            if (stopping_) // claimed as the stop came: it is given back with the rest
                break;
            if (item) {
                share_rate(clients_.at(item->tenant), item->live_workers);
                co_await fetch_segment(*item);
                // It may have been the run's last segment, or split into new ones.
                call_lookout();
                continue;
            }
            // Every segment left is leased by a live worker: one may die and leave its
            // segments to us, split them, or finish them. Set and waited on with no suspension
            // between, so that a wake (a cancel) never comes while the slot is not waiting.
            idle.waiting = true;
            call_lookout();
            idle.timer.expires_at(steady_clock::time_point::max());
            co_await idle.timer.async_wait(asio::as_tuple(asio::use_awaitable));
            idle.waiting = false;
        }
    }

    void wake_idle_slots() {
        for (const auto& idle : idle_slots_)
            if (idle->waiting)
                idle->timer.cancel();
    }

    void call_lookout() {
        look_again_ = true;
        lookout_timer_.cancel();
    }

    // One database poll for all the idle slots of this worker, not one per slot: a quarter of
    // the lease (at most every 250 ms), and soon after a slot goes idle or a segment ends here,
    // but never twice in 50 ms (a claim that loses a race with another worker goes idle at once
    // again). A poll every second kept the run's last workers waiting half a second on average
    // after the last commit (bench scenario 9); one per slot would be 16 queries per poll.
    asio::awaitable<void> look_out() {
        const auto poll =
            std::min<std::chrono::milliseconds>(plan_.lease / 4, std::chrono::milliseconds(250));
        constexpr std::chrono::milliseconds least_gap{50};
        auto last_look = steady_clock::now() - poll;
        while (!ended_) {
            const bool any_idle = std::any_of(idle_slots_.begin(), idle_slots_.end(),
                                              [](const auto& idle) { return idle->waiting; });
            const auto next = !any_idle     ? steady_clock::time_point::max()
                              : look_again_ ? last_look + least_gap
                                            : last_look + poll;
            if (next > steady_clock::now()) {
                lookout_timer_.expires_at(next);
                co_await lookout_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
                continue; // woken early or not: look at the slots again
            }
            look_again_ = false;
            last_look = steady_clock::now();
            const auto counts = co_await queue_.counts();
            if (counts.nothing_left())
                nothing_left_ = true;
            if (counts.nothing_left() || counts.pending > 0)
                wake_idle_slots();
        }
    }

    asio::awaitable<void> fetch_segment(const pg::work_item& item) {
        // clients_ is not changed once the run started: the entry outlives this coroutine.
        tenant_client& tenant = clients_.at(item.tenant);
        fetch_request r = plan_.request;
        r.start = item.start;
        r.finish = item.finish;
        r.window.reset();
        r.skip.clear();
        r.organizations.clear();
        if (!item.organization.empty())
            r.organizations.push_back(*organization_id::parse(item.organization));
        const auto stream = std::make_shared<job_stream>(tenant.api->fetch(r));
        const auto fetch = std::make_shared<active_fetch>(active_fetch{item, stream});
        active_.push_back(fetch);
        pg::segment_rows segment;
        std::vector<pg::work_item> pieces;
        std::int64_t said_total = 0;
        boost::system::error_code error;
        diagnostics diag;
        try {
            while (auto batch = co_await stream->next()) {
                // The first page tells the segment's size: too big, and it is cut before more
                // of it is fetched (the rest of its pages are cancelled with the stream).
                if (segment.pages == 0 && batch->total_count) {
                    said_total = *batch->total_count;
                    pieces = pg::split_windows(item, said_total, plan_.split_above);
                    if (!pieces.empty())
                        break;
                }
                segment.add(*batch, seq_);
            }
        } catch (const error_with_diagnostics& e) {
            error = e.code();
            diag = e.get_diagnostics();
        }
        if (!pieces.empty())
            stream->cancel();
        std::erase(active_, fetch);
        const auto stats = stream->stats();
        totals_.requests += stats.requests;
        totals_.throttled += stats.throttled;
        const auto failures = stream->failures();
        if (stopping_ || fetch->dropped == active_fetch::drop::tenant_refused)
            co_return;
        if (fetch->dropped == active_fetch::drop::lease_lost) {
            ++totals_.lost;
            say("segment " + describe(item) +
                ": its lease is another worker's now (renewals failed for a whole lease), so this "
                "worker stopped fetching it");
            co_return;
        }
        if (error && is_authentication_error(error)) {
            if (plan_.tenants.empty()) {
                auth_error_ = in_command_terms(diag, error);
                stop();
            } else {
                co_await refuse_tenant(item.tenant, in_command_terms(diag, error));
            }
            co_return;
        }
        if (!pieces.empty() && !error) {
            if (co_await queue_.split(item, pieces)) {
                ++totals_.split;
                say("segment " + describe(item) + " split into " + std::to_string(pieces.size()) +
                    " (its first page counts " + std::to_string(said_total) + " jobs)");
            }
            co_return;
        }
        if (error || !failures.empty()) {
            const auto why = error
                                 ? in_command_terms(diag, error)
                                 : in_command_terms(failures.front().diag, failures.front().error);
            say("segment " + describe(item) + " failed, given back: " + why);
            ++totals_.given_back;
            co_await queue_.give_back(item, why);
            co_return;
        }
        {
            // Named, not a conditional inside the co_await: GCC 12 destroys such a temporary
            // twice.
            std::optional<std::string> jobs_tenant;
            if (!plan_.tenants.empty())
                jobs_tenant = item.tenant;
            const auto turn = co_await commit_turns_.take();
            co_await commits_.run(
                [&](pg::connection& c) -> asio::awaitable<void> {
                    co_await pg::upsert_rows(c, plan_.pg->schema, std::span(&segment.rows, 1),
                                             jobs_tenant);
                    co_await queue_.mark_done(c, item, segment.jobs, segment.pages);
                },
                pg::attempt_budget(segment.jobs));
        }
        ++totals_.segments;
        totals_.taken_over += item.claims > 1;
        totals_.jobs += segment.jobs;
        totals_.pages += segment.pages;
    }

    // With --tenants, credentials refused for one tenant end that tenant only: its segments
    // are failed out for every worker (the run ends with exit 2, naming it), its fetches here
    // are stopped, and the other tenants go on. Once per tenant per worker.
    asio::awaitable<void> refuse_tenant(const std::string& name, const std::string& why) {
        auto& tenant = clients_.at(name);
        if (!tenant.refused.empty())
            co_return;
        tenant.refused = why;
        say("tenant " + name + ": credentials refused, its segments are left undone: " + why);
        for (const auto& fetch : active_)
            if (fetch->item.tenant == name) {
                fetch->dropped = active_fetch::drop::tenant_refused;
                fetch->stream->cancel();
            }
        co_await queue_.fail_tenant(name, "credentials refused: " + why);
    }

    // A tenant's --max-rate is for all workers together, not this one: the workers sending to
    // it now share it equally, each taking its part again as they come and go (seen at every
    // claim, and by follow_the_workers, so that the last workers take the whole rate at the
    // end). The adaptive rate still learns below it. Equal parts suit identical workers; a
    // worker with less to do leaves part of its share unused until the next claims rebalance.
    // True when the part changed.
    static bool share_rate(tenant_client& tenant, std::uint64_t live_workers) {
        live_workers = std::max<std::uint64_t>(1, live_workers);
        if (tenant.max_rate <= 0 || live_workers == tenant.sharing_with)
            return false;
        tenant.sharing_with = live_workers;
        tenant.api->set_max_rate(tenant.max_rate / static_cast<double>(live_workers));
        return true;
    }

    // True when any tenant's part changed.
    asio::awaitable<bool> share_rates() {
        const auto live = co_await queue_.live_workers_by_tenant();
        bool changed = false;
        for (auto& [name, tenant] : clients_) {
            const auto it = live.find(name);
            changed |= share_rate(tenant, it == live.end() ? 1 : it->second);
        }
        co_return changed;
    }

    bool any_rate_shared() const {
        return std::any_of(clients_.begin(), clients_.end(),
                           [](const auto& entry) { return entry.second.max_rate > 0; });
    }

    static std::string describe(const pg::work_item& item) {
        return (item.organization.empty() ? std::string("(all organizations)")
                                          : item.organization) +
               " " + format_iso8601(item.start) + ".." + format_iso8601(item.finish);
    }

    // Every third of the lease: a renewal lost to a slow database still leaves two more tries
    // before the lease runs out.
    asio::awaitable<void> renew_leases() {
        while (!ended_) {
            renew_timer_.expires_after(plan_.lease / 3);
            co_await renew_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
            if (ended_)
                break;
            try {
                const auto held = co_await queue_.renew();
                // A lease renewed too late (the database was away for a whole lease) may have
                // been claimed by another worker, which fetches the segment again: this copy
                // would only duplicate its requests. A fetch of a failed-out tenant's segment
                // has no lease either.
                for (const auto& fetch : active_)
                    if (fetch->dropped == active_fetch::drop::no &&
                        std::none_of(held.begin(), held.end(), [&](const pg::work_item& h) {
                            return h.tenant == fetch->item.tenant &&
                                   h.organization == fetch->item.organization &&
                                   h.start == fetch->item.start;
                        })) {
                        fetch->dropped = active_fetch::drop::lease_lost;
                        fetch->stream->cancel();
                    }
            } catch (const std::exception& e) {
                say(std::string("lease renewal failed (retrying at the next one): ") + e.what());
            }
        }
    }

    // While a rate is shared: a worker whose slots are all busy claims nothing for minutes, yet
    // must take a larger part when others run out of work (without this, bench scenario 9's 4
    // workers reached 0.80 of the limit with a 0.95 ceiling: the busy ones kept a quarter each
    // after one had finished), and a smaller one when others join. Changes come in bursts
    // (workers starting together, finishing together): every 50 ms after one, backing off to
    // 250 ms while none comes. At the start, workers that each took the whole rate for a
    // quarter of a second overran the server's burst together.
    asio::awaitable<void> follow_the_workers() {
        constexpr std::chrono::milliseconds soon{50};
        constexpr std::chrono::milliseconds settled{250};
        auto interval = soon;
        while (!ended_) {
            share_timer_.expires_after(interval);
            co_await share_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
            if (ended_)
                break;
            try {
                interval = co_await share_rates() ? soon : std::min(settled, interval * 2);
            } catch (const std::exception&) {
                // The claims and commits on the same database report it; the share waits.
            }
        }
    }

    backfill_plan& plan_;
    asio::io_context& ioc_;
    pg::transaction_runner control_;
    pg::transaction_runner commits_;
    pg::turns commit_turns_;
    pg::work_queue queue_;
    std::map<std::string, tenant_client> clients_; ///< by tenant; "" without --tenants
    asio::steady_timer renew_timer_;
    asio::steady_timer share_timer_{ioc_};
    asio::steady_timer lookout_timer_{ioc_};
    std::vector<std::unique_ptr<idle_slot>> idle_slots_;
    std::vector<std::shared_ptr<active_fetch>> active_;
    std::function<void()> on_end_;
    std::size_t slots_ended_ = 0;
    bool stopping_ = false;
    bool ended_ = false;
    bool look_again_ = false;   ///< a slot went idle or a segment ended since the lookout looked
    bool nothing_left_ = false; ///< every segment is done or failed out: the slots end
    std::exception_ptr failure_;
    std::string auth_error_;
    std::string error_;
    std::uint64_t seq_ = 0;
    worker_totals totals_;
    pg::work_counts counts_;
    std::vector<std::string> failures_;
    steady_clock::time_point started_ = steady_clock::now();
};

} // namespace

int run_worker(backfill_plan plan) {
    asio::io_context ioc(1);
    worker_run run(plan, ioc);
    run_to_end(ioc, run.open());

    std::optional<embedded_simulator> simulator;
    if (plan.embedded)
        simulator.emplace(plan);
    if (plan.tenants.empty())
        run.add_tenant("", plan.config, plan.request.organizations);
    for (const auto& tenant : plan.tenants)
        run.add_tenant(tenant.name, tenant.config, tenant.organizations);

    const auto counts = run_to_end(ioc, run.plan_run());
    if (counts.complete()) {
        run_to_end(ioc, run.end(false));
        if (plan.level != verbosity::quiet)
            std::cerr << "dynjobs: every segment of this run is done: nothing to do\n";
        return 0;
    }

    bool interrupted = false;
    asio::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&](boost::system::error_code ec, int) {
        if (ec)
            return;
        interrupted = true;
        if (plan.level != verbosity::quiet)
            std::cerr << "\ndynjobs: interrupted: stopping and giving the segments back\n";
        run.stop();
    });
    run.set_on_end([&] { signals.cancel(); });
    run.start();
    ioc.restart();
    ioc.run();

    const auto outcome = run_to_end(ioc, run.end(interrupted));
    if (plan.level != verbosity::quiet || outcome != run_outcome::complete)
        std::cerr << run.summary(outcome) << std::flush;
    return exit_status(outcome);
}

} // namespace dynjobs::cli
