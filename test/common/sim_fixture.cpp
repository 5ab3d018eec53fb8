// sim_fixture.cpp - see sim_fixture.hpp.
#include "sim_fixture.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <stdexcept>

namespace dynjobs::testkit {

sim::sim_config small_sim_config() {
    sim::sim_config config;
    config.dataset.jobs = 2000;
    config.dataset.organizations = 5;
    // Connections of a finished test must not linger in the simulator.
    config.idle_timeout = std::chrono::seconds(10);
    return config;
}

sim_fixture::sim_fixture(sim::sim_config config, int threads) {
    work_.emplace(ioc_.get_executor());
    sim_.emplace(ioc_.get_executor(), std::move(config));
    diagnostics diag;
    if (auto ec = sim_->start(diag))
        throw std::runtime_error("simulator did not start: " + diag.message + " (" + ec.message() +
                                 ")");
    for (int i = 0; i < threads; ++i)
        threads_.emplace_back([this] { ioc_.run(); });
}

sim_fixture::~sim_fixture() {
    sim_->stop();
    work_.reset();
    for (auto& t : threads_)
        t.join();
    sim_.reset();
}

test_client sim_fixture::https_client(client_options overrides) const {
    overrides.port = sim_->https_port();
    overrides.ca_pem = sim_->ca_pem();
    return test_client(std::move(overrides));
}

test_client sim_fixture::http_client() const {
    client_options o;
    o.port = sim_->http_port();
    return test_client(std::move(o));
}

std::string sim_fixture::token(std::string_view id, std::string_view secret) {
    auto client = https_client();
    auto res = client.post_form("/connect/token", secret_grant_form(id, secret));
    if (res.status != 200)
        throw std::runtime_error("token request failed: " + std::to_string(res.status) + " " +
                                 res.body);
    return std::string(boost::json::parse(res.body).at("access_token").as_string());
}

std::string secret_grant_form(std::string_view id, std::string_view secret,
                              std::string_view scope) {
    return form_encode({{"grant_type", "client_credentials"},
                        {"client_id", std::string(id)},
                        {"client_secret", std::string(secret)},
                        {"scope", std::string(scope)}});
}

std::string jobs_target(std::string_view extra_query, std::int64_t page_index,
                        std::int64_t page_size) {
    // The default dataset window is the two years before 2026-01-01.
    return "/dynamicsbackup/jobs?pageIndex=" + std::to_string(page_index) +
           "&pageSize=" + std::to_string(page_size) +
           "&startTime=2024-01-01T00:00:00Z&finishTime=2026-01-01T00:00:00Z&" +
           std::string(extra_query);
}

} // namespace dynjobs::testkit
