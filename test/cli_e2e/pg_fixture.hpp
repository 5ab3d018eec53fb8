// The PostgreSQL pieces the end-to-end tests share: one throwaway cluster for the whole test
// binary (started on first use, about 2 s), and the jobs table read back.
#pragma once

#include "e2e_fixture.hpp"
#include "pg_cluster.hpp"

#include <map>
#include <string>
#include <vector>

namespace dynjobs::e2e {

testkit::pg_cluster& cluster();

/// sim_process::secret_env() plus PGPASSWORD for the writer role.
std::map<std::string, std::string> env_with_password();

/// SCHEMA.jobs as jobs, read back through the page decoder (independent of the writer).
std::vector<job> read_jobs(const std::string& schema, const scratch_dir& dir);

/// One value (the first row's text) of a query run as the superuser.
std::string scalar(const std::string& sql);

/// Starts the server again at the end of a test that stopped it, whatever the test's outcome.
struct server_back_up {
    server_back_up() = default;
    ~server_back_up();
    server_back_up(const server_back_up&) = delete;
    server_back_up& operator=(const server_back_up&) = delete;
};

} // namespace dynjobs::e2e
