// Tests of dynjobs::sim::jobs_endpoint: validation, paging, next links, page size, drift.
#include <dynjobs/job_encoder.hpp>

#include "filter_builder.hpp"
#include "sim/jobs_endpoint.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>

namespace json = boost::json;
using namespace dynjobs;
using namespace dynjobs::sim;
using dynjobs::sim::testing::flt;
using namespace std::chrono;

namespace {

constexpr std::string_view base = "https://127.0.0.1:8443";

dataset make_data() {
    dataset_config c;
    c.seed = 3;
    c.organizations = 5;
    c.jobs = 3000;
    c.begin = c.end - days{60};
    return dataset{c};
}

// A valid query over the whole dataset; tests append or replace parameters.
const std::string all_window = "startTime=2025-11-02T00:00:00Z&finishTime=2026-01-01T00:00:00Z";

json::object body_of(const http_reply& r) {
    BOOST_TEST_REQUIRE(!r.body.empty());
    return json::parse(r.body).as_object();
}

// The 400 names `param` in errors and in the message.
void expect_400(jobs_endpoint& ep, const std::string& query, const std::string& param) {
    BOOST_TEST_CONTEXT("query " << query) {
        const http_reply r = ep.handle("/dynamicsbackup/jobs?" + query, nullptr, base);
        BOOST_TEST(r.status == 400u);
        const json::object b = body_of(r);
        BOOST_TEST(b.at("statusCode").as_int64() == 400);
        BOOST_TEST(b.at("errors").as_object().contains(param));
        BOOST_TEST(std::string{b.at("message").as_string()}.find(param) != std::string::npos);
        BOOST_TEST(organization_id::parse(b.at("requestId").as_string()).has_value());
        BOOST_TEST(b.at("traceId").as_string().size() == 55u);
    }
}

std::vector<std::string> ids_of(const json::object& body) {
    std::vector<std::string> ids;
    for (const auto& j : body.at("jobs").as_array()) {
        ids.emplace_back(j.at("jobId").as_string());
    }
    return ids;
}

// Walks every page of `query` with `page_size` and checks it against select(f).
void expect_pages_concatenate(jobs_endpoint& ep, const std::string& query, const filter& f,
                              int page_size, const std::set<organization_id>* visible = nullptr) {
    const auto expected = ep.data().select(f);
    std::vector<json::value> got;
    for (int page = 1;; ++page) {
        const std::string target = "/dynamicsbackup/jobs?" + query +
                                   "&pageSize=" + std::to_string(page_size) +
                                   "&pageIndex=" + std::to_string(page);
        const http_reply r = ep.handle(target, visible, base);
        BOOST_TEST_REQUIRE(r.status == 200u);
        const json::object b = body_of(r);
        BOOST_TEST(b.at("totalCount").as_int64() == static_cast<std::int64_t>(expected.size()));
        BOOST_TEST(b.at("pageIndex").as_int64() == page);
        BOOST_TEST(b.at("pageSize").as_int64() == page_size);
        const auto& jobs = b.at("jobs").as_array();
        if (jobs.empty()) {
            BOOST_TEST(b.at("nextLink").is_null());
            break;
        }
        const bool last = got.size() + jobs.size() == expected.size();
        BOOST_TEST(b.at("nextLink").is_null() == last);
        got.insert(got.end(), jobs.begin(), jobs.end());
        BOOST_TEST_REQUIRE(got.size() <= expected.size());
    }
    BOOST_TEST_REQUIRE(got.size() == expected.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
        std::string encoded;
        append_job_json(encoded, expected[i]);
        BOOST_TEST_REQUIRE(got[i] == json::parse(encoded));
    }
}

} // namespace

BOOST_AUTO_TEST_SUITE(sim_jobs_endpoint)

BOOST_AUTO_TEST_CASE(every_query_rule_is_a_400_naming_the_parameter) {
    jobs_endpoint ep{make_data()};
    const std::string ok_type = "type=0&" + all_window;
    expect_400(ep, ok_type + "&pageIndex=abc", "pageIndex");
    expect_400(ep, ok_type + "&pageIndex=0", "pageIndex");
    expect_400(ep, ok_type + "&pageIndex=-3", "pageIndex");
    expect_400(ep, ok_type + "&pageIndex=", "pageIndex");
    expect_400(ep, ok_type + "&pageIndex=1.5", "pageIndex");
    expect_400(ep, ok_type + "&pageIndex=99999999999", "pageIndex");
    expect_400(ep, ok_type + "&pageSize=ten", "pageSize");
    expect_400(ep, ok_type + "&pageSize=0", "pageSize");
    expect_400(ep, all_window, "type");
    expect_400(ep, "type=&" + all_window, "type");
    expect_400(ep, "type=3&" + all_window, "type");
    expect_400(ep, "type=64&" + all_window, "type");
    expect_400(ep, "type=-1&" + all_window, "type");
    expect_400(ep, "type=backup&" + all_window, "type");
    expect_400(ep, "type=1&finishTime=2026-01-01T00:00:00Z", "startTime");
    expect_400(ep, "type=1&startTime=yesterday&finishTime=2026-01-01T00:00:00Z", "startTime");
    expect_400(ep, "type=1&startTime=2025-11-02T00:00:00Z", "finishTime");
    expect_400(ep, "type=1&startTime=2025-11-02T00:00:00Z&finishTime=2025-13-01T00:00:00Z",
               "finishTime");
    expect_400(ep, "type=1&startTime=2025-11-02T00:00:00Z&finishTime=2025-11-01T00:00:00Z",
               "finishTime");
    expect_400(ep, ok_type + "&status=5", "status");
    expect_400(ep, ok_type + "&status=done", "status");
    expect_400(ep, ok_type + "&organizationId=not-a-guid", "organizationId");
    expect_400(ep, ok_type + "&pageSize=5&pageSize=6", "pageSize");
    expect_400(ep, ok_type + "&pagesize=5&PageSize=5", "pageSize");
    expect_400(ep, ok_type + "&type=0", "type");

    // Several errors at once are all listed.
    const http_reply r = ep.handle("/dynamicsbackup/jobs?pageIndex=x&status=9", nullptr, base);
    const json::object errors = body_of(r).at("errors").as_object();
    for (const char* p : {"pageIndex", "type", "startTime", "finishTime", "status"}) {
        BOOST_TEST(errors.contains(p), p);
    }
    BOOST_TEST(body_of(r).at("message").as_string() == "The value 'x' is not valid for pageIndex.");
}

BOOST_AUTO_TEST_CASE(lenient_where_asp_net_is_lenient) {
    jobs_endpoint ep{make_data()};
    const auto ok = [&](const std::string& query) {
        const http_reply r = ep.handle("/dynamicsbackup/jobs?" + query, nullptr, base);
        BOOST_TEST(r.status == 200u, query << " -> " << r.body);
        return r;
    };
    ok("TYPE=1&STARTTIME=2025-11-02T00:00:00Z&finishtime=2026-01-01T00:00:00Z"); // names
    ok("type=1&" + all_window + "&status=&organizationId=");                     // empty optional
    ok("type=1&" + all_window + "&foo=bar&$top=3");                              // unknown
    ok("type=1&startTime=2025-11-02T00%3A00%3A00Z&finishTime=2025-12-31T23:00:00%2B01:00");
    ok("type=1&startTime=2025-11-02T00:00:00Z&finishTime=2025-11-02T00:00:00Z"); // equal ends
    ok("type=%2B1&" + all_window + "&pageIndex=%2B2");
    // Defaults: page 1 of 10.
    const json::object b = body_of(ok("type=0&" + all_window));
    BOOST_TEST(b.at("pageIndex").as_int64() == 1);
    BOOST_TEST(b.at("pageSize").as_int64() == 10);
    BOOST_TEST(b.at("jobs").as_array().size() == 10u);
    BOOST_TEST(b.at("totalCount").as_int64() == 3000);
}

// Found by fuzz/sim_query.cpp: a percent-encoded byte that is not UTF-8 (%87) was quoted back
// raw, and the 400 body was not valid JSON.
BOOST_AUTO_TEST_CASE(error_bodies_stay_valid_json_whatever_the_bytes) {
    jobs_endpoint ep{make_data()};
    const std::string query = "/dynamicsbackup/jobs?type=0&" + all_window + "&organizationId=";
    for (const std::string& value :
         {std::string("%87"), std::string("abc%C3"), std::string("%ED%A0%80%F0%9F%98%80%FF"),
          std::string(99, 'a') + "%C3%A9"}) {
        const http_reply r = ep.handle(query + value, nullptr, base);
        BOOST_TEST(r.status == 400u);
        boost::system::error_code ec;
        json::parse(r.body, ec);
        BOOST_TEST(!ec, value << ": " << ec.message() << ": " << r.body);
    }
    // Well-formed UTF-8 is quoted as sent; a bad byte becomes U+FFFD.
    BOOST_TEST(
        body_of(ep.handle(query + "caf%C3%A9%87", nullptr, base)).at("message").as_string() ==
        "The value 'caf\xC3\xA9\xEF\xBF\xBD' is not valid for organizationId.");
}

BOOST_AUTO_TEST_CASE(wrong_path_is_404_and_bad_target_is_400) {
    jobs_endpoint ep{make_data()};
    BOOST_TEST(ep.handle("/dynamicsbackup/job?type=0&" + all_window, nullptr, base).status == 404u);
    BOOST_TEST(ep.handle("/jobs?type=0&" + all_window, nullptr, base).status == 404u);
    BOOST_TEST(ep.handle("/DynamicsBackup/Jobs/?type=0&" + all_window, nullptr, base).status ==
               200u);
    BOOST_TEST(ep.handle("/dynamicsbackup/jobs?type=0 &x", nullptr, base).status == 400u);
}

BOOST_AUTO_TEST_CASE(organization_not_visible_is_403) {
    jobs_endpoint ep{make_data()};
    const auto& orgs = ep.data().organizations();
    const std::set<organization_id> visible{orgs[0].id, orgs[1].id};
    const std::string q = "/dynamicsbackup/jobs?type=0&" + all_window + "&organizationId=";
    const http_reply denied = ep.handle(q + orgs[2].id.to_string(), &visible, base);
    BOOST_TEST(denied.status == 403u);
    BOOST_TEST(body_of(denied).at("statusCode").as_int64() == 403);
    BOOST_TEST(std::string{body_of(denied).at("message").as_string()}.find(
                   orgs[2].id.to_string()) != std::string::npos);
    BOOST_TEST(ep.handle(q + orgs[1].id.to_string(), &visible, base).status == 200u);
    // Unrestricted client, unknown organization: no jobs, not an error.
    const http_reply unknown = ep.handle(q + "69cb1ecc-f8e8-439b-8077-a4b7fd45e87f", nullptr, base);
    BOOST_TEST(unknown.status == 200u);
    BOOST_TEST(body_of(unknown).at("totalCount").as_int64() == 0);
    // Without organizationId a restricted client sees only its organizations.
    const http_reply mine =
        ep.handle("/dynamicsbackup/jobs?type=0&pageSize=1000&" + all_window, &visible, base);
    const json::object mine_body = body_of(mine);
    BOOST_TEST(!mine_body.at("jobs").as_array().empty());
    for (const auto& j : mine_body.at("jobs").as_array()) {
        const auto id = organization_id::parse(j.at("organizationId").as_string());
        BOOST_TEST(visible.contains(*id));
    }
}

BOOST_AUTO_TEST_CASE(pages_concatenate_to_the_filtered_dataset) {
    jobs_endpoint ep{make_data()};
    const dataset_config& c = ep.data().config();
    const auto& orgs = ep.data().organizations();
    const std::set<organization_id> visible{orgs[1].id, orgs[4].id};
    const timestamp mid = c.begin + days{20};
    const std::string mid_text = format_iso8601(mid);

    expect_pages_concatenate(ep, "type=0&" + all_window, flt(job_type::all, c.begin, c.end), 97);
    expect_pages_concatenate(ep, "type=0&" + all_window, flt(job_type::all, c.begin, c.end), 1000);
    expect_pages_concatenate(ep, "type=1&status=3&" + all_window,
                             flt(job_type::backup, c.begin, c.end, job_status::finished), 50);
    expect_pages_concatenate(
        ep, "type=8&startTime=" + mid_text + "&finishTime=" + format_iso8601(c.end),
        flt(job_type::retention, mid, c.end), 7);
    expect_pages_concatenate(ep,
                             "type=0&" + all_window + "&organizationId=" + orgs[3].id.to_string(),
                             flt(job_type::all, c.begin, c.end, {}, orgs[3].id), 33);
    filter restricted = flt(job_type::all, c.begin, c.end, job_status::failed, {}, &visible);
    expect_pages_concatenate(ep, "type=0&status=4&" + all_window, restricted, 3, &visible);
}

BOOST_AUTO_TEST_CASE(overlap_window_is_configurable) {
    jobs_endpoint_config cfg;
    cfg.window = window_match::overlap;
    jobs_endpoint ep{make_data(), cfg};
    const dataset_config& c = ep.data().config();
    const timestamp a = c.begin + days{30}, b = a + hours{6};
    filter f = flt(job_type::all, a, b, {}, {}, nullptr, window_match::overlap);
    expect_pages_concatenate(
        ep, "type=0&startTime=" + format_iso8601(a) + "&finishTime=" + format_iso8601(b), f, 4);
}

BOOST_AUTO_TEST_CASE(oversize_pages_are_capped_or_rejected) {
    jobs_endpoint_config cfg;
    cfg.max_page_size = 100;
    jobs_endpoint capped{make_data(), cfg};
    const std::string q = "/dynamicsbackup/jobs?type=0&pageSize=250&" + all_window;
    const json::object b = body_of(capped.handle(q, nullptr, base));
    BOOST_TEST(b.at("pageSize").as_int64() == 100);
    BOOST_TEST(b.at("jobs").as_array().size() == 100u);
    BOOST_TEST(std::string{b.at("nextLink").as_string()}.find("pageSize=100") != std::string::npos);

    cfg.oversize = oversize_page::reject;
    jobs_endpoint strict{make_data(), cfg};
    expect_400(strict, "type=0&pageSize=101&" + all_window, "pageSize");
    BOOST_TEST(
        strict.handle("/dynamicsbackup/jobs?type=0&pageSize=100&" + all_window, nullptr, base)
            .status == 200u);
}

BOOST_AUTO_TEST_CASE(next_link_styles) {
    const std::string q = "/dynamicsbackup/jobs?type=1&status=3&pageSize=5&" + all_window;
    const auto link_of = [&](next_link_style s, last_link_style last, int page) {
        jobs_endpoint_config cfg;
        cfg.link_style = s;
        cfg.last_link = last;
        jobs_endpoint ep{make_data(), cfg};
        const json::object b =
            body_of(ep.handle(q + "&pageIndex=" + std::to_string(page), nullptr, base));
        return b.contains("nextLink") ? std::optional<json::value>{b.at("nextLink")} : std::nullopt;
    };
    const std::string published_2 = "/jobs?pageIndex=2&pageSize=5&startTime=2025-11-02T00:00:00Z"
                                    "&finishTime=2026-01-01T00:00:00Z&type=1&status=3";
    BOOST_TEST(link_of(next_link_style::published, last_link_style::null, 1)->as_string() ==
               published_2);
    BOOST_TEST(link_of(next_link_style::absolute, last_link_style::null, 1)->as_string() ==
               std::string{base} + "/dynamicsbackup" + published_2);
    BOOST_TEST(link_of(next_link_style::null, last_link_style::null, 1)->is_null());
    BOOST_TEST(link_of(next_link_style::empty, last_link_style::null, 1)->as_string() == "");
    BOOST_TEST(!link_of(next_link_style::omitted, last_link_style::null, 1).has_value());

    // Last page (and past it): as the last_link style says.
    jobs_endpoint ep{make_data()};
    const auto total = body_of(ep.handle(q, nullptr, base)).at("totalCount").as_int64();
    const int last = static_cast<int>((total + 4) / 5);
    for (int page : {last, last + 1}) {
        BOOST_TEST(link_of(next_link_style::published, last_link_style::null, page)->is_null());
        BOOST_TEST(link_of(next_link_style::absolute, last_link_style::empty, page)->as_string() ==
                   "");
        BOOST_TEST(!link_of(next_link_style::published, last_link_style::omitted, page));
    }
    BOOST_TEST(link_of(next_link_style::published, last_link_style::null, last - 1)->is_string());
}

BOOST_AUTO_TEST_CASE(following_published_links_walks_every_page) {
    jobs_endpoint ep{make_data()};
    const dataset_config& c = ep.data().config();
    const auto expected = ep.data().select(flt(job_type::backup, c.begin, c.end));
    std::vector<std::string> got;
    std::string target = "/dynamicsbackup/jobs?type=1&pageSize=200&" + all_window;
    for (int guard = 0; guard < 100; ++guard) {
        const json::object b = body_of(ep.handle(target, nullptr, base));
        const auto ids = ids_of(b);
        got.insert(got.end(), ids.begin(), ids.end());
        if (b.at("nextLink").is_null()) {
            break;
        }
        target = "/dynamicsbackup" + std::string{b.at("nextLink").as_string()};
    }
    BOOST_TEST_REQUIRE(got.size() == expected.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
        BOOST_TEST(got[i] == expected[i].job_id);
    }
}

BOOST_AUTO_TEST_CASE(page_past_the_end_is_empty_with_the_real_total) {
    jobs_endpoint ep{make_data()};
    const json::object b = body_of(ep.handle(
        "/dynamicsbackup/jobs?type=0&pageIndex=2147483647&pageSize=2147483647&" + all_window,
        nullptr, base));
    BOOST_TEST(b.at("totalCount").as_int64() == 3000);
    BOOST_TEST(b.at("jobs").as_array().empty());
    BOOST_TEST(b.at("nextLink").is_null());
    BOOST_TEST(b.at("pageSize").as_int64() == 1000); // capped to the default maximum
}

BOOST_AUTO_TEST_CASE(parse_exposes_the_request_for_drift) {
    jobs_endpoint ep{make_data()};
    const std::string q = "/dynamicsbackup/jobs?type=1&pageSize=10&" + all_window;
    auto parsed = ep.parse(q + "&pageIndex=1", nullptr);
    BOOST_TEST_REQUIRE(std::holds_alternative<jobs_request>(parsed));
    const jobs_request req = std::get<jobs_request>(parsed);
    BOOST_TEST(req.page_index == 1);
    BOOST_TEST(req.page_size == 10);
    BOOST_TEST((req.where.type == job_type::backup));
    BOOST_TEST(format_iso8601(req.where.start) == "2025-11-02T00:00:00Z");
    BOOST_TEST(!req.where.status.has_value());

    const auto page1 = ids_of(body_of(ep.respond(req, base)));
    // A job inserted before page 2 is fetched shifts everything: page 2 repeats page 1's last.
    ep.data().insert_matching(req.where);
    const auto page2 = ids_of(body_of(ep.handle(q + "&pageIndex=2", nullptr, base)));
    BOOST_TEST(page2.front() == page1.back());
    // Removing two from the front shifts back past the original: page 2 skips one job.
    ep.data().remove_first_matching(req.where);
    ep.data().remove_first_matching(req.where);
    const auto page2b = ids_of(body_of(ep.handle(q + "&pageIndex=2", nullptr, base)));
    const auto expected = ep.data().select(req.where);
    BOOST_TEST(page2b.front() == expected[10].job_id);
    BOOST_TEST(page2b.front() != page2[1]);

    auto bad = ep.parse("/dynamicsbackup/jobs?type=9", nullptr);
    BOOST_TEST_REQUIRE(std::holds_alternative<http_reply>(bad));
    BOOST_TEST(std::get<http_reply>(bad).status == 400u);
}

BOOST_AUTO_TEST_CASE(many_pages_from_a_big_dataset) {
    // 100k jobs; thousands of page requests must be cheap (served from the match cache). No
    // timing is asserted: a regression shows as a slow suite.
    jobs_endpoint ep{dataset{dataset_config{}}};
    const std::string q = "/dynamicsbackup/jobs?type=0&pageSize=100&startTime=2024-01-01T00:00:00Z"
                          "&finishTime=2026-01-01T00:00:00Z&pageIndex=";
    std::size_t jobs = 0;
    for (int page = 1; page <= 1000; ++page) {
        const http_reply r = ep.handle(q + std::to_string(page), nullptr, base);
        jobs += r.status == 200u ? 100 : 0;
    }
    BOOST_TEST(jobs == 100'000u);
    const http_reply r = ep.handle(q + "1", nullptr, base);
    BOOST_TEST(r.headers.at(0).first == "Content-Type");
    BOOST_TEST(r.headers.at(0).second == "application/json; charset=utf-8");
}

BOOST_AUTO_TEST_SUITE_END()
