// asio::deferred composition: "the next batch, then a pause" built as one operation value
// before anything starts, then launched with a plain callback. async_next's default token is
// asio::deferred, so `stream.async_next()` is such a value already. The program exits 0 only if
// the paced reader saw every job the engine delivered and the fetch ended successfully.
#include "example_endpoint.hpp"

#include <dynjobs/client.hpp>

#include <boost/asio/deferred.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <iostream>

namespace asio = boost::asio;
using namespace std::chrono_literals;

struct paced_reader {
    dynjobs::job_stream& stream;
    asio::steady_timer& pause;
    std::size_t jobs = 0;
    bool ended = false;
    boost::system::error_code error{};

    // 1. One step as a deferred operation: nothing is started by building it. The continuation
    //    takes async_next's results and returns the next operation of the chain: a pause (a
    //    consumer that would rather not take batches faster than it can write them).
    auto step() {
        return stream.async_next(asio::deferred(
            [this](boost::system::error_code ec, std::optional<dynjobs::job_batch> batch) {
                if (ec)
                    error = ec;
                else if (!batch)
                    ended = true;
                else
                    jobs += batch->jobs.size();
                // The same type on every path: a zero pause after the end.
                pause.expires_after(ec || !batch ? 0ms : 1ms);
                return pause.async_wait(asio::deferred);
            }));
    }

    // 2. Launching the composed operation: any completion token will do; here a callback,
    //    which runs once both parts are done and starts the next step.
    void run(example_endpoint& endpoint) {
        step()([this, &endpoint](boost::system::error_code) {
            if (error || ended)
                return endpoint.stop();
            run(endpoint);
        });
    }
};

int main() try {
    asio::io_context io;
    example_endpoint endpoint(io.get_executor());
    dynjobs::client client(io.get_executor(), endpoint.config());
    dynjobs::fetch_request request;
    request.start = *dynjobs::parse_iso8601("2025-01-01T00:00:00Z");
    request.finish = *dynjobs::parse_iso8601("2025-04-01T00:00:00Z");
    auto stream = client.fetch(request);
    asio::steady_timer pause(io);
    paced_reader reader{stream, pause};
    reader.run(endpoint);
    io.run();
    if (reader.error) {
        std::cerr << "error: " << reader.error.message() << ": "
                  << stream.error_diagnostics().message << '\n';
        return 1;
    }
    std::cout << reader.jobs << " jobs, paced\n";
    return reader.ended && reader.jobs > 0 && reader.jobs == stream.stats().jobs_delivered ? 0 : 1;
} catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << '\n';
    return 1;
}
