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
    /// A PEM file of CA certificates to trust (for example the simulator's ca.pem). Empty: the
    /// system's default trust store.
    std::string ca_file;
    /// A folder of hashed CA certificates (`c_rehash` layout), in addition to ca_file.
    std::string ca_path;
    /// Allow plain http:// to a host that is not loopback. Off: such a URL is refused before any
    /// request (errc::insecure_scheme), because the bearer token would cross the network in clear.
    bool allow_insecure_http = false;
};

} // namespace dynjobs
