// A program that embeds dynjobs the way a service does: it runs its own Asio code next to the
// library's, written against Asio's deprecated interfaces (io_service, io_service::work), which
// BOOST_ASIO_NO_DEPRECATED would remove. It fetches every job of one month from a simulator
// started in process and checks the result against the simulator's own data; then it catches,
// by type, the error_with_diagnostics the library throws for a refused request and compares its
// code with dynjobs::errc (with a shared libdynjobs, the exception and the error category cross
// the library's boundary). Built twice by ctest: against the installed static package
// (install_consumer), and with FetchContent and BUILD_SHARED_LIBS (fetchcontent_shared_consumer).
#include <dynjobs/client.hpp>
#include <dynjobs/error.hpp>
#include <dynjobs/error_with_diagnostics.hpp>
#include <dynjobs/sim/simulator.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_service.hpp>

#include <filesystem>
#include <iostream>
#include <optional>
#include <set>
#include <string>

namespace asio = boost::asio;

int main() try {
    asio::io_service io;
    // The application keeps its io_service alive with the deprecated work object and ends it
    // when the fetch is over.
    std::optional<asio::io_service::work> keep_running(std::in_place, io);

    dynjobs::sim::sim_config sim_config;
    sim_config.dataset.jobs = 2'000;
    sim_config.cert_dir = std::filesystem::temp_directory_path() / "dynjobs-consumer-sim";
    dynjobs::sim::simulator sim(io.get_executor(), sim_config);
    dynjobs::diagnostics diag;
    if (sim.start(diag)) {
        std::cerr << "simulator: " << diag.message << '\n';
        return 1;
    }

    dynjobs::client_config config;
    config.base_url = sim.base_url();
    config.tls.ca_file = sim.ca_file().string();
    config.creds =
        dynjobs::client_secret_credentials{std::string(dynjobs::sim::default_client_id),
                                           std::string(dynjobs::sim::default_client_secret)};
    dynjobs::client client(io.get_executor(), config);

    dynjobs::fetch_request request;
    request.start = *dynjobs::parse_iso8601("2025-06-01T00:00:00Z");
    request.finish = *dynjobs::parse_iso8601("2025-07-01T00:00:00Z");
    dynjobs::fetch_request refused_request = request;
    refused_request.organizations = {dynjobs::organization_id::from_wire("not-a-guid")};

    std::set<std::string> fetched;
    std::optional<dynjobs::error_with_diagnostics> refusal;
    std::exception_ptr failure;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            auto stream = client.fetch(request);
            while (auto batch = co_await stream.next())
                for (const dynjobs::job& job : batch->jobs)
                    fetched.insert(job.job_id);
            try {
                co_await client.fetch(refused_request).next();
            } catch (const dynjobs::error_with_diagnostics& e) {
                refusal = e;
            }
        },
        [&](std::exception_ptr e) {
            failure = e;
            sim.stop();
            keep_running.reset();
        });
    io.run();
    if (failure)
        std::rethrow_exception(failure);

    std::set<std::string> expected;
    for (const dynjobs::job& job :
         sim.select(dynjobs::sim::filter{dynjobs::job_type::all, request.start, request.finish}))
        expected.insert(job.job_id);
    std::cout << fetched.size() << " jobs fetched, " << expected.size() << " expected\n";
    if (expected.empty() || fetched != expected)
        return 1;
    if (!refusal || refusal->code() != dynjobs::errc::invalid_argument ||
        refusal->get_diagnostics().field != "organizations[0]") {
        std::cerr << "the refused request did not throw error_with_diagnostics(invalid_argument, "
                     "organizations[0])\n";
        return 1;
    }
    std::cout << "refused: " << refusal->what() << '\n';
    return 0;
} catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << '\n';
    return 1;
}
