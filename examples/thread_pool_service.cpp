// A service that runs the client on a thread pool and fetches several organizations at once,
// each as its own fetch, counting jobs per organization while the counters are sampled live.
#include "example_endpoint.hpp"

#include <dynjobs/client.hpp>
#include <dynjobs/error_with_diagnostics.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_future.hpp>

#include <future>
#include <iostream>
#include <vector>

namespace asio = boost::asio;

// Fetches one organization's jobs of the last two years and returns how many came.
asio::awaitable<std::size_t> count_jobs(dynjobs::client& client, dynjobs::organization_id org) {
    dynjobs::fetch_request request;
    request.organizations = {org};
    request.start = *dynjobs::parse_iso8601("2024-01-01T00:00:00Z");
    request.finish = *dynjobs::parse_iso8601("2026-01-01T00:00:00Z");
    request.window = std::chrono::days{90};
    request.on_failure = dynjobs::failure_policy::go_on;
    auto stream = client.fetch(request);
    std::size_t count = 0;
    while (auto batch = co_await stream.next())
        count += batch->jobs.size();
    co_return count;
}

int main(int argc, char** argv) try {
    asio::thread_pool pool(4);
    example_endpoint endpoint(pool.get_executor());
    dynjobs::client client(pool.get_executor(), endpoint.config());

    std::vector<dynjobs::organization_id> orgs;
    for (int i = 1; i < argc; ++i)
        orgs.push_back(dynjobs::organization_id::parse(argv[i]).value());
    if (orgs.empty())
        orgs = endpoint.simulated_organizations(4);

    std::vector<std::future<std::size_t>> results;
    for (const auto& org : orgs)
        results.push_back(asio::co_spawn(pool, count_jobs(client, org), asio::use_future));
    std::size_t total = 0;
    for (std::size_t i = 0; i < orgs.size(); ++i) {
        const auto count = results[i].get(); // rethrows error_with_diagnostics
        std::cout << orgs[i].to_string() << ": " << count << " jobs\n";
        total += count;
    }
    std::cout << "total: " << total << " jobs\n";
    endpoint.stop();
    pool.join();
    return total > 0 ? 0 : 1;
} catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << '\n';
    return 1;
}
