#include "pg_fixture.hpp"

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

server_back_up::~server_back_up() {
    try {
        cluster().start();
    } catch (const std::exception& e) {
        BOOST_TEST_MESSAGE("cannot start the test cluster again: " << e.what());
    }
}

} // namespace dynjobs::e2e
