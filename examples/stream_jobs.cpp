// The smallest embedding: stream every job of 2025 and print one line per job.
#include "example_endpoint.hpp"

#include <dynjobs/client.hpp>
#include <dynjobs/error_with_diagnostics.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <iostream>

namespace asio = boost::asio;

asio::awaitable<void> print_jobs(dynjobs::client& client, example_endpoint& endpoint) {
    dynjobs::fetch_request request;
    request.start = *dynjobs::parse_iso8601("2025-01-01T00:00:00Z");
    request.finish = *dynjobs::parse_iso8601("2026-01-01T00:00:00Z");
    request.window = std::chrono::days{31};
    auto stream = client.fetch(request);
    std::size_t count = 0;
    while (auto batch = co_await stream.next())
        for (const dynjobs::job& job : batch->jobs) {
            std::cout << job.job_id << ' ' << dynjobs::format_iso8601(job.start_time) << ' '
                      << job.organization_name << '\n';
            ++count;
        }
    std::cerr << count << " jobs in " << stream.stats().elapsed.count() << " ms\n";
    endpoint.stop();
}

int main() try {
    asio::io_context io;
    example_endpoint endpoint(io.get_executor());
    dynjobs::client client(io.get_executor(), endpoint.config());
    asio::co_spawn(io, print_jobs(client, endpoint), [](std::exception_ptr e) {
        if (e)
            std::rethrow_exception(e);
    });
    io.run();
} catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << '\n';
    return 1;
}
