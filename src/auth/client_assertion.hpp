// src/auth/client_assertion.hpp - the signed JWT of the certificate grant (RFC 7523).
#pragma once

#include "auth/certificate_loader.hpp"

#include <dynjobs/diagnostics.hpp>

#include <boost/system/error_code.hpp>

#include <chrono>
#include <string>
#include <string_view>

namespace dynjobs::auth {

/// How long an assertion is valid. It is used at once; a short life limits what a stolen one is
/// worth. Five minutes tolerates a client clock a little ahead of the server's.
inline constexpr std::chrono::seconds client_assertion_lifetime{300};

/// Builds and signs a client assertion: header {"alg":"RS256","typ":"JWT","x5t","kid"}, claims
/// iss = sub = `client_id`, aud = `audience` (the token URL), a fresh random jti (UUID v4 from
/// RAND_bytes), nbf = iat = `now`, exp = `now` + client_assertion_lifetime; signed with
/// RSASSA-PKCS1-v1_5 SHA-256. The result is a secret (it is a credential for five minutes).
///
/// Errors: errc::credential_error when OpenSSL cannot sign or draw random bytes (diag names the
/// step). Thread-safe for distinct outputs (the certificate is only read).
boost::system::error_code build_client_assertion(const signing_certificate& cert,
                                                 std::string_view client_id,
                                                 std::string_view audience,
                                                 std::chrono::system_clock::time_point now,
                                                 std::string& jwt, diagnostics& diag);

} // namespace dynjobs::auth
