// `dynjobs sync` options: its own (--every, --lookback, --listen, --log-format, --once), the
// backfill's it shares, the backfill's it refuses, and what resolve_sync requires.
#include "cli/sync_options.hpp"
#include "cli_test_support.hpp"

#include <boost/test/unit_test.hpp>

using namespace dynjobs;
using namespace dynjobs::cli;
using namespace dynjobs::cli::test;

namespace {

sync_options parse(const args& a) {
    return parse_sync_options(a.span());
}

const auto api_env = env_of({{"DYNJOBS_CLIENT_SECRET", "s3cret"}});

} // namespace

BOOST_AUTO_TEST_SUITE(cli_sync_options)

BOOST_AUTO_TEST_CASE(defaults_and_given_values) {
    const auto d = parse({});
    BOOST_TEST(d.every.count() == 300'000);
    BOOST_TEST(d.lookback.count() == 48 * 3'600'000);
    BOOST_TEST(!d.listen);
    BOOST_TEST((d.log == log_format::text));
    BOOST_TEST(!d.once);

    const auto o =
        parse({"--every", "30s", "--lookback=7d", "--listen", "[::1]:9464", "--log-format", "json",
               "--once", "--type", "backup", "--org", "3f2504e0-4f89-41d3-9a0c-0305e82c3301"});
    BOOST_TEST(o.every.count() == 30'000);
    BOOST_TEST(o.lookback.count() == 7 * 24 * 3'600'000LL);
    BOOST_TEST(o.listen->port() == 9464);
    BOOST_TEST(o.listen->address().is_v6());
    BOOST_TEST((o.log == log_format::json));
    BOOST_TEST(o.once);
    BOOST_TEST(o.base.type == "backup");
    BOOST_TEST(o.base.orgs.size() == 1u);
    BOOST_TEST(parse({"--help"}).help);
}

BOOST_AUTO_TEST_CASE(bad_values_name_the_option_and_the_value) {
    check_names(usage_message([] { parse({"--every", "0s"}); }), {"--every", "'0s'"});
    check_names(usage_message([] { parse({"--every", "5"}); }), {"--every", "'5'"});
    check_names(usage_message([] {
                    parse({"--lookback", "forever"});
                }),
                {"--lookback", "'forever'"});
    check_names(usage_message([] {
                    parse({"--listen", "localhost:9464"});
                }),
                {"--listen", "'localhost:9464'"});
    check_names(usage_message([] {
                    parse({"--listen", "127.0.0.1:0"});
                }),
                {"--listen", "'127.0.0.1:0'"});
    check_names(usage_message([] { parse({"--log-format", "xml"}); }), {"--log-format", "'xml'"});
    check_names(usage_message([] { parse({"--once=yes"}); }), {"--once"});
    check_names(usage_message([] { parse({"--window", "forever"}); }), {"--window", "'forever'"});
    check_names(usage_message([] { parse({"--frobnicate"}); }), {"--frobnicate"});
}

BOOST_AUTO_TEST_CASE(backfill_options_without_meaning_for_a_sync_are_refused) {
    for (std::string_view option : {"--until", "--resume", "--checkpoint", "--checkpoint-interval",
                                    "--stats-json", "--verbose", "--quiet"})
        check_names(usage_message([&] { parse({option, "x"}); }), {option, "does not apply"});
    check_names(usage_message([] { parse({"--format", "csv"}); }), {"--format csv"});
}

BOOST_AUTO_TEST_CASE(resolve_requires_since_an_api_and_a_file_or_database) {
    const auto now = at("2025-06-01T00:00:00Z");
    const auto with = [](std::initializer_list<std::string_view> extra) {
        args a{"--base-url", "https://127.0.0.1:8443", "--client-id", "app"};
        a.list.insert(a.list.end(), extra);
        return parse(a);
    };
    check_names(usage_message([&] { resolve_sync(with({}), now, api_env); }), {"--since"});
    check_names(usage_message([&] {
                    resolve_sync(parse({"--since", "1d"}), now, env_of({}));
                }),
                {"--region", "--base-url"});
    check_names(usage_message([&] {
                    resolve_sync(with({"--since", "1d", "--output", "-"}), now, api_env);
                }),
                {"--output -"});

    const auto p =
        resolve_sync(with({"--since", "3d", "--every", "1m", "--lookback", "1h"}), now, api_env);
    BOOST_TEST(format_iso8601(p.schedule.since) == "2025-05-29T00:00:00Z");
    BOOST_TEST(p.schedule.every.count() == 60'000);
    BOOST_TEST(p.schedule.lookback.count() == 3'600'000);
    BOOST_TEST((p.plan.request.on_failure == failure_policy::stop));
    // The selection names which jobs, not when: another --since keeps the high-water mark.
    const auto other = resolve_sync(with({"--since", "30d"}), now, api_env);
    BOOST_TEST((p.plan.chosen == other.plan.chosen));
    BOOST_TEST(
        (p.plan.chosen !=
         resolve_sync(with({"--since", "3d", "--type", "backup"}), now, api_env).plan.chosen));
}

BOOST_AUTO_TEST_CASE(help_lists_every_option) {
    for (const auto* o : {"--since",
                          "--every",
                          "--lookback",
                          "--once",
                          "--listen",
                          "--log-format",
                          "--output",
                          "--pg-schema",
                          "--pg-password-file",
                          "--pg-retry-for",
                          "--type",
                          "--status",
                          "--org",
                          "--orgs-file",
                          "--window",
                          "--page-size",
                          "--time-filter",
                          "--concurrency",
                          "--max-rate",
                          "--no-adaptive-rate",
                          "--retry-after-host-wide",
                          "--region",
                          "--base-url",
                          "--token-url",
                          "--client-id",
                          "--scope",
                          "--client-secret-file",
                          "--certificate",
                          "--ca-file",
                          "--extra-ca-file",
                          "--allow-insecure-http",
                          "--no-compression",
                          "--proxy",
                          "--no-proxy",
                          "--help"})
        BOOST_TEST(sync_usage.find(o) != std::string_view::npos, o);
}

BOOST_AUTO_TEST_SUITE_END()
