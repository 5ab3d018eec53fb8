// resolve_backfill: options + environment + clock -> what the run does, refused before any
// request when it cannot work. Files live in a scratch folder; the clock and the environment
// are injected.
#include "cli/backfill_plan.hpp"
#include "cli_test_support.hpp"

#include <dynjobs/sim/dataset.hpp>

#include <boost/test/unit_test.hpp>

#include <variant>

using namespace dynjobs;
using namespace dynjobs::cli;
using namespace dynjobs::cli::test;
using namespace std::chrono;

namespace {

const timestamp now = at("2026-06-15T12:00:00Z");
const auto no_env = env_of({});
const auto env_secret = env_of({{"DYNJOBS_CLIENT_SECRET", "s3cr3t"}});

struct plan_fixture {
    scratch_dir dir;
    std::string out = (dir / "jobs.jsonl").string();

    backfill_plan resolve(const args& a, const environment& env = no_env) const {
        return resolve_backfill(parse_backfill_options(a.span()), now, env);
    }
    std::string refused(const args& a, const environment& env = no_env) const {
        return usage_message([&] { resolve(a, env); });
    }
};

std::string value_of(const selection& s, std::string_view option) {
    for (const auto& [o, v] : s)
        if (o == option)
            return v;
    BOOST_ERROR("selection lacks " << option);
    return {};
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(cli_plan, plan_fixture)

BOOST_AUTO_TEST_CASE(embedded_without_connection_options_or_secret) {
    const auto p = resolve({"--output", out});
    BOOST_TEST(p.embedded);
    BOOST_TEST((p.request.start == sim::dataset_config{}.begin));
    BOOST_TEST((p.request.finish == now));
    BOOST_TEST((p.request.on_failure == failure_policy::go_on));
    BOOST_TEST(value_of(p.chosen, "--base-url") == "embedded simulator");
    BOOST_TEST(p.output == std::filesystem::path(out));
    BOOST_TEST(p.checkpoint_path.string() == out + ".checkpoint");
    BOOST_TEST(!p.to_stdout);
}

BOOST_AUTO_TEST_CASE(spans_and_the_default_until_are_whole_seconds) {
    const timestamp with_ms = now + std::chrono::milliseconds(1234);
    backfill_options o = parse_backfill_options(args{"--since", "90d", "--output", out}.span());
    const auto p = resolve_backfill(o, with_ms, no_env);
    BOOST_TEST((p.request.finish == now + std::chrono::seconds(1)));
    BOOST_TEST((p.request.start == now + std::chrono::seconds(1) - std::chrono::days(90)));
    BOOST_TEST(format_iso8601(p.request.start).find('.') == std::string::npos,
               format_iso8601(p.request.start));
}

BOOST_AUTO_TEST_CASE(a_secret_in_the_environment_means_a_real_endpoint) {
    const auto m = refused({"--output", out}, env_secret);
    check_names(m, {"no endpoint", "--region", "--base-url", "DYNJOBS_CLIENT_SECRET"});
    BOOST_TEST(m.find("s3cr3t") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(client_id_without_endpoint) {
    check_names(refused({"--client-id", "app", "--output", out}),
                {"--client-id", "no endpoint", "--region", "--base-url"});
}

BOOST_AUTO_TEST_CASE(secret_file_or_certificate_without_endpoint_names_the_option) {
    const auto secret = dir.write("secret.txt", "s3cr3t\n");
    check_names(refused({"--client-secret-file", secret, "--output", out}),
                {"--client-secret-file", "no endpoint"});
    const auto cert = dir.write("cert.pem", "not really a certificate");
    check_names(refused({"--certificate", cert, "--output", out}),
                {"--certificate", "no endpoint"});
    check_names(refused({"--token-url", "https://login.example.com/token", "--output", out}),
                {"--token-url", "no endpoint"});
}

BOOST_AUTO_TEST_CASE(endpoint_without_credentials) {
    check_names(
        refused({"--region", "us", "--client-id", "app", "--since", "90d", "--output", out}),
        {"--region us", "DYNJOBS_CLIENT_SECRET", "--client-secret-file", "--certificate"});
    check_names(
        refused({"--base-url", "https://api.example.com", "--since", "90d", "--output", out},
                env_secret),
        {"--client-id", "--base-url https://api.example.com"});
}

BOOST_AUTO_TEST_CASE(real_endpoint_with_secret_from_the_environment) {
    const auto p = resolve({"--base-url", "https://api.example.com", "--token-url",
                            "https://id.example.com/connect/token", "--client-id", "app", "--since",
                            "2024-01-01", "--output", out},
                           env_secret);
    BOOST_TEST(!p.embedded);
    BOOST_TEST(p.config.base_url == "https://api.example.com");
    const auto* creds = std::get_if<client_secret_credentials>(&p.config.creds);
    BOOST_REQUIRE(creds);
    BOOST_TEST(creds->client_id == "app");
    BOOST_TEST(creds->client_secret == "s3cr3t");
    BOOST_TEST(value_of(p.chosen, "--base-url") == "https://api.example.com");
}

BOOST_AUTO_TEST_CASE(a_base_url_of_no_region_needs_a_token_url) {
    // Credentials are never posted to a guessed endpoint on an unknown host.
    check_names(refused({"--base-url", "https://api.example.com", "--client-id", "app", "--since",
                         "2024-01-01", "--output", out},
                        env_secret),
                {"--token-url", "--base-url https://api.example.com"});
    // A region's own host and loopback have a known token endpoint.
    for (const char* url : {"https://graph-us.avepointonlineservices.com", "https://127.0.0.1:8443",
                            "https://localhost:8443"}) {
        const auto p = resolve(
            {"--base-url", url, "--client-id", "app", "--since", "2024-01-01", "--output", out},
            env_secret);
        BOOST_TEST(p.config.token_url.empty(), url);
    }
}

BOOST_AUTO_TEST_CASE(secret_file_first_line_trimmed) {
    const auto secret = dir.write("secret.txt", "s3cr3t \t\r\nsecond line\n");
    const auto p = resolve({"--region", "us", "--client-id", "app", "--client-secret-file", secret,
                            "--since", "90d", "--output", out});
    const auto* creds = std::get_if<client_secret_credentials>(&p.config.creds);
    BOOST_REQUIRE(creds);
    BOOST_TEST(creds->client_secret == "s3cr3t");
    BOOST_TEST(p.config.region == "us");
}

BOOST_AUTO_TEST_CASE(unreadable_or_empty_secret_refused) {
    const auto missing = (dir / "no-such-secret").string();
    check_names(refused({"--region", "us", "--client-id", "app", "--client-secret-file", missing,
                         "--since", "90d", "--output", out}),
                {"--client-secret-file", missing});
    const auto empty = dir.write("empty.txt", "\n");
    check_names(refused({"--region", "us", "--client-id", "app", "--client-secret-file", empty,
                         "--since", "90d", "--output", out}),
                {"--client-secret-file", empty, "empty"});
    check_names(refused({"--region", "us", "--client-id", "app", "--since", "90d", "--output", out},
                        env_of({{"DYNJOBS_CLIENT_SECRET", ""}})),
                {"DYNJOBS_CLIENT_SECRET", "empty"});
}

BOOST_AUTO_TEST_CASE(more_than_one_credential_refused) {
    const auto secret = dir.write("secret.txt", "s3cr3t\n");
    check_names(refused({"--region", "us", "--client-id", "app", "--client-secret-file", secret,
                         "--since", "90d", "--output", out},
                        env_secret),
                {"DYNJOBS_CLIENT_SECRET", "--client-secret-file", "give one"});
}

BOOST_AUTO_TEST_CASE(certificate_with_password_from_the_environment) {
    const auto cert = dir.write("cert.pfx", "binary");
    const auto p = resolve({"--region", "we", "--client-id", "app", "--certificate", cert,
                            "--since", "90d", "--output", out},
                           env_of({{"DYNJOBS_CERT_PASSWORD", "pw"}}));
    const auto* creds = std::get_if<certificate_credentials>(&p.config.creds);
    BOOST_REQUIRE(creds);
    BOOST_TEST(creds->certificate_file == cert);
    BOOST_TEST(creds->password == "pw");
    const auto missing = (dir / "nope.pem").string();
    check_names(refused({"--region", "we", "--client-id", "app", "--certificate", missing,
                         "--since", "90d", "--output", out}),
                {"--certificate", missing});
}

BOOST_AUTO_TEST_CASE(unreadable_ca_file_refused) {
    const auto missing = (dir / "ca.pem").string();
    check_names(refused({"--region", "us", "--client-id", "app", "--ca-file", missing, "--since",
                         "90d", "--output", out},
                        env_secret),
                {"--ca-file", missing});
}

BOOST_AUTO_TEST_CASE(unreadable_extra_ca_file_refused) {
    const auto missing = (dir / "extra-ca.pem").string();
    check_names(refused({"--region", "us", "--client-id", "app", "--extra-ca-file", missing,
                         "--since", "90d", "--output", out},
                        env_secret),
                {"--extra-ca-file", missing});
}

BOOST_AUTO_TEST_CASE(proxy_options_and_password_go_to_the_client_config) {
    const auto ca = dir.write("extra-ca.pem", "PEM");
    const auto p = resolve({"--region", "us", "--client-id", "app", "--since", "90d", "--output",
                            out, "--proxy", "http://alice@proxy.corp:3128", "--no-proxy",
                            ".corp.example", "--extra-ca-file", ca},
                           env_of({{"DYNJOBS_CLIENT_SECRET", "s3cr3t"},
                                   {"DYNJOBS_PROXY_PASSWORD", "pr0xy"},
                                   {"HTTPS_PROXY", "http://ignored:1"}}));
    BOOST_TEST(p.config.proxy.url == "http://alice@proxy.corp:3128");
    BOOST_TEST(p.config.proxy.no_proxy == ".corp.example");
    BOOST_TEST(p.config.proxy.password == "pr0xy");
    // The client reads HTTPS_PROXY and NO_PROXY itself, from the process.
    BOOST_TEST(p.config.proxy.from_environment);
    BOOST_TEST(p.config.tls.extra_ca_file == ca);
    BOOST_TEST(p.config.tls.ca_file.empty());
}

BOOST_AUTO_TEST_CASE(a_retry_after_holds_its_own_request_unless_host_wide_is_asked) {
    BOOST_TEST(resolve({"--output", out}).config.rate.retry_after_per_request);
    BOOST_TEST(
        !resolve({"--retry-after-host-wide", "--output", out}).config.rate.retry_after_per_request);
    // Without the learnt rate the gate holds the host anyway; nothing to refuse.
    const auto p = resolve({"--retry-after-host-wide", "--no-adaptive-rate", "--output", out});
    BOOST_TEST(!p.config.rate.adaptive_rate);
}

BOOST_AUTO_TEST_CASE(proxy_options_without_endpoint_are_named) {
    check_names(refused({"--proxy", "http://proxy.corp:3128", "--output", out}),
                {"--proxy given, but no endpoint"});
    check_names(refused({"--no-proxy", "*", "--output", out}), {"--no-proxy given"});
}

BOOST_AUTO_TEST_CASE(since_is_required_for_a_real_endpoint) {
    check_names(refused({"--region", "us", "--client-id", "app", "--output", out}, env_secret),
                {"--since"});
}

BOOST_AUTO_TEST_CASE(since_not_before_until_names_both_values) {
    check_names(refused({"--since", "2025-01-01", "--until", "2024-01-01", "--output", out}),
                {"--since", "'2025-01-01'", "--until", "'2024-01-01'"});
    check_names(refused({"--since", "2024-01-01", "--until", "2024-01-01", "--output", out}),
                {"--since", "--until"});
    check_names(refused({"--since", "30d", "--until", "90d", "--output", out}),
                {"'30d'", "'90d'", "2026-05-16T12:00:00"});
    // No --until: now.
    check_names(refused({"--since", "2027-01-01", "--output", out}), {"'2027-01-01'", "now"});
}

BOOST_AUTO_TEST_CASE(orgs_file_lines_and_errors) {
    const auto good =
        dir.write("orgs.txt", "# tenants\n\n  3F2504E0-4F89-41D3-9A0C-0305E82C3302 \r\n"
                              "3f2504e0-4f89-41d3-9a0c-0305e82c3301\n"
                              "\t# indented comment\n");
    const auto p = resolve(
        {"--orgs-file", good, "--org", "3f2504e0-4f89-41d3-9a0c-0305e82c3301", "--output", out});
    BOOST_TEST(p.request.organizations.size() == 2u);
    BOOST_TEST(value_of(p.chosen, "--org") ==
               "3f2504e0-4f89-41d3-9a0c-0305e82c3301,3f2504e0-4f89-41d3-9a0c-0305e82c3302");

    const auto bad = dir.write("bad.txt", "3f2504e0-4f89-41d3-9a0c-0305e82c3301\n# ok\n"
                                          "3f2504e0-4f89-41d3-9a0c-0305e82c330Z\n");
    check_names(refused({"--orgs-file", bad, "--output", out}),
                {"--orgs-file", "line 3", bad, "'3f2504e0-4f89-41d3-9a0c-0305e82c330Z'"});
    const auto missing = (dir / "none.txt").string();
    check_names(refused({"--orgs-file", missing, "--output", out}), {"--orgs-file", missing});
}

BOOST_AUTO_TEST_CASE(orgs_file_that_is_a_folder_is_refused) {
    // Reading a folder yields no line: it must not pass as an empty list, which would silently
    // widen the backfill to every organization the app sees.
    const auto folder = dir.path().string();
    check_names(refused({"--orgs-file", folder, "--output", out}), {"--orgs-file", folder});
}

BOOST_AUTO_TEST_CASE(orgs_file_without_any_guid_is_refused) {
    // The user asked for a list of organizations; an empty one is not "every organization".
    const auto only_comments = dir.write("comments.txt", "# none yet\n\n");
    check_names(refused({"--orgs-file", only_comments, "--output", out}),
                {"--orgs-file", only_comments});
}

BOOST_AUTO_TEST_CASE(checkpoint_or_stats_on_the_output_file_is_refused) {
    // Either would replace the jobs written so far with a small JSON document.
    check_names(refused({"--output", out, "--checkpoint", out}), {"--checkpoint", out});
    check_names(refused({"--output", out, "--stats-json", out}), {"--stats-json", out});
    // The same file spelt another way.
    const auto same = (dir.path() / "." / "jobs.jsonl").string();
    check_names(refused({"--output", out, "--checkpoint", same}), {"--checkpoint", same});
}

BOOST_AUTO_TEST_CASE(output_folder_must_exist) {
    const auto nowhere = (dir / "missing" / "jobs.jsonl").string();
    check_names(refused({"--output", nowhere}), {"--output", nowhere, "does not exist"});
    check_names(refused({"--output", dir.path().string()}),
                {"--output", dir.path().string(), "folder"});
    check_names(refused({"--output", out, "--checkpoint", nowhere}), {"--checkpoint", nowhere});
    check_names(refused({"--output", out, "--stats-json", nowhere}), {"--stats-json", nowhere});
}

BOOST_AUTO_TEST_CASE(empty_file_options_are_refused) {
    // An empty value (an unset shell variable: --checkpoint "$CP") must not silently turn the
    // checkpoint off or fail only after the whole backfill when the summary is written.
    check_names(refused({"--output", out, "--checkpoint="}), {"--checkpoint", "''"});
    // With --resume an empty checkpoint path would resume from offset 0: the output truncated.
    check_names(refused({"--output", out, "--checkpoint", "", "--resume"}), {"--checkpoint", "''"});
    check_names(refused({"--output", out, "--stats-json", ""}), {"--stats-json", "''"});
}

BOOST_AUTO_TEST_CASE(stdout_cannot_be_resumed) {
    check_names(refused({"--output", "-", "--resume"}), {"--resume", "standard output"});
    check_names(refused({"--output", "-", "--checkpoint", (dir / "cp").string()}),
                {"--checkpoint", "standard output"});
    const auto p = resolve({"--output", "-"});
    BOOST_TEST(p.to_stdout);
    BOOST_TEST(p.checkpoint_path.empty());
}

BOOST_AUTO_TEST_CASE(default_output_names_by_format) {
    const auto jsonl = resolve({});
    BOOST_TEST(jsonl.output.filename() == "jobs.jsonl");
    BOOST_TEST(jsonl.output.is_absolute());
    BOOST_TEST(jsonl.checkpoint_path.filename() == "jobs.jsonl.checkpoint");
    const auto csv = resolve({"--format", "csv"});
    BOOST_TEST(csv.output.filename() == "jobs.csv");
    BOOST_TEST((csv.format == output_format::csv));
    const auto explicit_cp = (dir / "my.cp").string();
    BOOST_TEST(resolve({"--output", out, "--checkpoint", explicit_cp}).checkpoint_path ==
               std::filesystem::path(explicit_cp));
}

BOOST_AUTO_TEST_CASE(speed_options_map_to_the_client_config) {
    const auto p = resolve({"--concurrency", "4", "--max-rate", "12.5", "--output", out});
    BOOST_TEST(p.config.pool.max_connections == 4u);
    BOOST_TEST(p.config.rate.max_in_flight == 4u);
    BOOST_TEST(p.config.max_in_flight_per_organization == 4u);
    BOOST_TEST(p.config.rate.max_requests_per_second == 12.5);
}

BOOST_AUTO_TEST_CASE(request_fields_and_run_settings) {
    const auto p = resolve({"--type", "backup", "--status", "failed", "--since", "2024-01-01",
                            "--until", "2024-07-01T06:30:00Z", "--window", "7d", "--page-size",
                            "500", "--checkpoint-interval", "0.25", "--quiet", "--output", out});
    BOOST_TEST((p.request.type == job_type::backup));
    BOOST_TEST((p.request.status == job_status::failed));
    BOOST_TEST((p.request.start == at("2024-01-01T00:00:00Z")));
    BOOST_TEST((p.request.finish == at("2024-07-01T06:30:00Z")));
    BOOST_TEST((p.request.window == milliseconds(days(7))));
    BOOST_TEST(p.request.page_size == 500);
    BOOST_TEST(p.checkpoint_interval.count() == 250);
    BOOST_TEST((p.level == verbosity::quiet));
    BOOST_TEST((resolve({"-v", "--output", out}).level == verbosity::verbose));
    BOOST_TEST(!resolve({"--window", "none", "--output", out}).request.window);
}

BOOST_AUTO_TEST_CASE(selection_keeps_relative_times_as_given) {
    const auto p = resolve({"--since", "90d", "--output", out});
    BOOST_TEST(value_of(p.chosen, "--since") == "90d");
    BOOST_TEST(value_of(p.chosen, "--until") == "");
    BOOST_TEST((p.request.start == now - days(90)));
    // The same command a day later (a resume) repeats the same selection.
    const auto later =
        resolve_backfill(parse_backfill_options(args{"--since", "90d", "--output", out}.span()),
                         now + days(1), no_env);
    BOOST_TEST(!selection_mismatch(p.chosen, later.chosen));
}

BOOST_AUTO_TEST_CASE(selection_compares_meaning_not_spelling) {
    const auto a = resolve({"--type", "backup", "--window", "30d", "--org",
                            "3f2504e0-4f89-41d3-9a0c-0305e82c3302", "--org",
                            "3f2504e0-4f89-41d3-9a0c-0305e82c3301", "--output", out});
    const auto b =
        resolve({"--type", "1", "--window", "720h", "--org", "3F2504E0-4F89-41D3-9A0C-0305E82C3301",
                 "--org", "3f2504e0-4f89-41d3-9a0c-0305e82c3302", "--output", out});
    BOOST_TEST(!selection_mismatch(a.chosen, b.chosen));
    const auto c = resolve({"--type", "restore", "--output", out});
    const auto m = selection_mismatch(a.chosen, c.chosen);
    BOOST_REQUIRE(m);
    check_names(*m, {"--type", "'1'", "'2'"});
    const auto d = resolve({"--format", "csv", "--output", out});
    BOOST_TEST(selection_mismatch(resolve({"--output", out}).chosen, d.chosen).has_value());
}

BOOST_AUTO_TEST_CASE(speed_and_reporting_options_may_change_on_resume) {
    const auto first = resolve({"--since", "90d", "--concurrency", "4", "--output", out});
    const auto again = resolve({"--since", "90d", "--concurrency", "32", "--max-rate", "5",
                                "--checkpoint-interval", "10", "--verbose", "--output", out});
    BOOST_TEST(!selection_mismatch(first.chosen, again.chosen));
}

BOOST_AUTO_TEST_CASE(library_fields_map_to_options) {
    BOOST_TEST(option_for_field("base_url") == "--base-url");
    BOOST_TEST(option_for_field("client_secret") == "DYNJOBS_CLIENT_SECRET");
    BOOST_TEST(option_for_field("password") == "DYNJOBS_CERT_PASSWORD");
    BOOST_TEST(option_for_field("start") == "--since");
    BOOST_TEST(option_for_field("finish") == "--until");
    BOOST_TEST(option_for_field("something_else") == "something_else");
}

BOOST_AUTO_TEST_CASE(shards_parse_strictly) {
    BOOST_TEST((parse_shard("2/5", std::nullopt) == shard_spec{2, 5}));
    BOOST_TEST((parse_shard("0/1", std::nullopt) == shard_spec{0, 1}));
    BOOST_TEST((parse_shard("auto/4", "3") == shard_spec{3, 4}));
    BOOST_TEST((parse_shard("auto/4", std::nullopt) == shard_spec{0, 4})); // shape only
    for (const char* bad : {"5/5", "1/0", "-1/3", "1/", "/3", "a/3", "1/3x", "1", "1/10001", ""})
        BOOST_TEST(!parse_shard(bad, std::nullopt), bad);
    BOOST_TEST(!parse_shard("auto/4", "4"));
    BOOST_TEST(!parse_shard("auto/4", "x"));
    BOOST_TEST(!parse_shard("auto/4", ""));
}

BOOST_AUTO_TEST_CASE(shards_partition_the_segments_evenly) {
    fetch_request r;
    r.start = at("2024-01-01T00:00:00Z");
    r.finish = at("2026-01-01T00:00:00Z");
    r.window = milliseconds(days(7));
    r.organizations = {*organization_id::parse("3f2504e0-4f89-41d3-9a0c-0305e82c3301"),
                       *organization_id::parse("3f2504e0-4f89-41d3-9a0c-0305e82c3302"),
                       *organization_id::parse("3f2504e0-4f89-41d3-9a0c-0305e82c3303")};
    const std::size_t total = r.windows().size() * 3;
    for (std::size_t n : {1u, 2u, 7u, 64u}) {
        std::vector<int> owner(total, -1);
        for (std::size_t i = 0; i < n; ++i) {
            const auto others = segments_of_other_shards(r, {i, n});
            std::vector<bool> other(total, false);
            for (const auto& k : others)
                other[k.window * 3 + k.org_slot] = true;
            std::size_t mine = 0;
            for (std::size_t s = 0; s < total; ++s)
                if (!other[s]) {
                    BOOST_TEST(owner[s] == -1, "segment " << s << " in two shards");
                    owner[s] = static_cast<int>(i);
                    ++mine;
                }
            BOOST_TEST((mine == total / n || mine == total / n + 1), n << " shards: " << mine);
        }
        BOOST_TEST(std::count(owner.begin(), owner.end(), -1) == 0, n << " shards miss one");
    }
}

BOOST_AUTO_TEST_CASE(a_shard_names_its_files_and_its_selection) {
    const auto pattern = (dir / "jobs-{shard}.jsonl").string();
    const auto p = resolve({"--shard", "auto/3", "--output", pattern},
                           env_of({{"JOB_COMPLETION_INDEX", "2"}}));
    BOOST_TEST_REQUIRE(p.shard.has_value());
    BOOST_TEST((*p.shard == shard_spec{2, 3}));
    BOOST_TEST(p.output == dir.path() / "jobs-2.jsonl");
    BOOST_TEST(p.checkpoint_path == dir.path() / "jobs-2.jsonl.checkpoint");
    BOOST_TEST(value_of(p.chosen, "--shard") == "2/3");
    // Without the variable, or with one out of range: one line naming it.
    check_names(refused({"--shard", "auto/3", "--output", pattern}),
                {"--shard auto/3", "JOB_COMPLETION_INDEX", "not set"});
    check_names(refused({"--shard", "auto/3", "--output", pattern},
                        env_of({{"JOB_COMPLETION_INDEX", "3"}})),
                {"JOB_COMPLETION_INDEX", "'3'"});
    check_names(refused({"--shard", "3/3", "--output", out}), {"--shard", "3/3"});
    // Against a real server each shard resolves its own now: a relative range is refused.
    const args real{"--base-url",  "https://api.example",
                    "--token-url", "https://login.example/token",
                    "--client-id", "app"};
    const auto with = [&](std::initializer_list<const char*> more) {
        args a = real;
        for (const char* m : more)
            a.list.push_back(m);
        return a;
    };
    check_names(refused(with({"--shard", "0/2", "--since", "90d", "--until", "2026-06-01",
                              "--output", out.c_str()}),
                        env_secret),
                {"--shard", "--since", "'90d'", "relative"});
    check_names(refused(with({"--shard", "0/2", "--since", "2024-01-01", "--output", out.c_str()}),
                        env_secret),
                {"--shard", "--until", "not given"});
    BOOST_TEST(resolve(with({"--shard", "0/2", "--since", "2024-01-01", "--until", "2026-01-01",
                             "--output", out.c_str()}),
                       env_secret)
                   .shard.has_value());
    check_names(refused({"--shard", "0/2", "--output", "postgresql://u@h/db"}),
                {"--shard", "--worker"});
}

BOOST_AUTO_TEST_SUITE_END()
