// bench_fetch: fetches every job of a time range from a running simulator (or any endpoint)
// through the public dynjobs::client API, decoding every job, and prints one line of figures.
// bench/run starts `dynjobs sim` in its own process and drives this program for the loopback
// throughput, latency-hiding, throttled and memory scenarios (see bench/README.md).
//
// Why it is built this way:
// - The simulator runs in another process, so the CPU time and peak RSS this program reports
//   (getrusage) are the client's alone, and the two compete for cores as a real deployment would.
// - "Concurrency N" must mean N requests in flight: the host gate's in-flight limit, the pool's
//   connections and the per-organization limit are all set to N (each alone would cap it).
// - The consumer counts jobs and drops them, or (--slow-ms) waits on a timer after each batch,
//   which is a slow consumer that does not block the engine's thread.
// - --print-urls writes the page URLs the fetch requests (the same jobs_query::target()) as a
//   curl config file, so the curl baseline fetches exactly the same pages.
// - Output is one line of key=value pairs, for bench/run to turn into tables.
#include <dynjobs/client.hpp>
#include <dynjobs/error_with_diagnostics.hpp>
#include <dynjobs/jobs_query.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <sys/resource.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>

namespace asio = boost::asio;
using bench_clock = std::chrono::steady_clock;

namespace {

struct options {
    std::string base_url;
    std::string token_url;
    std::string ca_file;
    std::string client_id = "dynjobs-sim-client";
    std::string client_secret = "dynjobs-sim-secret";
    std::string start = "2020-01-01T00:00:00Z";
    std::string finish = "2026-01-02T00:00:00Z";
    std::size_t concurrency = 0;         // 0: the library's defaults
    int window_days = 0;                 // 0: one window
    int slow_ms = 0;                     // wait after each batch
    bool adaptive_rate = true;           // the library's default
    bool retry_after_per_request = true; // the library's default
    bool compression = true;             // --no-compression: plain pages, as curl fetches them
    std::int64_t expect = -1;            // jobs expected; a mismatch is reported
    std::int64_t print_urls = -1;
    std::optional<std::size_t> dedupe_memory; // per set; 0 never spills; none: the default
};

[[noreturn]] void usage() {
    std::cerr
        << "usage: bench_fetch --base-url URL [--token-url URL] [--ca-file PEM]\n"
           "  [--client-id ID] [--client-secret S] [--start ISO] [--finish ISO]\n"
           "  [--concurrency N] [--window-days D] [--slow-ms MS] [--no-adaptive-rate]\n"
           "  [--retry-after-host-wide]\n"
           "  [--no-compression] [--dedupe-memory BYTES] [--expect JOBS] | --print-urls PAGES\n";
    std::exit(1);
}

options parse(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc)
                usage();
            return argv[++i];
        };
        if (arg == "--base-url")
            o.base_url = value();
        else if (arg == "--token-url")
            o.token_url = value();
        else if (arg == "--ca-file")
            o.ca_file = value();
        else if (arg == "--client-id")
            o.client_id = value();
        else if (arg == "--client-secret")
            o.client_secret = value();
        else if (arg == "--start")
            o.start = value();
        else if (arg == "--finish")
            o.finish = value();
        else if (arg == "--concurrency")
            o.concurrency = std::stoul(value());
        else if (arg == "--window-days")
            o.window_days = std::stoi(value());
        else if (arg == "--slow-ms")
            o.slow_ms = std::stoi(value());
        else if (arg == "--no-adaptive-rate")
            o.adaptive_rate = false;
        else if (arg == "--retry-after-host-wide")
            o.retry_after_per_request = false;
        else if (arg == "--no-compression")
            o.compression = false;
        else if (arg == "--dedupe-memory")
            o.dedupe_memory = std::stoull(value());
        else if (arg == "--expect")
            o.expect = std::stoll(value());
        else if (arg == "--print-urls")
            o.print_urls = std::stoll(value());
        else
            usage();
    }
    if (o.base_url.empty())
        usage();
    return o;
}

dynjobs::fetch_request make_request(const options& o) {
    dynjobs::fetch_request request;
    const auto start = dynjobs::parse_iso8601(o.start);
    const auto finish = dynjobs::parse_iso8601(o.finish);
    if (!start || !finish) {
        std::cerr << "bench_fetch: bad --start or --finish\n";
        std::exit(1);
    }
    request.start = *start;
    request.finish = *finish;
    if (o.window_days > 0)
        request.window = std::chrono::days{o.window_days};
    return request;
}

// The URLs of pages 1..pages of the single-window fetch, exactly as the engine builds them.
void print_urls(const options& o, const dynjobs::fetch_request& request) {
    dynjobs::jobs_query query;
    query.type = request.type;
    query.start_time = request.start;
    query.finish_time = request.finish;
    query.page_size = request.page_size;
    for (std::int64_t page = 1; page <= o.print_urls; ++page) {
        query.page_index = page;
        std::cout << "url = \"" << o.base_url << query.target() << "\"\noutput = \"/dev/null\"\n";
    }
}

dynjobs::client_config make_config(const options& o) {
    dynjobs::client_config config;
    config.base_url = o.base_url;
    config.token_url = o.token_url;
    config.tls.ca_file = o.ca_file;
    config.creds = dynjobs::client_secret_credentials{o.client_id, o.client_secret};
    config.rate.adaptive_rate = o.adaptive_rate;
    config.rate.retry_after_per_request = o.retry_after_per_request;
    config.compression = o.compression;
    if (o.dedupe_memory)
        config.dedupe.memory_per_set = *o.dedupe_memory;
    if (o.concurrency > 0) {
        config.rate.max_in_flight = o.concurrency;
        config.pool.max_connections = o.concurrency;
        config.max_in_flight_per_organization = o.concurrency;
    }
    return config;
}

double cpu_seconds(const rusage& r) {
    return static_cast<double>(r.ru_utime.tv_sec + r.ru_stime.tv_sec) +
           static_cast<double>(r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
}

struct outcome {
    std::uint64_t jobs = 0;
    std::uint64_t batches = 0;
    dynjobs::fetch_stats stats;
    std::string error;
};

asio::awaitable<void> consume(dynjobs::client& client, dynjobs::fetch_request request, int slow_ms,
                              outcome& out) {
    auto stream = client.fetch(std::move(request));
    asio::steady_timer pause(co_await asio::this_coro::executor);
    try {
        while (auto batch = co_await stream.next()) {
            out.jobs += batch->jobs.size();
            ++out.batches;
            if (slow_ms > 0) {
                pause.expires_after(std::chrono::milliseconds(slow_ms));
                co_await pause.async_wait(asio::use_awaitable);
            }
        }
    } catch (const std::exception& e) {
        out.error = e.what();
    }
    out.stats = stream.stats();
}

} // namespace

int main(int argc, char** argv) {
    const options o = parse(argc, argv);
    const auto request = make_request(o);
    if (o.print_urls >= 0) {
        print_urls(o, request);
        return 0;
    }

    asio::io_context io(1);
    dynjobs::client client(io.get_executor(), make_config(o));
    outcome out;
    rusage before{};
    getrusage(RUSAGE_SELF, &before);
    const auto started = bench_clock::now();
    asio::co_spawn(io, consume(client, request, o.slow_ms, out), [](std::exception_ptr e) {
        if (e)
            std::rethrow_exception(e);
    });
    io.run();
    const double wall = std::chrono::duration<double>(bench_clock::now() - started).count();
    rusage after{};
    getrusage(RUSAGE_SELF, &after);
    const double cpu = cpu_seconds(after) - cpu_seconds(before);

    const auto& s = out.stats;
    const double jobs = static_cast<double>(out.jobs);
    std::printf(
        "jobs=%llu pages=%llu requests=%llu throttled=%llu retries=%llu conns=%llu resumed=%llu "
        "wall_s=%.3f jobs_per_s=%.0f pages_per_s=%.1f cpu_s=%.3f cpu_per_100k=%.3f "
        "rss_mb=%.1f wire_mb=%.2f decoded_mb=%.2f spilled=%llu\n",
        static_cast<unsigned long long>(out.jobs), static_cast<unsigned long long>(s.pages_done),
        static_cast<unsigned long long>(s.requests), static_cast<unsigned long long>(s.throttled),
        static_cast<unsigned long long>(s.retries),
        static_cast<unsigned long long>(s.connections_opened),
        static_cast<unsigned long long>(s.tls_sessions_resumed), wall, jobs / wall,
        static_cast<double>(s.pages_done) / wall, cpu, jobs > 0 ? cpu * 100'000.0 / jobs : 0.0,
        static_cast<double>(after.ru_maxrss) / 1024.0, static_cast<double>(s.bytes_received) / 1e6,
        static_cast<double>(s.bytes_decoded) / 1e6,
        static_cast<unsigned long long>(s.job_ids_spilled));
    if (!out.error.empty()) {
        std::cerr << "bench_fetch: the fetch failed: " << out.error << '\n';
        return 2;
    }
    if (o.expect >= 0 && out.jobs != static_cast<std::uint64_t>(o.expect)) {
        std::cerr << "bench_fetch: expected " << o.expect << " jobs, got " << out.jobs << '\n';
        return 2;
    }
    return 0;
}
