// engine_fixture.hpp - runs dynjobs::client fetches against the simulator and collects the result.
#pragma once

#include "sim_fixture.hpp"

#include <dynjobs/client.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <thread>

namespace dynjobs::testkit {

/// What a fetch delivered and how it ended.
struct fetch_outcome {
    std::vector<job> jobs;
    std::vector<job_batch> batches; // without their jobs (moved into `jobs`)
    boost::system::error_code ec;
    diagnostics diag;
    fetch_stats stats;
    std::vector<page_failure> failures;
};

/// The simulator's CA as a file a client can be told to trust.
inline std::string ca_file_of(sim_fixture& fx) {
    if (!fx.sim().ca_file().empty())
        return fx.sim().ca_file().string();
    const auto path = std::filesystem::temp_directory_path() /
                      ("dynjobs-test-ca-" + std::to_string(fx.sim().https_port()) + ".pem");
    std::ofstream(path) << fx.sim().ca_pem();
    return path.string();
}

/// A client configuration for the fixture's simulator, trusting its CA.
inline client_config engine_config(sim_fixture& fx) {
    client_config config;
    config.base_url = fx.sim().base_url();
    config.tls.ca_file = ca_file_of(fx);
    config.creds = client_secret_credentials{std::string(sim::default_client_id),
                                             std::string(sim::default_client_secret)};
    config.seed = 7;
    // Tests with faults need quick retries, not production's patience.
    config.retry.initial_backoff = std::chrono::milliseconds{5};
    config.retry.max_backoff = std::chrono::milliseconds{50};
    config.retry.max_attempts = 8;
    return config;
}

/// Faults of `kinds` at `rate` that stay fast in tests: no Retry-After wait, a 300 ms delay,
/// a quick trickle.
inline sim::sim_config faulty_config(std::vector<sim::fault_kind> kinds, double rate,
                                     std::uint64_t seed) {
    auto config = small_sim_config();
    config.faults.kinds = std::move(kinds);
    config.faults.rate = rate;
    config.faults.seed = seed;
    config.faults.retry_after_seconds = 0;
    config.faults.delay = std::chrono::milliseconds(300);
    config.faults.trickle_chunk_bytes = 4096;
    config.faults.trickle_interval = std::chrono::milliseconds(2);
    return config;
}

/// A client patient enough for faulty_config: the "delay" fault times out, and 12 attempts
/// make a page that fails at random every time a practical impossibility.
inline client_config patient_enough(sim_fixture& fx) {
    auto config = engine_config(fx);
    config.pool.timeouts.first_byte =
        std::chrono::milliseconds(150); // the "delay" fault (300 ms) must time out
    config.retry.max_attempts = 12;
    // faulty_config garbles bodies and revokes tokens at random, not for good: the same page
    // may meet them twice in a row, which against a real server would be final.
    config.retry.max_decode_attempts = config.retry.max_attempts;
    config.retry.max_unauthorized_attempts = config.retry.max_attempts;
    return config;
}

/// A request for the whole dataset of the fixture's simulator.
inline fetch_request whole_dataset(sim_fixture& fx) {
    fetch_request request;
    request.start = fx.sim().config().dataset.begin;
    request.finish = fx.sim().config().dataset.end;
    return request;
}

/// The simulator's filter for a request (one organization, or all).
inline sim::filter filter_of(const fetch_request& request,
                             std::optional<organization_id> organization = std::nullopt) {
    sim::filter f;
    f.type = request.type;
    f.start = request.start;
    f.finish = request.finish;
    f.status = request.status;
    f.organization = organization;
    return f;
}

/// The simulator's jobs for a request: every organization's filtered set, or the unfiltered one.
inline std::vector<job> expected_jobs(sim_fixture& fx, const fetch_request& request) {
    if (request.organizations.empty())
        return fx.sim().select(filter_of(request));
    std::vector<job> expected;
    for (const auto& org : request.organizations)
        for (auto& j : fx.sim().select(filter_of(request, org)))
            expected.push_back(std::move(j));
    return expected;
}

/// Runs `ioc` on this thread and `threads - 1` others until it runs out of work.
inline void run_on_threads(boost::asio::io_context& ioc, int threads) {
    std::vector<std::thread> pool;
    for (int i = 1; i < threads; ++i)
        pool.emplace_back([&] { ioc.run(); });
    ioc.run();
    for (auto& t : pool)
        t.join();
}

/// Runs a fetch to its end on its own io_context with `threads` threads. `on_batch` may inspect
/// each batch (and cancel the stream).
inline fetch_outcome run_fetch(const client_config& config, const fetch_request& request,
                               int threads = 1,
                               std::function<void(const job_batch&, job_stream&)> on_batch = {}) {
    boost::asio::io_context ioc;
    fetch_outcome out;
    {
        client c(ioc.get_executor(), config);
        job_stream stream = c.fetch(request);
        boost::asio::co_spawn(
            ioc,
            [&]() -> boost::asio::awaitable<void> {
                for (;;) {
                    auto [ec, batch] = co_await stream.async_next(
                        boost::asio::as_tuple(boost::asio::use_awaitable));
                    if (ec || !batch) {
                        out.ec = ec;
                        break;
                    }
                    if (on_batch)
                        on_batch(*batch, stream);
                    for (auto& j : batch->jobs)
                        out.jobs.push_back(std::move(j));
                    batch->jobs.clear();
                    out.batches.push_back(std::move(*batch));
                }
                out.diag = stream.error_diagnostics();
                out.stats = stream.stats();
                out.failures = stream.failures();
            },
            boost::asio::detached);
        run_on_threads(ioc, threads);
    }
    return out;
}

/// jobId -> how often it was delivered.
inline std::map<std::string, int> id_counts(const std::vector<job>& jobs) {
    std::map<std::string, int> counts;
    for (const auto& j : jobs)
        ++counts[j.job_id];
    return counts;
}

/// Checks that `delivered` holds every job of `expected` exactly once, field for field.
inline void require_exactly(const std::vector<job>& delivered, const std::vector<job>& expected) {
    const auto counts = id_counts(delivered);
    for (const auto& [id, n] : counts)
        BOOST_TEST_REQUIRE(n == 1, "job " << id << " delivered " << n << " times");
    BOOST_TEST_REQUIRE(delivered.size() == expected.size());
    std::map<std::string, const job*> by_id;
    for (const auto& j : delivered)
        by_id[j.job_id] = &j;
    for (const auto& j : expected) {
        const auto it = by_id.find(j.job_id);
        BOOST_TEST_REQUIRE((it != by_id.end()), "job " << j.job_id << " missing");
        BOOST_TEST_REQUIRE((*it->second == j), "job " << j.job_id << " differs");
    }
}

} // namespace dynjobs::testkit
