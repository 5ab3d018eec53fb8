// bench_decode: the streaming page decoder against boost::json::parse + a walk of the tree, on
// pages of 100 jobs generated from the simulator's dataset and encoded by the job encoder.
//
// Why it is built this way:
// - Input is what the client really decodes: the simulator's jobs (realistic ids, names, times,
//   doubles) written by append_page_json, paging fields included.
// - The decoder is fed in 16 KiB chunks, as a socket read would hand them over.
// - The baseline is written to be fair: the same leniency (ints as 1.0, nulls, unknown keys
//   ignored), the same key dispatch, the same timestamp and GUID parsers and the same output
//   structs, reused the same way. It is measured twice: with the default allocator (what
//   `boost::json::parse(text)` gives) and with a reused monotonic_resource (the best a tree can
//   do).
// - Each figure is the best of 5 runs of at least 1 s each: the best run is the one least
//   disturbed by the other processes of a shared machine.
// - Before timing, both decoders must produce the same pages (durationHours excepted, compared
//   separately: Boost 1.81's tree keeps only its own, not always correctly rounded, double).
#include <dynjobs/job_encoder.hpp>
#include <dynjobs/page_decoder.hpp>
#include <dynjobs/sim/dataset.hpp>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace json = boost::json;
using namespace dynjobs;
using bench_clock = std::chrono::steady_clock;

namespace {

struct options {
    std::size_t pages = 100;      // 100 pages x 100 jobs = 10,000 jobs, ~6 MB of JSON
    std::size_t page_size = 100;  // the client's default page size
    std::size_t chunk = 16 << 10; // bytes per write() to the decoder
    double min_seconds = 1.0;     // per measurement
    int runs = 5;                 // best of
    bool decoder_only = false;    // skip the baselines (for profiling the decoder)
};

// ---------------------------------------------------------------- the baseline: tree + walk

enum class key {
    module,
    type,
    job_id,
    start_time,
    finish_time,
    duration_hours,
    status,
    successful_entity,
    failed_entity,
    skipped_entity,
    warning_entity,
    total_entity,
    successful_record,
    failed_record,
    skipped_record,
    warning_record,
    total_record,
    backup_size,
    organization_id,
    organization_name,
    unknown
};

// Same dispatch as the decoder's fallback: switch on the length, then compare.
key job_key(std::string_view k) {
    switch (k.size()) {
    case 4:
        return k == "type" ? key::type : key::unknown;
    case 5:
        return k == "jobId" ? key::job_id : key::unknown;
    case 6:
        return k == "module" ? key::module : k == "status" ? key::status : key::unknown;
    case 9:
        return k == "startTime" ? key::start_time : key::unknown;
    case 10:
        return k == "finishTime"   ? key::finish_time
               : k == "backupSize" ? key::backup_size
                                   : key::unknown;
    case 11:
        return k == "totalEntity"   ? key::total_entity
               : k == "totalRecord" ? key::total_record
                                    : key::unknown;
    case 12:
        return k == "failedEntity"   ? key::failed_entity
               : k == "failedRecord" ? key::failed_record
                                     : key::unknown;
    case 13:
        return k == "durationHours"   ? key::duration_hours
               : k == "skippedEntity" ? key::skipped_entity
               : k == "warningEntity" ? key::warning_entity
               : k == "skippedRecord" ? key::skipped_record
               : k == "warningRecord" ? key::warning_record
                                      : key::unknown;
    case 14:
        return k == "organizationId" ? key::organization_id : key::unknown;
    case 16:
        return k == "successfulEntity"   ? key::successful_entity
               : k == "successfulRecord" ? key::successful_record
               : k == "organizationName" ? key::organization_name
                                         : key::unknown;
    default:
        return key::unknown;
    }
}

// An integer field with the decoder's leniency: int64, uint64 that fits, integral double, null.
bool get_int(const json::value& v, std::int64_t& out) {
    if (const auto* i = v.if_int64()) {
        out = *i;
        return true;
    }
    if (const auto* u = v.if_uint64()) {
        if (*u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
            return false;
        out = static_cast<std::int64_t>(*u);
        return true;
    }
    if (const auto* d = v.if_double()) {
        if (*d != static_cast<double>(static_cast<std::int64_t>(*d)))
            return false;
        out = static_cast<std::int64_t>(*d);
        return true;
    }
    if (v.is_null()) {
        out = 0;
        return true;
    }
    return false;
}

bool get_count(const json::value& v, std::int64_t& out) {
    return get_int(v, out) && out >= 0;
}

bool get_string(const json::value& v, std::string& out) {
    if (const auto* s = v.if_string()) {
        out.assign(s->data(), s->size());
        return true;
    }
    if (v.is_null()) {
        out.clear();
        return true;
    }
    return false;
}

bool get_time(const json::value& v, timestamp& out) {
    const auto* s = v.if_string();
    if (!s)
        return false;
    const auto t = parse_iso8601(std::string_view(s->data(), s->size()));
    if (!t)
        return false;
    out = *t;
    return true;
}

bool walk_job(const json::object& o, job& j) {
    unsigned seen = 0;
    std::int64_t n = 0;
    for (const auto& kv : o) {
        const json::value& v = kv.value();
        switch (job_key(std::string_view(kv.key().data(), kv.key().size()))) {
        case key::module:
            if (!get_string(v, j.module))
                return false;
            break;
        case key::type:
            if (!get_int(v, n) || n < INT32_MIN || n > INT32_MAX)
                return false;
            j.type = static_cast<job_type>(n);
            seen |= 1;
            break;
        case key::job_id:
            if (!v.is_string() || !get_string(v, j.job_id) || j.job_id.empty())
                return false;
            seen |= 2;
            break;
        case key::start_time:
            if (!get_time(v, j.start_time))
                return false;
            seen |= 4;
            break;
        case key::finish_time:
            if (v.is_null()) {
                j.finish_time.reset();
            } else {
                timestamp t;
                if (!get_time(v, t))
                    return false;
                j.finish_time = t;
            }
            break;
        case key::duration_hours:
            if (v.is_null())
                j.duration_hours.reset();
            else if (v.is_number())
                j.duration_hours = v.to_number<double>();
            else
                return false;
            break;
        case key::status:
            if (!get_int(v, n) || n < INT32_MIN || n > INT32_MAX)
                return false;
            j.status = static_cast<job_status>(n);
            seen |= 8;
            break;
        case key::successful_entity:
            if (!get_count(v, j.successful_entity))
                return false;
            break;
        case key::failed_entity:
            if (!get_count(v, j.failed_entity))
                return false;
            break;
        case key::skipped_entity:
            if (!get_count(v, j.skipped_entity))
                return false;
            break;
        case key::warning_entity:
            if (!get_count(v, j.warning_entity))
                return false;
            break;
        case key::total_entity:
            if (!get_count(v, j.total_entity))
                return false;
            break;
        case key::successful_record:
            if (!get_count(v, j.successful_record))
                return false;
            break;
        case key::failed_record:
            if (!get_count(v, j.failed_record))
                return false;
            break;
        case key::skipped_record:
            if (!get_count(v, j.skipped_record))
                return false;
            break;
        case key::warning_record:
            if (!get_count(v, j.warning_record))
                return false;
            break;
        case key::total_record:
            if (!get_count(v, j.total_record))
                return false;
            break;
        case key::backup_size:
            if (!get_count(v, j.backup_size))
                return false;
            break;
        case key::organization_id: {
            const auto* s = v.if_string();
            if (!s || s->empty())
                return false;
            j.organization = organization_id::from_wire(std::string_view(s->data(), s->size()));
            seen |= 16;
            break;
        }
        case key::organization_name:
            if (!get_string(v, j.organization_name))
                return false;
            break;
        case key::unknown:
            break;
        }
    }
    return seen == 31;
}

bool get_optional_int(const json::value& v, std::optional<std::int64_t>& out) {
    if (v.is_null()) {
        out.reset();
        return true;
    }
    std::int64_t n = 0;
    if (!get_count(v, n))
        return false;
    out = n;
    return true;
}

bool walk_page(const json::value& root, jobs_page& page) {
    page.clear();
    const auto* top = root.if_object();
    if (!top)
        return false;
    for (const auto& kv : *top) {
        const std::string_view k(kv.key().data(), kv.key().size());
        const json::value& v = kv.value();
        if (k == "jobs") {
            if (v.is_null())
                continue;
            const auto* arr = v.if_array();
            if (!arr)
                return false;
            page.jobs.reserve(arr->size());
            for (const json::value& e : *arr) {
                const auto* o = e.if_object();
                if (!o || !walk_job(*o, page.jobs.emplace_back()))
                    return false;
            }
        } else if (k == "totalCount") {
            if (!get_optional_int(v, page.total_count))
                return false;
        } else if (k == "nextLink") {
            if (v.is_null())
                page.next_link.reset();
            else if (const auto* s = v.if_string())
                page.next_link.emplace(s->data(), s->size());
            else
                return false;
        } else if (k == "pageIndex") {
            if (!get_optional_int(v, page.page_index))
                return false;
        } else if (k == "pageSize") {
            if (!get_optional_int(v, page.page_size))
                return false;
        }
    }
    return true;
}

json::parse_options lenient() {
    json::parse_options opt;
    opt.allow_comments = true;
    opt.allow_trailing_commas = true;
    return opt;
}

// ---------------------------------------------------------------- the three contenders

struct decoder_run {
    page_decoder decoder;
    jobs_page page;
    std::size_t chunk;
    std::size_t operator()(const std::string& body) {
        diagnostics diag;
        decoder.reset(page);
        for (std::size_t pos = 0; pos < body.size(); pos += chunk) {
            if (decoder.write(std::string_view(body).substr(pos, chunk), diag)) {
                std::fprintf(stderr, "decode failed: %s\n", diag.message.c_str());
                std::exit(1);
            }
        }
        if (decoder.finish(diag)) {
            std::fprintf(stderr, "decode failed: %s\n", diag.message.c_str());
            std::exit(1);
        }
        return page.jobs.size();
    }
};

struct tree_run {
    jobs_page page;
    std::size_t operator()(const std::string& body) {
        boost::system::error_code ec;
        const json::value root = json::parse(body, ec, json::storage_ptr(), lenient());
        if (ec || !walk_page(root, page)) {
            std::fprintf(stderr, "tree walk failed\n");
            std::exit(1);
        }
        return page.jobs.size();
    }
};

struct tree_monotonic_run {
    jobs_page page;
    std::vector<unsigned char> buffer = std::vector<unsigned char>(16u << 20);
    std::size_t operator()(const std::string& body) {
        json::monotonic_resource mr(buffer.data(), buffer.size());
        boost::system::error_code ec;
        const json::value root = json::parse(body, ec, &mr, lenient());
        if (ec || !walk_page(root, page)) {
            std::fprintf(stderr, "tree walk failed\n");
            std::exit(1);
        }
        return page.jobs.size();
    }
};

struct figure {
    double mb_per_s = 0;
    double jobs_per_s = 0;
};

template <class Run>
figure measure(Run& run, const std::vector<std::string>& bodies, const options& opt) {
    std::size_t bytes_per_pass = 0;
    for (const auto& b : bodies)
        bytes_per_pass += b.size();
    figure best;
    for (int r = 0; r < opt.runs; ++r) {
        std::size_t passes = 0;
        std::size_t jobs = 0;
        const auto start = bench_clock::now();
        double elapsed = 0;
        do {
            for (const auto& body : bodies)
                jobs += run(body);
            ++passes;
            elapsed = std::chrono::duration<double>(bench_clock::now() - start).count();
        } while (elapsed < opt.min_seconds);
        const double mb = static_cast<double>(bytes_per_pass * passes) / 1e6;
        best.mb_per_s = std::max(best.mb_per_s, mb / elapsed);
        best.jobs_per_s = std::max(best.jobs_per_s, static_cast<double>(jobs) / elapsed);
    }
    return best;
}

// Equal pages, with durationHours compared apart; returns the jobs whose durations differ.
std::size_t compare(jobs_page a, jobs_page b) {
    if (a.jobs.size() != b.jobs.size()) {
        std::fprintf(stderr, "baseline and decoder disagree on the number of jobs\n");
        std::exit(1);
    }
    std::size_t differ = 0;
    for (std::size_t i = 0; i < a.jobs.size(); ++i) {
        if (a.jobs[i].duration_hours != b.jobs[i].duration_hours)
            ++differ;
        b.jobs[i].duration_hours = a.jobs[i].duration_hours;
    }
    if (!(a == b)) {
        std::fprintf(stderr, "baseline and decoder disagree\n");
        std::exit(1);
    }
    return differ;
}

bool parse_arg(const char* arg, const char* name, double& out) {
    const std::size_t n = std::strlen(name);
    if (std::strncmp(arg, name, n) != 0 || arg[n] != '=')
        return false;
    out = std::atof(arg + n + 1);
    return true;
}

} // namespace

int main(int argc, char** argv) {
    options opt;
    for (int i = 1; i < argc; ++i) {
        double v = 0;
        if (parse_arg(argv[i], "--pages", v))
            opt.pages = static_cast<std::size_t>(v);
        else if (parse_arg(argv[i], "--chunk", v))
            opt.chunk = static_cast<std::size_t>(v);
        else if (parse_arg(argv[i], "--seconds", v))
            opt.min_seconds = v;
        else if (parse_arg(argv[i], "--runs", v))
            opt.runs = static_cast<int>(v);
        else if (std::strcmp(argv[i], "--decoder-only") == 0) // for profiling
            opt.decoder_only = true;
        else {
            std::fprintf(stderr, "usage: bench_decode [--pages=100] [--chunk=16384] [--seconds=1] "
                                 "[--runs=5] [--decoder-only]\n");
            return 2;
        }
    }
    if (opt.pages == 0 || opt.chunk == 0 || opt.runs <= 0) {
        std::fprintf(stderr, "--pages, --chunk and --runs must be positive\n");
        return 2;
    }

    // Pages of the simulator's dataset, as its jobs endpoint would page them.
    sim::dataset_config config;
    config.jobs = std::max<std::size_t>(config.jobs, opt.pages * opt.page_size);
    const sim::dataset data(config);
    const auto& all = data.jobs();
    std::vector<std::string> bodies;
    std::size_t total_bytes = 0;
    for (std::size_t p = 0; p < opt.pages; ++p) {
        jobs_page page;
        page.total_count = static_cast<std::int64_t>(all.size());
        page.page_index = static_cast<std::int64_t>(p + 1);
        page.page_size = static_cast<std::int64_t>(opt.page_size);
        page.next_link = "/jobs?pageIndex=" + std::to_string(p + 2) +
                         "&pageSize=100&startTime=2024-01-01T00:00:00Z&finishTime=2026-01-01T00:"
                         "00:00Z&type=0";
        const auto first = all.begin() + static_cast<std::ptrdiff_t>(p * opt.page_size);
        page.jobs.assign(first, first + static_cast<std::ptrdiff_t>(opt.page_size));
        std::string body;
        append_page_json(body, page);
        total_bytes += body.size();
        bodies.push_back(std::move(body));
    }

    decoder_run dec{page_decoder{}, {}, opt.chunk};
    tree_run tree;
    tree_monotonic_run mono;
    std::size_t duration_mismatches = 0;
    for (const auto& body : bodies) {
        dec(body);
        tree(body);
        duration_mismatches += compare(dec.page, tree.page);
    }

    std::printf("bench_decode: %zu pages x %zu jobs from the simulator dataset (seed %llu), "
                "%.2f MB of JSON, %.0f bytes/job\n",
                opt.pages, opt.page_size, static_cast<unsigned long long>(config.seed),
                static_cast<double>(total_bytes) / 1e6,
                static_cast<double>(total_bytes) / static_cast<double>(opt.pages * opt.page_size));
    std::printf("best of %d runs of >= %.1f s each; decoder fed in %zu-byte chunks\n\n", opt.runs,
                opt.min_seconds, opt.chunk);

    const figure f_dec = measure(dec, bodies, opt);
    if (opt.decoder_only) {
        std::printf("page_decoder: %.1f MB/s, %.0f jobs/s\n", f_dec.mb_per_s, f_dec.jobs_per_s);
        return 0;
    }
    const figure f_tree = measure(tree, bodies, opt);
    const figure f_mono = measure(mono, bodies, opt);

    std::printf("%-48s %10s %14s\n", "contender", "MB/s", "jobs/s");
    std::printf("%-48s %10.1f %14.0f\n", "page_decoder (streaming, 16 KiB chunks)", f_dec.mb_per_s,
                f_dec.jobs_per_s);
    std::printf("%-48s %10.1f %14.0f\n", "boost::json::parse + walk (default allocator)",
                f_tree.mb_per_s, f_tree.jobs_per_s);
    std::printf("%-48s %10.1f %14.0f\n", "boost::json::parse + walk (monotonic_resource)",
                f_mono.mb_per_s, f_mono.jobs_per_s);
    std::printf("\nratio page_decoder / parse+walk: %.2fx (default allocator), %.2fx (monotonic)\n",
                f_dec.mb_per_s / f_tree.mb_per_s, f_dec.mb_per_s / f_mono.mb_per_s);
    std::printf("durationHours values where Boost 1.81's tree double differs from the exact one: "
                "%zu of %zu\n",
                duration_mismatches, opt.pages * opt.page_size);
    std::printf("\nreproduce: cmake -S . -B build-rel -G Ninja -DCMAKE_BUILD_TYPE=Release && "
                "cmake --build build-rel --target bench_decode && build-rel/bench/bench_decode\n");
    return 0;
}
