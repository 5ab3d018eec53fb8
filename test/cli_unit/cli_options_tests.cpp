// `dynjobs backfill` option syntax: every bad argument is refused with one message naming the
// option and the value, before anything else happens.
#include "cli/backfill_options.hpp"
#include "cli_test_support.hpp"

#include <dynjobs/jobs_query.hpp>

#include <boost/test/unit_test.hpp>

#include <limits>
#include <string>
#include <vector>

using namespace dynjobs::cli;
using namespace dynjobs::cli::test;

namespace {

backfill_options parse(const args& a) {
    return parse_backfill_options(a.span());
}

struct bad_case {
    args given;
    std::vector<std::string_view> named;
};

void check_refused(const std::vector<bad_case>& cases) {
    for (const auto& c : cases) {
        std::string joined;
        for (auto a : c.given.list)
            joined += std::string(a) + " ";
        BOOST_TEST_CONTEXT("arguments: " << joined) {
            check_names(usage_message([&] { parse(c.given); }), c.named);
        }
    }
}

} // namespace

BOOST_AUTO_TEST_SUITE(cli_backfill_options)

BOOST_AUTO_TEST_CASE(defaults_without_arguments) {
    const auto o = parse({});
    BOOST_TEST(o.type == "all");
    BOOST_TEST(!o.status);
    BOOST_TEST(!o.since);
    BOOST_TEST(!o.until);
    BOOST_TEST(o.window == "30d");
    BOOST_TEST(o.page_size == 100);
    BOOST_TEST(o.concurrency == 16u);
    BOOST_TEST(o.max_rate == 0.0);
    BOOST_TEST((o.format == output_format::jsonl));
    BOOST_TEST(!o.resume);
    BOOST_TEST(!o.verbose);
    BOOST_TEST(!o.quiet);
}

BOOST_AUTO_TEST_CASE(both_value_forms_and_short_names) {
    const auto o = parse({"--type=backup",
                          "--status",
                          "failed",
                          "--since",
                          "90d",
                          "--until=2025-01-01",
                          "--org",
                          "3f2504e0-4f89-41d3-9a0c-0305e82c3301",
                          "--org",
                          "3F2504E0-4F89-41D3-9A0C-0305E82C3302",
                          "--window",
                          "none",
                          "--page-size",
                          "1000",
                          "--concurrency=4",
                          "--max-rate",
                          "12.5",
                          "-o",
                          "out.csv",
                          "--format",
                          "csv",
                          "--resume",
                          "-v",
                          "--checkpoint-interval",
                          "0.25"});
    BOOST_TEST(o.type == "backup");
    BOOST_TEST(*o.status == "failed");
    BOOST_TEST(*o.since == "90d");
    BOOST_TEST(*o.until == "2025-01-01");
    BOOST_TEST(o.orgs.size() == 2u);
    BOOST_TEST(o.window == "none");
    BOOST_TEST(o.page_size == 1000);
    BOOST_TEST(o.concurrency == 4u);
    BOOST_TEST(o.max_rate == 12.5);
    BOOST_TEST(*o.output == "out.csv");
    BOOST_TEST((o.format == output_format::csv));
    BOOST_TEST(o.resume);
    BOOST_TEST(o.verbose);
    BOOST_TEST(o.checkpoint_interval == 0.25);
}

BOOST_AUTO_TEST_CASE(type_and_status_by_number) {
    const auto o = parse({"--type", "16", "--status", "7"});
    BOOST_TEST(o.type == "16");
    BOOST_TEST(*o.status == "7");
}

BOOST_AUTO_TEST_CASE(bad_selection_values_name_option_and_value) {
    check_refused({
        {{"--type", "backups"}, {"--type", "'backups'"}},
        {{"--status", "done"}, {"--status", "'done'"}},
        {{"--since", "2024-13-01"}, {"--since", "'2024-13-01'"}},
        {{"--since", "2024-1-1"}, {"--since", "'2024-1-1'"}},
        {{"--since", "yesterday"}, {"--since", "'yesterday'"}},
        {{"--until", "2024-02-30"}, {"--until", "'2024-02-30'"}},
        {{"--until", "10y"}, {"--until", "'10y'"}},
        {{"--org", "not-a-guid"}, {"--org", "'not-a-guid'"}},
        {{"--org", "3f2504e0-4f89-41d3-9a0c-0305e82c330"},
         {"--org", "3f2504e0-4f89-41d3-9a0c-0305e82c330'"}},
        {{"--window", "30"}, {"--window", "'30'"}},
        {{"--window", "0d"}, {"--window", "'0d'"}},
        {{"--format", "xml"}, {"--format", "'xml'"}},
    });
}

BOOST_AUTO_TEST_CASE(numbers_out_of_range_name_option_value_and_range) {
    check_refused({
        {{"--page-size", "0"}, {"--page-size", "'0'", "1 to "}},
        {{"--page-size", "-5"}, {"--page-size", "'-5'"}},
        {{"--page-size", "10x"}, {"--page-size", "'10x'"}},
        {{"--page-size", ""}, {"--page-size", "''"}},
        {{"--page-size", "99999999999999999999999"}, {"--page-size", "'99999999999999999999999'"}},
        {{"--concurrency", "0"}, {"--concurrency", "'0'", "1 to 1024"}},
        {{"--concurrency", "1025"}, {"--concurrency", "'1025'"}},
        {{"--concurrency", "-1"}, {"--concurrency", "'-1'"}},
        {{"--max-rate", "-1"}, {"--max-rate", "'-1'"}},
        {{"--max-rate", "1e3"}, {"--max-rate", "'1e3'"}},
        {{"--max-rate", "inf"}, {"--max-rate", "'inf'"}},
        {{"--max-rate", "nan"}, {"--max-rate", "'nan'"}},
        {{"--max-rate", "2000000"}, {"--max-rate", "'2000000'"}},
        {{"--checkpoint-interval", "3601"}, {"--checkpoint-interval", "'3601'"}},
    });
}

BOOST_AUTO_TEST_CASE(range_limits_are_accepted) {
    const auto low = parse({"--page-size", "1", "--concurrency", "1", "--max-rate", "0"});
    BOOST_TEST(low.page_size == 1);
    BOOST_TEST(low.concurrency == 1u);
    const auto max_page = std::to_string(dynjobs::jobs_query::max_page_size);
    const auto high = parse({"--page-size", max_page, "--concurrency", "1024", "--max-rate",
                             "1000000", "--checkpoint-interval", "3600"});
    BOOST_TEST(high.page_size == dynjobs::jobs_query::max_page_size);
    BOOST_TEST(high.concurrency == 1024u);
    BOOST_TEST(high.max_rate == 1e6);
}

BOOST_AUTO_TEST_CASE(page_size_above_the_api_maximum_is_refused) {
    const auto over = std::to_string(dynjobs::jobs_query::max_page_size + 1);
    check_names(usage_message([&] {
                    parse({"--page-size", over});
                }),
                {"--page-size", "'" + over + "'",
                 "1 to " + std::to_string(dynjobs::jobs_query::max_page_size)});
}

BOOST_AUTO_TEST_CASE(syntax_errors_name_the_option) {
    check_refused({
        {{"--bogus"}, {"unknown option", "'--bogus'"}},
        {{"--bogus=1"}, {"'--bogus'"}},
        {{"-x"}, {"'-x'"}},
        {{"stray"}, {"unexpected argument", "'stray'"}},
        {{"--since", "90d", "extra"}, {"'extra'"}},
        {{"--since"}, {"--since", "needs a value"}},
        {{"--output"}, {"--output", "needs a value"}},
        {{"--resume=yes"}, {"--resume", "takes no value", "'yes'"}},
        {{"--verbose=1"}, {"--verbose", "'1'"}},
        {{"--quiet="}, {"--quiet", "takes no value"}},
        {{"--allow-insecure-http=true"}, {"--allow-insecure-http", "'true'"}},
        {{"--verbose", "--quiet"}, {"--verbose", "--quiet"}},
        {{"-q", "-v"}, {"--verbose", "--quiet"}},
        {{"--output="}, {"--output", "''"}},
        {{"--client-id="}, {"--client-id", "''"}},
    });
}

BOOST_AUTO_TEST_CASE(client_secret_on_the_command_line_is_refused) {
    for (const args& a : {args{"--client-secret", "hunter2"}, args{"--client-secret=hunter2"}}) {
        const auto message = usage_message([&] { parse(a); });
        check_names(message, {"--client-secret", "DYNJOBS_CLIENT_SECRET", "--client-secret-file"});
        // The refusal must not echo the secret back to a terminal or a log.
        BOOST_TEST(message.find("hunter2") == std::string::npos);
    }
}

BOOST_AUTO_TEST_CASE(a_value_that_looks_like_a_dash_is_taken_as_a_value) {
    BOOST_TEST(*parse({"--output", "-"}).output == "-");
    BOOST_TEST(*parse({"--output=-"}).output == "-");
}

BOOST_AUTO_TEST_CASE(help_text_mentions_every_option_it_parses) {
    for (std::string_view o : {"--type",
                               "--status",
                               "--since",
                               "--until",
                               "--org",
                               "--orgs-file",
                               "--window",
                               "--page-size",
                               "--concurrency",
                               "--max-rate",
                               "--no-adaptive-rate",
                               "--retry-after-host-wide",
                               "--region",
                               "--base-url",
                               "--token-url",
                               "--client-id",
                               "--client-secret-file",
                               "--certificate",
                               "--ca-file",
                               "--allow-insecure-http",
                               "--output",
                               "--format",
                               "--checkpoint",
                               "--resume",
                               "--checkpoint-interval",
                               "--stats-json",
                               "--pg-schema",
                               "--pg-password-file",
                               "--pg-retry-for",
                               "--verbose",
                               "--quiet",
                               "--help"})
        BOOST_TEST(backfill_usage.find(o) != std::string_view::npos, o);
    BOOST_TEST(parse({"--help"}).help);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(cli_numbers)

BOOST_AUTO_TEST_CASE(parse_number_bounds_and_junk) {
    BOOST_TEST(parse_number<int>("--n", "7", 1, 10) == 7);
    BOOST_TEST(parse_number<std::uint64_t>("--n", "18446744073709551615", 0,
                                           std::numeric_limits<std::uint64_t>::max()) ==
               std::numeric_limits<std::uint64_t>::max());
    for (std::string_view bad : {"0", "11", "", " 5", "5 ", "+5", "0x5", "5.0"}) {
        BOOST_TEST_CONTEXT("value '" << bad << "'") {
            const auto m = usage_message([&] { parse_number<int>("--n", bad, 1, 10); });
            check_names(m, {"--n", "'" + std::string(bad) + "'", "1 to 10"});
        }
    }
}

BOOST_AUTO_TEST_CASE(parse_real_fixed_notation_only) {
    BOOST_TEST(parse_real("--r", "0.5", 0, 1) == 0.5);
    BOOST_TEST(parse_real("--r", "1", 0, 1) == 1.0);
    for (std::string_view bad : {"1.5", "-0.1", "5e-1", "0x1p-1", "inf", "nan", "", "0.5s"}) {
        BOOST_TEST_CONTEXT("value '" << bad << "'") {
            const auto m = usage_message([&] { parse_real("--r", bad, 0, 1); });
            check_names(m, {"--r", "'" + std::string(bad) + "'"});
        }
    }
}

BOOST_AUTO_TEST_CASE(proxy_options_are_checked_for_shape) {
    const auto o = parse({"--proxy", "http://alice@proxy.corp:3128", "--no-proxy",
                          ".corp.example, 10.0.0.0/8", "--extra-ca-file", "proxy-ca.pem"});
    BOOST_TEST(*o.proxy == "http://alice@proxy.corp:3128");
    BOOST_TEST(*o.no_proxy == ".corp.example, 10.0.0.0/8");
    BOOST_TEST(*o.extra_ca_file == "proxy-ca.pem");
    check_refused({
        {{"--proxy", "socks5://proxy:1080"}, {"--proxy", "'socks5://proxy:1080'", "socks5"}},
        {{"--proxy", "https://proxy:3128"}, {"--proxy", "https://"}},
        {{"--proxy", "http://proxy:3128/path"}, {"--proxy", "path"}},
        {{"--no-proxy", "a.example, b c"}, {"--no-proxy", "'b c'"}},
        {{"--no-proxy", "[::1:443"}, {"--no-proxy", "'[::1:443'"}},
    });
}

BOOST_AUTO_TEST_CASE(a_proxy_password_on_the_command_line_is_refused_unechoed) {
    for (const auto* url : {"http://alice:hunter2@proxy:3128", "socks5://alice:hunter2@proxy"}) {
        const auto m = usage_message([&] { parse({"--proxy", url}); });
        BOOST_TEST(m.find("--proxy") != std::string::npos, m);
        BOOST_TEST(m.find("hunter2") == std::string::npos, m);
    }
}

BOOST_AUTO_TEST_SUITE_END()

// Found by fuzz_cli_args: an echoed value with a newline or an escape sequence made the error
// two lines, or recoloured the operator's terminal.
BOOST_AUTO_TEST_CASE(control_characters_in_an_echoed_value_are_escaped) {
    const std::vector<std::string_view> args{"--type", "a\nb\x1b[31m"};
    try {
        parse_backfill_options(args);
        BOOST_FAIL("accepted");
    } catch (const usage_error& e) {
        BOOST_TEST(e.message.starts_with("invalid value 'a\\x0ab\\x1b[31m' for --type"), e.message);
    }
}
