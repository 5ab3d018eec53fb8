// dynjobs/sim/certificates.hpp - the simulator's TLS material and client test certificates.
//
// At start-up the simulator makes its own small PKI (a CA and a server leaf for localhost and
// 127.0.0.1) so that tests and demos run over real, verified TLS with nothing installed; it
// writes the CA to a folder so that any client can trust it. It can instead load a certificate
// and key from files. make_client_certificate() builds what the certificate (JWT assertion)
// grant needs, in memory.
//
// Errors: OpenSSL failures are reported with Asio's SSL category (message = OpenSSL's reason);
// file failures with the system category; diagnostics::message names the step and file.
// Thread safety: free functions with no shared state; safe to call concurrently.
#pragma once

#include <dynjobs/diagnostics.hpp>
#include <dynjobs/export.hpp>

#include <boost/system/error_code.hpp>

#include <filesystem>
#include <string>
#include <string_view>

namespace dynjobs::sim {

/// What generate_server_pki() makes.
struct pki_options {
    /// Validity of both certificates, from one hour ago (tolerates clock skew between the
    /// simulator and a client) to this many days ahead. 30 days outlives any test or demo run.
    int validity_days = 30;
    /// Subject CN of the CA; only shown to people inspecting the certificate.
    std::string ca_common_name = "dynjobs simulator CA";
};

/// A server's TLS material, all PEM text. After load_server_pki() ca_pem may be empty.
struct server_pki {
    std::string ca_cert_pem;     ///< the CA clients must trust (self-signed)
    std::string server_cert_pem; ///< the leaf: SAN DNS:localhost, IP:127.0.0.1; EKU serverAuth
    std::string server_key_pem;  ///< the leaf's key (EC P-256 when generated), PKCS#8
};

/// Makes a fresh CA (EC P-256, CA:TRUE, keyCertSign) and a leaf signed by it.
DYNJOBS_DECL boost::system::error_code generate_server_pki(const pki_options& options,
                                                           server_pki& out, diagnostics& diag);

/// Writes ca.pem, server.pem and server-key.pem into `dir` (created if missing). The key file is
/// created with mode 0600 (and forced to it if it existed) so that it is never world-readable.
DYNJOBS_DECL boost::system::error_code
write_server_pki(const server_pki& pki, const std::filesystem::path& dir, diagnostics& diag);

/// The PKI a simulator serves from `dir`: the one already written there by another simulator
/// when it is whole and valid for at least another day (ca.pem signed the leaf in server.pem,
/// server-key.pem is the leaf's key), else a fresh one (generate_server_pki) written there
/// (write_server_pki). Several simulators pointed at one folder, started at once or one after
/// the other, so serve one PKI and every client trusting ca.pem reaches all of them: a second
/// simulator used to overwrite the first one's files. The check and the write happen under an
/// exclusive lock on `dir/.lock` (flock), so two simulators starting together do not both write.
/// Errors as write_server_pki, and the lock file's.
DYNJOBS_DECL boost::system::error_code load_or_make_server_pki(const pki_options& options,
                                                               const std::filesystem::path& dir,
                                                               server_pki& out, diagnostics& diag);

/// Reads a PEM certificate (chain) and a PEM private key, and checks that they match.
/// `out.ca_cert_pem` is left empty: the caller knows which CA signed them.
DYNJOBS_DECL boost::system::error_code load_server_pki(const std::filesystem::path& cert_file,
                                                       const std::filesystem::path& key_file,
                                                       server_pki& out, diagnostics& diag);

/// A client certificate for the private_key_jwt grant, in memory.
struct client_certificate {
    std::string cert_pem;       ///< self-signed, RSA 2048, keyUsage digitalSignature
    std::string key_pem;        ///< its RSA private key, PKCS#8
    std::string x5t;            ///< base64url(SHA-1(DER certificate)): the JWT header's x5t
    std::string thumbprint_hex; ///< upper-case hex SHA-1: the `kid` some clients send
};

/// Makes a self-signed RSA 2048 client certificate with the given CN, valid now-1h..now+days.
DYNJOBS_DECL boost::system::error_code make_client_certificate(std::string_view common_name,
                                                               client_certificate& out,
                                                               diagnostics& diag,
                                                               int validity_days = 30);

/// base64url(SHA-1(DER)) of the first certificate in `cert_pem`; empty if it does not parse.
DYNJOBS_DECL std::string certificate_x5t(std::string_view cert_pem);

} // namespace dynjobs::sim
