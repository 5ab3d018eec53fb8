// A service that runs the client on a thread pool and fetches several organizations at once,
// each as its own fetch in its own coroutine. What makes it correct on 4 threads:
//   1. one client, shared: every member function of client may be called from any thread, and
//      its work runs on its own strand;
//   2. one consumer per stream: each coroutine owns its stream and is its only reader, so
//      async_next never overlaps; the coroutines need no strand of their own;
//   3. the client outlives every coroutine that uses it: main waits for every result, failed
//      ones included, before it leaves the scope where the client lives;
//   4. errors stay with their organization: a failing fetch throws error_with_diagnostics out
//      of its own coroutine and future, and the others go on.
// Exits 0 only if every organization's fetch ended successfully with the jobs its stream
// reports delivered, and some jobs came.
#include "example_endpoint.hpp"

#include <dynjobs/client.hpp>
#include <dynjobs/error_with_diagnostics.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_future.hpp>

#include <future>
#include <iostream>
#include <vector>

namespace asio = boost::asio;

// Fetches one organization's jobs of the last two years; returns how many came, checked
// against the count the stream itself reports.
asio::awaitable<std::size_t> count_jobs(dynjobs::client& client, dynjobs::organization_id org) {
    dynjobs::fetch_request request;
    request.organizations = {org};
    request.start = *dynjobs::parse_iso8601("2024-01-01T00:00:00Z");
    request.finish = *dynjobs::parse_iso8601("2026-01-01T00:00:00Z");
    request.window = std::chrono::days{90};
    auto stream = client.fetch(request);
    std::size_t count = 0;
    while (auto batch = co_await stream.next()) // throws error_with_diagnostics
        count += batch->jobs.size();
    if (count != stream.stats().jobs_delivered)
        throw std::logic_error("delivered jobs went missing");
    co_return count;
}

int main(int argc, char** argv) try {
    asio::thread_pool pool(4);
    example_endpoint endpoint(pool.get_executor());
    bool all_ok = true;
    std::size_t total = 0;
    {
        dynjobs::client client(pool.get_executor(), endpoint.config());
        std::vector<dynjobs::organization_id> orgs;
        for (int i = 1; i < argc; ++i)
            orgs.push_back(dynjobs::organization_id::parse(argv[i]).value());
        if (orgs.empty())
            orgs = endpoint.simulated_organizations(4);

        // Each coroutine runs on the pool, on whichever thread is free (see 2 above).
        std::vector<std::future<std::size_t>> results;
        for (const auto& org : orgs)
            results.push_back(
                asio::co_spawn(client.get_executor(), count_jobs(client, org), asio::use_future));
        // Every future is waited for, even after a failure (see 3 above).
        for (std::size_t i = 0; i < orgs.size(); ++i) {
            try {
                const auto count = results[i].get();
                std::cout << orgs[i].to_string() << ": " << count << " jobs\n";
                total += count;
            } catch (const dynjobs::error_with_diagnostics& e) {
                std::cerr << orgs[i].to_string() << ": " << e.code().message() << ": "
                          << e.get_diagnostics().message << '\n';
                all_ok = false;
            } catch (const std::exception& e) {
                std::cerr << orgs[i].to_string() << ": " << e.what() << '\n';
                all_ok = false;
            }
        }
    } // the client is destroyed here, once nothing uses it
    std::cout << "total: " << total << " jobs\n";
    endpoint.stop();
    pool.join();
    return all_ok && total > 0 ? 0 : 1;
} catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << '\n';
    return 1;
}
