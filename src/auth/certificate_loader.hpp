// src/auth/certificate_loader.hpp - the certificate and private key that sign JWT assertions.
#pragma once

#include "common/openssl_ptr.hpp"

#include <dynjobs/diagnostics.hpp>

#include <boost/system/error_code.hpp>

#include <string>
#include <string_view>

namespace dynjobs::auth {

/// A certificate ready to sign client assertions (RS256): its RSA private key and the two
/// identifiers the JWT header carries. Move-only (owns OpenSSL objects).
struct signing_certificate {
    detail::x509_ptr certificate;
    detail::evp_pkey_ptr private_key; ///< secret: never printed, never written anywhere
    /// base64url(SHA-1(DER certificate)), without padding: the JWT header's `x5t`.
    std::string x5t;
    /// Upper-case hex SHA-1 thumbprint: the JWT header's `kid`.
    std::string kid;
};

/// Loads a certificate and its private key from `path`.
///
/// The format is detected from the content: text with `-----BEGIN` is PEM (the first
/// certificate and the private key, which may be encrypted with `password`); anything else is
/// taken as PFX / PKCS#12 (DER) protected by `password` (empty = no password).
///
/// Checks that the key matches the certificate, that it is an RSA key (RS256 needs one), that
/// the certificate allows digitalSignature when it has a keyUsage extension, and that it has not
/// expired.
///
/// Errors: errc::credential_error with diag.field = "certificate", diag.value = the path and a
/// message naming the file and the problem ("wrong password", "no private key", ...). The
/// password never appears in any diagnostic. Thread-safe (no shared state).
boost::system::error_code load_signing_certificate(const std::string& path,
                                                   std::string_view password,
                                                   signing_certificate& out, diagnostics& diag);

/// The same from content already in memory; `name` stands for the file in messages.
boost::system::error_code parse_signing_certificate(std::string_view content,
                                                    std::string_view password,
                                                    std::string_view name, signing_certificate& out,
                                                    diagnostics& diag);

} // namespace dynjobs::auth
