// Host names for libpq, looked up by us: libpq resolves a host *name* with a blocking
// getaddrinfo inside PQconnectStart/PQconnectPoll, which would stall the fetch's event loop
// (for seconds with a slow DNS server). The connection resolves the names asynchronously
// instead and hands libpq the addresses as `hostaddr`, keeping each name as `host` (libpq still
// uses it for TLS host name checks and ~/.pgpass). Socket-free: this file only decides which
// names need a lookup and writes the options from the answers; unit-tested alone.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dynjobs::sink::pg {

/// libpq's host and port lists for a connection, as it would read them (URI, then PGHOST and
/// PGPORT, then its defaults), one port per host.
struct host_list {
    std::vector<std::string> hosts;
    std::vector<std::string> ports;
};

/// True for a host name libpq would look up: not empty, not a Unix socket directory ('/' or
/// '@' first), not a numeric IPv4 or IPv6 address.
bool needs_lookup(std::string_view host) noexcept;

/// The hosts of `uri` (a libpq connection URI) when at least one needs a lookup; nullopt when
/// none does, when the URI or PGHOSTADDR already gives addresses, or when a service file
/// (`service`, PGSERVICE) decides the hosts, which only libpq reads.
std::optional<host_list> hosts_to_look_up(const std::string& uri);

/// Connection options for libpq, each a comma list.
struct host_options {
    std::string host;
    std::string hostaddr;
    std::string port;
};

/// The options that connect to `hosts` through the looked-up `addresses` (addresses[i] for
/// hosts.hosts[i]; empty for a host that needs no lookup, which libpq then takes as is). Every
/// address of a name becomes an entry of its own, so libpq still tries them in order.
host_options with_addresses(const host_list& hosts,
                            const std::vector<std::vector<std::string>>& addresses);

} // namespace dynjobs::sink::pg
