#include "cli/db_command.hpp"

#include "cli/arg_reader.hpp"
#include "cli/backfill_plan.hpp"
#include "cli/report.hpp"
#include "sink/pg/connection.hpp"
#include "sink/pg/identifier.hpp"
#include "sink/pg/schema.hpp"
#include "sink/pg/target.hpp"
#include "sink/pg/work_queue.hpp"

#include <dynjobs/job_status.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <iostream>

namespace dynjobs::cli {
namespace asio = boost::asio;

const std::string_view db_usage = R"(usage: dynjobs db init|status --output URI [options]

The PostgreSQL schema `dynjobs backfill --output postgresql://...` writes to.
  init     create or migrate the schema (a backfill does it too) and check the role may write
  status   the schema version, jobs by status, each backfill's segments done, and each
           sync's high-water mark

Options:
  --output URI           the database, a libpq URI: postgresql://USER@HOST[:PORT]/DB[?...]
                                                 e.g. --output postgresql://dynjobs@db.corp/reports
  --pg-schema NAME       the schema (default dynjobs)                e.g. --pg-schema reporting
  --pg-password-file F   the password is the first line of F (default: PGPASSWORD or
                         ~/.pgpass; never in the URI)
  --help                 this text

Exit status: 0 done; 1 bad usage, or a database that cannot be reached or used.
)";

db_options parse_db_options(std::span<const std::string_view> args) {
    db_options out;
    if (!args.empty() && !args.front().starts_with("-")) {
        out.action = std::string(args.front());
        args = args.subspan(1);
    }
    arg_reader reader(args);
    while (reader.next()) {
        const std::string_view opt = reader.option();
        if (opt == "--help" || opt == "-h") {
            reader.no_value();
            out.help = true;
        } else if (opt == "--output" || opt == "-o") {
            out.uri = std::string(reader.value());
        } else if (opt == "--pg-schema") {
            out.schema = std::string(reader.value());
            if (!sink::pg::is_plain_identifier(out.schema))
                bad_value(opt, out.schema,
                          "a schema name of lower-case letters, digits and _ (at most 63)");
        } else if (opt == "--pg-password-file") {
            out.password_file = std::string(reader.value());
        } else {
            reader.unknown();
        }
    }
    if (out.help)
        return out;
    if (out.action != "init" && out.action != "status")
        throw usage_error{out.action.empty()
                              ? "db: give init or status"
                              : "db: unknown action '" + out.action + "': expected init or status"};
    if (out.uri.empty())
        throw usage_error{"db " + out.action + ": --output postgresql://... is required"};
    if (!sink::pg::is_postgres_uri(out.uri))
        bad_value("--output", sink::pg::without_password(out.uri),
                  "a PostgreSQL URI: postgresql://USER@HOST[:PORT]/DB");
    if (auto error = sink::pg::check_uri("--output", out.uri))
        throw usage_error{*error};
    return out;
}

namespace {

// A `backfill --worker` run: where its segments stand, and what each worker did.
void print_work(const sink::pg::schema_status::run::work_summary& w) {
    std::cout << "    work: " << with_separators(w.done) << " done, " << with_separators(w.leased)
              << " leased, " << with_separators(w.pending) << " pending, "
              << with_separators(w.failed) << " failed of " << with_separators(w.total)
              << "; claimed again " << with_separators(w.reclaims)
              << " times (leases expired or given back), fetches failed "
              << with_separators(w.failures) << "\n";
    for (const auto& [tenant, t] : w.tenants)
        std::cout << "    tenant " << tenant << ": " << with_separators(t.done) << " done, "
                  << with_separators(t.leased) << " leased, " << with_separators(t.pending)
                  << " pending, " << with_separators(t.failed) << " failed of "
                  << with_separators(t.total) << "\n";
    for (const auto& k : w.workers) {
        char rate[64];
        std::snprintf(rate, sizeof rate, "%.0f jobs/s",
                      k.seconds > 0 ? static_cast<double>(k.jobs) / k.seconds : 0.0);
        std::cout << "    worker " << k.name << ": " << with_separators(k.segments) << " segments, "
                  << with_separators(k.jobs) << " jobs, " << with_separators(k.pages) << " pages, "
                  << rate << "\n";
    }
}

void print_status(const sink::pg::schema_status& s, const db_options& o, const std::string& shown) {
    if (s.version == 0) {
        std::cout << "schema " << o.schema << " in " << shown
                  << " is not initialized: run dynjobs db init (or a backfill)\n";
        return;
    }
    std::uint64_t total = 0;
    std::string by_status;
    for (const auto& [status, count] : s.jobs_by_status) {
        total += count;
        const auto name = to_string(static_cast<job_status>(status));
        by_status += (by_status.empty() ? "" : ", ") +
                     (name.empty() ? std::to_string(status) : std::string(name)) + " " +
                     with_separators(count);
    }
    std::cout << "schema " << o.schema << " in " << shown << ": version " << s.version << "\n";
    std::cout << "jobs " << with_separators(total)
              << (by_status.empty() ? "" : " (" + by_status + ")") << "\n";
    std::cout << "backfills " << s.runs.size() << "\n";
    for (const auto& r : s.runs) {
        std::cout << "  " << r.selection_hash.substr(0, 12) << "  " << r.range << "  "
                  << (r.completed_at.empty() ? "unfinished" : "complete " + r.completed_at) << ", "
                  << with_separators(r.segments) << " segments, " << with_separators(r.jobs)
                  << " jobs\n";
        if (r.work)
            print_work(*r.work);
    }
    std::cout << "syncs " << s.syncs.size() << "\n";
    for (const auto& sync : s.syncs)
        std::cout << "  " << sync.selection_hash.substr(0, 12) << "  high-water mark "
                  << sync.high_water_mark << ", updated " << sync.updated_at << "\n";
}

} // namespace

int run_db(const db_options& o) {
    const auto shown = sink::pg::without_password(o.uri);
    sink::pg::connect_params params;
    params.uri = o.uri;
    if (o.password_file)
        params.password = read_secret_file(*o.password_file, "--pg-password-file");
    asio::io_context ioc(1);
    sink::pg::connection conn(ioc.get_executor());
    std::exception_ptr failure;
    sink::pg::schema_status status;
    const bool init = o.action == "init";
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            co_await conn.connect(params);
            if (init)
                co_await sink::pg::prepare_schema(conn, o.schema, true);
            status = co_await sink::pg::read_status(conn, o.schema, sink::pg::default_max_failures);
        },
        [&](std::exception_ptr e) { failure = e; });
    ioc.run();
    if (failure) {
        try {
            std::rethrow_exception(failure);
        } catch (const std::exception& e) {
            std::cerr << "dynjobs: --output " << shown << ": " << e.what() << '\n';
            return 1;
        }
    }
    print_status(status, o, shown);
    return 0;
}

} // namespace dynjobs::cli
