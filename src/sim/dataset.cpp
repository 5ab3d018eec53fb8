// src/sim/dataset.cpp - queries over the dataset, the match cache, and drift.
#include "dataset_impl.hpp"

#include <algorithm>
#include <functional>
#include <limits>

namespace dynjobs::sim {

bool matches(const filter& f, const job& j) noexcept {
    if (f.type != job_type::all && j.type != f.type) {
        return false;
    }
    if (f.status && j.status != *f.status) {
        return false;
    }
    if (f.organization && j.organization != *f.organization) {
        return false;
    }
    if (f.visible && !f.visible->contains(j.organization)) {
        return false;
    }
    switch (f.window) {
    case window_match::start_time:
        return f.start <= j.start_time && j.start_time <= f.finish;
    case window_match::overlap:
        return f.start <= f.finish && j.start_time <= f.finish &&
               (!j.finish_time || *j.finish_time >= f.start);
    case window_match::finish_time:
        return j.finish_time && f.start <= *j.finish_time && *j.finish_time <= f.finish;
    case window_match::ignored:
        return true;
    }
    return false;
}

namespace detail {

filter_key::filter_key(const filter& f)
    : type(f.type)
    , start(f.start)
    , finish(f.finish)
    , status(f.status)
    , organization(f.organization)
    , restricted(f.visible != nullptr)
    , window(f.window) {
    if (f.visible) {
        visible.assign(f.visible->begin(), f.visible->end());
    }
}

bool filter_key::same_as(const filter& f) const {
    return type == f.type && start == f.start && finish == f.finish && status == f.status &&
           organization == f.organization && window == f.window &&
           restricted == (f.visible != nullptr) &&
           (!f.visible ||
            std::equal(visible.begin(), visible.end(), f.visible->begin(), f.visible->end()));
}

} // namespace detail

void dataset::impl::update_bounds(const job& j) {
    if (j.finish_time) {
        max_duration = std::max(max_duration, *j.finish_time - j.start_time);
    } else if (!min_open_start || j.start_time < *min_open_start) {
        min_open_start = j.start_time;
    }
}

std::vector<std::uint32_t> dataset::impl::compute_matches(const filter& f) const {
    std::vector<std::uint32_t> out;
    auto first = jobs.begin(), last = jobs.end();
    if (f.window != window_match::ignored) {
        if (f.start > f.finish) {
            return out;
        }
        // Jobs are sorted by startTime descending: the candidates are one contiguous run, from
        // the first job starting at or before `finish` (no job starts after it finishes) to the
        // last starting at or after `lowest`.
        timestamp lowest = f.start;
        if (f.window != window_match::start_time) {
            // A finished job overlapping the window, or finishing in it, started at most
            // max_duration before it.
            lowest = f.start - max_duration;
        }
        if (f.window == window_match::overlap && min_open_start && *min_open_start < lowest) {
            // A running one may have started any time, but none started before min_open_start.
            lowest = *min_open_start;
        }
        first = std::partition_point(jobs.begin(), jobs.end(),
                                     [&](const job& j) { return j.start_time > f.finish; });
        last = std::partition_point(first, jobs.end(),
                                    [&](const job& j) { return j.start_time >= lowest; });
    }
    for (auto it = first; it != last; ++it) {
        if (matches(f, *it)) {
            out.push_back(static_cast<std::uint32_t>(it - jobs.begin()));
        }
    }
    return out;
}

void dataset::impl::modified() {
    ++version;
    const std::lock_guard lock{cache_mutex};
    cache.clear();
}

dataset::dataset(const dataset_config& config)
    : impl_(std::make_unique<impl>()) {
    impl_->config = config;
    impl_->drift_rng = detail::xoshiro256ss{detail::mix64(config.seed ^ 0x64726966742d6964ULL)};
    detail::generate(config, impl_->orgs, impl_->jobs, impl_->ids);
    for (const job& j : impl_->jobs) {
        impl_->update_bounds(j);
    }
}

dataset::~dataset() = default;
dataset::dataset(dataset&&) noexcept = default;
dataset& dataset::operator=(dataset&&) noexcept = default;

const dataset_config& dataset::config() const noexcept {
    return impl_->config;
}
const std::vector<organization>& dataset::organizations() const noexcept {
    return impl_->orgs;
}
const std::vector<job>& dataset::jobs() const noexcept {
    return impl_->jobs;
}
std::uint64_t dataset::version() const noexcept {
    return impl_->version;
}

const organization* dataset::find_organization(const organization_id& id) const noexcept {
    for (const organization& o : impl_->orgs) {
        if (o.id == id) {
            return &o;
        }
    }
    return nullptr;
}

void dataset::impl::with_matches(
    const filter& f, const std::function<void(const std::vector<std::uint32_t>&)>& use) const {
    {
        const std::lock_guard lock{cache_mutex};
        for (auto it = cache.begin(); it != cache.end(); ++it) {
            if (it->key.same_as(f)) {
                cache.splice(cache.begin(), cache, it); // most recently used first
                use(cache.front().indices);
                return;
            }
        }
    }
    // Scan without holding the lock, so other filters' pages are served meanwhile.
    std::vector<std::uint32_t> indices = compute_matches(f);
    use(indices);
    const std::lock_guard lock{cache_mutex};
    if (std::none_of(cache.begin(), cache.end(),
                     [&](const detail::cache_entry& e) { return e.key.same_as(f); })) {
        cache.push_front(detail::cache_entry{detail::filter_key{f}, std::move(indices)});
        if (cache.size() > cache_capacity) {
            cache.pop_back();
        }
    }
}

page_view dataset::page(const filter& f, std::size_t offset, std::size_t limit) const {
    page_view out;
    impl_->with_matches(f, [&](const std::vector<std::uint32_t>& indices) {
        out.total = indices.size();
        if (offset < indices.size()) {
            const std::size_t n = std::min(limit, indices.size() - offset);
            out.jobs.reserve(n);
            for (std::size_t i = offset; i < offset + n; ++i) {
                out.jobs.push_back(&impl_->jobs[indices[i]]);
            }
        }
    });
    return out;
}

page_view dataset::page_with_ties(const filter& f, std::size_t offset, std::size_t limit,
                                  std::uint64_t tie_seed) const {
    page_view out;
    const auto& jobs = impl_->jobs;
    impl_->with_matches(f, [&](const std::vector<std::uint32_t>& indices) {
        out.total = indices.size();
        if (offset >= indices.size() || limit == 0) {
            return;
        }
        const std::size_t end = std::min(indices.size(), offset + limit);
        const auto start_of = [&](std::size_t i) { return jobs[indices[i]].start_time; };
        // Only jobs of a group of equal startTime trade places, so the page is cut from its own
        // jobs plus the groups straddling its two ends.
        std::size_t lo = offset;
        while (lo > 0 && start_of(lo - 1) == start_of(offset)) {
            --lo;
        }
        std::size_t hi = end;
        while (hi < indices.size() && start_of(hi) == start_of(end - 1)) {
            ++hi;
        }
        std::vector<std::uint32_t> order(indices.begin() + static_cast<std::ptrdiff_t>(lo),
                                         indices.begin() + static_cast<std::ptrdiff_t>(hi));
        const std::uint64_t salt = detail::mix64(tie_seed);
        const auto rank = [&](std::uint32_t i) {
            return detail::mix64(salt ^ detail::fnv1a(jobs[i].job_id));
        };
        std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
            if (jobs[a].start_time != jobs[b].start_time) {
                return jobs[a].start_time > jobs[b].start_time;
            }
            const auto ra = rank(a), rb = rank(b);
            return ra != rb ? ra < rb : jobs[a].job_id > jobs[b].job_id;
        });
        out.jobs.reserve(end - offset);
        for (std::size_t i = offset; i < end; ++i) {
            out.jobs.push_back(&jobs[order[i - lo]]);
        }
    });
    return out;
}

std::size_t dataset::count(const filter& f) const {
    return page(f, 0, 0).total;
}

std::vector<job> dataset::select(const filter& f) const {
    std::vector<job> out;
    for (std::uint32_t i : impl_->compute_matches(f)) {
        out.push_back(impl_->jobs[i]);
    }
    return out;
}

const job& dataset::insert_matching(const filter& f) {
    auto& d = *impl_;
    const std::vector<std::uint32_t> current = d.compute_matches(f);
    const job* front = current.empty() ? nullptr : &d.jobs[current.front()];

    job j;
    j.module = "Customer Engagement";
    j.type = f.type == job_type::all ? job_type::backup : f.type;
    j.status = f.status.value_or(job_status::finished);
    if (f.organization) {
        j.organization = *f.organization;
    } else {
        const auto visible = std::find_if(d.orgs.begin(), d.orgs.end(), [&](const organization& o) {
            return !f.visible || f.visible->contains(o.id);
        });
        if (visible != d.orgs.end()) {
            j.organization = visible->id;
        } else if (f.visible && !f.visible->empty()) {
            j.organization = *f.visible->begin();
        } else if (!d.orgs.empty()) {
            j.organization = d.orgs.front().id;
        }
    }
    const organization* org = find_organization(j.organization);
    j.organization_name = org ? org->name : "drift-org";

    constexpr timestamp::duration one_ms{1};
    timestamp::duration duration{0};
    if (j.status != job_status::in_progress) {
        duration = timestamp::duration{d.drift_rng.octaves(20'000, 5)};
    }
    if (f.window == window_match::finish_time && j.status != job_status::in_progress) {
        // Newest by start time among the matches, then finishing inside the window. A match
        // finishes by f.finish, after it started: front->start_time <= latest_start.
        const timestamp latest_start = f.finish - one_ms;
        j.start_time = front ? std::min(front->start_time + one_ms, latest_start) : latest_start;
        duration =
            std::clamp(duration, std::max(one_ms, f.start - j.start_time), f.finish - j.start_time);
    } else if (f.window == window_match::ignored) {
        // Any start time matches: just the newest of all.
        j.start_time = front ? front->start_time + one_ms : f.finish;
    } else {
        // Newest within the window: 1 ms after the current first match, else at its end.
        j.start_time = f.finish;
        if (front && front->start_time < f.finish && front->start_time + one_ms >= f.start) {
            j.start_time = front->start_time + one_ms;
        }
    }
    if (j.status != job_status::in_progress) {
        j.finish_time = j.start_time + duration;
        j.duration_hours = static_cast<double>(duration.count()) / 3'600'000.0;
    }
    j.total_entity = d.drift_rng.octaves(1, 4);
    j.total_record = j.total_entity * d.drift_rng.octaves(1, 8);
    j.successful_entity = j.total_entity;
    j.successful_record = j.total_record;
    if (j.status == job_status::failed || j.status == job_status::finished_with_exception) {
        j.successful_entity -= 1;
        j.failed_entity = 1;
    } else if (j.status == job_status::in_progress) {
        j.successful_entity = 0;
        j.successful_record = 0;
    }
    if (j.type == job_type::backup) {
        j.backup_size = 100'000 + j.successful_record * 1'000;
    }

    const std::string_view prefix = detail::job_id_prefix(j.type);
    const bool tie = front && front->start_time == j.start_time;
    if (tie) {
        // Same start time as the current first match: take the largest free id, which sorts
        // first unless the front's prefix is larger than ours (the documented edge case).
        for (std::uint32_t digits = 99'999;; --digits) {
            j.job_id = detail::make_job_id(prefix, j.start_time, digits);
            if (!d.ids.contains(j.job_id) || digits == 0) {
                break;
            }
        }
    }
    while (j.job_id.empty() || d.ids.contains(j.job_id)) {
        j.job_id = detail::make_job_id(prefix, j.start_time,
                                       static_cast<std::uint32_t>(d.drift_rng.below(100'000)));
    }
    d.ids.insert(j.job_id);
    d.update_bounds(j);
    const auto pos = std::lower_bound(d.jobs.begin(), d.jobs.end(), j, detail::sorts_before);
    const auto it = d.jobs.insert(pos, std::move(j));
    d.modified();
    return *it;
}

std::optional<job> dataset::remove_first_matching(const filter& f) {
    auto& d = *impl_;
    const std::vector<std::uint32_t> current = d.compute_matches(f);
    if (current.empty()) {
        return std::nullopt;
    }
    const auto it = d.jobs.begin() + current.front();
    job removed = std::move(*it);
    d.jobs.erase(it);
    // The id stays in `ids`: a removed job's id is never reused. The overlap bounds stay valid
    // (they are bounds, not exact values).
    d.modified();
    return removed;
}

namespace {

// FNV-1a: the same value on every platform, so a job's fate is reproducible.
std::uint64_t stable_hash(std::string_view text) noexcept {
    std::uint64_t h = 14695981039346656037ull;
    for (unsigned char c : text)
        h = (h ^ c) * 1099511628211ull;
    return h;
}

} // namespace

std::vector<job> dataset::finish_running(timestamp now) {
    auto& d = *impl_;
    std::vector<job> finished;
    for (job& j : d.jobs) {
        if (j.status != job_status::in_progress)
            continue;
        const std::uint64_t h = stable_hash(j.job_id);
        const timestamp::duration run =
            std::chrono::minutes(1) + timestamp::duration{h % 21'540'000};
        if (j.start_time + run > now)
            continue;
        j.finish_time = j.start_time + run;
        j.duration_hours = static_cast<double>(run.count()) / 3'600'000.0;
        j.status = (h >> 32) % 10 == 0 ? job_status::failed : job_status::finished;
        j.successful_entity = j.total_entity;
        j.successful_record = j.total_record;
        j.skipped_entity = j.warning_entity = j.skipped_record = j.warning_record = 0;
        j.failed_entity = j.failed_record = 0;
        if (j.status == job_status::failed) {
            j.successful_entity = std::max<std::int64_t>(0, j.total_entity - 1);
            j.failed_entity = j.total_entity - j.successful_entity;
        }
        if (j.type == job_type::backup)
            j.backup_size = 100'000 + j.successful_record * 1'000;
        d.update_bounds(j);
        finished.push_back(j);
    }
    if (!finished.empty())
        d.modified();
    return finished;
}

} // namespace dynjobs::sim
