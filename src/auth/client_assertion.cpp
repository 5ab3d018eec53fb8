// src/auth/client_assertion.cpp - see client_assertion.hpp.
#include "auth/client_assertion.hpp"

#include "common/base64url.hpp"

#include <dynjobs/error.hpp>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include <array>
#include <cstdint>

namespace dynjobs::auth {

namespace {

boost::system::error_code fail(diagnostics& diag, std::string_view step) {
    diag.field = "certificate";
    diag.message = "client assertion: " + std::string(step);
    const unsigned long err = ERR_peek_last_error();
    if (err != 0) {
        char reason[256];
        ERR_error_string_n(err, reason, sizeof reason);
        diag.message += " (OpenSSL: " + std::string(reason) + ")";
    }
    ERR_clear_error();
    return errc::credential_error;
}

/// A random UUID (version 4): 122 random bits, so two assertions never share a jti.
bool random_uuid(std::string& out) {
    std::array<unsigned char, 16> b{};
    if (RAND_bytes(b.data(), static_cast<int>(b.size())) != 1)
        return false;
    b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);
    b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);
    static constexpr char hex[] = "0123456789abcdef";
    out.clear();
    for (std::size_t i = 0; i < b.size(); ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out += '-';
        out += hex[b[i] >> 4];
        out += hex[b[i] & 0xF];
    }
    return true;
}

} // namespace

boost::system::error_code build_client_assertion(const signing_certificate& cert,
                                                 std::string_view client_id,
                                                 std::string_view audience,
                                                 std::chrono::system_clock::time_point now,
                                                 std::string& jwt, diagnostics& diag) {
    diag.clear();
    jwt.clear();
    if (!cert.private_key)
        return fail(diag, "no private key loaded");

    std::string jti;
    if (!random_uuid(jti))
        return fail(diag, "no random bytes for the jti");

    const std::int64_t iat =
        std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();

    boost::json::object header;
    header["alg"] = "RS256";
    header["typ"] = "JWT";
    header["x5t"] = cert.x5t;
    header["kid"] = cert.kid;

    boost::json::object claims;
    claims["iss"] = client_id;
    claims["sub"] = client_id;
    claims["aud"] = audience;
    claims["jti"] = jti;
    claims["nbf"] = iat;
    claims["iat"] = iat;
    claims["exp"] = iat + client_assertion_lifetime.count();

    std::string signing_input = detail::base64url_encode(boost::json::serialize(header));
    signing_input += '.';
    signing_input += detail::base64url_encode(boost::json::serialize(claims));

    detail::evp_md_ctx_ptr ctx(EVP_MD_CTX_new());
    if (!ctx)
        return fail(diag, "out of memory");
    // An RSA key's default padding is PKCS#1 v1.5: with SHA-256 that is exactly RS256.
    if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, cert.private_key.get()) != 1)
        return fail(diag, "cannot start signing");
    const auto* data = reinterpret_cast<const unsigned char*>(signing_input.data());
    std::size_t sig_len = 0;
    if (EVP_DigestSign(ctx.get(), nullptr, &sig_len, data, signing_input.size()) != 1)
        return fail(diag, "cannot size the signature");
    std::string signature(sig_len, '\0');
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &sig_len,
                       data, signing_input.size()) != 1)
        return fail(diag, "signing failed");
    signature.resize(sig_len);

    jwt = std::move(signing_input);
    jwt += '.';
    jwt += detail::base64url_encode(signature);
    return {};
}

} // namespace dynjobs::auth
