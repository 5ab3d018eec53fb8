// src/net/proxy.hpp - which proxy a connection goes through: proxy URLs, NO_PROXY lists, and
// the choice for an origin from the configuration and the environment. No sockets here: the
// tunnel itself is connection::async_open's.
#pragma once

#include "net/origin.hpp"

#include <dynjobs/diagnostics.hpp>
#include <dynjobs/proxy_config.hpp>

#include <boost/system/error_code.hpp>

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dynjobs::net {

/// An http:// proxy that connections tunnel through with CONNECT. With the origin, it
/// identifies a connection pool.
struct proxy_endpoint {
    std::string host;        ///< a name (lower case), an IPv4 address or a bracket-less IPv6 one
    std::uint16_t port = 80; ///< explicit or http's default
    /// The whole Proxy-Authorization value ("Basic ..."), empty when no user was given. A secret:
    /// never copied into diagnostics, events or errors.
    std::string authorization;

    /// "http://host:port": the proxy as diagnostics name it, never with user information.
    std::string to_string() const;

    friend bool operator==(const proxy_endpoint&, const proxy_endpoint&) = default;
};

/// What a proxy URL says, its user information percent-decoded.
struct proxy_url {
    proxy_endpoint endpoint; ///< without authorization: choose_proxy adds it
    std::optional<std::string> user;
    std::optional<std::string> password; ///< a secret
};

/// Parses `http://[user[:password]@]host[:port][/]`. On failure returns errc::invalid_argument
/// and sets `reason` ("scheme 'socks5' is not supported: ..."), which never holds the URL's user
/// information.
boost::system::error_code parse_proxy_url(std::string_view url, proxy_url& out,
                                          std::string& reason);

/// "Basic " + base64(user ":" password): the Proxy-Authorization value (RFC 7617).
std::string basic_authorization(std::string_view user, std::string_view password);

/// "host:port" of an origin, the port always written and an IPv6 address in brackets: the
/// CONNECT request's target and Host header.
std::string tunnel_target(const origin& o);

/// `url` without its user information ("http://u:p@h:1" -> "http://h:1"), for echoing a URL
/// that may carry a password. Works on text that does not parse too: whatever lies between the
/// scheme's "//" (or the start) and the last '@' before the path is dropped.
std::string without_userinfo(std::string_view url);

/// A NO_PROXY list: which hosts are reached directly.
class no_proxy_list {
public:
    /// Parses a comma-separated list (see proxy_config::no_proxy). Strict: a malformed entry
    /// makes it fail with errc::invalid_argument and `reason` naming the entry. Lenient: such
    /// entries are skipped, as Go does for NO_PROXY, which other tools with other rules read too.
    static boost::system::error_code parse(std::string_view list, bool strict, no_proxy_list& out,
                                           std::string& reason);

    /// True when a connection to `host` (a name, or an IP address without brackets) on `port`
    /// goes direct.
    bool matches(std::string_view host, std::uint16_t port) const;

    /// Adds every entry of `other`.
    void add(const no_proxy_list& other);

private:
    struct ip_rule {
        std::array<unsigned char, 16> address{}; ///< IPv4 as IPv4-mapped IPv6
        unsigned prefix_bits = 128;
        std::uint16_t port = 0; ///< 0: any
    };
    struct name_rule {
        std::string suffix;  ///< with its leading dot: ".example.com"
        bool itself = false; ///< also the name without the dot ("example.com" was written)
        std::uint16_t port = 0;
    };
    bool everything_ = false;
    std::vector<ip_rule> ips_;
    std::vector<name_rule> names_;
};

/// Reads an environment variable; nullopt when unset.
using environment = std::function<std::optional<std::string>(std::string_view name)>;

/// The process's environment (getenv).
environment process_environment();

/// The proxy a connection to `target` goes through (nullopt: direct), from `config` and, when
/// its url is empty and from_environment is set, `env` (see proxy_config for the rules).
/// Errors (errc::invalid_argument; diag.field names proxy.url, proxy.no_proxy, proxy.password
/// or the environment variable; diag.value is the URL without user information): a proxy URL
/// that does not parse or is not http://, a malformed proxy.no_proxy entry, a password with no
/// user to go with or beside one in the URL.
boost::system::error_code choose_proxy(const proxy_config& config, const origin& target,
                                       const environment& env, std::optional<proxy_endpoint>& out,
                                       diagnostics& diag);

/// One line for a tunnel that `proxy` did not open to `target`: errc::proxy_auth_required (and
/// whether credentials were sent) or errc::proxy_refused with the proxy's status (0: it closed or
/// did not answer HTTP). Names the proxy without credentials.
std::string describe_tunnel_failure(const proxy_endpoint& proxy, const origin& target,
                                    const boost::system::error_code& ec, unsigned proxy_status);

} // namespace dynjobs::net
