// Fuzzes the proxy settings a user or the environment gives: proxy URLs, NO_PROXY lists, and
// the choice of a proxy for a host (src/net/proxy.cpp; the command's --proxy and --no-proxy).
//
// The input is "URL\0LIST\0HOST" followed by three bytes (FuzzedDataProvider takes integers from
// the end): a port and a flag byte.
//
// Invariants:
// - a proxy URL is accepted or refused for reasons its user information has no part in: the
//   same URL without it (without_userinfo) gets the same answer, so no reason can echo a
//   password; an accepted one has a host and a port, names no user in to_string(), and
//   to_string() parses back to the same proxy;
// - without_userinfo leaves no '@' in the authority, removes nothing else, and is idempotent;
// - a list that parses strictly parses leniently too and matches the same hosts; matching
//   ignores case; "*" matches every host; a list naming a host matches it and its subdomains;
// - the environment never proxies a loopback host, and a configured NO_PROXY "*" never
//   proxies; a chosen proxy never names a user.
#include "fuzz_check.hpp"

#include "net/proxy.hpp"

#include <dynjobs/error.hpp>

#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>

using namespace dynjobs;
using namespace dynjobs::net;

namespace {

std::string upper(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return s;
}

void check_url(const std::string& url) {
    proxy_url parsed;
    std::string reason;
    const auto ec = parse_proxy_url(url, parsed, reason);
    const std::string bare = without_userinfo(url);

    // without_userinfo: only the authority's user information goes.
    const auto scheme_end = url.find("://");
    const std::size_t start = scheme_end == std::string::npos ? 0 : scheme_end + 3;
    FUZZ_CHECK(bare.substr(0, std::min(start, bare.size())) == url.substr(0, start));
    FUZZ_CHECK(url.ends_with(bare.substr(std::min(start, bare.size()))));
    const auto authority =
        bare.substr(std::min(start, bare.size()),
                    bare.find_first_of("/?#", start) - std::min(start, bare.size()));
    FUZZ_CHECK(authority.find('@') == std::string::npos);
    FUZZ_CHECK(without_userinfo(bare) == bare);

    proxy_url parsed_bare;
    std::string reason_bare;
    const auto ec_bare = parse_proxy_url(bare, parsed_bare, reason_bare);
    if (ec) {
        FUZZ_CHECK(ec == errc::invalid_argument);
        FUZZ_CHECK(!reason.empty() && reason.find('\n') == std::string::npos);
        // User information that does not parse makes the whole URL unparseable, and one with a
        // bare '@' is refused as such: reasons that quote nothing. No other reason may depend
        // on it.
        if (scheme_end != std::string::npos && !reason.starts_with("not an absolute URL") &&
            !reason.starts_with("the user information holds an '@'"))
            FUZZ_CHECK(ec_bare && reason_bare == reason);
        return;
    }
    FUZZ_CHECK(!parsed.endpoint.host.empty());
    FUZZ_CHECK(parsed.endpoint.port != 0);
    FUZZ_CHECK(parsed.endpoint.authorization.empty());
    FUZZ_CHECK(parsed.password.has_value() <= parsed.user.has_value());
    FUZZ_CHECK(!ec_bare && parsed_bare.endpoint == parsed.endpoint && !parsed_bare.user);
    const std::string shown = parsed.endpoint.to_string();
    FUZZ_CHECK(shown.find('@') == std::string::npos);
    proxy_url again;
    FUZZ_CHECK(!parse_proxy_url(shown, again, reason) && again.endpoint == parsed.endpoint);
    if (parsed.user)
        FUZZ_CHECK(
            basic_authorization(*parsed.user, parsed.password.value_or("")).starts_with("Basic "));
}

/// A host name a NO_PROXY entry can name as it is: lower case, with a letter (not an address).
bool plain_name(const std::string& host) {
    return std::any_of(host.begin(), host.end(), [](unsigned char c) { return std::islower(c); }) &&
           host.front() != '.' && host.back() != '.' && host.find("..") == std::string::npos &&
           std::all_of(host.begin(), host.end(), [](unsigned char c) {
               return std::islower(c) || std::isdigit(c) || c == '-' || c == '.';
           });
}

void check_list(const std::string& list, const std::string& host, std::uint16_t port) {
    no_proxy_list strict;
    no_proxy_list lenient;
    std::string reason;
    const bool strict_ok = !no_proxy_list::parse(list, true, strict, reason);
    FUZZ_CHECK(!no_proxy_list::parse(list, false, lenient, reason));
    const bool matched = lenient.matches(host, port);
    FUZZ_CHECK(lenient.matches(upper(host), port) == matched);
    if (strict_ok)
        FUZZ_CHECK(strict.matches(host, port) == matched);
    else
        FUZZ_CHECK(!reason.empty());

    no_proxy_list all;
    FUZZ_CHECK(!no_proxy_list::parse(list + ",*", false, all, reason));
    FUZZ_CHECK(all.matches(host, port));
    if (plain_name(host)) {
        no_proxy_list named;
        FUZZ_CHECK(!no_proxy_list::parse(list + "," + host, false, named, reason));
        FUZZ_CHECK(named.matches(host, port));
        FUZZ_CHECK(named.matches("sub." + host, port));
    }
}

void check_choice(const std::string& url, const std::string& list, const std::string& host,
                  std::uint16_t port, std::uint8_t flags) {
    origin target;
    diagnostics diag;
    tls_config tls;
    tls.allow_insecure_http = true;
    const std::string scheme = (flags & 1) != 0 ? "https://" : "http://";
    if (parse_origin(scheme + host + ":" + std::to_string(port == 0 ? 1 : port), tls, "url", target,
                     diag))
        return;
    const environment env = [&](std::string_view name) -> std::optional<std::string> {
        if (name == "HTTPS_PROXY" || name == "http_proxy")
            return url;
        if (name == "NO_PROXY")
            return list;
        return std::nullopt;
    };
    std::optional<proxy_endpoint> chosen;
    const auto ec = choose_proxy(proxy_config{}, target, env, chosen, diag);
    if (target.is_loopback())
        FUZZ_CHECK(!ec && !chosen);
    if (chosen)
        FUZZ_CHECK(chosen->to_string().find('@') == std::string::npos);
    if (ec)
        FUZZ_CHECK(ec == errc::invalid_argument && !diag.message.empty());

    proxy_config configured;
    configured.url = url;
    configured.no_proxy = (flags & 2) != 0 ? "*" : list + ",*";
    const auto configured_ec = choose_proxy(configured, target, {}, chosen, diag);
    FUZZ_CHECK(!chosen);
    if (configured_ec)
        FUZZ_CHECK(configured_ec == errc::invalid_argument);
    if (diag.field == "proxy.url")
        FUZZ_CHECK(diag.value == without_userinfo(url));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider input(data, size);
    const auto flags = input.ConsumeIntegral<std::uint8_t>();
    const auto port = input.ConsumeIntegral<std::uint16_t>();
    const std::string text = input.ConsumeRemainingBytesAsString();
    const auto first = text.find('\0');
    const auto second = first == std::string::npos ? first : text.find('\0', first + 1);
    const std::string url = text.substr(0, first);
    const std::string list =
        first == std::string::npos ? "" : text.substr(first + 1, second - first - 1);
    const std::string host = second == std::string::npos ? "" : text.substr(second + 1);

    check_url(url);
    check_list(list, host, port);
    check_choice(url, list, host, port, flags);
    return 0;
}
