// bench_compress: what each zlib level costs and saves on the simulator's jobs pages, the figures
// behind sim::compression_config::level's default (see bench/README.md, "Compression").
//
// Why it is built this way:
// - Input is what the simulator serves: pages of 100 jobs of its default dataset, answered by
//   jobs_endpoint exactly as to a client, compressed by the simulator's own compress_body().
// - Compression runs on the server and inflating on the client; both are timed, in MB of JSON
//   per second, so the two sides can be weighed against a link's bandwidth.
// - Each figure is the best of 3 runs: the best run is the one least disturbed by the other
//   processes of a shared machine.
// - The inflated pages must equal the originals byte for byte, or the program fails.
#include "sim/compression.hpp"
#include "sim/jobs_endpoint.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

using namespace dynjobs;
using bench_clock = std::chrono::steady_clock;

namespace {

constexpr int pages = 100;
constexpr int page_size = 100;
constexpr int runs = 3;

std::vector<std::string> page_bodies() {
    sim::jobs_endpoint endpoint{sim::dataset{sim::dataset_config{}}};
    std::vector<std::string> bodies;
    for (int page = 1; page <= pages; ++page) {
        const auto reply = endpoint.handle(
            "/dynamicsbackup/jobs?type=0&startTime=2020-01-01T00:00:00Z&finishTime=2026-01-02T00:"
            "00:00Z&pageSize=" +
                std::to_string(page_size) + "&pageIndex=" + std::to_string(page),
            nullptr, "https://127.0.0.1:8443");
        bodies.push_back(reply.body);
    }
    return bodies;
}

std::string inflate_gzip(const std::string& in) {
    z_stream z{};
    inflateInit2(&z, 15 + 16);
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z.avail_in = static_cast<uInt>(in.size());
    std::string out;
    std::array<char, 64 * 1024> buffer{};
    int rc = Z_OK;
    while (rc == Z_OK) {
        z.next_out = reinterpret_cast<Bytef*>(buffer.data());
        z.avail_out = static_cast<uInt>(buffer.size());
        rc = inflate(&z, Z_NO_FLUSH);
        out.append(buffer.data(), buffer.size() - z.avail_out);
    }
    inflateEnd(&z);
    return rc == Z_STREAM_END ? out : std::string();
}

template <class F>
double best_seconds(F&& f) {
    double best = 1e9;
    for (int i = 0; i < runs; ++i) {
        const auto start = bench_clock::now();
        f();
        best = std::min(best, std::chrono::duration<double>(bench_clock::now() - start).count());
    }
    return best;
}

} // namespace

int main() {
    const std::vector<std::string> bodies = page_bodies();
    std::size_t plain = 0;
    for (const auto& b : bodies)
        plain += b.size();
    const double mb = static_cast<double>(plain) / 1e6;
    // Seconds per 100,000 jobs from seconds per `pages` x `page_size` jobs.
    const double per_100k = 100'000.0 / (pages * page_size);
    std::printf("bench_compress: %d pages x %d jobs of the default dataset, %.2f MB of JSON "
                "(%.1f MB per 100,000 jobs), gzip, best of %d\n\n",
                pages, page_size, mb, mb * per_100k, runs);
    std::printf("| level | ratio | compress MB/s | inflate MB/s | server CPU s/100k jobs | client "
                "inflate CPU s/100k jobs | wire MB/100k jobs | 100 Mbit/s link s/100k jobs |\n");
    std::printf("|---|---|---|---|---|---|---|---|\n");
    for (int level = 1; level <= 9; ++level) {
        std::vector<std::string> compressed(bodies.size());
        const double deflate_s = best_seconds([&] {
            for (std::size_t i = 0; i < bodies.size(); ++i)
                compressed[i] = sim::compress_body(bodies[i], sim::content_coding::gzip, level);
        });
        std::size_t wire = 0;
        for (const auto& c : compressed)
            wire += c.size();
        bool same = true;
        const double inflate_s = best_seconds([&] {
            for (std::size_t i = 0; i < bodies.size(); ++i)
                same = same && inflate_gzip(compressed[i]) == bodies[i];
        });
        if (!same) {
            std::fprintf(stderr, "bench_compress: level %d does not inflate to the page\n", level);
            return 1;
        }
        const double wire_mb = static_cast<double>(wire) / 1e6;
        std::printf("| %d | %.2f | %.0f | %.0f | %.3f | %.3f | %.2f | %.2f |\n", level,
                    static_cast<double>(plain) / static_cast<double>(wire), mb / deflate_s,
                    mb / inflate_s, deflate_s * per_100k, inflate_s * per_100k, wire_mb * per_100k,
                    wire_mb * per_100k * 8 / 100);
    }
    std::printf("| none | 1.00 | - | - | 0 | 0 | %.2f | %.2f |\n", mb * per_100k,
                mb * per_100k * 8 / 100);
    return 0;
}
