// The engine against the simulator: every job of the range exactly once, across organizations,
// windows, page sizes, a silently capped page size and several threads.
#include "engine_fixture.hpp"

#include <dynjobs/error.hpp>

#include <boost/test/unit_test.hpp>

using namespace dynjobs;
using namespace dynjobs::testkit;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(engine_fetch)

BOOST_AUTO_TEST_CASE(the_whole_dataset_exactly_once) {
    sim_fixture fx;
    const auto request = whole_dataset(fx);
    auto config = engine_config(fx);
    std::vector<request_event> events;
    config.on_request = [&](const request_event& e) { events.push_back(e); };
    const auto out = run_fetch(config, request);
    BOOST_TEST_REQUIRE(!out.ec, out.ec.message() << ": " << out.diag.message);
    require_exactly(out.jobs, fx.sim().select(filter_of(request)));
    BOOST_TEST(out.stats.jobs_delivered == out.jobs.size());
    BOOST_TEST(out.stats.pages_done == 20u); // 2,000 jobs in pages of 100
    BOOST_TEST(out.stats.retries == 0u);
    BOOST_TEST(out.stats.token_requests == 1u);
    // Keep-alive: far fewer connections than pages.
    BOOST_TEST(out.stats.connections_opened <= 32u);
    BOOST_TEST(out.stats.connections_opened >= 1u);
    // One event per request, each with the page's URL (which carries no secret) and status.
    BOOST_TEST_REQUIRE(events.size() == out.stats.requests);
    for (const auto& e : events) {
        BOOST_TEST(e.status == 200u);
        BOOST_TEST(e.url.find(fx.sim().base_url() + "/dynamicsbackup/jobs?pageIndex=") == 0u);
        BOOST_TEST(e.attempt == 1u);
        BOOST_TEST(e.duration.count() > 0);
    }
    BOOST_TEST(out.stats.latency.count == out.stats.requests);
    BOOST_TEST(out.stats.latency.p50.count() > 0);
    BOOST_TEST(out.stats.latency.p50 <= out.stats.latency.p99);
    BOOST_TEST(out.stats.latency.p99 <= out.stats.latency.max);
    BOOST_TEST(out.stats.bytes_decoded > 2000u * 300u); // ~600 bytes a job
    BOOST_TEST(out.stats.bytes_received > 0u);
    BOOST_TEST(out.stats.bytes_received <= out.stats.bytes_decoded); // compressed, if anything
}

BOOST_AUTO_TEST_CASE(filters_organizations_and_windows) {
    sim_fixture fx;
    auto request = whole_dataset(fx);
    request.type = job_type::backup;
    const auto orgs = fx.sim().organizations();
    request.organizations = {orgs[0].id, orgs[2].id, orgs[4].id};
    request.window = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::days{45});
    request.page_size = 25;
    const auto out = run_fetch(engine_config(fx), request);
    BOOST_TEST_REQUIRE(!out.ec, out.diag.message);
    require_exactly(out.jobs, expected_jobs(fx, request));
    // Every (organization, window) segment reports its completion exactly once.
    std::map<std::pair<std::size_t, std::size_t>, int> completed;
    for (const auto& b : out.batches)
        if (b.segment_complete)
            ++completed[{b.organization_slot, b.window}];
    BOOST_TEST(completed.size() == request.organizations.size() * request.windows().size());
    for (const auto& [segment, n] : completed)
        BOOST_TEST(n == 1);
    // A batch from a page carries the page's totalCount: the simulator's count for the
    // segment's query.
    const auto windows = request.windows();
    for (const auto& b : out.batches) {
        if (b.page_index == 0) {
            BOOST_TEST(!b.total_count.has_value()); // only a completion report
            continue;
        }
        auto f = filter_of(request, request.organizations[b.organization_slot]);
        f.start = windows[b.window].first;
        f.finish = windows[b.window].second;
        BOOST_TEST_REQUIRE(b.total_count.has_value());
        BOOST_TEST(*b.total_count == static_cast<std::int64_t>(fx.sim().select(f).size()));
    }
}

BOOST_AUTO_TEST_CASE(windows_on_exact_job_boundaries_deliver_boundary_jobs_once) {
    sim_fixture fx;
    auto request = whole_dataset(fx);
    // Put window boundaries exactly on some jobs' start times: the simulator's inclusive window
    // returns those jobs in two windows; the fetch must deliver them once.
    const auto all = fx.sim().select(filter_of(request));
    request.start = all.back().start_time;
    request.finish = all.front().start_time;
    request.window =
        std::chrono::duration_cast<std::chrono::milliseconds>((request.finish - request.start) / 7);
    const auto out = run_fetch(engine_config(fx), request);
    BOOST_TEST_REQUIRE(!out.ec, out.diag.message);
    require_exactly(out.jobs, fx.sim().select(filter_of(request)));
}

BOOST_AUTO_TEST_CASE(a_silent_page_size_cap_is_detected_and_followed) {
    auto config = small_sim_config();
    config.jobs.max_page_size = 30;
    config.jobs.oversize = sim::oversize_page::cap;
    sim_fixture fx(config);
    auto request = whole_dataset(fx);
    request.page_size = 500;
    const auto out = run_fetch(engine_config(fx), request);
    BOOST_TEST_REQUIRE(!out.ec, out.diag.message);
    require_exactly(out.jobs, fx.sim().select(filter_of(request)));
    BOOST_TEST(out.stats.pages_done == (2000u + 29) / 30);
}

BOOST_AUTO_TEST_CASE(a_thread_pool_io_context_gives_the_same_result,
                     *boost::unit_test::label("threads")) {
    sim_fixture fx;
    auto request = whole_dataset(fx);
    request.window = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::days{30});
    request.page_size = 20;
    const auto out = run_fetch(engine_config(fx), request, 4);
    BOOST_TEST_REQUIRE(!out.ec, out.diag.message);
    require_exactly(out.jobs, fx.sim().select(filter_of(request)));
}

BOOST_AUTO_TEST_CASE(a_bad_request_fails_before_any_request_is_sent) {
    sim_fixture fx;
    auto request = whole_dataset(fx);
    request.finish = request.start;
    const auto out = run_fetch(engine_config(fx), request);
    BOOST_TEST((out.ec == errc::invalid_argument));
    BOOST_TEST(out.diag.field == "startTime");
    BOOST_TEST(fx.sim().counters().requests == 0u);

    auto config = engine_config(fx);
    config.base_url = "http://example.com";
    const auto insecure = run_fetch(config, whole_dataset(fx));
    BOOST_TEST((insecure.ec == errc::insecure_scheme));
    BOOST_TEST(fx.sim().counters().requests == 0u);
}

// The CA file is read by the constructor, not by the first fetch inside the event loop: gone
// by the time the fetch starts, it is not missed.
BOOST_AUTO_TEST_CASE(the_ca_file_is_read_when_the_client_is_constructed) {
    sim_fixture fx;
    const auto copy = std::filesystem::temp_directory_path() /
                      ("dynjobs-ca-copy-" + std::to_string(fx.sim().https_port()) + ".pem");
    std::filesystem::copy_file(ca_file_of(fx), copy,
                               std::filesystem::copy_options::overwrite_existing);
    auto config = engine_config(fx);
    config.tls.ca_file = copy.string();
    boost::asio::io_context ioc;
    client c(ioc.get_executor(), config);
    std::filesystem::remove(copy);
    auto stream = c.fetch(whole_dataset(fx));
    boost::system::error_code result;
    bool got_batch = false;
    stream.async_next([&](boost::system::error_code ec, std::optional<job_batch> batch) {
        result = ec;
        got_batch = batch.has_value();
        stream.cancel();
    });
    ioc.run();
    BOOST_TEST(!result, result.message() << ": " << stream.error_diagnostics().message);
    BOOST_TEST(got_batch);
}

// Zero in-flight limits used to park every page forever: now the fetch fails at once.
BOOST_AUTO_TEST_CASE(a_zero_in_flight_limit_fails_the_fetch_instead_of_hanging) {
    sim_fixture fx;
    auto request = whole_dataset(fx);
    request.organizations = {fx.sim().organizations()[0].id};
    auto per_org = engine_config(fx);
    per_org.max_in_flight_per_organization = 0;
    auto global = engine_config(fx);
    global.rate.max_in_flight = 0;
    for (const auto& [config, field] : {std::pair{per_org, "max_in_flight_per_organization"},
                                        std::pair{global, "rate.max_in_flight"}}) {
        const auto out = run_fetch(config, request);
        BOOST_TEST((out.ec == errc::invalid_argument), out.ec.message());
        BOOST_TEST(out.diag.field == field);
        BOOST_TEST(out.diag.value == "0");
    }
    BOOST_TEST(fx.sim().counters().requests == 0u);
}

BOOST_AUTO_TEST_CASE(client_validate_names_the_bad_field) {
    sim_fixture fx;
    boost::asio::io_context ioc;
    auto config = engine_config(fx);
    config.region = "eu"; // there is no graph-eu
    client c(ioc.get_executor(), config);
    diagnostics diag;
    BOOST_TEST((c.validate(whole_dataset(fx), diag) == errc::invalid_argument));
    BOOST_TEST(diag.field == "region");
    BOOST_TEST(diag.message.find("'eu'") != std::string::npos);

    auto dup = whole_dataset(fx);
    const auto org = fx.sim().organizations()[0].id;
    dup.organizations = {org, org};
    client ok(ioc.get_executor(), engine_config(fx));
    BOOST_TEST((ok.validate(dup, diag) == errc::invalid_argument));
    BOOST_TEST(diag.field == "organizations[1]");
    BOOST_TEST(!ok.validate(whole_dataset(fx), diag), diag.message);
}

BOOST_AUTO_TEST_SUITE_END()
