// Pages that lie: the fault kinds no-jobs, repeat-link, bad-link, huge-total, short-page and
// html, and jobs_endpoint_config::huge_total, each checked against the honest page.
#include "sim/jobs_endpoint.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <boost/url/parse.hpp>

#include <chrono>

namespace json = boost::json;
using namespace dynjobs;
using namespace dynjobs::sim;
using namespace std::chrono;

namespace {

constexpr std::string_view base = "https://127.0.0.1:8443";

dataset small_data() {
    dataset_config c;
    c.seed = 9;
    c.organizations = 3;
    c.jobs = 1000;
    c.begin = c.end - days{30};
    return dataset{c};
}

/// Page `index` (of 10 jobs) over the whole dataset.
std::string target(int index, int size = 10) {
    return "/dynamicsbackup/jobs?type=0&startTime=2025-12-02T00:00:00Z&finishTime=2026-01-01T00:"
           "00:00Z&pageSize=" +
           std::to_string(size) + "&pageIndex=" + std::to_string(index);
}

jobs_request request_of(jobs_endpoint& ep, const std::string& t) {
    auto parsed = ep.parse(t, nullptr);
    BOOST_TEST_REQUIRE(std::holds_alternative<jobs_request>(parsed));
    return std::get<jobs_request>(parsed);
}

json::object page(jobs_endpoint& ep, int index, fault_kind distortion = fault_kind::none) {
    const http_reply r = ep.respond(request_of(ep, target(index)), base, distortion);
    BOOST_TEST_REQUIRE(r.status == 200u);
    return json::parse(r.body).as_object();
}

/// The pageIndex a nextLink names.
std::string page_index_of(const json::value& link) {
    const auto url = boost::urls::parse_uri_reference(link.as_string());
    BOOST_TEST_REQUIRE(url.has_value());
    return std::string{(*url->params().find("pageIndex")).value};
}

} // namespace

BOOST_AUTO_TEST_SUITE(sim_page_faults)

BOOST_AUTO_TEST_CASE(no_jobs_has_neither_jobs_nor_total) {
    jobs_endpoint ep{small_data()};
    const json::object b = page(ep, 1, fault_kind::no_jobs_body);
    BOOST_TEST(!b.contains("jobs"));
    BOOST_TEST(!b.contains("totalCount"));
    BOOST_TEST(b.at("message").as_string() == "ok");
}

BOOST_AUTO_TEST_CASE(repeat_link_names_the_page_just_served) {
    jobs_endpoint ep{small_data()};
    const json::object honest = page(ep, 3);
    const json::object b = page(ep, 3, fault_kind::repeat_link);
    BOOST_TEST(page_index_of(honest.at("nextLink")) == "4");
    BOOST_TEST(page_index_of(b.at("nextLink")) == "3");
    BOOST_TEST(b.at("nextLink").as_string().starts_with("/jobs?pageIndex=3&pageSize=10&"));
    BOOST_TEST(b.at("jobs") == honest.at("jobs"));
    BOOST_TEST(b.at("totalCount") == honest.at("totalCount"));
    // The last page too, where an honest one says null: a client following links loops.
    const auto last = static_cast<int>((honest.at("totalCount").as_int64() + 9) / 10);
    BOOST_TEST(page(ep, last).at("nextLink").is_null());
    BOOST_TEST(page_index_of(page(ep, last, fault_kind::repeat_link).at("nextLink")) ==
               std::to_string(last));
    // With absolute links, an absolute one.
    jobs_endpoint_config cfg;
    cfg.link_style = next_link_style::absolute;
    jobs_endpoint absolute{small_data(), cfg};
    BOOST_TEST(page(absolute, 2, fault_kind::repeat_link)
                   .at("nextLink")
                   .as_string()
                   .starts_with(std::string{base} + "/dynamicsbackup/jobs?pageIndex=2&"));
}

BOOST_AUTO_TEST_CASE(bad_link_cannot_be_parsed) {
    jobs_endpoint_config cfg;
    cfg.link_style = next_link_style::null; // even where no link would be written
    jobs_endpoint ep{small_data(), cfg};
    const json::object b = page(ep, 1, fault_kind::bad_link);
    BOOST_TEST(b.at("nextLink").as_string() == "http://[::1");
    BOOST_TEST(!boost::urls::parse_uri_reference(b.at("nextLink").as_string()).has_value());
    BOOST_TEST(b.at("jobs").as_array().size() == 10u);
}

BOOST_AUTO_TEST_CASE(huge_total_lies_about_the_count_only) {
    jobs_endpoint ep{small_data()};
    const json::object honest = page(ep, 2);
    const json::object b = page(ep, 2, fault_kind::huge_total);
    BOOST_TEST(b.at("totalCount").as_int64() == 1'000'000'000'000'000);
    BOOST_TEST(b.at("jobs") == honest.at("jobs"));
    BOOST_TEST(b.at("pageSize").as_int64() == 10);
    // Past the real last page there is still a next one, by the lie.
    BOOST_TEST(page_index_of(page(ep, 500, fault_kind::huge_total).at("nextLink")) == "501");
}

BOOST_AUTO_TEST_CASE(short_page_serves_the_first_half_with_the_true_total) {
    jobs_endpoint ep{small_data()};
    const json::object honest = page(ep, 4);
    const json::object b = page(ep, 4, fault_kind::short_page);
    const auto& all = honest.at("jobs").as_array();
    const auto& half = b.at("jobs").as_array();
    BOOST_TEST_REQUIRE(half.size() == 5u);
    for (std::size_t i = 0; i < half.size(); ++i) {
        BOOST_TEST(half[i] == all[i]);
    }
    BOOST_TEST(b.at("totalCount") == honest.at("totalCount"));
    BOOST_TEST(b.at("nextLink") == honest.at("nextLink"));
    BOOST_TEST(b.at("pageSize").as_int64() == 10);
}

BOOST_AUTO_TEST_CASE(html_is_a_sign_in_page) {
    jobs_endpoint ep{small_data()};
    const http_reply r = ep.respond(request_of(ep, target(1)), base, fault_kind::html_body);
    BOOST_TEST(r.status == 200u);
    BOOST_TEST_REQUIRE(r.headers.size() == 1u);
    BOOST_TEST(r.headers[0].second == "text/html; charset=utf-8");
    BOOST_TEST(r.body.starts_with("<!DOCTYPE html>"));
    BOOST_TEST(r.body.find("Sign in") != std::string::npos);
    boost::system::error_code ec;
    json::parse(r.body, ec);
    BOOST_TEST(ec.failed());
}

BOOST_AUTO_TEST_CASE(other_kinds_change_nothing) {
    jobs_endpoint ep{small_data()};
    const jobs_request r = request_of(ep, target(2));
    for (fault_kind k : {fault_kind::error_503, fault_kind::drift_insert,
                         fault_kind::close_after_response, fault_kind::malformed_json}) {
        BOOST_TEST(ep.respond(r, base, k).body == ep.respond(r, base).body);
    }
}

BOOST_AUTO_TEST_CASE(huge_total_mode_serves_one_job_a_page_under_a_lying_count) {
    jobs_endpoint_config cfg;
    cfg.huge_total = true;
    jobs_endpoint ep{small_data(), cfg};
    const jobs_request r = request_of(ep, target(1, 100));
    BOOST_TEST(r.page_size == 1); // forced, whatever was asked
    const auto truth = ep.data().select(r.where);
    BOOST_TEST_REQUIRE(truth.size() == 1000u);
    for (int index : {1, 2, 500, 1000, 1001, 5000}) {
        BOOST_TEST_CONTEXT("page " << index) {
            const http_reply reply = ep.handle(target(index, 100), nullptr, base);
            BOOST_TEST_REQUIRE(reply.status == 200u);
            const json::object b = json::parse(reply.body).as_object();
            BOOST_TEST(b.at("totalCount").as_int64() == 1'000'000'000'000'000);
            BOOST_TEST(b.at("pageSize").as_int64() == 1);
            BOOST_TEST(b.at("pageIndex").as_int64() == index);
            const auto& jobs = b.at("jobs").as_array();
            if (index <= 1000) {
                BOOST_TEST_REQUIRE(jobs.size() == 1u);
                BOOST_TEST(jobs[0].at("jobId").as_string() ==
                           truth[static_cast<std::size_t>(index - 1)].job_id);
            } else {
                BOOST_TEST(jobs.empty());
            }
            BOOST_TEST(b.at("nextLink").as_string() ==
                       "/jobs?pageIndex=" + std::to_string(index + 1) +
                           "&pageSize=1&startTime=2025-12-02T00:00:00Z&finishTime=2026-01-01T00:"
                           "00:00Z&type=0");
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
