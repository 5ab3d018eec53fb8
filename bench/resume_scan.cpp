// bench_resume_scan: how fast `--resume` (and `dynjobs sync` at its start) reads the jobIds of an
// output already written: cli::job_id_scan over JSONL and CSV lines of the simulator's jobs, as
// dynjobs backfill writes them, fed in the 8 MiB pieces the resume reads.
//
// Why it is built this way:
// - The scan alone (each id handed to a counter): the dedupe set the resume fills is measured by
//   scenario 5's one-window rows, and would hide the scan's own cost.
// - Each figure is the best of 5 runs of at least 1 s each, as bench_decode's.
// - The output is generated in memory: reading it from disk would measure the page cache.
#include "cli/resume_scan.hpp"
#include "cli/job_format.hpp"

#include <dynjobs/sim/dataset.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

using namespace dynjobs;
using bench_clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t piece = 8 << 20; // what the resume reads at a time
constexpr int runs = 5;
constexpr double min_seconds = 1.0;

std::string output_of(const sim::dataset& data, cli::output_format format) {
    std::string out(cli::output_preamble(format));
    for (const auto& j : data.jobs())
        cli::append_job_line(out, format, j);
    return out;
}

// Seconds per scan of `text`, best of `runs`; exits on a scan error (the output is ours).
double best_scan_seconds(const std::string& text, cli::output_format format, std::size_t jobs) {
    double best = 1e300;
    for (int run = 0; run < runs; ++run) {
        std::size_t scans = 0;
        const auto start = bench_clock::now();
        double elapsed = 0;
        do {
            std::size_t ids = 0;
            cli::job_id_scan scan(format, [&ids](std::string_view) { ++ids; });
            std::string error;
            for (std::size_t at = 0; at < text.size(); at += piece)
                if (!scan.feed(std::string_view(text).substr(at, piece), error)) {
                    std::fprintf(stderr, "bench_resume_scan: %s\n", error.c_str());
                    std::exit(1);
                }
            if (!scan.finish(error) || ids != jobs) {
                std::fprintf(stderr, "bench_resume_scan: %zu ids of %zu: %s\n", ids, jobs,
                             error.c_str());
                std::exit(1);
            }
            ++scans;
            elapsed = std::chrono::duration<double>(bench_clock::now() - start).count();
        } while (elapsed < min_seconds);
        best = std::min(best, elapsed / static_cast<double>(scans));
    }
    return best;
}

} // namespace

int main(int argc, char** argv) {
    sim::dataset_config config;
    config.jobs = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 100'000;
    const sim::dataset data(config);
    std::printf("bench_resume_scan: %zu jobs of the simulator's dataset (seed %llu), fed in "
                "%zu MiB pieces, best of %d runs of at least %.0f s\n",
                data.jobs().size(), static_cast<unsigned long long>(config.seed), piece >> 20, runs,
                min_seconds);
    for (const auto format : {cli::output_format::jsonl, cli::output_format::csv}) {
        const std::string text = output_of(data, format);
        const double seconds = best_scan_seconds(text, format, data.jobs().size());
        std::printf("%-5s %8.1f MB/s %12.0f jobs/s  (%.1f MB)\n",
                    format == cli::output_format::jsonl ? "JSONL" : "CSV",
                    static_cast<double>(text.size()) / seconds / 1e6,
                    static_cast<double>(data.jobs().size()) / seconds,
                    static_cast<double>(text.size()) / 1e6);
    }
    std::printf("reproduce: build-rel/bench/bench_resume_scan %zu\n", data.jobs().size());
}
