#include "cli/embedded_simulator.hpp"

#include "cli/report.hpp"

#include <iostream>
#include <stdexcept>
#include <unistd.h>

namespace dynjobs::cli {

embedded_simulator::embedded_simulator(backfill_plan& plan) {
    sim::sim_config config;
    config.cert_dir =
        std::filesystem::temp_directory_path() / ("dynjobs-embedded-" + std::to_string(::getpid()));
    cert_dir_ = config.cert_dir;
    sim_.emplace(ioc_.get_executor(), config);
    diagnostics diag;
    if (auto ec = sim_->start(diag))
        throw std::runtime_error("cannot start the embedded simulator: " +
                                 (diag.message.empty() ? ec.message() : diag.message));
    thread_ = std::thread([this] { ioc_.run(); });
    plan.config.base_url = sim_->base_url();
    plan.config.token_url = sim_->token_url();
    plan.config.tls.ca_file = sim_->ca_file().string();
    plan.config.creds = client_secret_credentials{std::string(sim::default_client_id),
                                                  std::string(sim::default_client_secret)};
    const auto& d = config.dataset;
    if (plan.level != verbosity::quiet)
        std::cerr << "dynjobs: no --region, --base-url or credentials: backfilling from the "
                     "embedded simulator ("
                  << d.organizations << " organizations, " << with_separators(d.jobs)
                  << " jobs from " << format_iso8601(d.begin) << " to " << format_iso8601(d.end)
                  << ", seed " << d.seed << ") at " << sim_->base_url() << '\n';
}

embedded_simulator::~embedded_simulator() {
    sim_->stop();
    work_.reset();
    ioc_.stop();
    thread_.join();
    std::error_code ec;
    std::filesystem::remove_all(cert_dir_, ec);
}

} // namespace dynjobs::cli
