#include "pg_fixture.hpp"

#include <dynjobs/fetch_request.hpp>

#include <boost/test/unit_test.hpp>

#include <fstream>

namespace dynjobs::e2e {

using testkit::pg_cluster;

// Stopped and removed when the test binary exits.
pg_cluster& cluster() {
    static pg_cluster instance;
    return instance;
}

std::map<std::string, std::string> env_with_password() {
    auto env = sim_process::secret_env();
    env["PGPASSWORD"] = pg_cluster::writer_password;
    return env;
}

// The jobs table as the API's JSON objects, read back through the page decoder.
std::vector<job> read_jobs(const std::string& schema, const scratch_dir& dir) {
    const auto ts = [](const std::string& column) {
        return "to_char(" + column + " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')";
    };
    const auto text = cluster().sql(
        "SELECT json_build_object('module', module, 'type', type, 'jobId', job_id, 'startTime', " +
        ts("start_time") + ", 'finishTime', " + ts("finish_time") +
        ", 'durationHours', duration_hours, 'status', status, 'successfulEntity', "
        "successful_entity, 'failedEntity', failed_entity, 'skippedEntity', skipped_entity, "
        "'warningEntity', warning_entity, 'totalEntity', total_entity, 'successfulRecord', "
        "successful_record, 'failedRecord', failed_record, 'skippedRecord', skipped_record, "
        "'warningRecord', warning_record, 'totalRecord', total_record, 'backupSize', "
        "backup_size, 'organizationId', organization_id, 'organizationName', "
        "organization_name)::text FROM " +
        schema + ".jobs");
    const auto path = dir.path() / (schema + ".jsonl");
    std::ofstream(path, std::ios::binary) << text;
    return read_jsonl(path);
}

std::string scalar(const std::string& sql) {
    auto out = cluster().sql(sql);
    while (!out.empty() && out.back() == '\n')
        out.pop_back();
    return out;
}

std::size_t windows_of(std::chrono::days window) {
    fetch_request r;
    r.start = range_start();
    r.finish = range_finish();
    r.window = std::chrono::duration_cast<std::chrono::milliseconds>(window);
    return r.windows().size();
}

void wait_for_no_dynjobs_backend() {
    wait_until([] {
        return scalar("SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                      "'dynjobs'") == "0";
    });
}

void require_whole_segments(const std::string& schema, const tenant_organizations& tenants) {
    wait_for_no_dynjobs_backend();
    // With tenants, a segment's jobs are those of its tenant's organizations.
    std::string owners = "SELECT NULL::text AS tenant, NULL::text AS org WHERE false";
    for (const auto& [tenant, orgs] : tenants)
        for (const auto& org : orgs)
            owners += " UNION ALL SELECT '" + tenant + "', '" + org + "'";
    const std::string of_its_tenant =
        tenants.empty() ? ""
                        : " AND j.organization_id::text IN (SELECT org FROM owners o WHERE "
                          "o.tenant = s.tenant)";
    BOOST_TEST(scalar("WITH owners AS (" + owners +
                      ") SELECT (SELECT coalesce(sum(jobs), 0) FROM " + schema +
                      ".segments) = (SELECT count(*) FROM " + schema +
                      ".jobs), (SELECT count(*) FROM " + schema +
                      ".segments s WHERE s.jobs <> (SELECT count(*) FROM " + schema +
                      ".jobs j WHERE j.start_time >= s.window_start AND j.start_time < "
                      "s.window_finish" +
                      of_its_tenant + "))") == "t|0");
}

void require_whole_segments_after_a_kill(const std::string& schema) {
    wait_for_no_dynjobs_backend();
    if (scalar("SELECT to_regclass('" + schema + ".segments') IS NULL OR to_regclass('" + schema +
               ".jobs') IS NULL") == "t") {
        BOOST_TEST_MESSAGE(schema << " has no tables yet");
        return;
    }
    require_whole_segments(schema);
}

std::vector<std::string> backfill_args(const sim_process& sim, const std::string& schema,
                                       std::vector<std::string> extra) {
    std::vector<std::string> args{"backfill", "--output", cluster().uri(), "--pg-schema", schema};
    args.insert(args.end(), extra.begin(), extra.end());
    return against(sim, std::move(args));
}

sim_options slow_sim(int latency_ms) {
    return {.organizations = 4,
            .jobs = 8'000,
            .seed = 21,
            .extra = {"--latency-ms", std::to_string(latency_ms)}};
}

server_back_up::~server_back_up() {
    try {
        cluster().start();
    } catch (const std::exception& e) {
        BOOST_TEST_MESSAGE("cannot start the test cluster again: " << e.what());
    }
}

} // namespace dynjobs::e2e
