// Tests of dynjobs::sim::fault_plan: names, the rule parser, schedules and random decisions.
#include "sim/fault_plan.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <chrono>

using namespace dynjobs::sim;
using namespace std::chrono;

namespace {

constexpr std::string_view jobs = "/dynamicsbackup/jobs";
constexpr std::string_view token = "/connect/token";

fault_rule rule_of(std::string_view text) {
    std::string error;
    auto r = parse_fault_rule(text, error);
    BOOST_TEST_REQUIRE(r.has_value(), text << ": " << error);
    BOOST_TEST(error.empty());
    return *r;
}

fault_kind page(fault_plan& plan, std::int64_t index, std::string_view client = "app") {
    return plan.decide({jobs, index, client});
}

} // namespace

BOOST_AUTO_TEST_SUITE(sim_fault_plan)

BOOST_AUTO_TEST_CASE(kind_names_round_trip) {
    BOOST_TEST(all_fault_kinds().size() == 17u);
    for (fault_kind k : all_fault_kinds()) {
        BOOST_TEST((parse_fault_kind(to_string(k)) == k));
    }
    BOOST_TEST((parse_fault_kind("none") == fault_kind::none));
    BOOST_TEST((parse_fault_kind("429-frac") == fault_kind::throttle_429_fractional));
    BOOST_TEST((parse_fault_kind("DRIFT-INSERT") == fault_kind::drift_insert));
    BOOST_TEST(to_string(fault_kind::close_before_response) == "close");
    BOOST_TEST(!parse_fault_kind("430").has_value());
    BOOST_TEST(!parse_fault_kind("").has_value());
}

BOOST_AUTO_TEST_CASE(server_quirks_are_named_but_not_drawn_by_default) {
    const std::vector<std::pair<fault_kind, std::string_view>> quirks{
        {fault_kind::close_after_response, "close-after"},
        {fault_kind::no_jobs_body, "no-jobs"},
        {fault_kind::repeat_link, "repeat-link"},
        {fault_kind::bad_link, "bad-link"},
        {fault_kind::huge_total, "huge-total"},
        {fault_kind::short_page, "short-page"},
        {fault_kind::html_body, "html"},
        {fault_kind::corrupt_gzip, "corrupt-gzip"},
        {fault_kind::truncated_gzip, "truncated-gzip"}};
    const fault_config defaults;
    BOOST_TEST_REQUIRE(server_quirk_fault_kinds().size() == quirks.size());
    for (std::size_t i = 0; i < quirks.size(); ++i) {
        const auto [kind, name] = quirks[i];
        BOOST_TEST((server_quirk_fault_kinds()[i] == kind));
        BOOST_TEST(to_string(kind) == name);
        BOOST_TEST((parse_fault_kind(name) == kind));
        BOOST_TEST((rule_of(std::string{"page=2:"} + std::string{name}).kind == kind));
        // The default random pool (and so every existing --fault-rate run) is unchanged.
        BOOST_TEST(std::count(all_fault_kinds().begin(), all_fault_kinds().end(), kind) == 0);
        BOOST_TEST(std::count(defaults.kinds.begin(), defaults.kinds.end(), kind) == 0);
    }
    // Listed in the pool, they are drawn like any other kind.
    fault_config cfg;
    cfg.rate = 1;
    cfg.kinds = server_quirk_fault_kinds();
    fault_plan plan{cfg};
    for (int i = 0; i < 500; ++i) {
        page(plan, i % 20 + 1);
    }
    BOOST_TEST(plan.counts().size() == quirks.size());
}

BOOST_AUTO_TEST_CASE(rules_parse) {
    fault_rule r = rule_of("503");
    BOOST_TEST((r.kind == fault_kind::error_503));
    BOOST_TEST(!r.page_index.has_value());
    BOOST_TEST(r.nth == 1u);
    BOOST_TEST(r.times == 1u);

    r = rule_of("page=7,nth=3:503");
    BOOST_TEST(*r.page_index == 7);
    BOOST_TEST(r.nth == 3u);

    r = rule_of("path=/connect/token,nth=2,times=3:500");
    BOOST_TEST(*r.path == "/connect/token");
    BOOST_TEST(r.nth == 2u);
    BOOST_TEST(r.times == 3u);
    BOOST_TEST((r.kind == fault_kind::error_500));

    r = rule_of("Page=2,client=app-1,times=0:Drift-Insert");
    BOOST_TEST(*r.page_index == 2);
    BOOST_TEST(*r.client == "app-1");
    BOOST_TEST(r.times == 0u);
    BOOST_TEST((r.kind == fault_kind::drift_insert));

    for (const char* text :
         {"503", "page=7,nth=3:503", "nth=2,times=0,path=/x,client=c:trickle", "page=1:429-date"}) {
        BOOST_TEST(to_string(rule_of(to_string(rule_of(text)))) == to_string(rule_of(text)));
        BOOST_TEST((rule_of(to_string(rule_of(text))) == rule_of(text)));
    }
    BOOST_TEST(to_string(rule_of("nth=3,page=7:503")) == "page=7,nth=3:503");
}

BOOST_AUTO_TEST_CASE(bad_rules_name_the_bad_part) {
    const std::pair<const char*, const char*> cases[] = {
        {"", "unknown fault kind"},
        {"page=7:", "unknown fault kind"},
        {"page=7:430", "430"},
        {"page=x:503", "page: 'x'"},
        {"page=0:503", "page: '0'"},
        {"page=:503", "page: ''"},
        {"nth=0:503", "nth: '0'"},
        {"times=-1:503", "times: '-1'"},
        {"path=connect/token:500", "path: 'connect/token'"},
        {"client=:500", "client"},
        {"foo=1:503", "foo: unknown key"},
        {"page=1,page=2:503", "page: given more than once"},
        {"page7:503", "page7: expected key=value"},
        {"page=1,:503", "expected key=value"},
    };
    for (const auto& [text, part] : cases) {
        std::string error;
        BOOST_TEST(!parse_fault_rule(text, error).has_value(), text);
        BOOST_TEST(error.find(part) != std::string::npos, text << " -> " << error);
        BOOST_TEST(error.find(std::string{"fault rule '"} + text + "'") == 0u, error);
    }
}

BOOST_AUTO_TEST_CASE(the_nth_request_for_a_page_gets_the_fault) {
    fault_config cfg;
    cfg.schedule = {rule_of("page=7,nth=3:503")};
    fault_plan plan{cfg};
    BOOST_TEST((page(plan, 7) == fault_kind::none));
    BOOST_TEST((page(plan, 6) == fault_kind::none)); // other pages do not count
    BOOST_TEST((page(plan, 7) == fault_kind::none));
    BOOST_TEST((plan.decide({token, std::nullopt, "app"}) == fault_kind::none));
    BOOST_TEST((page(plan, 7) == fault_kind::error_503));
    BOOST_TEST((page(plan, 7) == fault_kind::none)); // once only
    BOOST_TEST((page(plan, 8) == fault_kind::none));
    BOOST_TEST(plan.counts().at(fault_kind::error_503) == 1u);
    BOOST_TEST(plan.counts().size() == 1u);
}

BOOST_AUTO_TEST_CASE(times_path_and_client_criteria) {
    fault_config cfg;
    cfg.schedule = {rule_of("path=/connect/token,nth=2,times=2:500"),
                    rule_of("client=other,times=0:429"), rule_of("page=1,nth=2:close")};
    fault_plan plan{cfg};
    const request_facts tok{token, std::nullopt, "app"};
    BOOST_TEST((plan.decide(tok) == fault_kind::none));
    BOOST_TEST((plan.decide(tok) == fault_kind::error_500));
    BOOST_TEST((plan.decide(tok) == fault_kind::error_500));
    BOOST_TEST((plan.decide(tok) == fault_kind::none));
    for (int i = 0; i < 3; ++i) {
        BOOST_TEST((page(plan, 5, "other") == fault_kind::throttle_429)); // forever
    }
    BOOST_TEST((page(plan, 1) == fault_kind::none));
    // The 2nd request for page 1 comes from "other": the first matching rule wins, and the
    // page rule still counted it, so it does not fire on the 3rd.
    BOOST_TEST((page(plan, 1, "other") == fault_kind::throttle_429));
    BOOST_TEST((page(plan, 1) == fault_kind::none));
}

BOOST_AUTO_TEST_CASE(added_rules_count_from_when_they_are_added) {
    fault_config cfg;
    cfg.schedule = {rule_of("page=1,nth=3:500")};
    fault_plan plan{cfg};
    BOOST_TEST((page(plan, 1) == fault_kind::none));
    BOOST_TEST((page(plan, 1) == fault_kind::none));
    plan.add_rule(rule_of("page=1,nth=2:502"));
    BOOST_TEST((page(plan, 1) == fault_kind::error_500)); // 3rd for the old rule
    BOOST_TEST((page(plan, 1) == fault_kind::error_502)); // 2nd for the new one
    BOOST_TEST(plan.config().schedule.size() == 2u);
}

BOOST_AUTO_TEST_CASE(random_faults_are_deterministic) {
    fault_config cfg;
    cfg.seed = 99;
    cfg.rate = 0.3;
    fault_plan a{cfg}, b{cfg};
    std::size_t faults = 0;
    std::vector<fault_kind> seq;
    for (int i = 0; i < 10'000; ++i) {
        const fault_kind k = page(a, i % 50 + 1);
        BOOST_TEST_REQUIRE((k == page(b, i % 50 + 1)));
        faults += k != fault_kind::none;
        seq.push_back(k);
    }
    BOOST_TEST(faults > 2'500u);
    BOOST_TEST(faults < 3'500u);
    BOOST_TEST(a.counts().size() == all_fault_kinds().size()); // every kind drawn

    // Another seed decides differently.
    cfg.seed = 100;
    fault_plan c{cfg};
    std::size_t differ = 0;
    for (int i = 0; i < 1000; ++i) {
        differ += page(c, i % 50 + 1) != seq[static_cast<std::size_t>(i)];
    }
    BOOST_TEST(differ > 100u);
}

BOOST_AUTO_TEST_CASE(random_decisions_do_not_depend_on_interleaving) {
    fault_config cfg;
    cfg.rate = 0.5;
    fault_plan forward{cfg}, backward{cfg};
    std::vector<std::vector<fault_kind>> f(10), b(10);
    for (int round = 0; round < 5; ++round) {
        for (int p = 1; p <= 10; ++p) {
            f[static_cast<std::size_t>(p - 1)].push_back(page(forward, p));
        }
        for (int p = 10; p >= 1; --p) {
            b[static_cast<std::size_t>(p - 1)].push_back(page(backward, p));
            backward.decide({token, std::nullopt, "app"}); // token traffic in between
        }
    }
    BOOST_TEST((f == b));
}

BOOST_AUTO_TEST_CASE(random_faults_respect_path_and_pool) {
    fault_config cfg;
    cfg.rate = 1;
    cfg.kinds = {fault_kind::error_502, fault_kind::trickle_body};
    fault_plan plan{cfg};
    for (int i = 0; i < 200; ++i) {
        BOOST_TEST((plan.decide({token, std::nullopt, "app"}) == fault_kind::none));
        const fault_kind k = page(plan, 1);
        BOOST_TEST((k == fault_kind::error_502 || k == fault_kind::trickle_body));
    }
    BOOST_TEST(plan.counts().size() == 2u);

    cfg.random_path.clear(); // every path
    fault_plan everywhere{cfg};
    BOOST_TEST((everywhere.decide({token, std::nullopt, "app"}) != fault_kind::none));

    // Scheduled faults win over random ones.
    cfg.schedule = {rule_of("page=3:504")};
    fault_plan both{cfg};
    BOOST_TEST((page(both, 3) == fault_kind::error_504));

    fault_plan off{fault_config{}};
    for (int i = 0; i < 100; ++i) {
        BOOST_TEST((page(off, i) == fault_kind::none));
    }
}

BOOST_AUTO_TEST_CASE(retry_after_values) {
    fault_config cfg;
    cfg.retry_after_seconds = 2;
    const system_clock::time_point now = sys_seconds{seconds{784'111'777}} + milliseconds{300};
    BOOST_TEST(format_http_date(sys_seconds{seconds{784'111'777}}) ==
               "Sun, 06 Nov 1994 08:49:37 GMT");
    BOOST_TEST(*retry_after_value(fault_kind::throttle_429, cfg, now) == "2");
    BOOST_TEST(*retry_after_value(fault_kind::error_503, cfg, now) == "2");
    BOOST_TEST(*retry_after_value(fault_kind::throttle_429_fractional, cfg, now) == "2.5");
    BOOST_TEST(*retry_after_value(fault_kind::throttle_429_http_date, cfg, now) ==
               "Sun, 06 Nov 1994 08:49:40 GMT"); // rounded up, never less than 2 s away
    BOOST_TEST(!retry_after_value(fault_kind::throttle_429_no_retry_after, cfg, now));
    BOOST_TEST(!retry_after_value(fault_kind::error_500, cfg, now));
    BOOST_TEST(format_http_date(sys_days{std::chrono::year{2026} / 2 / 28}) ==
               "Sat, 28 Feb 2026 00:00:00 GMT");
}

BOOST_AUTO_TEST_SUITE_END()
