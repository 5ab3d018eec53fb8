#include "sink/pg/schema.hpp"

#include "sink/pg/sql.hpp"

#include <map>

namespace dynjobs::sink::pg {
namespace asio = boost::asio;

namespace {

asio::awaitable<int> read_version(connection& c, const std::string& schema) {
    const auto exists = co_await c.query("SELECT to_regclass($1) IS NOT NULL",
                                         params(qualified(schema, "schema_version")));
    if (!holds(exists.rows.at(0).at(0), "t"))
        co_return 0;
    const auto r = co_await c.execute("SELECT coalesce(max(version), 0) FROM " +
                                      qualified(schema, "schema_version"));
    co_return static_cast<int>(as_integer(r.rows.at(0).at(0)));
}

asio::awaitable<void> migrate(connection& c, const std::string& schema) {
    co_await c.execute("BEGIN");
    // The lock before any DDL: two first runs creating the schema together would otherwise both
    // try, and one fail on the catalog's unique key (23505).
    co_await c.query("SELECT pg_advisory_xact_lock(hashtext($1))",
                     params("dynjobs schema " + schema));
    // CREATE SCHEMA IF NOT EXISTS needs CREATE on the database even when the schema exists: a
    // schema a DBA created for a role without it would be refused.
    const auto exists = co_await c.query(
        "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1)", params(schema));
    if (!holds(exists.rows.at(0).at(0), "t"))
        co_await c.execute("CREATE SCHEMA \"" + schema + "\"");
    co_await c.execute(bootstrap_sql(schema));
    // Another run may have migrated while this one waited for the lock.
    const int version = co_await read_version(c, schema);
    if (version < schema_version)
        co_await c.execute(migration_sql(schema, version));
    co_await c.execute("COMMIT");
}

asio::awaitable<void> check_shape(connection& c, const std::string& schema) {
    const auto table = qualified(schema, "jobs");
    const auto r = co_await c.query("SELECT column_name, data_type FROM information_schema.columns "
                                    "WHERE table_schema = $1 AND table_name = 'jobs'",
                                    params(schema));
    std::map<std::string, std::string> found;
    for (const auto& row : r.rows)
        found.emplace(row.at(0).value_or(""), row.at(1).value_or(""));
    std::vector<column> expected = job_columns();
    expected.insert(expected.end(), tracking_columns().begin(), tracking_columns().end());
    for (const auto& col : expected) {
        const auto it = found.find(std::string(col.name));
        if (it == found.end())
            throw schema_error("the table " + table + " has no column " + std::string(col.name) +
                               ": it is not dynjobs' jobs table (use another --pg-schema)");
        if (it->second != col.type)
            throw schema_error("the column " + table + "." + std::string(col.name) + " is " +
                               it->second + ", expected " + std::string(col.type) +
                               ": it is not dynjobs' jobs table (use another --pg-schema)");
    }
    // ON CONFLICT (job_id) needs job_id to be the key.
    const auto key = co_await c.query(
        "SELECT string_agg(a.attname, ',') FROM pg_index i JOIN pg_attribute a ON a.attrelid = "
        "i.indrelid AND a.attnum = ANY(i.indkey) WHERE i.indrelid = to_regclass($1) AND "
        "i.indisprimary",
        params(table));
    if (!holds(key.rows.at(0).at(0), "job_id"))
        throw schema_error("the table " + table +
                           " does not have job_id as its primary key: it is not dynjobs' jobs "
                           "table (use another --pg-schema)");
}

struct need {
    std::string table;
    std::string privileges;
};

// Each privilege on its own: has_table_privilege(t, 'INSERT, UPDATE') is true when ANY of them
// is held.
asio::awaitable<void> require_privileges(connection& c, const std::string& schema,
                                         const std::string& user,
                                         const std::vector<need>& needs) {
    for (const auto& [table, privileges] : needs) {
        const auto name = qualified(schema, table);
        const auto missing = co_await c.query(
            "SELECT string_agg(p, ', ' ORDER BY o) FROM unnest(string_to_array($2, ', ')) WITH "
            "ORDINALITY AS x(p, o) WHERE NOT has_table_privilege($1, p)",
            params(name, privileges));
        if (const auto& lacking = missing.rows.at(0).at(0))
            throw schema_error("the role " + user + " may not " + *lacking + " on " + name +
                               ": grant it " + privileges);
    }
}

asio::awaitable<void> check_writable(connection& c, const std::string& schema) {
    const auto r = co_await c.query(
        "SELECT current_user, current_setting('transaction_read_only'), "
        "has_schema_privilege($1, 'USAGE'), has_database_privilege(current_database(), "
        "'TEMPORARY')",
        params(schema));
    const auto& row = r.rows.at(0);
    const auto user = row.at(0).value_or("");
    if (holds(row.at(1), "on"))
        throw schema_error("the role " + user +
                           " is read-only here (transaction_read_only is on): give a role that "
                           "may write");
    if (!holds(row.at(2), "t"))
        throw schema_error("the role " + user + " may not use the schema " + schema +
                           ": grant it USAGE on the schema");
    if (!holds(row.at(3), "t"))
        throw schema_error("the role " + user +
                           " may not create temporary tables (the sink stages jobs in one): "
                           "grant it TEMPORARY on the database");
    // What the sink does: reads runs and segments at start, upserts jobs (ON CONFLICT ...
    // WHERE reads the row), upserts runs and segments, deletes a finished run's segments.
    const std::vector<need> needs{{"jobs", "SELECT, INSERT, UPDATE"},
                                  {"runs", "SELECT, INSERT, UPDATE"},
                                  {"segments", "SELECT, INSERT, UPDATE, DELETE"}};
    co_await require_privileges(c, schema, user, needs);
}

} // namespace

asio::awaitable<void> prepare_schema(connection& c, std::string schema, bool for_writing) {
    try {
        const int version = co_await read_version(c, schema);
        if (version > schema_version)
            throw schema_error("the schema " + schema + " is at version " +
                               std::to_string(version) + ", newer than this dynjobs knows (" +
                               std::to_string(schema_version) + "): use a newer dynjobs");
        // A jobs table that is not ours is named as such before any DDL trips over it.
        const auto jobs = co_await c.query("SELECT to_regclass($1) IS NOT NULL",
                                           params(qualified(schema, "jobs")));
        if (holds(jobs.rows.at(0).at(0), "t"))
            co_await check_shape(c, schema);
        if (version < schema_version)
            co_await migrate(c, schema);
        co_await check_shape(c, schema);
        if (for_writing)
            co_await check_writable(c, schema);
    } catch (const error& e) {
        // What the server refused in terms of the operator's next step.
        if (e.sqlstate == "25006")
            throw schema_error("the session is read-only (default_transaction_read_only, or a "
                               "standby), so the schema " +
                               schema +
                               " cannot be created or migrated: give a role that may write");
        if (e.sqlstate == "42501")
            throw schema_error(std::string(e.what()) +
                               ": the role may not create or use the schema " + schema +
                               "; grant it, or give a role that may write");
        throw;
    }
}

asio::awaitable<void> check_work_writable(connection& c, std::string schema) {
    const auto r = co_await c.execute("SELECT current_user");
    // Claims and renewals update rows, a split deletes one and inserts its pieces.
    const std::vector<need> needs{{"work", "SELECT, INSERT, UPDATE, DELETE"}};
    co_await require_privileges(c, schema, r.rows.at(0).at(0).value_or(""), needs);
}

asio::awaitable<schema_status> read_status(connection& c, std::string schema, int max_failures) {
    schema_status out;
    out.version = co_await read_version(c, schema);
    if (out.version == 0)
        co_return out;
    const auto by_status =
        co_await c.execute("SELECT status, count(*) FROM " + qualified(schema, "jobs") +
                           " GROUP BY status ORDER BY status");
    for (const auto& row : by_status.rows)
        out.jobs_by_status.emplace_back(static_cast<std::int32_t>(as_integer(row.at(0))),
                                        static_cast<std::uint64_t>(as_integer(row.at(1))));
    const auto runs = co_await c.execute(
        "SELECT r.selection_hash, to_char(r.range_start AT TIME ZONE 'UTC', "
        "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') || ' .. ' || to_char(r.range_finish AT TIME ZONE "
        "'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), to_char(r.completed_at AT TIME ZONE 'UTC', "
        "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), count(s.window_start), coalesce(sum(s.jobs), 0) "
        "FROM " +
        qualified(schema, "runs") + " r LEFT JOIN " + qualified(schema, "segments") +
        " s USING (selection_hash) GROUP BY r.selection_hash ORDER BY r.started_at");
    for (const auto& row : runs.rows)
        out.runs.push_back({row.at(0).value_or(""), row.at(1).value_or(""), row.at(2).value_or(""),
                            static_cast<std::uint64_t>(as_integer(row.at(3))),
                            static_cast<std::uint64_t>(as_integer(row.at(4))), std::nullopt});
    if (out.version < 2)
        co_return out; // no sync_state yet: an older dynjobs made it, and only reading is asked
    const auto syncs = co_await c.execute(
        "SELECT selection_hash, to_char(high_water_mark AT TIME ZONE 'UTC', "
        "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), to_char(updated_at AT TIME ZONE 'UTC', "
        "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM " +
        qualified(schema, "sync_state") + " ORDER BY updated_at");
    for (const auto& row : syncs.rows)
        out.syncs.push_back(
            {row.at(0).value_or(""), row.at(1).value_or(""), row.at(2).value_or("")});
    if (out.version < 3)
        co_return out;
    const auto number = [](const row& r, std::size_t i) {
        return static_cast<std::uint64_t>(as_integer(r.at(i)));
    };
    // Version 4 on: a segment is a tenant's ('' without --tenants).
    const bool tenants = out.version >= 4;
    const auto work = co_await c.query(
        std::string("SELECT selection_hash, ") + (tenants ? "tenant" : "''") +
            ", count(*), count(done_at), count(*) FILTER (WHERE done_at IS NULL AND failures < "
            "$1::integer AND lease_expires >= now()), count(*) FILTER (WHERE done_at IS NULL AND "
            "failures < $1::integer AND (lease_expires IS NULL OR lease_expires < now())), "
            "count(*) FILTER (WHERE done_at IS NULL AND failures >= $1::integer), "
            "coalesce(sum(greatest(claims - 1, 0)), 0), coalesce(sum(failures), 0) FROM " +
            qualified(schema, "work") + " GROUP BY 1, 2 ORDER BY 1, 2",
        params(std::to_string(max_failures)));
    std::map<std::string, schema_status::run::work_summary> by_run;
    for (const auto& row : work.rows) {
        auto& w = by_run[row.at(0).value_or("")];
        const schema_status::run::segment_counts counts{
            number(row, 2), number(row, 3), number(row, 4), number(row, 5), number(row, 6)};
        w.total += counts.total;
        w.done += counts.done;
        w.leased += counts.leased;
        w.pending += counts.pending;
        w.failed += counts.failed;
        w.reclaims += number(row, 7);
        w.failures += number(row, 8);
        if (const auto tenant = row.at(1).value_or(""); !tenant.empty())
            w.tenants.emplace_back(tenant, counts);
    }
    const auto workers = co_await c.execute(
        "SELECT w.selection_hash, w.done_by, count(*), coalesce(sum(s.jobs), 0), "
        "coalesce(sum(s.pages), 0), coalesce(extract(epoch FROM max(w.done_at) - "
        "min(w.first_claimed_at)), 0)::text FROM " +
        qualified(schema, "work") + " w JOIN " + qualified(schema, "segments") + " s USING " +
        (tenants ? "(selection_hash, tenant, organization_id, window_start)"
                 : "(selection_hash, organization_id, window_start)") +
        " WHERE w.done_at IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2");
    for (const auto& row : workers.rows)
        by_run[row.at(0).value_or("")].workers.push_back({row.at(1).value_or(""), number(row, 2),
                                                          number(row, 3), number(row, 4),
                                                          std::stod(row.at(5).value_or("0"))});
    for (auto& r : out.runs)
        if (const auto it = by_run.find(r.selection_hash); it != by_run.end())
            r.work = std::move(it->second);
    co_return out;
}

} // namespace dynjobs::sink::pg
