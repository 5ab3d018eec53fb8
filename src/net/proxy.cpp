// src/net/proxy.cpp - proxy URLs, NO_PROXY lists and the choice of a proxy for an origin.
#include "net/proxy.hpp"

#include "common/bad_input.hpp"

#include <dynjobs/error.hpp>

#include <boost/url/ipv4_address.hpp>
#include <boost/url/ipv6_address.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>

namespace dynjobs::net {
namespace {

using boost::system::error_code;

constexpr std::uint16_t http_port = 80;
constexpr std::string_view url_shape = "http://[user@]host[:port]";

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

std::string_view trim(std::string_view s) {
    constexpr std::string_view blanks = " \t\r\n";
    const auto first = s.find_first_not_of(blanks);
    if (first == std::string_view::npos)
        return {};
    return s.substr(first, s.find_last_not_of(blanks) - first + 1);
}

/// A port number 1..65535 written in decimal digits only.
std::optional<std::uint16_t> parse_port(std::string_view text) {
    unsigned value = 0;
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc{} || ptr != end || value == 0 || value > 65535)
        return std::nullopt;
    return static_cast<std::uint16_t>(value);
}

/// An IP address as 16 bytes, IPv4 mapped into IPv6 (::ffff:a.b.c.d) so that one comparison
/// serves both families.
std::optional<std::array<unsigned char, 16>> ip_bytes(std::string_view text) {
    if (const auto v4 = boost::urls::parse_ipv4_address(text))
        return boost::urls::ipv6_address(*v4).to_bytes();
    if (const auto v6 = boost::urls::parse_ipv6_address(text))
        return v6->to_bytes();
    return std::nullopt;
}

bool same_prefix(const std::array<unsigned char, 16>& a, const std::array<unsigned char, 16>& b,
                 unsigned bits) {
    for (std::size_t i = 0; bits > 0; ++i, bits -= std::min(bits, 8u)) {
        const unsigned take = std::min(bits, 8u);
        const auto mask = static_cast<unsigned char>(0xFFu << (8 - take));
        if ((a[i] & mask) != (b[i] & mask))
            return false;
    }
    return true;
}

/// Letters, digits, '-', '_' and '.': what a host name in a NO_PROXY entry may hold.
bool is_name(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) {
        return std::isalnum(c) || c == '-' || c == '_' || c == '.';
    });
}

std::string base64(std::string_view bytes) {
    static constexpr char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    for (std::size_t i = 0; i < bytes.size(); i += 3) {
        const std::size_t n = std::min<std::size_t>(3, bytes.size() - i);
        std::uint32_t group = 0;
        for (std::size_t k = 0; k < 3; ++k)
            group =
                (group << 8) |
                (k < n ? static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + k])) : 0u);
        for (std::size_t k = 0; k < 4; ++k)
            out += k <= n ? alphabet[(group >> (18 - 6 * k)) & 0x3F] : '=';
    }
    return out;
}

/// A URL's authority as text, and where it starts: after "scheme://" (at 0 without one) up to
/// the path, query or fragment. Read this way even when the URL does not parse, for redaction.
struct authority_span {
    std::size_t start = 0;
    std::string_view text;
};

authority_span authority_of(std::string_view url) {
    const auto scheme_end = url.find("://");
    const std::size_t start = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
    const auto end = url.find_first_of("/?#", start);
    return {start, url.substr(start, end == std::string_view::npos ? url.npos : end - start)};
}

/// The first of `names` set to a non-empty value, with its name.
std::optional<std::pair<std::string_view, std::string>>
first_set(const environment& env, std::initializer_list<std::string_view> names) {
    for (const auto name : names)
        if (auto value = env(name); value && !trim(*value).empty())
            return std::pair{name, std::string(trim(*value))};
    return std::nullopt;
}

} // namespace

std::string proxy_endpoint::to_string() const {
    const bool ipv6 = host.find(':') != std::string::npos;
    return "http://" + (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string tunnel_target(const origin& o) {
    const bool ipv6 = o.host.find(':') != std::string::npos;
    return (ipv6 ? "[" + o.host + "]" : o.host) + ":" + std::to_string(o.port);
}

error_code parse_proxy_url(std::string_view url, proxy_url& out, std::string& reason) {
    const auto fail = [&](std::string why) {
        reason = std::move(why);
        return error_code(errc::invalid_argument);
    };
    const auto parsed = boost::urls::parse_absolute_uri(url);
    if (!parsed)
        return fail("not an absolute URL (expected " + std::string(url_shape) + ")");
    const boost::urls::url_view& u = *parsed;
    // A password with a bare '@' ("p@ss") ends the user information early: the rest of the
    // password would be read as the host and echoed in a message. Refused before that.
    const auto authority = authority_of(url).text;
    if (std::count(authority.begin(), authority.end(), '@') > 1)
        return fail("the user information holds an '@': write it as %40");
    // Boost.URL 1.81 takes "http://h:1@x" as host h, port 1 and path "@x", where RFC 3986 wants
    // a path after an authority to start with '/'. Refused, so that the authority is always
    // what without_userinfo() reads it to be.
    if (u.has_authority() && !u.encoded_path().empty() && !u.encoded_path().starts_with('/'))
        return fail("not an absolute URL (expected " + std::string(url_shape) + ")");
    if (u.scheme_id() == boost::urls::scheme::https)
        return fail("https:// proxies are not supported: give the proxy as http://host:port (the "
                    "tunnel through it carries TLS to the server either way)");
    if (u.scheme_id() != boost::urls::scheme::http)
        return fail("scheme '" + lower(u.scheme()) +
                    "' is not supported: only http:// proxies (HTTP CONNECT)");
    proxy_url result;
    switch (u.host_type()) {
    case boost::urls::host_type::ipv6:
        result.endpoint.host = u.host_ipv6_address().to_string();
        break;
    case boost::urls::host_type::ipv4:
    case boost::urls::host_type::name:
        result.endpoint.host = lower(u.host_address());
        // Percent-encoding decodes to anything ("%40" is '@'); a proxy is a plain host name.
        if (!result.endpoint.host.empty() && !is_name(result.endpoint.host))
            return fail("the host is not a name, IPv4 or IPv6 address");
        break;
    default:
        return fail("the host is not a name, IPv4 or IPv6 address");
    }
    if (!u.has_authority() || result.endpoint.host.empty())
        return fail("the URL has no host (expected " + std::string(url_shape) + ")");
    if (u.has_port() && !u.port().empty()) {
        const auto port = parse_port(u.port());
        if (!port)
            return fail("port '" + std::string(u.port()) + "' is not in 1..65535");
        result.endpoint.port = *port;
    } else {
        result.endpoint.port = http_port;
    }
    if ((!u.encoded_path().empty() && u.encoded_path() != "/") || u.has_query() || u.has_fragment())
        return fail("a proxy URL takes no path, query or fragment (expected " +
                    std::string(url_shape) + ")");
    // "http://@host" names no user: no credentials, rather than an empty user.
    if (u.has_userinfo() && (!u.user().empty() || u.has_password())) {
        result.user = u.user();
        if (u.has_password())
            result.password = u.password();
    }
    out = std::move(result);
    return {};
}

std::string basic_authorization(std::string_view user, std::string_view password) {
    std::string pair;
    pair.reserve(user.size() + 1 + password.size());
    pair.append(user).append(":").append(password);
    return "Basic " + base64(pair);
}

std::string without_userinfo(std::string_view url) {
    const auto [start, authority] = authority_of(url);
    const auto at = authority.rfind('@');
    if (at == std::string_view::npos)
        return std::string(url);
    return std::string(url.substr(0, start)) + std::string(url.substr(start + at + 1));
}

error_code no_proxy_list::parse(std::string_view list, bool strict, no_proxy_list& out,
                                std::string& reason) {
    no_proxy_list result;
    std::size_t from = 0;
    while (from <= list.size()) {
        const auto comma = std::min(list.find(',', from), list.size());
        const std::string entry = lower(trim(list.substr(from, comma - from)));
        from = comma + 1;
        const auto malformed = [&](std::string why) {
            reason = "entry '" + entry + "' " + std::move(why);
            return strict;
        };
        if (entry.empty())
            continue;
        if (entry == "*") {
            result.everything_ = true;
            continue;
        }
        const auto slash = entry.find('/');
        const auto range_address =
            ip_bytes(std::string_view(entry).substr(0, std::min(slash, entry.size())));
        if (slash != std::string::npos && range_address) {
            const bool v4 = boost::urls::parse_ipv4_address(entry.substr(0, slash)).has_value();
            const auto bits_text = std::string_view(entry).substr(slash + 1);
            unsigned bits = 0;
            const auto* bits_end = bits_text.data() + bits_text.size();
            const auto [ptr, ec] = std::from_chars(bits_text.data(), bits_end, bits);
            if (bits_text.empty() || ec != std::errc{} || ptr != bits_end ||
                bits > (v4 ? 32u : 128u)) {
                if (malformed("is not a CIDR range (10.0.0.0/8, fd00::/8)"))
                    return errc::invalid_argument;
                continue;
            }
            result.ips_.push_back({*range_address, v4 ? bits + 96 : bits, 0});
            continue;
        }
        constexpr std::string_view expected =
            "is not a host name, .suffix, IP address, CIDR range or *";
        if (slash != std::string::npos) {
            if (malformed(std::string(expected)))
                return errc::invalid_argument;
            continue;
        }
        std::string_view host = entry;
        std::uint16_t port = 0;
        std::optional<std::string_view> port_text;
        if (host.starts_with('[')) {
            const auto close = host.find(']');
            if (close == std::string_view::npos ||
                (close + 1 < host.size() && host[close + 1] != ':') ||
                !boost::urls::parse_ipv6_address(host.substr(1, close - 1))) {
                if (malformed("is not an IPv6 address in brackets (expected [IPv6]:port)"))
                    return errc::invalid_argument;
                continue;
            }
            if (close + 1 < host.size())
                port_text = host.substr(close + 2);
            host = host.substr(1, close - 1);
        } else if (std::count(host.begin(), host.end(), ':') == 1) {
            port_text = host.substr(host.find(':') + 1);
            host = host.substr(0, host.find(':'));
        }
        if (port_text) {
            const auto parsed = parse_port(*port_text);
            if (!parsed) {
                if (malformed("has a port that is not a number from 1 to 65535"))
                    return errc::invalid_argument;
                continue;
            }
            port = *parsed;
        }
        if (const auto address = ip_bytes(host)) {
            result.ips_.push_back({*address, 128, port});
            continue;
        }
        if (host.ends_with('.'))
            host.remove_suffix(1); // "example.com." is the same fully qualified name
        name_rule rule;
        rule.port = port;
        if (host.starts_with("*."))
            host.remove_prefix(1);
        rule.itself = !host.starts_with('.');
        rule.suffix = rule.itself ? "." + std::string(host) : std::string(host);
        if (!is_name(rule.suffix.substr(1)) || rule.suffix.find("..") != std::string::npos) {
            if (malformed(std::string(expected)))
                return errc::invalid_argument;
            continue;
        }
        result.names_.push_back(std::move(rule));
    }
    out = std::move(result);
    return {};
}

bool no_proxy_list::matches(std::string_view host, std::uint16_t port) const {
    if (everything_)
        return true;
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    const auto port_matches = [port](std::uint16_t rule_port) {
        return rule_port == 0 || rule_port == port;
    };
    if (const auto address = ip_bytes(host)) {
        return std::any_of(ips_.begin(), ips_.end(), [&](const ip_rule& r) {
            return port_matches(r.port) && same_prefix(r.address, *address, r.prefix_bits);
        });
    }
    std::string name = lower(host);
    if (name.ends_with('.'))
        name.pop_back();
    return std::any_of(names_.begin(), names_.end(), [&](const name_rule& r) {
        if (!port_matches(r.port))
            return false;
        if (r.itself && std::string_view(r.suffix).substr(1) == name)
            return true;
        return name.size() > r.suffix.size() && name.ends_with(r.suffix);
    });
}

void no_proxy_list::add(const no_proxy_list& other) {
    everything_ = everything_ || other.everything_;
    ips_.insert(ips_.end(), other.ips_.begin(), other.ips_.end());
    names_.insert(names_.end(), other.names_.begin(), other.names_.end());
}

environment process_environment() {
    return [](std::string_view name) -> std::optional<std::string> {
        const char* value = std::getenv(std::string(name).c_str());
        if (value == nullptr)
            return std::nullopt;
        return std::string(value);
    };
}

error_code choose_proxy(const proxy_config& config, const origin& target, const environment& env,
                        std::optional<proxy_endpoint>& out, diagnostics& diag) {
    out.reset();
    diag.clear();
    std::string reason;
    no_proxy_list direct;
    if (no_proxy_list::parse(config.no_proxy, true, direct, reason))
        return detail::bad_input(diag, "proxy.no_proxy", config.no_proxy, reason);

    // Parses a proxy URL from `field` and adds its credentials.
    const auto endpoint_of = [&](std::string_view text, std::string_view field,
                                 proxy_endpoint& endpoint) -> error_code {
        proxy_url u;
        if (parse_proxy_url(text, u, reason))
            return detail::bad_input(diag, field, without_userinfo(text), reason);
        if (!config.password.empty()) {
            if (!u.user)
                return detail::bad_input(diag, "proxy.password", "",
                                         "is set but the proxy URL names no user "
                                         "(http://user@host:port)");
            if (u.password)
                return detail::bad_input(diag, "proxy.password", "",
                                         "is set but the proxy URL has a password too; give one");
            u.password = config.password;
        }
        if (u.user)
            u.endpoint.authorization = basic_authorization(*u.user, u.password.value_or(""));
        endpoint = std::move(u.endpoint);
        return {};
    };

    if (!config.url.empty()) {
        // Checked even for a host that goes direct: a bad setting is refused whatever the host.
        proxy_endpoint endpoint;
        if (auto ec = endpoint_of(config.url, "proxy.url", endpoint))
            return ec;
        if (!direct.matches(target.host, target.port))
            out = std::move(endpoint);
        return {};
    }
    if (!config.from_environment || !env)
        return {};
    const auto proxy = target.tls ? first_set(env, {"HTTPS_PROXY", "https_proxy"})
                                  : first_set(env, {"HTTP_PROXY", "http_proxy"});
    if (!proxy || target.is_loopback())
        return {};
    if (const auto listed = first_set(env, {"NO_PROXY", "no_proxy"})) {
        no_proxy_list from_env;
        no_proxy_list::parse(listed->second, false, from_env, reason);
        direct.add(from_env);
    }
    if (direct.matches(target.host, target.port))
        return {};
    const auto& [name, value] = *proxy;
    // "proxy.corp:3128" is common in the environment; it means http://, as for Go and curl.
    const std::string url = value.find("://") == std::string::npos ? "http://" + value : value;
    proxy_endpoint endpoint;
    if (auto ec = endpoint_of(url, name, endpoint))
        return ec;
    out = std::move(endpoint);
    return {};
}

std::string describe_tunnel_failure(const proxy_endpoint& proxy, const origin& target,
                                    const error_code& ec, unsigned proxy_status) {
    std::string out =
        "proxy " + proxy.to_string() + " did not open a tunnel to " + tunnel_target(target) + ": ";
    if (ec == errc::proxy_auth_required) {
        out += "it answered " + std::to_string(proxy_status) + " to CONNECT: ";
        out += proxy.authorization.empty()
                   ? "it wants credentials and none were sent (the proxy URL names no user)"
                   : "it refused the credentials sent";
    } else if (proxy_status != 0) {
        out += "it answered " + std::to_string(proxy_status) + " to CONNECT";
    } else {
        out += "it closed the connection, or its answer was not an HTTP response to CONNECT";
    }
    return out;
}

} // namespace dynjobs::net
