// example_endpoint.hpp - where the examples fetch from: the real API when DYNJOBS_BASE_URL (or
// DYNJOBS_REGION), DYNJOBS_CLIENT_ID and DYNJOBS_CLIENT_SECRET are set, otherwise a simulator
// started in process on the same executor (with 100,000 jobs), so the examples run anywhere.
#pragma once

#include <dynjobs/client_config.hpp>
#include <dynjobs/sim/simulator.hpp>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <unistd.h>

class example_endpoint {
public:
    explicit example_endpoint(boost::asio::any_io_executor executor) {
        const char* base_url = env("DYNJOBS_BASE_URL");
        const char* region = env("DYNJOBS_REGION");
        const char* id = env("DYNJOBS_CLIENT_ID");
        const char* secret = env("DYNJOBS_CLIENT_SECRET");
        if ((base_url || region) && id && secret) {
            config_.base_url = base_url ? base_url : "";
            config_.region = region ? region : "";
            config_.creds = dynjobs::client_secret_credentials{id, secret};
            return;
        }
        dynjobs::sim::sim_config sim_config;
        // A folder per process: the simulator writes a fresh CA there, and examples run side by
        // side (ctest -j) must not trust each other's.
        sim_config.cert_dir = std::filesystem::temp_directory_path() /
                              ("dynjobs-example-sim-" + std::to_string(::getpid()));
        sim_.emplace(std::move(executor), std::move(sim_config));
        dynjobs::diagnostics diag;
        if (sim_->start(diag))
            throw std::runtime_error("simulator: " + diag.message);
        config_.base_url = sim_->base_url();
        config_.tls.ca_file = sim_->ca_file().string();
        config_.creds =
            dynjobs::client_secret_credentials{std::string(dynjobs::sim::default_client_id),
                                               std::string(dynjobs::sim::default_client_secret)};
    }

    const dynjobs::client_config& config() const { return config_; }
    /// Up to `n` organizations of the simulator (none for the real API: name them instead).
    std::vector<dynjobs::organization_id> simulated_organizations(std::size_t n) const {
        std::vector<dynjobs::organization_id> ids;
        if (sim_)
            for (const auto& org : sim_->organizations())
                if (ids.size() < n)
                    ids.push_back(org.id);
        return ids;
    }
    /// Stops the in-process simulator, if any, so that the io_context can run out of work.
    void stop() {
        if (sim_)
            sim_->stop();
    }

private:
    // An empty variable counts as unset.
    static const char* env(const char* name) {
        const char* value = std::getenv(name);
        return value && *value ? value : nullptr;
    }

    dynjobs::client_config config_;
    std::optional<dynjobs::sim::simulator> sim_;
};
