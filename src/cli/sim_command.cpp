#include "cli/sim_command.hpp"
#include "cli/backfill_plan.hpp"
#include "sim/static_pages.hpp"

#include <dynjobs/sim/simulator.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <csignal>
#include <iostream>
#include <thread>
#include <vector>

namespace dynjobs::cli {

namespace {

/// --write-pages: the dataset as files for nginx, then how to serve and fetch them.
int write_pages(const sim_options& options) {
    const sim::static_pages_config& pages = *options.write_pages;
    const sim::dataset data(options.config.dataset);
    sim::static_pages_summary summary;
    diagnostics diag;
    if (auto ec = sim::write_static_pages(data, pages, summary, diag)) {
        std::cerr << "dynjobs: sim: --write-pages: "
                  << (diag.message.empty() ? ec.message() : diag.message) << '\n';
        return 1;
    }
    const std::string dir = summary.dir.string();
    std::cout << "wrote " << summary.page_files << " pages (" << summary.organization_filters
              << " organization filters: each organization and none; " << summary.windows
              << (summary.windows == 1 ? " window" : " windows") << ") into " << dir << '\n'
              << "start nginx: nginx -p " << dir << " -c " << summary.config_file.string() << " -e "
              << dir << "/error.log\n"
              << "stop it:     nginx -p " << dir << " -c " << summary.config_file.string() << " -e "
              << dir << "/error.log -s stop\n"
              << "backfill it with exactly these arguments (any secret; --org GUID may be "
                 "added):\n"
              << "DYNJOBS_CLIENT_SECRET=any dynjobs backfill";
    for (const auto& arg : sim::matching_backfill_arguments(data, pages))
        std::cout << ' ' << arg;
    std::cout << std::endl;
    return 0;
}

} // namespace

int run_sim(const sim_options& options) {
    if (options.write_pages)
        return write_pages(options);
    if (options.print_organizations) {
        // The organizations come first from the seed: generating the jobs would change nothing.
        auto organizations_only = options.config.dataset;
        organizations_only.jobs = 0;
        const sim::dataset data(organizations_only);
        for (const auto& org : data.organizations())
            std::cout << org.id.to_string() << ' ' << org.name << '\n';
        return 0;
    }
    auto config = options.config;
    if (options.client_id || options.client_secret_file)
        config.clients = {sim::registered_client{
            options.client_id.value_or(std::string(sim::default_client_id)),
            options.client_secret_file
                ? read_secret_file(*options.client_secret_file, "--client-secret-file")
                : std::string(sim::default_client_secret),
            std::nullopt,
            {}}};
    boost::asio::io_context ioc(options.threads);
    sim::simulator server(ioc.get_executor(), config);
    diagnostics diag;
    if (auto ec = server.start(diag)) {
        std::cerr << "dynjobs: sim: " << (diag.message.empty() ? ec.message() : diag.message)
                  << '\n';
        return 1;
    }
    std::cout << "base URL:   " << server.base_url() << '\n'
              << "token URL:  " << server.token_url() << '\n'
              << "CA file:    " << server.ca_file().string() << '\n';
    if (server.http_port() != 0)
        std::cout << "plain HTTP: " << server.http_base_url() << '\n';
    // The simulator's own test credentials: printing them is the point (they guard nothing),
    // unless the secret was given in a file, to be kept off the screen.
    for (const auto& c : server.config().clients)
        std::cout << "client id:  " << c.client_id << '\n'
                  << "secret:     "
                  << (options.client_secret_file
                          ? "(the first line of " + *options.client_secret_file + ")"
                          : c.client_secret.value_or("(certificate only)"))
                  << '\n';
    std::cout << "scope:      dynamics.readwrite.all\n"
              << "Ctrl-C stops." << std::endl;

    boost::asio::signal_set signals(ioc, SIGINT, SIGTERM);
    boost::asio::steady_timer grace(ioc);
    signals.async_wait([&](const boost::system::error_code& ec, int) {
        if (ec)
            return;
        server.stop();
        // stop() closes every connection through the executor; give that a moment, then end
        // the loop whatever is left (a client that never reads must not keep us alive).
        grace.expires_after(std::chrono::milliseconds(200));
        grace.async_wait([&](const boost::system::error_code&) { ioc.stop(); });
    });

    std::vector<std::thread> threads;
    for (int i = 1; i < options.threads; ++i)
        threads.emplace_back([&] { ioc.run(); });
    ioc.run();
    for (auto& t : threads)
        t.join();
    return 0;
}

} // namespace dynjobs::cli
