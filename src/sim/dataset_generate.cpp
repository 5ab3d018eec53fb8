// src/sim/dataset_generate.cpp - builds the deterministic organizations and jobs.
#include "dataset_impl.hpp"

#include <algorithm>
#include <array>
#include <chrono>

namespace dynjobs::sim::detail {
namespace {

using namespace std::chrono;

constexpr std::array<std::string_view, 20> companies{
    "contoso",   "fabrikam",   "northwind", "adventureworks", "tailspin",
    "wingtip",   "litware",    "proseware", "woodgrove",      "fourthcoffee",
    "alpineski", "blueyonder", "margies",   "wideworld",      "lucerne",
    "humongous", "coho",       "adatum",    "relecloud",      "treyresearch"};
constexpr std::array<std::string_view, 12> departments{"sales",   "prod", "uat",     "dev",
                                                       "finance", "hr",   "service", "marketing",
                                                       "ops",     "crm",  "support", "field"};

struct type_profile {
    job_type type;
    unsigned weight;            // per mille
    std::int64_t base_duration; // ms; durations span 7 octaves above it
};
// Backups dominate, as in a real tenant: a daily-or-more schedule per organization, with the
// occasional restore, retention sweep, audit backup or export.
constexpr std::array<type_profile, 6> type_profiles{{
    {job_type::backup, 760, 20'000},
    {job_type::restore, 60, 60'000},
    {job_type::dry_run, 30, 30'000},
    {job_type::retention, 80, 5'000},
    {job_type::audit_backup, 50, 10'000},
    {job_type::export_data, 20, 30'000},
}};

constexpr std::array<std::string_view, 3> modules{"Customer Engagement", "Finance and Operations",
                                                  "Power Platform"};
constexpr std::array<unsigned, 3> module_weights{920, 50, 30};

constexpr std::array<job_status, 3> final_statuses{
    job_status::finished, job_status::finished_with_exception, job_status::failed};
constexpr std::array<unsigned, 3> final_status_weights{880, 80, 40};

void put_digits(std::string& out, std::int64_t v, int width) {
    std::array<char, 20> buf{};
    for (int i = width - 1; i >= 0; --i) {
        buf[static_cast<std::size_t>(i)] = static_cast<char>('0' + v % 10);
        v /= 10;
    }
    out.append(buf.data(), static_cast<std::size_t>(width));
}

organization_id random_guid(xoshiro256ss& rng) {
    std::array<std::uint8_t, 16> bytes{};
    for (std::size_t half = 0; half < 2; ++half) {
        std::uint64_t r = rng.next();
        for (std::size_t i = 0; i < 8; ++i) {
            bytes[half * 8 + i] = static_cast<std::uint8_t>(r >> (8 * i));
        }
    }
    bytes[6] = static_cast<std::uint8_t>((bytes[6] & 0x0f) | 0x40); // version 4
    bytes[8] = static_cast<std::uint8_t>((bytes[8] & 0x3f) | 0x80); // RFC 4122 variant
    return organization_id{bytes};
}

struct counts {
    std::int64_t successful = 0, failed = 0, skipped = 0, warning = 0;
};

// Splits `total` items by final status: finished jobs mostly succeed (a few skips or warnings),
// jobs finished with exception have failures or warnings, failed jobs fail a good part.
counts split(xoshiro256ss& rng, std::int64_t total, job_status status) {
    counts c;
    auto take = [&](std::int64_t& slot, std::int64_t most) {
        const std::int64_t left = total - c.failed - c.skipped - c.warning;
        slot = std::min(left, rng.between(0, std::max<std::int64_t>(0, most)));
    };
    switch (status) {
    case job_status::finished:
        if (rng.chance(100)) {
            take(c.skipped, total / 20);
        }
        if (rng.chance(100)) {
            take(c.warning, total / 20);
        }
        break;
    case job_status::finished_with_exception:
        take(c.failed, std::max<std::int64_t>(1, total / 10));
        take(c.warning, total / 10);
        if (c.failed + c.warning == 0) {
            c.warning = 1;
        }
        break;
    case job_status::failed:
        take(c.failed, total);
        if (c.failed == 0) {
            c.failed = 1;
        }
        take(c.skipped, total / 10);
        break;
    default:
        break;
    }
    c.successful = total - c.failed - c.skipped - c.warning;
    return c;
}

job make_job(xoshiro256ss& rng, const dataset_config& config, const organization& org) {
    std::array<unsigned, type_profiles.size()> weights{};
    for (std::size_t i = 0; i < type_profiles.size(); ++i) {
        weights[i] = type_profiles[i].weight;
    }
    const type_profile& profile = type_profiles[rng.weighted(weights)];

    job j;
    j.module = modules[rng.weighted(module_weights)];
    j.type = profile.type;
    const auto span = (config.end - config.begin).count();
    // Rounding after the draw keeps the random sequence, and so every other value, unchanged.
    const auto granularity = std::max<std::int64_t>(1, config.start_time_granularity.count());
    const auto offset = static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(span)));
    j.start_time = config.begin + milliseconds{offset / granularity * granularity};
    const milliseconds duration{rng.octaves(profile.base_duration, 7)};
    const bool running = j.start_time + duration >= config.end;
    j.status =
        running ? job_status::in_progress : final_statuses[rng.weighted(final_status_weights)];
    if (!running) {
        j.finish_time = j.start_time + duration;
        j.duration_hours = static_cast<double>(duration.count()) / 3'600'000.0;
    }

    j.total_entity = rng.octaves(1, 6);
    j.total_record = j.total_entity * rng.octaves(1, 11);
    if (running) {
        // Only what is done so far is counted; the totals are what the job will process.
        j.successful_entity = rng.between(0, j.total_entity);
        j.successful_record = rng.between(0, j.total_record);
    } else {
        const counts e = split(rng, j.total_entity, j.status);
        const counts r = split(rng, j.total_record, j.status);
        j.successful_entity = e.successful;
        j.failed_entity = e.failed;
        j.skipped_entity = e.skipped;
        j.warning_entity = e.warning;
        j.successful_record = r.successful;
        j.failed_record = r.failed;
        j.skipped_record = r.skipped;
        j.warning_record = r.warning;
    }
    // Backups store records (about 200 B to 2 KB each, plus metadata); audit backups are small;
    // the other types store nothing.
    if (j.type == job_type::backup) {
        j.backup_size =
            100'000 + rng.between(0, 100'000) + j.successful_record * rng.between(200, 2'000);
    } else if (j.type == job_type::audit_backup) {
        j.backup_size = 10'000 + j.successful_record * rng.between(50, 200);
    }
    j.organization = org.id;
    j.organization_name = org.name;
    return j;
}

} // namespace

std::string_view job_id_prefix(job_type t) noexcept {
    switch (t) {
    case job_type::backup:
        return "DCIB";
    case job_type::restore:
        return "DCRS";
    case job_type::dry_run:
        return "DCDR";
    case job_type::retention:
        return "DCRT";
    case job_type::audit_backup:
        return "DCAB";
    case job_type::export_data:
        return "DCEX";
    default:
        return "DCJB";
    }
}

std::string make_job_id(std::string_view prefix, timestamp start, std::uint32_t digits) {
    const auto day = floor<days>(start);
    const year_month_day ymd{day};
    const hh_mm_ss<milliseconds> hms{start - day};
    std::string id;
    id.reserve(26);
    id.append(prefix);
    put_digits(id, static_cast<int>(ymd.year()), 4);
    put_digits(id, static_cast<unsigned>(ymd.month()), 2);
    put_digits(id, static_cast<unsigned>(ymd.day()), 2);
    put_digits(id, hms.hours().count(), 2);
    put_digits(id, hms.minutes().count(), 2);
    put_digits(id, hms.seconds().count(), 2);
    put_digits(id, hms.subseconds().count(), 3);
    put_digits(id, digits % 100'000, 5);
    return id;
}

void generate(const dataset_config& config, std::vector<organization>& orgs, std::vector<job>& jobs,
              std::unordered_set<std::string>& ids) {
    xoshiro256ss rng{config.seed};

    orgs.clear();
    std::unordered_set<std::string> names;
    std::vector<unsigned> activity; // relative job share: some organizations are much busier
    for (std::size_t i = 0; i < config.organizations; ++i) {
        organization org{random_guid(rng), {}};
        for (int attempt = 0;; ++attempt) {
            std::string name{companies[rng.below(companies.size())]};
            name += '-';
            name += departments[rng.below(departments.size())];
            if (attempt >= 8) { // name space crowded: make it unique by number
                name += '-';
                name += std::to_string(i + 1);
            }
            if (names.insert(name).second) {
                org.name = std::move(name);
                break;
            }
        }
        orgs.push_back(std::move(org));
        activity.push_back(static_cast<unsigned>(1 + rng.below(10)));
    }

    if (config.busiest_organization_factor > 0 && !activity.empty()) {
        activity.assign(activity.size(), 1);
        activity.front() = config.busiest_organization_factor;
    }

    jobs.clear();
    jobs.reserve(config.jobs);
    ids.clear();
    if (orgs.empty() || config.end <= config.begin) {
        return;
    }
    for (std::size_t i = 0; i < config.jobs; ++i) {
        job j = make_job(rng, config, orgs[rng.weighted(activity)]);
        do {
            j.job_id = make_job_id(job_id_prefix(j.type), j.start_time,
                                   static_cast<std::uint32_t>(rng.below(100'000)));
        } while (!ids.insert(j.job_id).second);
        jobs.push_back(std::move(j));
    }
    std::sort(jobs.begin(), jobs.end(), sorts_before);
}

} // namespace dynjobs::sim::detail
