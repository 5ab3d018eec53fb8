#include "cli/sim_command.hpp"

#include <dynjobs/sim/simulator.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <csignal>
#include <iostream>
#include <thread>
#include <vector>

namespace dynjobs::cli {

int run_sim(const sim_options& options) {
    boost::asio::io_context ioc(options.threads);
    sim::simulator server(ioc.get_executor(), options.config);
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
    // The simulator's own test credentials: printing them is the point (they guard nothing).
    for (const auto& c : server.config().clients)
        std::cout << "client id:  " << c.client_id << '\n'
                  << "secret:     " << c.client_secret.value_or("(certificate only)") << '\n';
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
