// async_next with plain completion handlers: no coroutines. Each handler asks for the next
// batch until the stream ends; the program exits 0 only if the fetch ended successfully and
// every job the engine delivered reached the handler.
#include "example_endpoint.hpp"

#include <dynjobs/client.hpp>

#include <boost/asio/io_context.hpp>

#include <iostream>

namespace asio = boost::asio;

// 1. The consumer: a small object whose member function is the completion handler. It keeps
//    the stream; the client only needs to outlive the fetch.
class job_counter {
public:
    job_counter(dynjobs::job_stream stream, example_endpoint& endpoint)
        : stream_(std::move(stream))
        , endpoint_(endpoint) {}

    // 2. Ask for one batch. The handler runs later on the client's executor (the io_context),
    //    never inside async_next, so calling async_next again from it does not recurse.
    void start() {
        stream_.async_next(
            [this](boost::system::error_code ec, std::optional<dynjobs::job_batch> batch) {
                on_batch(ec, batch);
            });
    }

    bool succeeded() const { return succeeded_; }

private:
    void on_batch(boost::system::error_code ec, const std::optional<dynjobs::job_batch>& batch) {
        if (ec) { // 3. An error ends the stream: the diagnostics say which page and why.
            std::cerr << "error: " << ec.message() << ": " << stream_.error_diagnostics().message
                      << '\n';
            return finish();
        }
        if (!batch) { // 4. nullopt: every job of the range was delivered.
            const auto delivered = stream_.stats().jobs_delivered;
            std::cout << jobs_ << " jobs, " << batches_ << " batches\n";
            succeeded_ = jobs_ == delivered && jobs_ > 0;
            return finish();
        }
        ++batches_;
        jobs_ += batch->jobs.size();
        start(); // 5. The next one.
    }

    // The in-process simulator, if any, is stopped so that io_context::run() can return.
    void finish() { endpoint_.stop(); }

    dynjobs::job_stream stream_;
    example_endpoint& endpoint_;
    std::size_t jobs_ = 0;
    std::size_t batches_ = 0;
    bool succeeded_ = false;
};

int main() try {
    asio::io_context io;
    example_endpoint endpoint(io.get_executor());
    dynjobs::client client(io.get_executor(), endpoint.config());
    dynjobs::fetch_request request;
    request.start = *dynjobs::parse_iso8601("2025-01-01T00:00:00Z");
    request.finish = *dynjobs::parse_iso8601("2025-07-01T00:00:00Z");
    job_counter counter(client.fetch(request), endpoint);
    counter.start();
    io.run();
    return counter.succeeded() ? 0 : 1;
} catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << '\n';
    return 1;
}
