// The README's table of what the library rejects, walked row by row: each input gets exactly
// the message the table promises, from client::validate, before anything is sent.
#include "../common/readme_table.hpp"

#include <dynjobs/client.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include <functional>
#include <map>

using namespace dynjobs;

namespace {

struct setup {
    client_config config;
    fetch_request request;
};

timestamp at(const char* iso) {
    return *parse_iso8601(iso);
}

// Each README input, as code. A valid configuration first; the row changes one thing.
const std::map<std::string, std::function<void(setup&)>>& inputs() {
    static const std::map<std::string, std::function<void(setup&)>> table{
        {R"(region = "mars")",
         [](setup& s) { s.config.base_url.clear(), s.config.region = "mars"; }},
        {R"(region = "us" and base_url = "https://127.0.0.1:8443")",
         [](setup& s) { s.config.region = "us"; }},
        {R"(base_url = "" and no region)", [](setup& s) { s.config.base_url.clear(); }},
        {R"(base_url = "ftp://example.com")",
         [](setup& s) { s.config.base_url = "ftp://example.com"; }},
        {R"(base_url = "https://user:pw@example.com")",
         [](setup& s) { s.config.base_url = "https://user:pw@example.com"; }},
        {R"(base_url = "http://graph-us.example.com")",
         [](setup& s) { s.config.base_url = "http://graph-us.example.com"; }},
        {R"(token_url = "identity.example.com/connect/token")",
         [](setup& s) { s.config.token_url = "identity.example.com/connect/token"; }},
        {R"(tls.ca_file = "/no/such/ca.pem")",
         [](setup& s) { s.config.tls.ca_file = "/no/such/ca.pem"; }},
        {R"(client_secret_credentials{"", "secret"})",
         [](setup& s) {
             s.config.creds = client_secret_credentials{"", "secret"};
         }},
        {R"(client_secret_credentials{"app", ""})",
         [](setup& s) {
             s.config.creds = client_secret_credentials{"app", ""};
         }},
        {R"(certificate_credentials{"app", "", ""})",
         [](setup& s) {
             s.config.creds = certificate_credentials{"app", "", ""};
         }},
        {R"(certificate_credentials{"app", "/no/such/app.pfx", ""})",
         [](setup& s) {
             s.config.creds = certificate_credentials{"app", "/no/such/app.pfx", ""};
         }},
        {R"(bearer_token_credentials{""})",
         [](setup& s) { s.config.creds = bearer_token_credentials{""}; }},
        {R"(scope = "")", [](setup& s) { s.config.scope.clear(); }},
        {R"(request.type = job_type{3})", [](setup& s) { s.request.type = job_type{3}; }},
        {R"(request.status = job_status{5})", [](setup& s) { s.request.status = job_status{5}; }},
        {R"(request.start = 2025-01-01, request.finish = 2024-01-01)",
         [](setup& s) {
             s.request.start = at("2025-01-01T00:00:00Z");
             s.request.finish = at("2024-01-01T00:00:00Z");
         }},
        {R"(request.page_size = 0)", [](setup& s) { s.request.page_size = 0; }},
        {R"(request.page_size = 10001)", [](setup& s) { s.request.page_size = 10'001; }},
        {R"(request.organizations = {a, a})",
         [](setup& s) {
             const auto a = *organization_id::parse("3f2504e0-4f89-41d3-9a0c-0305e82c3301");
             s.request.organizations = {a, a};
         }},
        {R"(request.window = 0ms)",
         [](setup& s) { s.request.window = std::chrono::milliseconds(0); }},
        {R"(request.window = 1ms over a year)",
         [](setup& s) { s.request.window = std::chrono::milliseconds(1); }},
        {R"(request.server_time_filter = time_filter{9})",
         [](setup& s) { s.request.server_time_filter = time_filter{9}; }},
        {R"(request.max_pages_per_window = 0)",
         [](setup& s) { s.request.max_pages_per_window = 0; }},
        {R"(request.skip = {{5, 0}} with no organizations)",
         [](setup& s) {
             s.request.skip = {{5, 0}};
         }},
        {R"(request.deadline = 0ms)",
         [](setup& s) { s.request.deadline = std::chrono::milliseconds(0); }},
        {R"(max_in_flight_per_organization = 0)",
         [](setup& s) { s.config.max_in_flight_per_organization = 0; }},
        {R"(rate.max_in_flight = 0)", [](setup& s) { s.config.rate.max_in_flight = 0; }},
        {R"(rate.min_in_flight = 64)", [](setup& s) { s.config.rate.min_in_flight = 64; }},
        {R"(pool.timeouts.connect = 0ms)",
         [](setup& s) { s.config.pool.timeouts.connect = std::chrono::milliseconds(0); }},
        {R"(rate.decrease_factor = 1.5)", [](setup& s) { s.config.rate.decrease_factor = 1.5; }},
        {R"(proxy.url = "socks5://127.0.0.1:1080")",
         [](setup& s) { s.config.proxy.url = "socks5://127.0.0.1:1080"; }},
        {R"(proxy.url = "https://proxy.example.com:3128")",
         [](setup& s) { s.config.proxy.url = "https://proxy.example.com:3128"; }},
        {R"(proxy.url = "http://")", [](setup& s) { s.config.proxy.url = "http://"; }},
        {R"(proxy.url = "http://alice:pw@proxy.example.com:3128" and proxy.password = "pw")",
         [](setup& s) {
             s.config.proxy.url = "http://alice:pw@proxy.example.com:3128";
             s.config.proxy.password = "pw";
         }},
        {R"(proxy.url = "http://proxy.example.com:3128" and proxy.password = "pw")",
         [](setup& s) {
             s.config.proxy.url = "http://proxy.example.com:3128";
             s.config.proxy.password = "pw";
         }},
        {R"(proxy.no_proxy = "example.com:http")",
         [](setup& s) { s.config.proxy.no_proxy = "example.com:http"; }},
        {R"(tls.extra_ca_file = "/no/such/extra-ca.pem")",
         [](setup& s) { s.config.tls.extra_ca_file = "/no/such/extra-ca.pem"; }},
    };
    return table;
}

std::string message_for(const std::function<void(setup&)>& change) {
    setup s;
    s.config.base_url = "https://127.0.0.1:8443";
    s.config.creds = client_secret_credentials{"app", "secret"};
    s.request.start = at("2024-01-01T00:00:00Z");
    s.request.finish = at("2025-01-01T00:00:00Z");
    change(s);
    boost::asio::io_context io; // never run: validate() sends nothing
    client c(io.get_executor(), s.config);
    diagnostics diag;
    const auto ec = c.validate(s.request, diag);
    return ec ? diag.message : "(accepted)";
}

} // namespace

BOOST_AUTO_TEST_CASE(readme_library_bad_input_table_holds_row_by_row) {
    const auto rows = dynjobs::test::readme_table("bad-input-library");
    BOOST_TEST_REQUIRE(rows.size() == inputs().size(),
                       "the README and this test list different inputs");
    for (const auto& row : rows) {
        BOOST_TEST_REQUIRE(row.size() == 2u);
        const auto it = inputs().find(row[0]);
        BOOST_TEST_REQUIRE((it != inputs().end()), "README input with no test: " << row[0]);
        const auto actual = message_for(it->second);
        BOOST_TEST(actual == row[1], "| `" << row[0] << "` | `" << actual << "` |");
    }
}
