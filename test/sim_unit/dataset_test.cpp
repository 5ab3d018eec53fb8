// Tests of dynjobs::sim::dataset: determinism, realistic values, filtering, drift.
#include <dynjobs/sim/dataset.hpp>

#include "filter_builder.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <chrono>
#include <map>
#include <unordered_set>

using namespace dynjobs;
using namespace dynjobs::sim;
using dynjobs::sim::testing::flt;
using namespace std::chrono;

namespace {

dataset_config small_config(std::uint64_t seed = 7) {
    dataset_config c;
    c.seed = seed;
    c.organizations = 6;
    c.jobs = 4000;
    return c;
}

// Many jobs in few days: some of them are still running at `end`.
dataset_config dense_config() {
    dataset_config c;
    c.seed = 11;
    c.organizations = 4;
    c.jobs = 3000;
    c.begin = c.end - days{3};
    return c;
}

std::vector<job> brute_force(const dataset& d, const filter& f) {
    std::vector<job> out;
    for (const job& j : d.jobs()) {
        if (matches(f, j)) {
            out.push_back(j);
        }
    }
    return out;
}

timestamp at(int y, unsigned m, unsigned d) {
    return timestamp{sys_days{year{y} / month{m} / day{d}}};
}

} // namespace

BOOST_AUTO_TEST_SUITE(sim_dataset)

BOOST_AUTO_TEST_CASE(same_seed_same_data_other_seed_other_data) {
    const dataset a{small_config(7)}, b{small_config(7)}, c{small_config(8)};
    BOOST_TEST(a.organizations() == b.organizations());
    BOOST_TEST((a.jobs() == b.jobs()));
    BOOST_TEST(a.jobs().size() == 4000u);
    BOOST_TEST(a.organizations() != c.organizations());
    BOOST_TEST((a.jobs() != c.jobs()));
}

BOOST_AUTO_TEST_CASE(default_config_is_two_years_of_100k_jobs) {
    const dataset_config c;
    BOOST_TEST(c.seed == 42u);
    BOOST_TEST(c.jobs == 100'000u);
    BOOST_TEST(format_iso8601(c.end) == "2026-01-01T00:00:00Z");
    BOOST_TEST(format_iso8601(c.begin) == "2024-01-02T00:00:00Z"); // 730 days, 2024 is leap
    const dataset d{c};
    BOOST_TEST(d.jobs().size() == 100'000u);
    BOOST_TEST(d.organizations().size() == 20u);
}

BOOST_AUTO_TEST_CASE(a_busiest_organization_factor_skews_the_jobs_to_the_first) {
    auto config = small_config();
    config.busiest_organization_factor = 20;
    const dataset d{config};
    std::map<std::string, std::size_t> per_org;
    for (const auto& j : d.jobs())
        ++per_org[j.organization.to_string()];
    const auto busiest = per_org[d.organizations().front().id.to_string()];
    // 20 parts of 25 (4,000 jobs): about 3,200; each of the 5 others about 160.
    BOOST_TEST(busiest > 3'000u);
    BOOST_TEST(busiest < 3'400u);
    for (std::size_t i = 1; i < d.organizations().size(); ++i) {
        const auto n = per_org[d.organizations()[i].id.to_string()];
        BOOST_TEST(n > 100u);
        BOOST_TEST(n < 230u);
    }
    // The organizations are the ones of the unskewed dataset.
    BOOST_TEST(d.organizations() == dataset{small_config()}.organizations());
}

BOOST_AUTO_TEST_CASE(organizations_have_unique_v4_ids_and_names) {
    const dataset d{dataset_config{}};
    std::set<organization_id> ids;
    std::set<std::string> names;
    for (const organization& o : d.organizations()) {
        BOOST_TEST(o.id.is_guid());
        const std::string text = o.id.to_string();
        BOOST_TEST(text[14] == '4');                                         // version nibble
        BOOST_TEST(std::string{"89ab"}.find(text[19]) != std::string::npos); // variant
        BOOST_TEST(o.name.find('-') != std::string::npos, o.name);
        ids.insert(o.id);
        names.insert(o.name);
        BOOST_TEST(d.find_organization(o.id) == &o);
    }
    BOOST_TEST(ids.size() == d.organizations().size());
    BOOST_TEST(names.size() == d.organizations().size());
    BOOST_TEST(d.find_organization(organization_id{}) == nullptr);
}

BOOST_AUTO_TEST_CASE(many_organizations_still_get_unique_names) {
    dataset_config c = small_config();
    c.organizations = 400; // more than the company x department combinations
    c.jobs = 10;
    const dataset d{c};
    std::set<std::string> names;
    for (const organization& o : d.organizations()) {
        names.insert(o.name);
    }
    BOOST_TEST(names.size() == 400u);
}

BOOST_AUTO_TEST_CASE(job_ids_are_unique_and_avepoint_style) {
    const dataset d{dataset_config{}};
    std::unordered_set<std::string> ids;
    const std::map<job_type, std::string> prefix{
        {job_type::backup, "DCIB"},       {job_type::restore, "DCRS"},
        {job_type::dry_run, "DCDR"},      {job_type::retention, "DCRT"},
        {job_type::audit_backup, "DCAB"}, {job_type::export_data, "DCEX"}};
    for (const job& j : d.jobs()) {
        BOOST_TEST_REQUIRE(j.job_id.size() == 26u);
        BOOST_TEST(j.job_id.substr(0, 4) == prefix.at(j.type));
        BOOST_TEST(std::all_of(j.job_id.begin() + 4, j.job_id.end(),
                               [](char c) { return c >= '0' && c <= '9'; }));
        // yyyyMMddHHmmssfff of the start time
        std::string t = format_iso8601(j.start_time);
        if (t.size() == 20) {
            t.insert(19, ".000");
        }
        std::string digits;
        for (char c : t.substr(0, 23)) {
            if (c >= '0' && c <= '9') {
                digits += c;
            }
        }
        BOOST_TEST(j.job_id.substr(4, 17) == digits);
        ids.insert(j.job_id);
    }
    BOOST_TEST(ids.size() == d.jobs().size());
}

BOOST_AUTO_TEST_CASE(jobs_are_sorted_by_start_desc_then_id_desc) {
    const dataset d{dataset_config{}};
    const auto& jobs = d.jobs();
    for (std::size_t i = 1; i < jobs.size(); ++i) {
        const job& a = jobs[i - 1];
        const job& b = jobs[i];
        BOOST_TEST_REQUIRE(
            (a.start_time > b.start_time || (a.start_time == b.start_time && a.job_id > b.job_id)));
    }
}

BOOST_AUTO_TEST_CASE(values_are_realistic_and_consistent) {
    const dataset_config c = dense_config();
    const dataset d{c};
    std::map<job_type, std::size_t> types;
    std::map<job_status, std::size_t> statuses;
    std::size_t customer_engagement = 0;
    for (const job& j : d.jobs()) {
        ++types[j.type];
        ++statuses[j.status];
        customer_engagement += j.module == "Customer Engagement";
        BOOST_TEST_REQUIRE(!j.module.empty());
        BOOST_TEST((j.start_time >= c.begin && j.start_time < c.end));
        const organization* org = d.find_organization(j.organization);
        BOOST_TEST_REQUIRE(org != nullptr);
        BOOST_TEST(j.organization_name == org->name);
        BOOST_TEST(j.total_entity >= 1);
        BOOST_TEST(j.total_record >= j.total_entity);
        const auto entities =
            j.successful_entity + j.failed_entity + j.skipped_entity + j.warning_entity;
        const auto records =
            j.successful_record + j.failed_record + j.skipped_record + j.warning_record;
        BOOST_TEST(std::min({j.successful_entity, j.failed_entity, j.skipped_entity,
                             j.warning_entity, j.successful_record, j.failed_record,
                             j.skipped_record, j.warning_record}) >= 0);
        if (j.status == job_status::in_progress) {
            BOOST_TEST(!j.finish_time);
            BOOST_TEST(!j.duration_hours);
            BOOST_TEST(entities <= j.total_entity);
            BOOST_TEST(records <= j.total_record);
        } else {
            BOOST_TEST_REQUIRE(j.finish_time.has_value());
            BOOST_TEST_REQUIRE(j.duration_hours.has_value());
            BOOST_TEST((*j.finish_time > j.start_time));
            BOOST_TEST((*j.finish_time < c.end));
            const auto ms = (*j.finish_time - j.start_time).count();
            BOOST_TEST(*j.duration_hours == static_cast<double>(ms) / 3'600'000.0);
            BOOST_TEST(entities == j.total_entity);
            BOOST_TEST(records == j.total_record);
        }
        if (j.status == job_status::failed) {
            BOOST_TEST(j.failed_entity + j.failed_record >= 1);
        }
        if (j.status == job_status::finished_with_exception) {
            BOOST_TEST(j.failed_entity + j.warning_entity + j.failed_record + j.warning_record >=
                       1);
        }
        if (j.type == job_type::backup) {
            BOOST_TEST(j.backup_size >= 100'000);
        }
    }
    BOOST_TEST(types.size() == 6u); // every documented job type occurs
    for (const auto& [t, n] : types) {
        if (t != job_type::backup) {
            BOOST_TEST(types[job_type::backup] > 5 * n);
        }
    }
    BOOST_TEST(statuses.size() == 4u); // including some still running at `end`
    BOOST_TEST(statuses[job_status::finished] > d.jobs().size() / 2);
    BOOST_TEST(customer_engagement > d.jobs().size() * 8 / 10);
    // The running jobs are the most recent ones.
    for (std::size_t i = 0; i < d.jobs().size(); ++i) {
        if (d.jobs()[i].status == job_status::in_progress) {
            BOOST_TEST((d.jobs()[i].start_time > c.end - hours{6}));
        }
    }
}

BOOST_AUTO_TEST_CASE(select_equals_brute_force) {
    const dataset_config c = dense_config();
    const dataset d{c};
    const auto& orgs = d.organizations();
    const std::set<organization_id> visible{orgs[0].id, orgs[2].id};
    const job& probe = d.jobs()[d.jobs().size() / 2];

    std::vector<filter> filters;
    for (auto w : {window_match::start_time, window_match::overlap, window_match::finish_time,
                   window_match::ignored}) {
        filters.push_back(flt(job_type::all, c.begin, c.end, {}, {}, nullptr, w));
        filters.push_back(
            flt(job_type::backup, c.begin + hours{10}, c.end - hours{30}, {}, {}, nullptr, w));
        filters.push_back(
            flt(job_type::restore, c.begin, c.end, job_status::finished, {}, nullptr, w));
        filters.push_back(
            flt(job_type::all, c.end - hours{2}, c.end, job_status::in_progress, {}, nullptr, w));
        filters.push_back(flt(job_type::all, c.begin, c.end, {}, orgs[1].id, nullptr, w));
        filters.push_back(flt(job_type::all, c.begin, c.end, {}, {}, &visible, w));
        filters.push_back(flt(job_type::all, c.begin, c.end, {}, orgs[1].id, &visible, w));
        filters.push_back(flt(static_cast<job_type>(3), c.begin, c.end, {}, {}, nullptr, w));
        // Window edges exactly on a job's start time: inclusive at both ends.
        filters.push_back(
            flt(job_type::all, probe.start_time, probe.start_time, {}, {}, nullptr, w));
        filters.push_back(flt(job_type::all, probe.start_time, probe.start_time + minutes{5}, {},
                              {}, nullptr, w));
        filters.push_back(flt(job_type::all, at(2020, 1, 1), at(2020, 2, 1), {}, {}, nullptr, w));
        filters.push_back(flt(job_type::all, c.end, c.begin, {}, {}, nullptr, w)); // reversed
    }
    for (std::size_t i = 0; i < filters.size(); ++i) {
        BOOST_TEST_CONTEXT("filter " << i) {
            const auto expected = brute_force(d, filters[i]);
            BOOST_TEST((d.select(filters[i]) == expected));
            BOOST_TEST(d.count(filters[i]) == expected.size());
        }
    }
    // The edge filters and the main ones really select something.
    BOOST_TEST(d.count(filters[0]) == d.jobs().size());
    BOOST_TEST(d.count(filters[8]) >= 1u);
    BOOST_TEST(d.count(filters[3]) >= 1u);
    BOOST_TEST(d.count(filters[7]) == 0u); // 3 is not backup|restore
    // Overlap also finds jobs that started before the window but ran into it.
    filter late = flt(job_type::all, probe.start_time + milliseconds{1}, c.end);
    filter late_overlap = late;
    late_overlap.window = window_match::overlap;
    BOOST_TEST(d.count(late_overlap) > d.count(late));
}

BOOST_AUTO_TEST_CASE(overlap_finds_a_long_running_old_job_after_drift) {
    const dataset_config c = small_config();
    dataset d{c};
    // A job started long ago and still running overlaps every later window.
    filter old =
        flt(job_type::retention, c.begin + days{1}, c.begin + days{1}, job_status::in_progress);
    const job& inserted = d.insert_matching(old);
    const std::string id = inserted.job_id;
    filter recent =
        flt(job_type::all, c.end - days{1}, c.end, {}, {}, nullptr, window_match::overlap);
    const auto found = d.select(recent);
    BOOST_TEST(
        std::any_of(found.begin(), found.end(), [&](const job& j) { return j.job_id == id; }));
    BOOST_TEST((found == brute_force(d, recent)));
}

BOOST_AUTO_TEST_CASE(page_serves_slices_of_select) {
    const dataset d{small_config()};
    const filter f = flt(job_type::backup, d.config().begin, d.config().end);
    const auto all = d.select(f);
    for (std::size_t offset :
         {std::size_t{0}, std::size_t{7}, all.size() - 3, all.size(), all.size() + 10}) {
        const page_view p = d.page(f, offset, 10);
        BOOST_TEST(p.total == all.size());
        BOOST_TEST(p.jobs.size() ==
                   std::min<std::size_t>(10, all.size() - std::min(offset, all.size())));
        for (std::size_t i = 0; i < p.jobs.size(); ++i) {
            BOOST_TEST((*p.jobs[i] == all[offset + i]));
        }
    }
}

BOOST_AUTO_TEST_CASE(insert_matching_puts_a_new_job_first) {
    dataset d{small_config()};
    const auto& orgs = d.organizations();
    const std::set<organization_id> visible{orgs[3].id};
    const filter filters[] = {
        flt(job_type::all, d.config().begin, d.config().end),
        flt(job_type::restore, d.config().begin + days{100}, d.config().begin + days{120},
            job_status::failed),
        flt(job_type::all, d.config().begin, d.config().end, {}, {}, &visible),
        flt(job_type::audit_backup, d.config().begin, d.config().end, job_status::in_progress,
            orgs[2].id, nullptr, window_match::overlap),
        flt(job_type::all, timestamp{sys_days{year{2030} / 1 / 1}},
            timestamp{sys_days{year{2030} / 2 / 1}}),
    };
    for (const filter& f : filters) {
        const auto before = d.select(f);
        const auto version = d.version();
        const job inserted = d.insert_matching(f);
        BOOST_TEST(matches(f, inserted));
        BOOST_TEST(d.version() == version + 1);
        const auto after = d.select(f);
        BOOST_TEST_REQUIRE(after.size() == before.size() + 1);
        BOOST_TEST((after.front() == inserted));
        BOOST_TEST((std::vector<job>(after.begin() + 1, after.end()) == before));
        BOOST_TEST(inserted.job_id.size() == 26u);
        BOOST_TEST(std::count_if(d.jobs().begin(), d.jobs().end(),
                                 [&](const job& j) { return j.job_id == inserted.job_id; }) == 1);
        BOOST_TEST(d.page(f, 0, 1).jobs.front()->job_id == inserted.job_id); // cache refreshed
    }
}

BOOST_AUTO_TEST_CASE(insert_matching_at_the_window_end_breaks_the_tie_by_job_id) {
    dataset d{small_config()};
    const job newest = d.jobs().front();
    // The window ends exactly at the newest job's start: the new job must share that start time.
    const filter f = flt(newest.type, newest.start_time - hours{1}, newest.start_time);
    const job inserted = d.insert_matching(f);
    BOOST_TEST((inserted.start_time == newest.start_time));
    BOOST_TEST(inserted.job_id > newest.job_id);
    BOOST_TEST((d.select(f).front() == inserted));
}

BOOST_AUTO_TEST_CASE(remove_first_matching_takes_the_first) {
    dataset d{small_config()};
    const filter f = flt(job_type::backup, d.config().begin + days{10}, d.config().begin + days{40},
                         job_status::finished);
    const auto before = d.select(f);
    d.page(f, 0, 5); // fill the cache: removal must invalidate it
    const auto removed = d.remove_first_matching(f);
    BOOST_TEST_REQUIRE(removed.has_value());
    BOOST_TEST((*removed == before.front()));
    const auto after = d.select(f);
    BOOST_TEST((after == std::vector<job>(before.begin() + 1, before.end())));
    BOOST_TEST(d.page(f, 0, 5).total == before.size() - 1);
    BOOST_TEST((*d.page(f, 0, 5).jobs.front() == before[1]));

    const filter none = flt(job_type::all, at(2030, 1, 1), at(2030, 1, 2));
    BOOST_TEST(!d.remove_first_matching(none).has_value());
}

BOOST_AUTO_TEST_CASE(partial_aggregate_filters_default_the_rest) {
    // Compiled with -Wextra: brace-initialising only the leading members must not warn.
    const filter f{job_type::backup, timestamp{}, timestamp{hours{1}}};
    BOOST_TEST(!f.status.has_value());
    BOOST_TEST(!f.organization.has_value());
    BOOST_TEST(f.visible == nullptr);
    BOOST_TEST((f.window == window_match::start_time));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(dataset_clock)

// Half a day of jobs: many still run at `end`.
dataset_config busy_half_day() {
    dataset_config c;
    c.organizations = 4;
    c.jobs = 2000;
    c.begin = c.end - hours(12);
    return c;
}

BOOST_AUTO_TEST_CASE(running_jobs_finish_when_their_time_comes_and_stay_in_place) {
    dataset d(busy_half_day());
    const auto before = d.jobs();
    const auto running = std::count_if(before.begin(), before.end(), [](const job& j) {
        return j.status == job_status::in_progress;
    });
    BOOST_TEST_REQUIRE(running > 10);
    const timestamp end = d.config().end;

    // An hour on, some have finished; six hours and a minute on, all have.
    const auto first = d.finish_running(end + hours(1));
    BOOST_TEST(!first.empty());
    BOOST_TEST(static_cast<long>(first.size()) < running);
    const auto second = d.finish_running(end + hours(6) + minutes(1));
    BOOST_TEST(static_cast<long>(first.size() + second.size()) == running);
    BOOST_TEST(d.finish_running(end + hours(100)).empty());

    std::map<std::string, job> changed;
    for (const auto& list : {first, second})
        for (const auto& j : list)
            changed.emplace(j.job_id, j);
    BOOST_TEST_REQUIRE(d.jobs().size() == before.size());
    for (std::size_t i = 0; i < before.size(); ++i) {
        const job& was = before[i];
        const job& now = d.jobs()[i];
        BOOST_TEST(now.job_id == was.job_id); // same order
        BOOST_TEST((now.start_time == was.start_time));
        if (was.status != job_status::in_progress) {
            BOOST_TEST((now == was));
            continue;
        }
        BOOST_TEST(changed.count(now.job_id) == 1u);
        BOOST_TEST((now.status == job_status::finished || now.status == job_status::failed));
        BOOST_TEST_REQUIRE(now.finish_time.has_value());
        BOOST_TEST((*now.finish_time > now.start_time));
        BOOST_TEST((*now.finish_time <= end + hours(6) + minutes(1)));
        BOOST_TEST(now.successful_entity + now.failed_entity == now.total_entity);
    }
}

BOOST_AUTO_TEST_CASE(a_finished_job_matches_the_windows_and_statuses_it_now_has) {
    dataset d(busy_half_day());
    const auto done = d.finish_running(d.config().end + hours(7));
    BOOST_TEST_REQUIRE(!done.empty());
    const auto& j = done.front();
    const auto by_status = d.select(flt(job_type::all, j.start_time, j.start_time, j.status));
    BOOST_TEST(std::count_if(by_status.begin(), by_status.end(),
                             [&](const job& x) { return x.job_id == j.job_id; }) == 1);
    const auto c = d.config();
    BOOST_TEST(d.select(flt(job_type::all, c.begin, c.end, job_status::in_progress)).empty());
}

BOOST_AUTO_TEST_SUITE_END()
