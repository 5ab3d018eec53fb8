// dynjobs/tls_config.hpp - how the client trusts servers.
#pragma once

#include <string>

namespace dynjobs {

/// TLS settings of a client. Verification is on by default, with host name checking; TLS 1.2 is
/// the minimum version (the API refuses older ones too).
struct tls_config {
    /// Verify the server's certificate chain and host name. Turning it off is for experiments
    /// against a server whose CA you cannot get; never for real credentials.
    bool verify_peer = true;
    /// A PEM file of CA certificates to trust instead of the system's store (for example the
    /// simulator's ca.pem): with it (or ca_path) set, the system's store is not loaded.
    /// Default: empty (the system's default trust store).
    std::string ca_file;
    /// A folder of hashed CA certificates (`c_rehash` layout), in addition to ca_file; like
    /// ca_file, it replaces the system's store. Default: empty.
    std::string ca_path;
    /// A PEM file of CA certificates to trust in addition to the store in use (the system's, or
    /// ca_file / ca_path): for a TLS-inspecting proxy, whose own CA signs what it presents, while
    /// every other server is still checked against the system's store. Default: empty.
    std::string extra_ca_file;
    /// Allow plain http:// to a host that is not loopback. Off: such a URL is refused before any
    /// request (errc::insecure_scheme), because the bearer token would cross the network in clear.
    bool allow_insecure_http = false;
};

} // namespace dynjobs
