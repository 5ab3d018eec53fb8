// GET /dynamicsbackup/jobs over real loopback TLS: bearer checks, 400/403/404, and paging that
// reproduces the filtered dataset exactly.
#include "sim_fixture.hpp"

#include <dynjobs/page_decoder.hpp>
#include <dynjobs/timestamp.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <boost/test/unit_test.hpp>

namespace {

using namespace dynjobs;
using namespace dynjobs::testkit;

jobs_page decode(const http_response& res) {
    jobs_page page;
    diagnostics diag;
    const auto ec = decode_page(res.body, page, diag);
    BOOST_TEST_REQUIRE(!ec, "decode failed: " << diag.message);
    return page;
}

/// The query string for a filter (without paging).
std::string query_of(const sim::filter& f) {
    std::string q = "type=" + std::to_string(static_cast<int>(f.type)) +
                    "&startTime=" + format_iso8601(f.start) +
                    "&finishTime=" + format_iso8601(f.finish);
    if (f.status)
        q += "&status=" + std::to_string(static_cast<int>(*f.status));
    if (f.organization)
        q += "&organizationId=" + f.organization->to_string();
    return q;
}

/// Fetches every page of `f` and returns the concatenated jobs; checks paging fields.
std::vector<job> fetch_all(test_client& client, const std::string& token, const sim::filter& f,
                           std::int64_t page_size) {
    std::vector<job> all;
    std::optional<std::int64_t> total;
    for (std::int64_t index = 1;; ++index) {
        const std::string target = "/dynamicsbackup/jobs?pageIndex=" + std::to_string(index) +
                                   "&pageSize=" + std::to_string(page_size) + "&" + query_of(f);
        auto res = client.get(target, token);
        BOOST_TEST_REQUIRE(res.status == 200u, target << " -> " << res.status << " " << res.body);
        auto page = decode(res);
        BOOST_TEST(page.page_index.value_or(-1) == index);
        BOOST_TEST(page.page_size.value_or(-1) == page_size);
        if (total)
            BOOST_TEST(page.total_count.value_or(-1) == *total);
        BOOST_TEST_REQUIRE(page.total_count.has_value());
        total = page.total_count;
        all.insert(all.end(), page.jobs.begin(), page.jobs.end());
        const bool last = static_cast<std::int64_t>(all.size()) >= *total;
        // Published style: a relative link while more pages follow, null on the last page.
        BOOST_TEST(page.next_link.has_value() == !last);
        if (last || page.jobs.empty())
            break;
    }
    BOOST_TEST(static_cast<std::int64_t>(all.size()) == total.value_or(-1));
    return all;
}

void expect_same_jobs(const std::vector<job>& got, const std::vector<job>& want) {
    BOOST_TEST_REQUIRE(got.size() == want.size());
    for (std::size_t i = 0; i < got.size(); ++i)
        BOOST_TEST_REQUIRE((got[i] == want[i]),
                           "job " << i << ": got " << got[i].job_id << ", want " << want[i].job_id);
}

timestamp at(const char* iso) {
    return *parse_iso8601(iso);
}

} // namespace

BOOST_AUTO_TEST_SUITE(jobs)

BOOST_AUTO_TEST_CASE(every_page_of_every_filter_concatenates_to_the_filtered_dataset) {
    sim_fixture fx;
    auto client = fx.https_client();
    const std::string token = fx.token();
    const auto orgs = fx.sim().organizations();
    BOOST_TEST_REQUIRE(orgs.size() == 5u);

    std::vector<sim::filter> filters;
    auto base = [] {
        sim::filter f;
        f.start = at("2024-01-01T00:00:00Z");
        f.finish = at("2026-01-01T00:00:00Z");
        return f;
    };
    filters.push_back(base()); // everything
    auto f = base();
    f.type = job_type::backup;
    filters.push_back(f);
    f = base();
    f.status = job_status::failed;
    filters.push_back(f);
    f = base();
    f.organization = orgs[2].id;
    filters.push_back(f);
    f = base();
    f.type = job_type::restore;
    f.organization = orgs[0].id;
    f.start = at("2025-03-01T00:00:00Z");
    f.finish = at("2025-09-30T12:00:00.5Z");
    filters.push_back(f);
    f = base();
    f.status = job_status::in_progress; // the few still running at the dataset's end
    filters.push_back(f);

    for (const auto& filter : filters) {
        const auto want = fx.sim().select(filter);
        for (std::int64_t size : {7, 100, 1000}) {
            BOOST_TEST_CONTEXT("filter " << query_of(filter) << ", pageSize " << size) {
                expect_same_jobs(fetch_all(client, token, filter, size), want);
            }
        }
    }
    BOOST_TEST(client.connections_opened() == 1u); // all of it over one keep-alive connection
}

BOOST_AUTO_TEST_CASE(a_page_past_the_end_is_empty_with_the_real_total) {
    sim_fixture fx;
    auto client = fx.https_client();
    auto page = decode(client.get(jobs_target("type=0", 999, 100), fx.token()));
    BOOST_TEST(page.jobs.empty());
    BOOST_TEST(page.total_count.value_or(-1) == 2000);
}

BOOST_AUTO_TEST_CASE(oversize_pages_are_capped_or_refused) {
    auto config = small_sim_config();
    config.jobs.max_page_size = 50;
    {
        sim_fixture fx(config);
        auto client = fx.https_client();
        auto page = decode(client.get(jobs_target("type=0", 1, 500), fx.token()));
        BOOST_TEST(page.page_size.value_or(-1) == 50);
        BOOST_TEST(page.jobs.size() == 50u);
    }
    config.jobs.oversize = sim::oversize_page::reject;
    sim_fixture fx(config);
    auto client = fx.https_client();
    auto res = client.get(jobs_target("type=0", 1, 500), fx.token());
    BOOST_TEST(res.status == 400u);
    BOOST_TEST(res.body.find("pageSize") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(bearer_token_is_required) {
    sim_fixture fx;
    auto client = fx.https_client();

    auto missing = client.get(jobs_target());
    BOOST_TEST(missing.status == 401u);
    BOOST_TEST(missing.header("WWW-Authenticate").value_or("") == "Bearer");
    BOOST_TEST(boost::json::parse(missing.body).is_object());

    auto unknown = client.get(jobs_target(), "not-a-token-the-simulator-issued");
    BOOST_TEST(unknown.status == 401u);
    const auto challenge = unknown.header("WWW-Authenticate").value_or("");
    BOOST_TEST(challenge.starts_with("Bearer error=\"invalid_token\", error_description=\""));

    http_response basic;
    BOOST_TEST_REQUIRE(
        !client.request("GET", jobs_target(), basic, {{"Authorization", "Basic eDp5"}}));
    BOOST_TEST(basic.status == 401u);

    const std::string token = fx.token();
    BOOST_TEST(client.get(jobs_target(), token).status == 200u);
    fx.sim().revoke_all_tokens();
    auto revoked = client.get(jobs_target(), token);
    BOOST_TEST(revoked.status == 401u);
    BOOST_TEST(revoked.header("WWW-Authenticate").value_or("").find("revoked") !=
               std::string::npos);
    BOOST_TEST(client.get(jobs_target(), fx.token()).status == 200u); // a new token works
}

BOOST_AUTO_TEST_CASE(expired_token_is_refused) {
    auto config = small_sim_config();
    config.token_lifetime = std::chrono::seconds(0); // issued already expired: no waiting
    sim_fixture fx(config);
    auto client = fx.https_client();
    const std::string token = fx.token();
    auto res = client.get(jobs_target(), token);
    BOOST_TEST(res.status == 401u);
    BOOST_TEST(res.header("WWW-Authenticate").value_or("").find("expired") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(organizations_the_client_may_not_see_are_forbidden) {
    // The dataset is deterministic: a twin tells which organizations the simulator will have.
    auto config = small_sim_config();
    const sim::dataset twin(config.dataset);
    const auto orgs = twin.organizations();
    config.clients.push_back(
        {"narrow", std::string("narrow-secret"), std::nullopt, {orgs[0].id, orgs[1].id}});
    sim_fixture fx(config);
    auto client = fx.https_client();
    const std::string token = fx.token("narrow", "narrow-secret");

    auto forbidden =
        client.get(jobs_target("type=0&organizationId=" + orgs[3].id.to_string()), token);
    BOOST_TEST(forbidden.status == 403u);
    BOOST_TEST(boost::json::parse(forbidden.body).is_object());

    auto allowed =
        client.get(jobs_target("type=0&organizationId=" + orgs[1].id.to_string()), token);
    BOOST_TEST(allowed.status == 200u);

    // Without organizationId only the visible organizations' jobs are served.
    const std::set<organization_id> visible{orgs[0].id, orgs[1].id};
    sim::filter f;
    f.start = at("2024-01-01T00:00:00Z");
    f.finish = at("2026-01-01T00:00:00Z");
    f.visible = &visible;
    expect_same_jobs(fetch_all(client, token, f, 1000), fx.sim().select(f));
}

BOOST_AUTO_TEST_CASE(invalid_queries_get_400_naming_the_parameter) {
    sim_fixture fx;
    auto client = fx.https_client();
    const std::string token = fx.token();
    const std::vector<std::pair<std::string, std::string>> cases{
        {"/dynamicsbackup/jobs?startTime=2024-01-01T00:00:00Z&finishTime=2025-01-01T00:00:00Z",
         "type"},
        {"/dynamicsbackup/jobs?type=3&startTime=2024-01-01T00:00:00Z&finishTime=2025-01-01T00:00Z",
         "type"},
        {"/dynamicsbackup/jobs?type=1&startTime=yesterday&finishTime=2025-01-01T00:00:00Z",
         "startTime"},
        {"/dynamicsbackup/jobs?type=1&startTime=2025-01-01T00:00:00Z&finishTime=2024-01-01T00:00Z",
         "finishTime"},
        {jobs_target("type=0", 0, 10), "pageIndex"},
        {jobs_target("type=0", 1, 0), "pageSize"},
        {jobs_target("type=0&status=5"), "status"},
        {jobs_target("type=0&organizationId=not-a-guid"), "organizationId"},
    };
    for (const auto& [target, parameter] : cases) {
        BOOST_TEST_CONTEXT(target) {
            auto res = client.get(target, token);
            BOOST_TEST(res.status == 400u);
            BOOST_TEST(res.body.find(parameter) != std::string::npos, res.body);
        }
    }
}

BOOST_AUTO_TEST_CASE(unknown_paths_get_404_and_wrong_methods_405) {
    sim_fixture fx;
    auto client = fx.https_client();
    auto res = client.get("/dynamicsbackup/nothing-here");
    BOOST_TEST(res.status == 404u);
    BOOST_TEST(boost::json::parse(res.body).is_object());

    http_response post;
    BOOST_TEST_REQUIRE(
        !client.request("POST", jobs_target(), post, {{"Authorization", "Bearer " + fx.token()}}));
    BOOST_TEST(post.status == 405u);
    BOOST_TEST(post.header("Allow").value_or("") == "GET");
}

BOOST_AUTO_TEST_SUITE_END()
