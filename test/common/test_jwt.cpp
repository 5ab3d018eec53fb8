// test_jwt.cpp - see test_jwt.hpp.
#include "test_jwt.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <memory>
#include <stdexcept>

namespace dynjobs::testkit {

namespace {

std::int64_t seconds(std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

} // namespace

std::string b64url(std::string_view bytes) {
    static constexpr char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    std::uint32_t acc = 0;
    int bits = 0;
    for (unsigned char c : bytes) {
        acc = acc << 8 | c;
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out += alphabet[acc >> bits & 63];
        }
    }
    if (bits > 0)
        out += alphabet[acc << (6 - bits) & 63];
    return out;
}

std::string make_jwt(const jwt_claims& claims, const std::string& key_pem) {
    boost::json::object header{{"alg", claims.alg}, {"typ", "JWT"}};
    if (claims.x5t)
        header["x5t"] = *claims.x5t;
    std::string jti = claims.jti;
    if (jti.empty()) {
        unsigned char random[16];
        RAND_bytes(random, sizeof random);
        jti = b64url(std::string_view(reinterpret_cast<char*>(random), sizeof random));
    }
    boost::json::object payload{{"iss", claims.iss},          {"sub", claims.sub},
                                {"aud", claims.aud},          {"jti", jti},
                                {"iat", seconds(claims.iat)}, {"nbf", seconds(claims.nbf)},
                                {"exp", seconds(claims.exp)}};
    const std::string signing_input =
        b64url(boost::json::serialize(header)) + "." + b64url(boost::json::serialize(payload));

    std::unique_ptr<BIO, decltype(&BIO_free)> bio(
        BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())), &BIO_free);
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
        bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr,
        &EVP_PKEY_free);
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    std::size_t length = 0;
    if (!key || !ctx ||
        EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &length,
                       reinterpret_cast<const unsigned char*>(signing_input.data()),
                       signing_input.size()) != 1)
        throw std::runtime_error("cannot sign the test JWT");
    std::string signature(length, '\0');
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                       reinterpret_cast<const unsigned char*>(signing_input.data()),
                       signing_input.size()) != 1)
        throw std::runtime_error("cannot sign the test JWT");
    signature.resize(length);
    return signing_input + "." + b64url(signature);
}

} // namespace dynjobs::testkit
