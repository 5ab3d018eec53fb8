// src/net/origin.cpp - parsing base URLs into pool keys.
#include "net/origin.hpp"

#include <dynjobs/error.hpp>

#include <boost/asio/ip/address.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <algorithm>
#include <cctype>

namespace dynjobs::net {
namespace {

constexpr std::uint16_t default_port(bool tls) noexcept {
    return tls ? 443 : 80;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

boost::system::error_code fail(diagnostics& diag, std::string_view field, std::string_view url,
                               errc code, std::string message) {
    diag.field = std::string(field);
    // The value is echoed for the reader; a URL with user info may carry a password, so such a
    // URL is never copied (the caller rejects it before getting here with url empty).
    constexpr std::size_t max_echo = 200;
    diag.value = std::string(url.substr(0, max_echo));
    diag.message = diag.field + ": " + (diag.value.empty() ? "" : "'" + diag.value + "' ") +
                   std::move(message);
    return code;
}

} // namespace

std::string origin::to_string() const {
    std::string out = tls ? "https://" : "http://";
    const bool ipv6 = host.find(':') != std::string::npos;
    if (ipv6) {
        out += '[';
        out += host;
        out += ']';
    } else {
        out += host;
    }
    if (port != default_port(tls)) {
        out += ':';
        out += std::to_string(port);
    }
    return out;
}

bool origin::is_loopback() const {
    std::string_view h = host;
    if (!h.empty() && h.back() == '.') {
        h.remove_suffix(1); // "localhost." is the same fully qualified name
    }
    if (iequals(h, "localhost")) {
        return true;
    }
    boost::system::error_code ec;
    const auto address = boost::asio::ip::make_address(h, ec);
    if (ec) {
        return false;
    }
    if (address.is_v6() && address.to_v6().is_v4_mapped()) {
        return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, address.to_v6())
            .is_loopback();
    }
    return address.is_loopback();
}

boost::system::error_code parse_origin(std::string_view url, const tls_config& tls,
                                       std::string_view field, origin& out, diagnostics& diag) {
    diag.clear();
    const auto parsed = boost::urls::parse_absolute_uri(url);
    if (!parsed) {
        return fail(diag, field, url, errc::invalid_argument,
                    "not an absolute URL (expected https://host[:port][/path])");
    }
    const boost::urls::url_view& u = *parsed;
    if (u.has_userinfo()) {
        return fail(diag, field, {}, errc::invalid_argument,
                    "user information (user:password@) is not allowed in the URL");
    }
    origin result;
    switch (u.scheme_id()) {
    case boost::urls::scheme::https:
        result.tls = true;
        break;
    case boost::urls::scheme::http:
        result.tls = false;
        break;
    default:
        return fail(diag, field, url, errc::invalid_argument,
                    "scheme '" + std::string(u.scheme()) + "' is not http or https");
    }
    if (!u.has_authority()) {
        return fail(diag, field, url, errc::invalid_argument, "the URL has no host");
    }
    switch (u.host_type()) {
    case boost::urls::host_type::ipv6:
        result.host = u.host_ipv6_address().to_string();
        break;
    case boost::urls::host_type::ipv4:
    case boost::urls::host_type::name:
        result.host = u.host_address();
        // Host names are case-insensitive; one spelling keeps one pool per server.
        std::transform(result.host.begin(), result.host.end(), result.host.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        break;
    default:
        return fail(diag, field, url, errc::invalid_argument,
                    "the host is empty or not a name, IPv4 or IPv6 address");
    }
    if (result.host.empty()) {
        return fail(diag, field, url, errc::invalid_argument, "the URL has no host");
    }
    result.port = default_port(result.tls);
    if (u.has_port() && !u.port().empty()) {
        if (u.port_number() == 0) {
            return fail(diag, field, url, errc::invalid_argument,
                        "port '" + std::string(u.port()) + "' is not in 1..65535");
        }
        result.port = u.port_number();
    }
    if (u.has_query() || u.has_fragment()) {
        return fail(diag, field, url, errc::invalid_argument,
                    "a base URL takes no query (?...) or fragment (#...)");
    }
    std::string_view path = u.encoded_path();
    while (!path.empty() && path.back() == '/') {
        path.remove_suffix(1);
    }
    result.base_path = std::string(path);

    if (!result.tls && !tls.allow_insecure_http && !result.is_loopback()) {
        return fail(diag, field, url, errc::insecure_scheme,
                    "plain http:// to a host that is not loopback would send the bearer token "
                    "in clear; use https:// (or allow insecure http explicitly)");
    }
    out = std::move(result);
    return {};
}

} // namespace dynjobs::net
