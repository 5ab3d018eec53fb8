#include "sink/pg/work_queue.hpp"

#include "sink/pg/sql.hpp"

#include <array>
#include <random>
#include <unistd.h>

namespace dynjobs::sink::pg {
namespace asio = boost::asio;

namespace {

// Parameters per statement are limited to 65,535: five per work row.
constexpr std::size_t rows_per_statement = 1'000;

} // namespace

work_queue::work_queue(asio::any_io_executor ex, transaction_runner& control, std::string schema,
                       std::string selection_hash, std::string worker,
                       std::chrono::milliseconds lease, int max_failures)
    : control_(control)
    , control_turns_(std::move(ex))
    , schema_(std::move(schema))
    , hash_(std::move(selection_hash))
    , worker_(std::move(worker))
    , lease_seconds_(std::to_string(static_cast<double>(lease.count()) / 1000.0))
    , max_failures_(std::to_string(max_failures)) {}

asio::awaitable<void> work_queue::in_turn(transaction_runner::statements_fn statements) {
    const auto turn = co_await control_turns_.take();
    co_await control_.run(std::move(statements));
}

std::string work_queue::table(std::string_view name) const {
    return qualified(schema_, name);
}

asio::awaitable<planned_run> work_queue::plan(const std::string& selection_text, timestamp start,
                                              timestamp finish,
                                              const std::vector<work_item>& segments) {
    planned_run out;
    co_await in_turn([&](connection& c) -> asio::awaitable<void> {
        out = planned_run{};
        co_await c.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
                         params("dynjobs plan " + schema_ + " " + hash_));
        const auto run = co_await c.query(
            "SELECT (extract(epoch FROM range_start) * 1000)::bigint, (extract(epoch FROM "
            "range_finish) * 1000)::bigint, completed_at IS NOT NULL, EXISTS (SELECT 1 FROM " +
                table("work") + " WHERE selection_hash = $1) FROM " + table("runs") +
                " WHERE selection_hash = $1",
            params(hash_));
        if (!run.rows.empty() && holds(run.rows[0].at(3), "t")) {
            // Planned by the first worker: its range is the run's, whatever "now" this one has.
            out.start = from_millis(as_integer(run.rows[0].at(0)));
            out.finish = from_millis(as_integer(run.rows[0].at(1)));
            co_return;
        }
        out.planned_now = true;
        out.start = start;
        out.finish = finish;
        // A run without workers may have completed segments of this very range: they count as
        // done. One that completed entirely is fetched again, as a plain rerun would.
        const bool keep_segments = !run.rows.empty() && !holds(run.rows[0].at(2), "t") &&
                                   from_millis(as_integer(run.rows[0].at(0))) == start &&
                                   from_millis(as_integer(run.rows[0].at(1))) == finish;
        if (!keep_segments)
            co_await c.query("DELETE FROM " + table("segments") + " WHERE selection_hash = $1",
                             params(hash_));
        co_await c.query(
            start_run_sql(schema_),
            params(hash_, selection_text, format_iso8601(start), format_iso8601(finish)));
        co_await insert_work(c, segments);
        if (keep_segments)
            co_await c.query("UPDATE " + table("work") +
                                 " w SET done_at = s.completed_at, done_by = 'earlier run' FROM " +
                                 table("segments") +
                                 " s WHERE w.selection_hash = $1 AND s.selection_hash = $1 AND "
                                 "s.tenant = w.tenant AND s.organization_id = w.organization_id "
                                 "AND s.window_start = w.window_start AND s.window_finish = "
                                 "w.window_finish",
                             params(hash_));
    });
    co_return out;
}

asio::awaitable<void> work_queue::insert_work(connection& c,
                                              const std::vector<work_item>& segments) const {
    for (std::size_t first = 0; first < segments.size(); first += rows_per_statement) {
        const auto n = std::min(rows_per_statement, segments.size() - first);
        std::string sql = "INSERT INTO " + table("work") +
                          " (selection_hash, tenant, organization_id, window_start, "
                          "window_finish) VALUES ";
        std::vector<std::string> values;
        values.reserve(n * 5);
        for (std::size_t i = 0; i < n; ++i) {
            const auto& s = segments[first + i];
            const auto p = [&](std::size_t k) { return "$" + std::to_string(i * 5 + k); };
            sql += (i ? ", (" : "(") + p(1) + ", " + p(2) + ", " + p(3) + ", " + p(4) + ", " +
                   p(5) + ")";
            values.push_back(hash_);
            values.push_back(s.tenant);
            values.push_back(s.organization);
            values.push_back(format_iso8601(s.start));
            values.push_back(format_iso8601(s.finish));
        }
        co_await c.query(std::move(sql), std::move(values));
    }
}

asio::awaitable<bool> work_queue::split(const work_item& item,
                                        const std::vector<work_item>& pieces) {
    bool split_now = false;
    co_await in_turn([&](connection& c) -> asio::awaitable<void> {
        // Only while the lease is this worker's: a segment taken over is the other's to split.
        const auto gone = co_await c.query(
            "DELETE FROM " + table("work") +
                " WHERE selection_hash = $1 AND tenant = $5 AND organization_id = $2 AND "
                "window_start = $3 AND leased_by = $4 AND lease_expires >= now() AND done_at IS "
                "NULL RETURNING 1",
            params(hash_, item.organization, format_iso8601(item.start), worker_, item.tenant));
        split_now = !gone.rows.empty();
        if (split_now)
            co_await insert_work(c, pieces);
    });
    co_return split_now;
}

asio::awaitable<std::optional<work_item>> work_queue::claim() {
    std::optional<work_item> out;
    co_await in_turn([&](connection& c) -> asio::awaitable<void> {
        // The oldest window first: a run that is stopped early has a contiguous history.
        const auto r = co_await c.query(
            "UPDATE " + table("work") +
                " w SET leased_by = $2, lease_expires = now() + make_interval(secs => "
                "$3::double precision), claims = w.claims + 1, first_claimed_at = "
                "coalesce(w.first_claimed_at, now()) FROM (SELECT tenant, organization_id, "
                "window_start FROM " +
                table("work") +
                " WHERE selection_hash = $1 AND done_at IS NULL AND failures < $4::integer AND "
                "(lease_expires IS NULL OR lease_expires < now()) ORDER BY window_start, tenant, "
                "organization_id LIMIT 1 FOR UPDATE SKIP LOCKED) c WHERE w.selection_hash = $1 "
                "AND w.tenant = c.tenant AND w.organization_id = c.organization_id AND "
                "w.window_start = c.window_start RETURNING w.organization_id, (extract(epoch FROM "
                "w.window_start) * 1000)::bigint, (extract(epoch FROM w.window_finish) * "
                "1000)::bigint, w.claims, w.tenant",
            params(hash_, worker_, lease_seconds_, max_failures_));
        out.reset();
        if (r.rows.empty())
            co_return;
        const auto& row = r.rows.front();
        out = work_item{row.at(4).value_or(""),
                        row.at(0).value_or(""),
                        from_millis(as_integer(row.at(1))),
                        from_millis(as_integer(row.at(2))),
                        static_cast<int>(as_integer(row.at(3))),
                        1};
        const auto live = co_await c.query(
            "SELECT count(DISTINCT leased_by) FROM " + table("work") +
                " WHERE selection_hash = $1 AND tenant = $2 AND lease_expires >= now()",
            params(hash_, out->tenant));
        out->live_workers = std::max<std::uint64_t>(
            1, static_cast<std::uint64_t>(as_integer(live.rows.at(0).at(0))));
    });
    co_return out;
}

asio::awaitable<std::vector<work_item>> work_queue::renew() {
    std::vector<work_item> held;
    co_await in_turn([&](connection& c) -> asio::awaitable<void> {
        held.clear();
        const auto r = co_await c.query(
            "UPDATE " + table("work") +
                " SET lease_expires = now() + make_interval(secs => $3::double precision) WHERE "
                "selection_hash = $1 AND leased_by = $2 AND done_at IS NULL RETURNING tenant, "
                "organization_id, (extract(epoch FROM window_start) * 1000)::bigint",
            params(hash_, worker_, lease_seconds_));
        for (const auto& row : r.rows) {
            work_item item;
            item.tenant = row.at(0).value_or("");
            item.organization = row.at(1).value_or("");
            item.start = from_millis(as_integer(row.at(2)));
            held.push_back(std::move(item));
        }
    });
    co_return held;
}

asio::awaitable<void> work_queue::give_back(const work_item& item, const std::string& error) {
    co_await in_turn([&](connection& c) -> asio::awaitable<void> {
        co_await c.query(
            "UPDATE " + table("work") +
                " SET failures = failures + 1, last_error = $5, leased_by = NULL, "
                "lease_expires = NULL WHERE selection_hash = $1 AND leased_by = $2 AND tenant = $6 "
                "AND organization_id = $3 AND window_start = $4 AND done_at IS NULL",
            params(hash_, worker_, item.organization, format_iso8601(item.start), error,
                   item.tenant));
    });
}

asio::awaitable<void> work_queue::give_back_all() {
    co_await in_turn([&](connection& c) -> asio::awaitable<void> {
        co_await c.query("UPDATE " + table("work") +
                             " SET leased_by = NULL, lease_expires = NULL WHERE selection_hash = "
                             "$1 AND leased_by = $2 AND done_at IS NULL",
                         params(hash_, worker_));
    });
}

asio::awaitable<work_counts> work_queue::counts() {
    work_counts out;
    co_await in_turn([&](connection& c) -> asio::awaitable<void> {
        const auto r = co_await c.query(
            "SELECT count(*), count(done_at), count(*) FILTER (WHERE done_at IS NULL AND "
            "failures < $2::integer AND lease_expires >= now()), count(*) FILTER (WHERE done_at "
            "IS NULL AND failures < $2::integer AND (lease_expires IS NULL OR lease_expires < "
            "now())), count(*) FILTER (WHERE done_at IS NULL AND failures >= $2::integer) FROM " +
                table("work") + " WHERE selection_hash = $1",
            params(hash_, max_failures_));
        const auto& row = r.rows.at(0);
        const auto n = [&](std::size_t i) {
            return static_cast<std::uint64_t>(as_integer(row.at(i)));
        };
        out = work_counts{n(0), n(1), n(2), n(3), n(4)};
    });
    co_return out;
}

asio::awaitable<std::vector<std::string>> work_queue::failures() {
    std::vector<std::string> out;
    co_await in_turn([&](connection& c) -> asio::awaitable<void> {
        out.clear();
        // Segments that failed alike are one line: a failed tenant's hundreds of segments, or a
        // window the API refuses for every organization.
        const auto r = co_await c.query(
            "SELECT tenant, min(organization_id), (extract(epoch FROM min(window_start)) * "
            "1000)::bigint, (extract(epoch FROM max(window_finish)) * 1000)::bigint, "
            "max(failures), last_error, count(*) FROM " +
                table("work") +
                " WHERE selection_hash = $1 AND done_at IS NULL AND failures >= $2::integer "
                "GROUP BY tenant, last_error ORDER BY min(window_start), tenant",
            params(hash_, max_failures_));
        for (const auto& row : r.rows) {
            const auto tenant = row.at(0).value_or("");
            const auto org = row.at(1).value_or("");
            const auto count = as_integer(row.at(6));
            const auto window = format_iso8601(from_millis(as_integer(row.at(2)))) + ".." +
                                format_iso8601(from_millis(as_integer(row.at(3))));
            std::string line = tenant.empty() ? "" : "tenant " + tenant + ", ";
            if (count == 1)
                line += "organization " + (org.empty() ? std::string("(all)") : org) + ", window " +
                        window + ", failed " + row.at(4).value_or("?") + " times: ";
            else
                line += std::to_string(count) + " segments of " + window + ": ";
            out.push_back(line + row.at(5).value_or(""));
        }
    });
    co_return out;
}

asio::awaitable<void> work_queue::fail_tenant(const std::string& tenant, const std::string& error) {
    co_await in_turn([&](connection& c) -> asio::awaitable<void> {
        co_await c.query("UPDATE " + table("work") +
                             " SET failures = greatest(failures, $3::integer), last_error = $4, "
                             "leased_by = NULL, lease_expires = NULL WHERE selection_hash = $1 "
                             "AND tenant = $2 AND done_at IS NULL",
                         params(hash_, tenant, max_failures_, error));
    });
}

asio::awaitable<std::map<std::string, std::uint64_t>> work_queue::live_workers_by_tenant() {
    std::map<std::string, std::uint64_t> out;
    co_await in_turn([&](connection& c) -> asio::awaitable<void> {
        out.clear();
        const auto r =
            co_await c.query("SELECT tenant, count(DISTINCT leased_by) FROM " + table("work") +
                                 " WHERE selection_hash = $1 AND lease_expires >= "
                                 "now() GROUP BY tenant",
                             params(hash_));
        for (const auto& row : r.rows)
            out[row.at(0).value_or("")] = static_cast<std::uint64_t>(as_integer(row.at(1)));
    });
    co_return out;
}

asio::awaitable<void> work_queue::complete_run() {
    co_await in_turn([&](connection& c) -> asio::awaitable<void> {
        co_await c.query("UPDATE " + table("runs") +
                             " SET completed_at = coalesce(completed_at, now()) WHERE "
                             "selection_hash = $1",
                         params(hash_));
    });
}

asio::awaitable<void> work_queue::mark_done(connection& conn, const work_item& item,
                                            std::uint64_t jobs, std::uint32_t pages) const {
    co_await conn.query(segments_sql(schema_, 1),
                        params(hash_, item.tenant, item.organization, format_iso8601(item.start),
                               format_iso8601(item.finish), std::to_string(jobs),
                               std::to_string(pages)));
    // Whoever holds the lease now: the jobs are in, so the segment is done (a worker that took
    // it over meanwhile finds it done at its own commit, and upserts the same rows again).
    co_await conn.query(
        "UPDATE " + table("work") +
            " SET done_at = now(), done_by = $2, leased_by = NULL, lease_expires "
            "= NULL WHERE selection_hash = $1 AND tenant = $5 AND organization_id "
            "= $3 AND window_start = $4",
        params(hash_, worker_, item.organization, format_iso8601(item.start), item.tenant));
}

std::vector<work_item> split_windows(const work_item& item, std::int64_t total,
                                     std::int64_t above) {
    using std::chrono::seconds;
    if (above <= 0 || total <= above)
        return {};
    const auto span = std::chrono::duration_cast<seconds>(item.finish - item.start);
    const auto wanted = (total + above - 1) / above;
    const auto pieces = std::min<std::int64_t>(wanted, span / std::chrono::minutes(1));
    if (pieces < 2)
        return {};
    std::vector<work_item> out;
    out.reserve(static_cast<std::size_t>(pieces));
    timestamp from = item.start;
    for (std::int64_t i = 1; i <= pieces; ++i) {
        const timestamp to = i == pieces ? item.finish : item.start + span * i / pieces;
        out.push_back(work_item{item.tenant, item.organization, from, to, 0, 1});
        from = to;
    }
    return out;
}

std::string worker_name() {
    std::array<char, 256> host{};
    if (::gethostname(host.data(), host.size() - 1) != 0)
        host[0] = '\0';
    std::random_device random;
    char suffix[9];
    std::snprintf(suffix, sizeof suffix, "%08x", static_cast<unsigned>(random()));
    return std::string(host.data()) + ":" + std::to_string(::getpid()) + ":" + suffix;
}

} // namespace dynjobs::sink::pg
