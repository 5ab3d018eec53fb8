// src/net/origin.hpp - where requests go: scheme, host, port and base path of a URL.
#pragma once

#include <dynjobs/diagnostics.hpp>
#include <dynjobs/tls_config.hpp>

#include <boost/system/error_code.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace dynjobs::net {

/// A parsed base URL. Connections are pooled per (tls, host, port).
struct origin {
    bool tls = true;
    std::string host;       ///< as written: a name, an IPv4 address or a bracket-less IPv6 one
    std::uint16_t port = 0; ///< explicit or the scheme's default
    std::string base_path;  ///< path prefix without a trailing slash ("" or "/v2")

    /// "https://host:port" (port omitted when default): for URLs in diagnostics and the Host
    /// header.
    std::string to_string() const;
    /// True for localhost, 127.0.0.0/8 and ::1.
    bool is_loopback() const;

    friend bool operator==(const origin&, const origin&) = default;
};

/// Parses an absolute http(s) URL into an origin. Rejects (errc::invalid_argument, diag.field =
/// `field`) anything without scheme or host, with user info, query or fragment, or with another
/// scheme; rejects http:// to a non-loopback host with errc::insecure_scheme unless
/// tls.allow_insecure_http.
boost::system::error_code parse_origin(std::string_view url, const tls_config& tls,
                                       std::string_view field, origin& out, diagnostics& diag);

} // namespace dynjobs::net
