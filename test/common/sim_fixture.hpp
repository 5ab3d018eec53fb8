// sim_fixture.hpp - a simulator running on background threads for the duration of a test.
#pragma once

#include "test_client.hpp"

#include <dynjobs/sim/simulator.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace dynjobs::testkit {

/// A small, fast configuration: 2,000 jobs over 5 organizations (generated in milliseconds).
sim::sim_config small_sim_config();

/// Starts a simulator in the constructor (throws std::runtime_error if it cannot start) on an
/// io_context run by `threads` background threads; the destructor stops it and joins them.
class sim_fixture {
public:
    explicit sim_fixture(sim::sim_config config = small_sim_config(), int threads = 2);
    ~sim_fixture();
    sim_fixture(const sim_fixture&) = delete;
    sim_fixture& operator=(const sim_fixture&) = delete;

    sim::simulator& sim() { return *sim_; }
    const sim::simulator& sim() const { return *sim_; }

    /// A client for the HTTPS port that trusts the simulator's CA.
    test_client https_client(client_options overrides = {}) const;
    /// A client for the plain HTTP port.
    test_client http_client() const;

    /// A token for client `id` / `secret` (the default client when omitted); throws on failure.
    std::string token(std::string_view id = sim::default_client_id,
                      std::string_view secret = sim::default_client_secret);

private:
    boost::asio::io_context ioc_;
    std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
    std::optional<sim::simulator> sim_;
    std::vector<std::thread> threads_;
};

/// Form body of a client-secret token request with the right scope.
std::string secret_grant_form(std::string_view id, std::string_view secret,
                              std::string_view scope = "dynamics.readwrite.all");

/// A GET /dynamicsbackup/jobs target for the whole dataset window of small_sim_config().
std::string jobs_target(std::string_view extra_query = "type=0", std::int64_t page_index = 1,
                        std::int64_t page_size = 100);

} // namespace dynjobs::testkit
