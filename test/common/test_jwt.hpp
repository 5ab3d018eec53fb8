// test_jwt.hpp - builds private_key_jwt client assertions (RFC 7523) for the grant tests.
//
// Written independently of the library's own assertion code, with OpenSSL directly, so the
// simulator's verifier is checked against a second implementation. Every field can be set
// wrong on purpose.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace dynjobs::testkit {

struct jwt_claims {
    std::string iss;
    std::string sub;
    std::string aud;
    std::chrono::system_clock::time_point iat = std::chrono::system_clock::now();
    std::chrono::system_clock::time_point nbf = iat;
    std::chrono::system_clock::time_point exp = iat + std::chrono::minutes(5);
    std::string jti; ///< a fresh random id when empty
    std::string alg = "RS256";
    /// The header's x5t; omitted when nullopt.
    std::optional<std::string> x5t;
};

/// Header.payload.signature, RS256-signed with `key_pem` (PEM RSA private key). Throws
/// std::runtime_error when signing fails.
std::string make_jwt(const jwt_claims& claims, const std::string& key_pem);

/// base64url without padding.
std::string b64url(std::string_view bytes);

} // namespace dynjobs::testkit
