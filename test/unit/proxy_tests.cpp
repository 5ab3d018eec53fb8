// Choosing a proxy without a socket: proxy URLs, NO_PROXY lists, the environment's variables,
// and what the messages say (never a password).
#include "net/proxy.hpp"

#include <dynjobs/error.hpp>

#include <boost/test/unit_test.hpp>

#include <map>

namespace {

using dynjobs::diagnostics;
using dynjobs::errc;
using dynjobs::proxy_config;
using dynjobs::tls_config;
using namespace dynjobs::net;

proxy_url parsed(std::string_view url) {
    proxy_url out;
    std::string reason;
    const auto ec = parse_proxy_url(url, out, reason);
    BOOST_TEST_REQUIRE(!ec, url << ": " << reason);
    return out;
}

std::string refusal(std::string_view url) {
    proxy_url out;
    std::string reason;
    const auto ec = parse_proxy_url(url, out, reason);
    BOOST_TEST_REQUIRE((ec == errc::invalid_argument), url << " was accepted");
    return reason;
}

no_proxy_list strict_list(std::string_view text) {
    no_proxy_list list;
    std::string reason;
    const auto ec = no_proxy_list::parse(text, true, list, reason);
    BOOST_TEST_REQUIRE(!ec, text << ": " << reason);
    return list;
}

origin at(std::string_view url) {
    origin o;
    diagnostics diag;
    tls_config tls;
    tls.allow_insecure_http = true;
    const auto ec = parse_origin(url, tls, "url", o, diag);
    BOOST_TEST_REQUIRE(!ec, diag.message);
    return o;
}

/// An environment of exactly these variables.
environment env_of(std::map<std::string, std::string> vars) {
    return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
        const auto it = vars.find(std::string(name));
        if (it == vars.end())
            return std::nullopt;
        return it->second;
    };
}

struct choice {
    boost::system::error_code ec;
    std::optional<proxy_endpoint> proxy;
    diagnostics diag;
};

choice choose(const proxy_config& config, std::string_view target,
              std::map<std::string, std::string> vars = {}) {
    choice c;
    c.ec = choose_proxy(config, at(target), env_of(std::move(vars)), c.proxy, c.diag);
    return c;
}

std::string proxied_to(const choice& c) {
    BOOST_TEST_REQUIRE(!c.ec, c.diag.message);
    return c.proxy ? c.proxy->to_string() : "direct";
}

} // namespace

BOOST_AUTO_TEST_SUITE(proxy_urls)

BOOST_AUTO_TEST_CASE(host_port_and_http_default_port) {
    const auto p = parsed("http://Proxy.Corp.Example:3128");
    BOOST_TEST(p.endpoint.host == "proxy.corp.example");
    BOOST_TEST(p.endpoint.port == 3128);
    BOOST_TEST(!p.user);
    BOOST_TEST(!p.password);
    BOOST_TEST(p.endpoint.to_string() == "http://proxy.corp.example:3128");
    BOOST_TEST(parsed("http://proxy.corp.example/").endpoint.port == 80);
    BOOST_TEST(parsed("HTTP://10.1.2.3:8080").endpoint.host == "10.1.2.3");
}

BOOST_AUTO_TEST_CASE(ipv6_proxy_is_bracketed_only_when_written) {
    const auto p = parsed("http://[::1]:3128");
    BOOST_TEST(p.endpoint.host == "::1");
    BOOST_TEST(p.endpoint.to_string() == "http://[::1]:3128");
}

BOOST_AUTO_TEST_CASE(user_information_is_percent_decoded) {
    const auto p = parsed("http://al%69ce:p%40ss%3Aw%25rd@proxy:3128");
    BOOST_TEST(*p.user == "alice");
    BOOST_TEST(*p.password == "p@ss:w%rd");
    const auto user_only = parsed("http://alice@proxy:3128");
    BOOST_TEST(*user_only.user == "alice");
    BOOST_TEST(!user_only.password);
    // "@" alone names nobody: no credentials rather than an empty user.
    BOOST_TEST(!parsed("http://@proxy:3128").user);
}

BOOST_AUTO_TEST_CASE(basic_credentials_are_rfc_7617) {
    // RFC 7617's own example.
    BOOST_TEST(basic_authorization("Aladdin", "open sesame") ==
               "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
    BOOST_TEST(basic_authorization("a", "") == "Basic YTo=");
    BOOST_TEST(basic_authorization("ab", "") == "Basic YWI6");
}

BOOST_AUTO_TEST_CASE(only_http_proxies_are_accepted) {
    BOOST_TEST(refusal("https://proxy:3128").starts_with("https:// proxies are not supported"));
    BOOST_TEST(refusal("socks5://proxy:1080") ==
               "scheme 'socks5' is not supported: only http:// proxies (HTTP CONNECT)");
    BOOST_TEST(refusal("ftp://x") ==
               "scheme 'ftp' is not supported: only http:// proxies (HTTP CONNECT)");
    BOOST_TEST(refusal("http://") == "the URL has no host (expected http://[user@]host[:port])");
    BOOST_TEST(refusal("proxy:3128").starts_with("scheme 'proxy' is not supported"));
    BOOST_TEST(refusal("http://proxy:0") == "port '0' is not in 1..65535");
    BOOST_TEST(refusal("http://proxy:99999") == "port '99999' is not in 1..65535");
    BOOST_TEST(refusal("http://proxy:3128/path").starts_with("a proxy URL takes no path"));
    BOOST_TEST(refusal("http://proxy:3128?x=1").starts_with("a proxy URL takes no path"));
    BOOST_TEST(refusal("not a url").starts_with("not an absolute URL"));
}

BOOST_AUTO_TEST_CASE(a_bare_at_sign_in_the_password_is_refused_unechoed) {
    // Found by fuzz_proxy_config: the URL parser ends the user information at the first '@', so
    // the rest of "p@ss:99999" became the host and port and was quoted in the refusal.
    BOOST_TEST(refusal("http://alice:p@ss:99999@proxy:3128") ==
               "the user information holds an '@': write it as %40");
    BOOST_TEST(*parsed("http://alice:p%40ss@proxy:3128").password == "p@ss");
    // Also found by it: "[::1]:88@fd00" was host, port and a path "@fd00" to the URL parser.
    BOOST_TEST(refusal("http://[::1]:88@fd00").starts_with("not an absolute URL"));
    // And a host that decodes to one with an '@' in it.
    BOOST_TEST(refusal("http://proxy%40corp:3128") ==
               "the host is not a name, IPv4 or IPv6 address");
}

BOOST_AUTO_TEST_CASE(refusals_never_carry_the_user_information) {
    for (const auto* url : {"socks5://alice:hunter2@proxy:1080", "http://alice:hunter2@proxy:0",
                            "http://alice:hunter2@proxy:3128/x", "https://alice:hunter2@proxy"})
        BOOST_TEST(refusal(url).find("hunter2") == std::string::npos, url);
}

BOOST_AUTO_TEST_CASE(userinfo_is_cut_from_echoed_urls) {
    BOOST_TEST(without_userinfo("http://alice:hunter2@proxy:3128") == "http://proxy:3128");
    BOOST_TEST(without_userinfo("socks5://u:p@h:1/x@y") == "socks5://h:1/x@y");
    BOOST_TEST(without_userinfo("u:p ss@h:1") == "h:1");
    BOOST_TEST(without_userinfo("http://a@b@h") == "http://h");
    BOOST_TEST(without_userinfo("http://proxy:3128/a@b") == "http://proxy:3128/a@b");
    BOOST_TEST(without_userinfo("") == "");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(no_proxy_lists)

BOOST_AUTO_TEST_CASE(a_name_matches_itself_and_its_subdomains) {
    const auto list = strict_list("example.com");
    BOOST_TEST(list.matches("example.com", 443));
    BOOST_TEST(list.matches("api.example.com", 443));
    BOOST_TEST(list.matches("API.Example.COM.", 443));
    BOOST_TEST(!list.matches("badexample.com", 443));
    BOOST_TEST(!list.matches("example.com.evil", 443));
}

BOOST_AUTO_TEST_CASE(a_leading_dot_or_star_matches_subdomains_only) {
    for (const auto* entry : {".example.com", "*.example.com"}) {
        const auto list = strict_list(entry);
        BOOST_TEST(list.matches("api.example.com", 443), entry);
        BOOST_TEST(!list.matches("example.com", 443), entry);
    }
}

BOOST_AUTO_TEST_CASE(ports_restrict_an_entry) {
    const auto list = strict_list("example.com:8443, 10.0.0.1:443, [fd00::1]:443");
    BOOST_TEST(list.matches("example.com", 8443));
    BOOST_TEST(!list.matches("example.com", 443));
    BOOST_TEST(list.matches("10.0.0.1", 443));
    BOOST_TEST(!list.matches("10.0.0.1", 80));
    BOOST_TEST(list.matches("fd00::1", 443));
    BOOST_TEST(!list.matches("fd00::1", 80));
}

BOOST_AUTO_TEST_CASE(addresses_and_ranges) {
    const auto list = strict_list("192.168.1.7,10.0.0.0/8,fd00::/8,::2");
    BOOST_TEST(list.matches("192.168.1.7", 443));
    BOOST_TEST(!list.matches("192.168.1.8", 443));
    BOOST_TEST(list.matches("10.200.3.4", 443));
    BOOST_TEST(!list.matches("11.0.0.1", 443));
    BOOST_TEST(list.matches("fdab::1", 443));
    BOOST_TEST(!list.matches("fe80::1", 443));
    BOOST_TEST(list.matches("::2", 443));
    BOOST_TEST(list.matches("[::2]", 443));
    // An IPv4-mapped IPv6 address is that IPv4 address.
    BOOST_TEST(list.matches("::ffff:10.1.1.1", 443));
    // Addresses match addresses, names match names: 10.0.0.0/8 says nothing of a name.
    BOOST_TEST(!list.matches("ten.example", 443));
    BOOST_TEST(strict_list("0.0.0.0/0").matches("8.8.8.8", 443));
    BOOST_TEST(!strict_list("0.0.0.0/0").matches("2001:db8::1", 443));
}

BOOST_AUTO_TEST_CASE(star_is_every_host_and_blanks_are_nothing) {
    const auto all = strict_list("example.com, *");
    BOOST_TEST(all.matches("anything.test", 1));
    BOOST_TEST(all.matches("2001:db8::1", 1));
    const auto none = strict_list(" , ,");
    BOOST_TEST(!none.matches("example.com", 443));
    BOOST_TEST(!strict_list("").matches("example.com", 443));
}

BOOST_AUTO_TEST_CASE(malformed_entries_are_named_when_strict_and_skipped_when_lenient) {
    const std::pair<const char*, const char*> cases[] = {
        {"example.com:http",
         "entry 'example.com:http' has a port that is not a number from 1 to 65535"},
        {"a.example, b c", "entry 'b c' is not a host name, .suffix, IP address, CIDR range or *"},
        {"10.0.0.0/33", "entry '10.0.0.0/33' is not a CIDR range (10.0.0.0/8, fd00::/8)"},
        {"[fd00::1:443", "entry '[fd00::1:443' is not an IPv6 address in brackets (expected "
                         "[IPv6]:port)"},
        {"http://example.com",
         "entry 'http://example.com' is not a host name, .suffix, IP address, CIDR range or *"},
        {"a..example",
         "entry 'a..example' is not a host name, .suffix, IP address, CIDR range or *"},
    };
    for (const auto& [text, message] : cases) {
        no_proxy_list list;
        std::string reason;
        BOOST_TEST((no_proxy_list::parse(text, true, list, reason) == errc::invalid_argument),
                   text);
        BOOST_TEST(reason == message);
        BOOST_TEST(!no_proxy_list::parse(text, false, list, reason), text);
    }
    no_proxy_list lenient;
    std::string reason;
    BOOST_TEST_REQUIRE(
        !no_proxy_list::parse("b c, example.com:http, a.example", false, lenient, reason));
    BOOST_TEST(lenient.matches("x.a.example", 443));
    BOOST_TEST(!lenient.matches("example.com", 443));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(proxy_choice)

BOOST_AUTO_TEST_CASE(no_configuration_and_no_environment_is_direct) {
    BOOST_TEST(proxied_to(choose({}, "https://graph-us.example.com")) == "direct");
}

BOOST_AUTO_TEST_CASE(a_configured_proxy_applies_to_every_host_loopback_included) {
    proxy_config config;
    config.url = "http://proxy:3128";
    BOOST_TEST(proxied_to(choose(config, "https://graph-us.example.com")) == "http://proxy:3128");
    BOOST_TEST(proxied_to(choose(config, "https://127.0.0.1:8443")) == "http://proxy:3128");
    BOOST_TEST(proxied_to(choose(config, "https://localhost:8443")) == "http://proxy:3128");
    BOOST_TEST(proxied_to(choose(config, "http://[::1]:8080")) == "http://proxy:3128");
}

BOOST_AUTO_TEST_CASE(a_configured_no_proxy_list_exempts_its_hosts) {
    proxy_config config;
    config.url = "http://proxy:3128";
    config.no_proxy = ".internal.example, 127.0.0.1";
    BOOST_TEST(proxied_to(choose(config, "https://api.internal.example")) == "direct");
    BOOST_TEST(proxied_to(choose(config, "https://127.0.0.1:8443")) == "direct");
    BOOST_TEST(proxied_to(choose(config, "https://localhost:8443")) == "http://proxy:3128");
}

BOOST_AUTO_TEST_CASE(a_configured_proxy_ignores_the_environment) {
    proxy_config config;
    config.url = "http://proxy:3128";
    const std::map<std::string, std::string> env{{"HTTPS_PROXY", "http://other:1"},
                                                 {"NO_PROXY", "*"}};
    BOOST_TEST(proxied_to(choose(config, "https://graph-us.example.com", env)) ==
               "http://proxy:3128");
}

BOOST_AUTO_TEST_CASE(the_environment_names_the_proxy_by_scheme) {
    const std::map<std::string, std::string> env{{"HTTPS_PROXY", "http://secure-proxy:3128"},
                                                 {"HTTP_PROXY", "http://plain-proxy:8080"}};
    BOOST_TEST(proxied_to(choose({}, "https://graph-us.example.com", env)) ==
               "http://secure-proxy:3128");
    BOOST_TEST(proxied_to(choose({}, "http://graph-us.example.com", env)) ==
               "http://plain-proxy:8080");
}

BOOST_AUTO_TEST_CASE(upper_case_variables_win_and_lower_case_ones_count) {
    BOOST_TEST(proxied_to(choose({}, "https://h.example",
                                 {{"HTTPS_PROXY", "http://upper:1"},
                                  {"https_proxy", "http://lower:2"}})) == "http://upper:1");
    BOOST_TEST(proxied_to(choose({}, "https://h.example", {{"https_proxy", "http://lower:2"}})) ==
               "http://lower:2");
    // Set but empty is unset, as for Go.
    BOOST_TEST(proxied_to(choose({}, "https://h.example",
                                 {{"HTTPS_PROXY", ""}, {"https_proxy", "http://lower:2"}})) ==
               "http://lower:2");
    BOOST_TEST(proxied_to(choose({}, "https://h.example",
                                 {{"HTTPS_PROXY", "http://p:1"}, {"no_proxy", "h.example"}})) ==
               "direct");
}

BOOST_AUTO_TEST_CASE(the_environment_never_proxies_loopback) {
    const std::map<std::string, std::string> env{{"HTTPS_PROXY", "http://proxy:3128"},
                                                 {"HTTP_PROXY", "http://proxy:3128"}};
    for (const auto* url :
         {"https://localhost:8443", "https://LOCALHOST.:8443", "https://127.0.0.1:8443",
          "https://127.9.8.7", "https://[::1]:8443", "http://127.0.0.1:8080"})
        BOOST_TEST(proxied_to(choose({}, url, env)) == "direct", url);
    BOOST_TEST(proxied_to(choose({}, "https://10.0.0.1", env)) == "http://proxy:3128");
}

BOOST_AUTO_TEST_CASE(environment_no_proxy_and_configured_no_proxy_both_apply) {
    proxy_config config;
    config.no_proxy = "a.example";
    const std::map<std::string, std::string> env{{"HTTPS_PROXY", "http://proxy:3128"},
                                                 {"NO_PROXY", "b.example, not valid, :80"}};
    BOOST_TEST(proxied_to(choose(config, "https://a.example", env)) == "direct");
    BOOST_TEST(proxied_to(choose(config, "https://b.example", env)) == "direct");
    BOOST_TEST(proxied_to(choose(config, "https://c.example", env)) == "http://proxy:3128");
}

BOOST_AUTO_TEST_CASE(the_environment_can_be_ignored) {
    proxy_config config;
    config.from_environment = false;
    BOOST_TEST(proxied_to(choose(config, "https://h.example", {{"HTTPS_PROXY", "http://p:1"}})) ==
               "direct");
}

BOOST_AUTO_TEST_CASE(an_environment_proxy_without_scheme_is_http) {
    BOOST_TEST(proxied_to(choose({}, "https://h.example", {{"HTTPS_PROXY", "proxy.corp:3128"}})) ==
               "http://proxy.corp:3128");
}

BOOST_AUTO_TEST_CASE(credentials_come_from_the_url_or_the_password_field) {
    proxy_config config;
    config.url = "http://alice:s3cret@proxy:3128";
    const auto from_url = choose(config, "https://h.example");
    BOOST_TEST_REQUIRE(from_url.proxy.has_value());
    BOOST_TEST(from_url.proxy->authorization == basic_authorization("alice", "s3cret"));
    BOOST_TEST(from_url.proxy->to_string() == "http://proxy:3128");

    config.url = "http://alice@proxy:3128";
    config.password = "s3cret";
    const auto from_field = choose(config, "https://h.example");
    BOOST_TEST_REQUIRE(from_field.proxy.has_value());
    BOOST_TEST(from_field.proxy->authorization == basic_authorization("alice", "s3cret"));

    config.password.clear();
    const auto user_only = choose(config, "https://h.example");
    BOOST_TEST_REQUIRE(user_only.proxy.has_value());
    BOOST_TEST(user_only.proxy->authorization == basic_authorization("alice", ""));

    config.url = "http://proxy:3128";
    BOOST_TEST(choose(config, "https://h.example").proxy->authorization.empty());
}

BOOST_AUTO_TEST_CASE(credentials_are_part_of_what_identifies_a_proxy) {
    proxy_config a;
    a.url = "http://alice:one@proxy:3128";
    proxy_config b;
    b.url = "http://alice:two@proxy:3128";
    BOOST_TEST(!(*choose(a, "https://h.example").proxy == *choose(b, "https://h.example").proxy));
}

BOOST_AUTO_TEST_CASE(the_password_field_needs_a_user_and_no_other_password) {
    proxy_config config;
    config.password = "s3cret";
    config.url = "http://proxy:3128";
    auto c = choose(config, "https://h.example");
    BOOST_TEST((c.ec == errc::invalid_argument));
    BOOST_TEST(c.diag.field == "proxy.password");
    BOOST_TEST(c.diag.message ==
               "proxy.password: is set but the proxy URL names no user (http://user@host:port)");
    config.url = "http://alice:other@proxy:3128";
    c = choose(config, "https://h.example");
    BOOST_TEST(c.diag.message ==
               "proxy.password: is set but the proxy URL has a password too; give one");
    for (const auto* secret : {"s3cret", "other"})
        BOOST_TEST(c.diag.message.find(secret) == std::string::npos);
}

BOOST_AUTO_TEST_CASE(errors_name_the_field_or_variable_without_credentials) {
    proxy_config config;
    config.url = "socks5://alice:hunter2@proxy:1080";
    auto c = choose(config, "https://127.0.0.1:8443");
    BOOST_TEST((c.ec == errc::invalid_argument));
    BOOST_TEST(c.diag.field == "proxy.url");
    BOOST_TEST(c.diag.value == "socks5://proxy:1080");
    BOOST_TEST(c.diag.message == "proxy.url: 'socks5://proxy:1080' scheme 'socks5' is not "
                                 "supported: only http:// proxies (HTTP CONNECT)");

    config = {};
    config.no_proxy = "example.com:http";
    c = choose(config, "https://h.example");
    BOOST_TEST(c.diag.field == "proxy.no_proxy");
    BOOST_TEST(c.diag.message == "proxy.no_proxy: 'example.com:http' entry 'example.com:http' has "
                                 "a port that is not a number from 1 to 65535");

    c = choose({}, "https://h.example", {{"https_proxy", "https://alice:hunter2@proxy"}});
    BOOST_TEST(c.diag.field == "https_proxy");
    BOOST_TEST(c.diag.message.starts_with("https_proxy: 'https://proxy' https:// proxies are not"));
    BOOST_TEST(c.diag.message.find("hunter2") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_bad_setting_is_refused_even_for_a_host_that_goes_direct) {
    proxy_config config;
    config.url = "socks5://proxy:1080";
    config.no_proxy = "*";
    BOOST_TEST((choose(config, "https://h.example").ec == errc::invalid_argument));
}

BOOST_AUTO_TEST_CASE(a_bad_environment_proxy_matters_only_to_hosts_that_would_use_it) {
    // Other tools read HTTPS_PROXY with other rules (curl takes socks5h://): a host that goes
    // direct anyway must not fail because of it.
    const std::map<std::string, std::string> env{{"HTTPS_PROXY", "socks5h://proxy:1080"},
                                                 {"NO_PROXY", "direct.example"}};
    BOOST_TEST(proxied_to(choose({}, "https://127.0.0.1:8443", env)) == "direct");
    BOOST_TEST(proxied_to(choose({}, "https://direct.example", env)) == "direct");
    BOOST_TEST((choose({}, "https://other.example", env).ec == errc::invalid_argument));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(tunnel_failures)

BOOST_AUTO_TEST_CASE(messages_name_the_proxy_and_whether_credentials_were_sent) {
    proxy_endpoint proxy;
    proxy.host = "proxy";
    proxy.port = 3128;
    const auto target = at("https://graph-us.example.com");
    BOOST_TEST(describe_tunnel_failure(proxy, target, errc::proxy_auth_required, 407) ==
               "proxy http://proxy:3128 did not open a tunnel to graph-us.example.com:443: it "
               "answered 407 to CONNECT: it wants credentials and none were sent (the proxy URL "
               "names no user)");
    proxy.authorization = basic_authorization("alice", "hunter2");
    const auto refused = describe_tunnel_failure(proxy, target, errc::proxy_auth_required, 401);
    BOOST_TEST(refused == "proxy http://proxy:3128 did not open a tunnel to "
                          "graph-us.example.com:443: it answered 401 to CONNECT: it refused the "
                          "credentials sent");
    BOOST_TEST(describe_tunnel_failure(proxy, at("https://[::1]:8443"), errc::proxy_refused, 403) ==
               "proxy http://proxy:3128 did not open a tunnel to [::1]:8443: it answered 403 to "
               "CONNECT");
    BOOST_TEST(describe_tunnel_failure(proxy, target, errc::proxy_refused, 0) ==
               "proxy http://proxy:3128 did not open a tunnel to graph-us.example.com:443: it "
               "closed the connection, or its answer was not an HTTP response to CONNECT");
}

BOOST_AUTO_TEST_SUITE_END()
