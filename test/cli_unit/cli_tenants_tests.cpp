// `--tenants FILE`: the file's shape (parse_tenants, pure) and its resolution into one client
// configuration per tenant (resolve_backfill), each bad input named before any request.
#include "cli/backfill_plan.hpp"
#include "cli/tenants_file.hpp"
#include "cli_test_support.hpp"

#include <boost/test/unit_test.hpp>

#include <variant>

using namespace dynjobs;
using namespace dynjobs::cli;
using namespace dynjobs::cli::test;

namespace {

const timestamp now = at("2026-06-15T12:00:00Z");
constexpr const char* org_a = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";
constexpr const char* org_b = "7c9e6679-7425-40de-944b-e07fc1f90ae7";

std::string parse_error(std::string_view text) {
    return usage_message([&] { parse_tenants(text, "t.json"); });
}

// One tenant object with `fields` beside a valid name, endpoint, client id and credential.
std::string one_tenant(std::string_view fields) {
    return std::string(R"({"tenants": [{"name": "a", )") + std::string(fields) + "}]}";
}

constexpr const char* valid = R"("base-url": "https://127.0.0.1:8443", "client-id": "app-a", )"
                              R"("client-secret-env": "A_SECRET")";

struct tenants_fixture {
    scratch_dir dir;
    std::string out = "postgresql://u@127.0.0.1/db";

    backfill_plan resolve(const std::string& file_text, const environment& env,
                          std::vector<std::string_view> extra = {}) const {
        const auto file = dir.write("tenants.json", file_text);
        args a{"--worker", "--output", out, "--since", "2024-01-01", "--tenants", file};
        a.list.insert(a.list.end(), extra.begin(), extra.end());
        return resolve_backfill(parse_backfill_options(a.span()), now, env);
    }
    std::string refused(const std::string& file_text, const environment& env,
                        std::vector<std::string_view> extra = {}) const {
        return usage_message([&] { resolve(file_text, env, extra); });
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(cli_tenants)

BOOST_AUTO_TEST_CASE(every_field_is_read) {
    const auto tenants = parse_tenants(
        R"({"tenants": [
          {"name": "contoso", "region": "us", "client-id": "c1", "client-secret-env": "C_SECRET",
           "scope": "dynamics.read", "orgs": [")" +
            std::string(org_a) + R"("], "max-rate": 50.5},
          {"name": "fabrikam.eu", "base-url": "https://api.example.com",
           "token-url": "https://id.example.com/connect/token", "client-id": "f1",
           "certificate": "/s/f.pfx", "certificate-password-env": "F_PFX"}]})",
        "t.json");
    BOOST_TEST_REQUIRE(tenants.size() == 2u);
    BOOST_TEST(tenants[0].name == "contoso");
    BOOST_TEST(*tenants[0].region == "us");
    BOOST_TEST(*tenants[0].client_secret_env == "C_SECRET");
    BOOST_TEST(*tenants[0].scope == "dynamics.read");
    BOOST_TEST(tenants[0].orgs == std::vector<std::string>{org_a});
    BOOST_TEST(*tenants[0].max_rate == 50.5);
    BOOST_TEST(*tenants[1].base_url == "https://api.example.com");
    BOOST_TEST(*tenants[1].token_url == "https://id.example.com/connect/token");
    BOOST_TEST(*tenants[1].certificate == "/s/f.pfx");
    BOOST_TEST(*tenants[1].certificate_password_env == "F_PFX");
    BOOST_TEST(tenants[1].orgs.empty());
    BOOST_TEST(!tenants[1].max_rate);
}

BOOST_AUTO_TEST_CASE(bad_files_are_refused_naming_the_tenant_the_field_and_the_value) {
    BOOST_TEST(parse_error("{\"tenants\": [\n  {\"name\": \"a\",}]}")
                   .starts_with("t.json: not JSON at line 2, column "));
    BOOST_TEST(parse_error(R"([{"name": "a"}])").find("expected an object with a list") !=
               std::string::npos);
    BOOST_TEST(parse_error(R"({"tenants": []})") == "t.json: \"tenants\" lists no tenant");
    BOOST_TEST(parse_error(R"({"tenants": [], "x": 1})") ==
               "t.json: unknown field \"x\" beside \"tenants\"");
    BOOST_TEST(parse_error(R"({"tenants": [7]})") == "t.json: tenant 1 is 7: expected an object");
    BOOST_TEST(parse_error(one_tenant(std::string(valid) + R"(, "regoin": "us")")) ==
               "t.json: tenant 1 ('a'): unknown field \"regoin\": expected name, region, "
               "base-url, token-url, client-id, client-secret-env, client-secret-file, "
               "certificate, certificate-password-env, scope, orgs, max-rate");
    BOOST_TEST(parse_error(one_tenant(std::string(valid) + R"(, "client-secret": "s3cr3t")"))
                   .find("a secret is not accepted in the tenants file") != std::string::npos);
    BOOST_TEST(parse_error(one_tenant(std::string(valid) + R"(, "client-secret": "s3cr3t")"))
                   .find("s3cr3t") == std::string::npos);
    BOOST_TEST(parse_error(R"({"tenants": [{"name": "a b", "region": "us"}]})") ==
               "t.json: tenant 1 ('a b'): \"name\" is \"a b\": expected 1 to 64 letters, digits, "
               "'.', '_', '-'");
    BOOST_TEST(parse_error(R"({"tenants": [{"region": "us"}]})") ==
               "t.json: tenant 1: \"name\" is missing, e.g. \"name\": \"contoso\"");
    BOOST_TEST(parse_error(one_tenant(R"("region": "us", "base-url": "https://x", "client-id": "c",
                                         "client-secret-env": "S")")) ==
               "t.json: tenant 1 ('a'): \"region\" and \"base-url\" are both given: give one");
    BOOST_TEST(parse_error(one_tenant(R"("client-id": "c", "client-secret-env": "S")")) ==
               "t.json: tenant 1 ('a'): no endpoint: give \"region\" (e.g. \"us\") or "
               "\"base-url\"");
    BOOST_TEST(
        parse_error(one_tenant(R"("region": "us", "client-id": "c")")).find("no credential") !=
        std::string::npos);
    BOOST_TEST(parse_error(one_tenant(R"("region": "us", "client-id": "c",
                                         "client-secret-env": "S", "certificate": "c.pem")"))
                   .find("more than one credential") != std::string::npos);
    BOOST_TEST(parse_error(one_tenant(R"("region": "us", "client-id": 5)")) ==
               "t.json: tenant 1 ('a'): \"client-id\" is 5: expected a non-empty string");
    BOOST_TEST(parse_error(one_tenant(std::string(valid) + R"(, "orgs": ["not-a-guid"])")) ==
               "t.json: tenant 1 ('a'): \"orgs\" holds \"not-a-guid\": expected a GUID like "
               "\"3f2504e0-4f89-41d3-9a0c-0305e82c3301\"");
    BOOST_TEST(parse_error(one_tenant(std::string(valid) + R"(, "orgs": [])"))
                   .find("\"orgs\" is an empty list") != std::string::npos);
    BOOST_TEST(parse_error(one_tenant(std::string(valid) + R"(, "max-rate": -1)")) ==
               "t.json: tenant 1 ('a'): \"max-rate\" is -1: expected requests per second, a "
               "number from 0 (no ceiling) to 1000000");
    BOOST_TEST(parse_error(one_tenant(std::string(valid) + R"(, "max-rate": "50")"))
                   .find("\"max-rate\" is \"50\"") != std::string::npos);
    BOOST_TEST(parse_error(R"({"tenants": [{"name": "a", )" + std::string(valid) +
                           R"(}, {"name": "a", )" + std::string(valid) + "}]}") ==
               "t.json: tenant 2: the name \"a\" is given twice");
}

BOOST_FIXTURE_TEST_CASE(each_tenant_gets_its_own_client_configuration, tenants_fixture) {
    const auto p =
        resolve(R"({"tenants": [{"name": "a", )" + std::string(valid) + R"(, "orgs": [")" + org_b +
                    R"(", ")" + org_a + R"("], "max-rate": 40},
          {"name": "b", "base-url": "https://127.0.0.1:9443", "client-id": "app-b",
           "client-secret-file": ")" +
                    dir.write("b.secret", "secret-b\n") + R"("}]})",
                env_of({{"A_SECRET", "secret-a"}, {"DYNJOBS_CLIENT_SECRET", "ignored"}}),
                {"--max-rate", "10", "--concurrency", "6"});
    BOOST_TEST(!p.embedded);
    BOOST_TEST_REQUIRE(p.tenants.size() == 2u);
    const auto secret = [](const tenant_plan& t) {
        const auto* c = std::get_if<client_secret_credentials>(&t.config.creds);
        BOOST_REQUIRE(c);
        return c->client_id + ":" + c->client_secret;
    };
    BOOST_TEST(p.tenants[0].name == "a");
    BOOST_TEST(secret(p.tenants[0]) == "app-a:secret-a");
    BOOST_TEST(p.tenants[0].config.base_url == "https://127.0.0.1:8443");
    BOOST_TEST(p.tenants[0].config.rate.max_requests_per_second == 40);
    BOOST_TEST(p.tenants[0].config.rate.max_in_flight == 6u);
    BOOST_TEST_REQUIRE(p.tenants[0].organizations.size() == 2u); // sorted, as --org
    BOOST_TEST(p.tenants[0].organizations[0].to_string() == org_a);
    BOOST_TEST(secret(p.tenants[1]) == "app-b:secret-b");
    BOOST_TEST(p.tenants[1].config.rate.max_requests_per_second == 10); // the command's
    BOOST_TEST(p.tenants[1].organizations.empty());
    // The selection knows the tenants, never a secret.
    std::string chosen;
    for (const auto& [option, value] : p.chosen)
        chosen += option + "=" + value + "\n";
    BOOST_TEST(chosen.find("--tenants=a|") != std::string::npos, chosen);
    BOOST_TEST(chosen.find("secret-") == std::string::npos, chosen);
}

BOOST_FIXTURE_TEST_CASE(tenants_are_refused_without_worker_or_beside_connection_options,
                        tenants_fixture) {
    const auto file = dir.write("tenants.json", one_tenant(valid));
    BOOST_TEST(
        usage_message([&] {
            resolve_backfill(
                parse_backfill_options(
                    args{"--output", out, "--since", "2024-01-01", "--tenants", file}.span()),
                now, env_of({{"A_SECRET", "s"}}));
        }).starts_with("--tenants applies to --worker only"));
    BOOST_TEST(refused(one_tenant(valid), env_of({{"A_SECRET", "s"}}), {"--client-id", "x"}) ==
               "--client-id is given with --tenants " + (dir / "tenants.json").string() +
                   ": each tenant has its own; put it in the tenants file");
    BOOST_TEST(refused(one_tenant(valid), env_of({{"A_SECRET", "s"}}), {"--org", org_a})
                   .starts_with("--org is given with --tenants"));
}

BOOST_FIXTURE_TEST_CASE(a_tenants_missing_secret_or_bad_endpoint_is_named, tenants_fixture) {
    const auto where = "--tenants " + (dir / "tenants.json").string() + ": tenant 'a': ";
    BOOST_TEST(refused(one_tenant(valid), env_of({})) ==
               where + "\"client-secret-env\" names A_SECRET, which is not set or empty");
    BOOST_TEST(refused(one_tenant(R"("region": "mars", "client-id": "c",
                                     "client-secret-env": "A_SECRET")"),
                       env_of({{"A_SECRET", "s"}}))
                   .starts_with(where + "invalid value 'mars' for --region"));
    BOOST_TEST(refused(one_tenant(R"("base-url": "https://api.example.com", "client-id": "c",
                                     "client-secret-env": "A_SECRET")"),
                       env_of({{"A_SECRET", "s"}}))
                   .starts_with(where + "--token-url is required"));
    BOOST_TEST(refused(one_tenant(R"("region": "us", "client-id": "c",
                                     "client-secret-file": "/nonexistent/s")"),
                       env_of({}))
                   .starts_with(where + "--client-secret-file: cannot read"));
    BOOST_TEST(usage_message([&] {
                   resolve_backfill(
                       parse_backfill_options(args{"--worker", "--output", out, "--since",
                                                   "2024-01-01", "--tenants", "/nonexistent/t.json"}
                                                  .span()),
                       now, env_of({}));
               }) == "--tenants: cannot read '/nonexistent/t.json'");
}

BOOST_AUTO_TEST_SUITE_END()
