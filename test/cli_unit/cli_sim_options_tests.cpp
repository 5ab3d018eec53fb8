// `dynjobs sim` option parsing (the server itself is tested by the simulator's own suites).
#include "cli/sim_options.hpp"
#include "cli_test_support.hpp"

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <vector>

using namespace dynjobs;
using namespace dynjobs::cli;
using namespace dynjobs::cli::test;

namespace {

sim_options parse(const args& a) {
    return parse_sim_options(a.span());
}

} // namespace

BOOST_AUTO_TEST_SUITE(cli_sim_options)

BOOST_AUTO_TEST_CASE(defaults) {
    const auto o = parse({});
    BOOST_TEST(o.config.https_port == 0);
    BOOST_TEST(!o.config.http_port);
    BOOST_TEST(o.threads == 2);
    BOOST_TEST(o.config.cert_dir == std::filesystem::temp_directory_path() / "dynjobs-sim");
    BOOST_TEST(!o.help);
}

BOOST_AUTO_TEST_CASE(every_option_reaches_the_config) {
    const auto o = parse({"--port",
                          "8443",
                          "--http-port=0",
                          "--cert-dir",
                          "/tmp/c",
                          "--seed",
                          "7",
                          "--orgs",
                          "3",
                          "--jobs",
                          "0",
                          "--max-page-size",
                          "50",
                          "--oversize",
                          "reject",
                          "--next-link-style",
                          "absolute",
                          "--latency-ms",
                          "50",
                          "--rate-limit",
                          "200:5",
                          "--quota",
                          "5000:30",
                          "--fault-rate",
                          "0.25",
                          "--fault-seed",
                          "9",
                          "--fault",
                          "page=7,nth=3:503",
                          "--token-lifetime",
                          "60",
                          "--threads",
                          "4"});
    const auto& c = o.config;
    BOOST_TEST(c.https_port == 8443);
    BOOST_TEST(c.http_port.value_or(1) == 0);
    BOOST_TEST(c.cert_dir == "/tmp/c");
    BOOST_TEST(c.dataset.seed == 7u);
    BOOST_TEST(c.dataset.organizations == 3u);
    BOOST_TEST(c.dataset.jobs == 0u);
    BOOST_TEST(c.jobs.max_page_size == 50);
    BOOST_TEST((c.jobs.oversize == sim::oversize_page::reject));
    BOOST_TEST((c.jobs.link_style == sim::next_link_style::absolute));
    BOOST_TEST(c.latency.count() == 50);
    BOOST_TEST(c.rate_limit.requests_per_second == 200.0);
    BOOST_TEST(c.rate_limit.burst == 5.0);
    BOOST_TEST(c.rate_limit.quota == 5000u);
    BOOST_TEST(c.rate_limit.quota_window.count() == 30);
    BOOST_TEST(c.faults.rate == 0.25);
    BOOST_TEST(c.faults.seed == 9u);
    BOOST_TEST(c.faults.schedule.size() == 1u);
    BOOST_TEST(c.token_lifetime.count() == 60);
    BOOST_TEST(o.threads == 4);
}

BOOST_AUTO_TEST_CASE(latency_in_milliseconds_or_seconds) {
    BOOST_TEST(parse({"--latency", "50ms"}).config.latency.count() == 50);
    BOOST_TEST(parse({"--latency", "2s"}).config.latency.count() == 2000);
    BOOST_TEST(parse({"--latency", "75"}).config.latency.count() == 75);
    for (std::string_view bad : {"5m", "ms", "-1ms", "fast", "1.5s"})
        check_names(usage_message([&] { parse({"--latency", bad}); }), {"--latency"});
}

BOOST_AUTO_TEST_CASE(cert_and_key_go_together) {
    const auto both = parse({"--cert", "/x/server.pem", "--key", "/x/key.pem"});
    BOOST_TEST(both.config.cert_file == "/x/server.pem");
    BOOST_TEST(both.config.key_file == "/x/key.pem");
    check_names(usage_message([] { parse({"--cert", "/x/server.pem"}); }), {"--cert", "--key"});
    check_names(usage_message([] { parse({"--key", "/x/key.pem"}); }), {"--cert", "--key"});
}

BOOST_AUTO_TEST_CASE(bad_values_name_option_and_value) {
    struct bad_case {
        args given;
        std::vector<std::string_view> named;
    };
    const bad_case cases[] = {
        {{"--port", "65536"}, {"--port", "'65536'"}},
        {{"--port", "-1"}, {"--port", "'-1'"}},
        {{"--http-port", "http"}, {"--http-port", "'http'"}},
        {{"--orgs", "0"}, {"--orgs", "'0'"}},
        {{"--jobs", "50000001"}, {"--jobs", "'50000001'"}},
        {{"--threads", "65"}, {"--threads", "'65'"}},
        {{"--fault-rate", "1.5"}, {"--fault-rate", "'1.5'"}},
        {{"--oversize", "drop"}, {"--oversize", "'drop'"}},
        {{"--next-link-style", "relative"}, {"--next-link-style", "'relative'"}},
        {{"--rate-limit", "fast"}, {"--rate-limit", "'fast'"}},
        {{"--rate-limit", "200:0"}, {"--rate-limit", "'200:0'"}},
        {{"--quota", "0"}, {"--quota", "'0'", "N or N:S"}},
        {{"--quota", "100:0"}, {"--quota", "'100:0'", "N or N:S"}},
        {{"--quota", "100:1m"}, {"--quota", "'100:1m'", "N or N:S"}},
        {{"--fault", "page=x:503"}, {"--fault", "'page=x:503'"}},
        {{"--latency-ms", "600001"}, {"--latency-ms", "'600001'"}},
        {{"--bogus"}, {"'--bogus'"}},
        {{"--port"}, {"--port", "needs a value"}},
        {{"--help=1"}, {"--help", "'1'"}},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT("first argument " << c.given.list.front()) {
            check_names(usage_message([&] { parse(c.given); }), c.named);
        }
    }
}

BOOST_AUTO_TEST_CASE(help_text_mentions_every_option_it_parses) {
    for (std::string_view o : {"--port",
                               "--http-port",
                               "--cert-dir",
                               "--cert",
                               "--key",
                               "--seed",
                               "--orgs",
                               "--jobs",
                               "--max-page-size",
                               "--oversize",
                               "--next-link-style",
                               "--latency-ms",
                               "--latency",
                               "--rate-limit",
                               "--quota",
                               "--fault-rate",
                               "--fault-seed",
                               "--fault",
                               "--token-lifetime",
                               "--threads",
                               "--help"})
        BOOST_TEST(sim_help().find(o) != std::string::npos, o);
    BOOST_TEST(parse({"-h"}).help);
}

namespace {

/// Each option in `names` is in sim_help().
void in_help(std::initializer_list<std::string_view> names) {
    const std::string help = sim_help();
    for (std::string_view name : names)
        BOOST_TEST(help.find(name) != std::string::npos, name);
}

struct bad_case {
    args given;
    std::vector<std::string_view> named;
};

/// Each case is a usage error naming what its `named` lists.
void refused(std::initializer_list<bad_case> cases) {
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT("arguments starting " << c.given.list.front()) {
            check_names(usage_message([&] { parse(c.given); }), c.named);
        }
    }
}

} // namespace

BOOST_AUTO_TEST_CASE(idle_timeout_and_keepalive_requests) {
    BOOST_TEST(parse({}).config.idle_timeout.count() == 60'000);
    BOOST_TEST(parse({}).config.keepalive_requests == 0u);
    const auto o = parse({"--idle-timeout", "200ms", "--keepalive-requests", "100"});
    BOOST_TEST(o.config.idle_timeout.count() == 200);
    BOOST_TEST(o.config.keepalive_requests == 100u);
    BOOST_TEST(parse({"--idle-timeout", "2s"}).config.idle_timeout.count() == 2000);
    BOOST_TEST(parse({"--idle-timeout", "75"}).config.idle_timeout.count() == 75);
    refused({
        {{"--idle-timeout", "0"}, {"--idle-timeout", "'0'"}},
        {{"--idle-timeout", "3601s"}, {"--idle-timeout", "'3601s'"}},
        {{"--idle-timeout", "1m"}, {"--idle-timeout", "'1m'"}},
        {{"--keepalive-requests", "-1"}, {"--keepalive-requests", "'-1'"}},
    });
    in_help({"--idle-timeout", "--keepalive-requests"});
}

BOOST_AUTO_TEST_CASE(close_all_every) {
    BOOST_TEST(parse({}).config.close_all_every == 0u);
    BOOST_TEST(parse({"--close-all-every", "500"}).config.close_all_every == 500u);
    refused({{{"--close-all-every", "often"}, {"--close-all-every", "'often'"}}});
    in_help({"--close-all-every", "close-after"});
}

BOOST_AUTO_TEST_CASE(tls_tickets_and_session_resumption) {
    BOOST_TEST(parse({}).config.tls_session_tickets == 2u);
    BOOST_TEST(parse({}).config.session_resumption);
    BOOST_TEST(parse({"--tls-tickets", "4"}).config.tls_session_tickets == 4u);
    BOOST_TEST(!parse({"--no-session-resumption"}).config.session_resumption);
    refused({
        {{"--tls-tickets", "101"}, {"--tls-tickets", "'101'"}},
        {{"--tls-tickets", "2", "--no-session-resumption"},
         {"--tls-tickets", "--no-session-resumption"}},
        {{"--no-session-resumption=yes"}, {"--no-session-resumption", "'yes'"}},
    });
    in_help({"--tls-tickets", "--no-session-resumption"});
}

BOOST_AUTO_TEST_CASE(time_filter) {
    using sim::window_match;
    BOOST_TEST((parse({}).config.jobs.window == window_match::start_time));
    BOOST_TEST((parse({"--time-filter", "start"}).config.jobs.window == window_match::start_time));
    BOOST_TEST(
        (parse({"--time-filter", "finish"}).config.jobs.window == window_match::finish_time));
    BOOST_TEST((parse({"--time-filter", "overlap"}).config.jobs.window == window_match::overlap));
    BOOST_TEST((parse({"--time-filter", "ignored"}).config.jobs.window == window_match::ignored));
    refused({{{"--time-filter", "end"}, {"--time-filter", "'end'"}}});
    in_help({"--time-filter"});
}

BOOST_AUTO_TEST_CASE(unstable_order_and_start_time_granularity) {
    BOOST_TEST(!parse({}).config.jobs.unstable_order);
    BOOST_TEST(parse({}).config.dataset.start_time_granularity.count() == 1);
    BOOST_TEST(
        parse({"--start-time-granularity", "1m"}).config.dataset.start_time_granularity.count() ==
        60'000);
    BOOST_TEST(parse({"--start-time-granularity", "250ms"})
                   .config.dataset.start_time_granularity.count() == 250);
    // An unstable order needs ties: start times go to the hour unless told otherwise.
    const auto unstable = parse({"--unstable-order"});
    BOOST_TEST(unstable.config.jobs.unstable_order);
    BOOST_TEST(unstable.config.dataset.start_time_granularity.count() == 3'600'000);
    BOOST_TEST(parse({"--start-time-granularity", "1ms", "--unstable-order"})
                   .config.dataset.start_time_granularity.count() == 1);
    refused({
        {{"--start-time-granularity", "0ms"}, {"--start-time-granularity", "'0ms'"}},
        {{"--start-time-granularity", "hourly"}, {"--start-time-granularity", "'hourly'"}},
        {{"--unstable-order=1"}, {"--unstable-order", "'1'"}},
    });
    in_help({"--unstable-order", "--start-time-granularity"});
}

BOOST_AUTO_TEST_CASE(huge_total_and_lying_pages) {
    BOOST_TEST(!parse({}).config.jobs.huge_total);
    BOOST_TEST(parse({"--huge-total"}).config.jobs.huge_total);
    BOOST_TEST(parse({"--fault", "page=2:short-page"}).config.faults.schedule.size() == 1u);
    refused({{{"--huge-total=no"}, {"--huge-total", "'no'"}}});
    in_help(
        {"--huge-total", "no-jobs", "repeat-link", "bad-link", "huge-total", "short-page", "html"});
}

BOOST_AUTO_TEST_CASE(write_pages_options) {
    BOOST_TEST(!parse({}).write_pages);
    const auto o = parse({"--write-pages", "/tmp/pages", "--write-pages-page-size", "500",
                          "--write-pages-window", "7d", "--write-pages-port", "9443",
                          "--write-pages-keepalive-requests", "10", "--write-pages-foreground",
                          "--write-pages-rate-limit", "200:20", "--write-pages-latency", "50ms",
                          "--next-link-style", "absolute"});
    BOOST_TEST_REQUIRE(o.write_pages.has_value());
    const auto& p = *o.write_pages;
    BOOST_TEST(p.dir == "/tmp/pages");
    BOOST_TEST(p.page_size == 500);
    BOOST_TEST(p.window->count() == 7 * 86'400'000LL);
    BOOST_TEST(p.port == 9443);
    BOOST_TEST(p.keepalive_requests == 10u);
    BOOST_TEST(p.foreground);
    BOOST_TEST(p.rate_limit == 200u);
    BOOST_TEST(p.rate_burst == 20u);
    BOOST_TEST(p.latency.count() == 50);
    BOOST_TEST((p.endpoint.link_style == sim::next_link_style::absolute));

    const auto defaults = *parse({"--write-pages", "out"}).write_pages;
    BOOST_TEST(defaults.page_size == 100);
    BOOST_TEST(defaults.window->count() == 30 * 86'400'000LL);
    BOOST_TEST(defaults.port == 8443);
    BOOST_TEST(defaults.keepalive_requests == 100u);
    BOOST_TEST(!defaults.foreground);
    BOOST_TEST(defaults.rate_limit == 0u);
    BOOST_TEST(defaults.rate_burst == 10u);
    BOOST_TEST(defaults.latency.count() == 0);
    const auto limited =
        *parse({"--write-pages", "out", "--write-pages-rate-limit", "50"}).write_pages;
    BOOST_TEST(limited.rate_limit == 50u);
    BOOST_TEST(limited.rate_burst == 10u);
    BOOST_TEST((defaults.endpoint.window == sim::window_match::start_time));

    BOOST_TEST(!parse({"--write-pages", "out", "--write-pages-window", "none"})
                    .write_pages->window.has_value());
    BOOST_TEST((
        parse({"--write-pages", "out", "--write-pages-ignore-time"}).write_pages->endpoint.window ==
        sim::window_match::ignored));
    BOOST_TEST(
        (parse({"--write-pages", "out", "--time-filter", "overlap"}).write_pages->endpoint.window ==
         sim::window_match::overlap));
    refused({
        {{"--write-pages", ""}, {"--write-pages", "''"}},
        {{"--write-pages-port", "9443"}, {"--write-pages-port", "--write-pages DIR"}},
        {{"--write-pages", "d", "--write-pages-port", "0"}, {"--write-pages-port", "'0'"}},
        {{"--write-pages", "d", "--write-pages-page-size", "0"},
         {"--write-pages-page-size", "'0'"}},
        {{"--write-pages", "d", "--write-pages-page-size", "2000"},
         {"--write-pages-page-size", "--max-page-size"}},
        {{"--write-pages", "d", "--write-pages-window", "30x"}, {"--write-pages-window", "'30x'"}},
        {{"--write-pages", "d", "--write-pages-keepalive-requests", "0"},
         {"--write-pages-keepalive-requests", "'0'"}},
        {{"--write-pages", "d", "--write-pages-ignore-time", "--time-filter", "start"},
         {"--write-pages-ignore-time", "--time-filter"}},
        {{"--write-pages", "d", "--unstable-order"}, {"--unstable-order", "--write-pages"}},
        {{"--write-pages", "d", "--huge-total"}, {"--huge-total", "--write-pages"}},
        {{"--write-pages", "d", "--write-pages-rate-limit", "0"},
         {"--write-pages-rate-limit", "'0'", "R or R:B"}},
        {{"--write-pages", "d", "--write-pages-rate-limit", "200:0"},
         {"--write-pages-rate-limit", "'200:0'"}},
        {{"--write-pages", "d", "--write-pages-rate-limit", "2.5"},
         {"--write-pages-rate-limit", "'2.5'"}},
        {{"--write-pages", "d", "--write-pages-latency", "50us"},
         {"--write-pages-latency", "'50us'", "50ms"}},
        {{"--write-pages", "d", "--write-pages-latency", "601s"},
         {"--write-pages-latency", "'601s'"}},
        {{"--write-pages-bogus", "1"}, {"--write-pages-bogus"}},
    });
    in_help({"--write-pages", "--write-pages-page-size", "--write-pages-window",
             "--write-pages-port", "--write-pages-keepalive-requests", "--write-pages-ignore-time",
             "--write-pages-foreground", "--write-pages-rate-limit", "--write-pages-latency"});
}

BOOST_AUTO_TEST_CASE(compression_options) {
    const sim::compression_config defaults = parse({}).config.compression;
    BOOST_TEST((defaults == sim::compression_config{}));
    BOOST_TEST(defaults.gzip);
    BOOST_TEST(defaults.deflate);

    const auto offered = [](std::string_view list) {
        const auto c = parse({"--compression", list}).config.compression;
        return std::pair{c.gzip, c.deflate};
    };
    BOOST_TEST((offered("gzip,deflate") == std::pair{true, true}));
    BOOST_TEST((offered("deflate,gzip") == std::pair{true, true}));
    BOOST_TEST((offered("gzip") == std::pair{true, false}));
    BOOST_TEST((offered("deflate") == std::pair{false, true}));
    BOOST_TEST((offered("none") == std::pair{false, false}));

    const auto o = parse({"--compression-level", "6", "--compression-min-size", "0",
                          "--raw-deflate", "--awkward-chunks"})
                       .config.compression;
    BOOST_TEST(o.level == 6);
    BOOST_TEST(o.min_size == 0u);
    BOOST_TEST(o.raw_deflate);
    BOOST_TEST(o.awkward_chunks);
    refused({
        {{"--compression", "br"}, {"--compression", "'br'"}},
        {{"--compression", "gzip,gzip"}, {"--compression", "'gzip,gzip'"}},
        {{"--compression", "gzip,"}, {"--compression", "'gzip,'"}},
        {{"--compression", "gzip,none"}, {"--compression", "'gzip,none'"}},
        {{"--compression", ""}, {"--compression", "''"}},
        {{"--compression-level", "0"}, {"--compression-level", "'0'"}},
        {{"--compression-level", "10"}, {"--compression-level", "'10'"}},
        {{"--compression-min-size", "-1"}, {"--compression-min-size", "'-1'"}},
        {{"--raw-deflate=yes"}, {"--raw-deflate", "'yes'"}},
        {{"--awkward-chunks=1"}, {"--awkward-chunks", "'1'"}},
        {{"--compression", "gzip", "--raw-deflate"}, {"--raw-deflate", "--compression"}},
    });
    in_help({"--compression", "--compression-level", "--compression-min-size", "--raw-deflate",
             "--awkward-chunks", "corrupt-gzip", "truncated-gzip"});
    BOOST_TEST(parse({"--fault", "nth=2:corrupt-gzip"}).config.faults.schedule.size() == 1u);
}

BOOST_AUTO_TEST_CASE(bandwidth) {
    BOOST_TEST(parse({}).config.bandwidth_bits_per_second == 0u);
    const auto bits = [](std::string_view v) {
        return parse({"--bandwidth", v}).config.bandwidth_bits_per_second;
    };
    BOOST_TEST(bits("100mbit") == 100'000'000u);
    BOOST_TEST(bits("100Mbit") == 100'000'000u);
    BOOST_TEST(bits("1.5gbit") == 1'500'000'000u);
    BOOST_TEST(bits("800kbit") == 800'000u);
    BOOST_TEST(bits("1kbit") == 1'000u);
    BOOST_TEST(bits("100gbit") == 100'000'000'000u);
    BOOST_TEST(bits("8000000") == 8'000'000u); // bits per second
    BOOST_TEST(bits("0") == 0u);
    BOOST_TEST(bits("0mbit") == 0u);
    refused({
        {{"--bandwidth", "fast"}, {"--bandwidth", "'fast'"}},
        {{"--bandwidth", "100mbps"}, {"--bandwidth", "'100mbps'"}},
        {{"--bandwidth", "mbit"}, {"--bandwidth", "'mbit'"}},
        {{"--bandwidth", "-1mbit"}, {"--bandwidth", "'-1mbit'"}},
        {{"--bandwidth", "999"}, {"--bandwidth", "'999'"}},
        {{"--bandwidth", "101gbit"}, {"--bandwidth", "'101gbit'"}},
        {{"--bandwidth", "1e6"}, {"--bandwidth", "'1e6'"}},
        {{"--bandwidth", "nan"}, {"--bandwidth", "'nan'"}},
    });
    in_help({"--bandwidth"});
}

BOOST_AUTO_TEST_CASE(a_skewed_dataset_and_printing_the_organizations) {
    const auto o = parse({"--busiest-org-factor", "20", "--print-orgs"});
    BOOST_TEST(o.config.dataset.busiest_organization_factor == 20u);
    BOOST_TEST(o.print_organizations);
    BOOST_TEST(parse({}).config.dataset.busiest_organization_factor == 0u);
    BOOST_TEST(!parse({}).print_organizations);
    refused({{{"--busiest-org-factor", "0"}, {"--busiest-org-factor", "'0'"}},
             {{"--print-orgs=yes"}, {"--print-orgs"}}});
}

BOOST_AUTO_TEST_SUITE_END()
