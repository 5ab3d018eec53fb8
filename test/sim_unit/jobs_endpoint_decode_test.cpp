// The simulator's responses decode with the library's own page decoder into exactly the dataset's
// jobs: the client and the simulator agree on every field, including doubles and nulls.
#include "sim/jobs_endpoint.hpp"

#include <dynjobs/page_decoder.hpp>

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <chrono>

using namespace dynjobs;
using namespace dynjobs::sim;
using namespace std::chrono;

BOOST_AUTO_TEST_SUITE(sim_jobs_endpoint_decode)

BOOST_AUTO_TEST_CASE(every_page_decodes_to_the_selected_jobs) {
    dataset_config c;
    c.seed = 5;
    c.organizations = 4;
    c.jobs = 2500;
    c.begin = c.end - days{20}; // dense enough that some jobs are in progress (null fields)
    jobs_endpoint ep{dataset{c}};
    filter f;
    f.start = c.begin;
    f.finish = c.end;
    const std::vector<job> expected = ep.data().select(f);
    BOOST_TEST_REQUIRE(expected.size() == 2500u);
    BOOST_TEST(std::any_of(expected.begin(), expected.end(),
                           [](const job& j) { return !j.finish_time.has_value(); }));

    std::vector<job> got;
    std::string target =
        "/dynamicsbackup/jobs?type=0&pageSize=300&startTime=" + format_iso8601(c.begin) +
        "&finishTime=" + format_iso8601(c.end);
    for (int guard = 0; guard < 20; ++guard) {
        const http_reply r = ep.handle(target, nullptr, "https://127.0.0.1:1");
        BOOST_TEST_REQUIRE(r.status == 200u);
        jobs_page page;
        diagnostics diag;
        const auto ec = decode_page(r.body, page, diag);
        BOOST_TEST_REQUIRE(!ec, diag.message);
        BOOST_TEST(*page.total_count == 2500);
        BOOST_TEST(*page.page_size == 300);
        got.insert(got.end(), page.jobs.begin(), page.jobs.end());
        if (!page.next_link) {
            break;
        }
        // The published link lacks the /dynamicsbackup prefix.
        target = "/dynamicsbackup" + *page.next_link;
    }
    BOOST_TEST_REQUIRE(got.size() == expected.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
        BOOST_TEST_REQUIRE((got[i] == expected[i]), "job " << i << " " << expected[i].job_id);
    }
}

BOOST_AUTO_TEST_SUITE_END()
