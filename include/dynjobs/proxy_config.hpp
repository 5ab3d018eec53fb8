// dynjobs/proxy_config.hpp - reaching the API and the token endpoint through an HTTP proxy.
#pragma once

#include <string>

namespace dynjobs {

/// An HTTP proxy for the client's connections, the API's and the token endpoint's alike. The
/// client asks the proxy for a tunnel (HTTP CONNECT) and runs TLS to the server inside it, with
/// the server's name for SNI and verification: the proxy sees host names and ports, never the
/// requests, tokens or jobs.
///
/// Which proxy a connection to host H goes through:
/// - `url` set: that proxy, for every host (loopback included), unless H matches `no_proxy`;
/// - `url` empty and `from_environment`: HTTPS_PROXY (else https_proxy) for https:// servers,
///   HTTP_PROXY (else http_proxy) for http:// ones, unless H matches `no_proxy` or NO_PROXY (else
///   no_proxy), or H is loopback (localhost, 127.0.0.0/8, ::1), which the environment never
///   proxies, as Go's net/http does. A value without "://" means http:// ("proxy.corp:3128").
///   A variable that is malformed is an error only for a host that would use it;
/// - otherwise none: a direct connection.
///
/// The environment is read when the client is constructed (and again by client::validate()).
struct proxy_config {
    /// `http://[user[:password]@]host[:port]` (port default 80), a trailing "/" allowed. The user
    /// and password are percent-decoded and sent as Basic credentials (Proxy-Authorization).
    /// Only http:// proxies: https://, socks5:// and other schemes are refused by validation.
    /// Default: empty (the environment's proxy, if any).
    std::string url;
    /// Hosts reached directly, comma-separated: `example.com` (the host and its subdomains),
    /// `.example.com` or `*.example.com` (subdomains only), IP addresses, CIDR ranges
    /// (`10.0.0.0/8`), each optionally with `:port` (`[::1]:443` for IPv6), or `*` for every
    /// host. Names match case-insensitively. Applies to the environment's proxy too. A malformed
    /// entry is refused by validation (in NO_PROXY it is skipped, as other tools read that
    /// variable too). Default: empty.
    std::string no_proxy;
    /// Read HTTPS_PROXY, HTTP_PROXY and NO_PROXY (and their lower-case forms) when `url` is
    /// empty. Default: true.
    bool from_environment = true;
    /// The password for a proxy URL that names a user but no password (the command takes it
    /// from DYNJOBS_PROXY_PASSWORD), so that the password need not be written into a URL. A URL
    /// with a password of its own, or with no user, makes it an error. A secret: never in
    /// diagnostics, events or errors. Default: empty.
    std::string password;
};

} // namespace dynjobs
