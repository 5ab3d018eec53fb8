// src/sim/dataset_impl.hpp - dataset internals shared by dataset.cpp and dataset_generate.cpp.
#pragma once

#include "prng.hpp"

#include <dynjobs/sim/dataset.hpp>

#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <unordered_set>
#include <vector>

namespace dynjobs::sim::detail {

/// The dataset's order: startTime descending, then jobId descending.
inline bool sorts_before(const job& a, const job& b) noexcept {
    if (a.start_time != b.start_time) {
        return a.start_time > b.start_time;
    }
    return a.job_id > b.job_id;
}

/// The jobId prefix of a type ("DCIB" for backup, ...).
std::string_view job_id_prefix(job_type t) noexcept;

/// `prefix` + start time as yyyyMMddHHmmssfff + `digits` as 5 decimal digits (26 characters).
std::string make_job_id(std::string_view prefix, timestamp start, std::uint32_t digits);

/// Fills organizations and jobs (sorted) from the config.
void generate(const dataset_config& config, std::vector<organization>& orgs, std::vector<job>& jobs,
              std::unordered_set<std::string>& ids);

/// The values of a filter, owned, to key the match cache.
struct filter_key {
    job_type type{};
    timestamp start{};
    timestamp finish{};
    std::optional<job_status> status;
    std::optional<organization_id> organization;
    bool restricted = false;              // visible != nullptr
    std::vector<organization_id> visible; // sorted (a std::set's order)
    window_match window{};

    explicit filter_key(const filter& f);
    bool same_as(const filter& f) const;
};

struct cache_entry {
    filter_key key;
    std::vector<std::uint32_t> indices; // into jobs, in order
};

} // namespace dynjobs::sim::detail

namespace dynjobs::sim {

struct dataset::impl {
    dataset_config config;
    std::vector<organization> orgs;
    std::vector<job> jobs;
    std::unordered_set<std::string> ids; // every jobId ever used, removed ones included
    std::uint64_t version = 0;
    detail::xoshiro256ss drift_rng{0};
    // Bounds that make overlap windows searchable: no finished job lasts longer than
    // max_duration, and no running job starts before min_open_start (when any runs).
    timestamp::duration max_duration{0};
    std::optional<timestamp> min_open_start;

    // Most recently used first. Cleared on every modification.
    mutable std::mutex cache_mutex;
    mutable std::list<detail::cache_entry> cache;
    static constexpr std::size_t cache_capacity = 32;

    void update_bounds(const job& j);
    /// Indices of the matching jobs, in order, computed from scratch (binary search + scan).
    std::vector<std::uint32_t> compute_matches(const filter& f) const;
    /// Calls `use` with the indices of the jobs matching `f`: from the cache (under its lock),
    /// or computed, then cached.
    void with_matches(const filter& f,
                      const std::function<void(const std::vector<std::uint32_t>&)>& use) const;
    void modified();
};

} // namespace dynjobs::sim
