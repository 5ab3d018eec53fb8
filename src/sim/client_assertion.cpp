// src/sim/client_assertion.cpp - see client_assertion.hpp.
#include "client_assertion.hpp"

#include "shared_crypto.hpp"

#include <dynjobs/sim/certificates.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <openssl/err.h>

#include <cmath>
#include <vector>

namespace dynjobs::sim::detail {

namespace {

namespace json = boost::json;
using clock = client_assertion_verifier::clock;

std::optional<json::object> decode_json_part(std::string_view part) {
    auto bytes = base64url_decode(part);
    if (!bytes)
        return std::nullopt;
    boost::system::error_code ec;
    json::value v = json::parse(*bytes, ec);
    if (ec || !v.is_object())
        return std::nullopt;
    return std::move(v.as_object());
}

std::optional<std::string> string_claim(const json::object& o, std::string_view name) {
    auto it = o.find(name);
    if (it == o.end() || !it->value().is_string())
        return std::nullopt;
    return std::string(it->value().as_string());
}

/// NumericDate: seconds since the epoch, integer or (rarely) fractional.
std::optional<clock::time_point> time_claim(const json::object& o, std::string_view name) {
    auto it = o.find(name);
    if (it == o.end())
        return std::nullopt;
    const json::value& v = it->value();
    double seconds = 0;
    if (v.is_int64())
        seconds = static_cast<double>(v.as_int64());
    else if (v.is_uint64())
        seconds = static_cast<double>(v.as_uint64());
    else if (v.is_double() && std::isfinite(v.as_double()))
        seconds = v.as_double();
    else
        return std::nullopt;
    // Clamp far outside any sane range so the duration cast cannot overflow.
    if (seconds < 0 || seconds > 1e11)
        return std::nullopt;
    return clock::time_point(
        std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(seconds)));
}

bool audience_matches(const json::object& o, std::string_view audience) {
    auto it = o.find("aud");
    if (it == o.end())
        return false;
    if (it->value().is_string())
        return it->value().as_string() == audience;
    // RFC 7519 allows an array of audiences; one of them must be us.
    if (it->value().is_array())
        for (const auto& a : it->value().as_array())
            if (a.is_string() && a.as_string() == audience)
                return true;
    return false;
}

bool signature_valid(std::string_view cert_pem, std::string_view signed_part,
                     std::string_view signature) {
    auto cert = parse_certificate_pem(cert_pem);
    if (!cert)
        return false;
    EVP_PKEY* key = X509_get0_pubkey(cert.get()); // owned by cert
    if (key == nullptr || EVP_PKEY_base_id(key) != EVP_PKEY_RSA)
        return false;
    evp_md_ctx_ptr ctx(EVP_MD_CTX_new());
    // RSA keys default to PKCS#1 v1.5 padding, which is exactly RS256.
    const bool ok =
        ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) == 1 &&
        EVP_DigestVerify(
            ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
            reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size()) == 1;
    ERR_clear_error(); // a bad signature leaves errors queued; they must not leak to TLS code
    return ok;
}

} // namespace

assertion_result
client_assertion_verifier::verify(std::string_view jwt, std::string_view form_client_id,
                                  std::string_view audience, std::string_view alt_audience,
                                  const certificate_lookup& lookup, clock::time_point now) {
    assertion_result r;
    auto failed = [&](std::string why) {
        r.failure = std::move(why);
        return r;
    };

    const auto dot1 = jwt.find('.');
    const auto dot2 = dot1 == jwt.npos ? jwt.npos : jwt.find('.', dot1 + 1);
    if (dot2 == jwt.npos || jwt.find('.', dot2 + 1) != jwt.npos)
        return failed("client_assertion is not a JWS compact serialization (header.payload.sig)");
    const auto header = decode_json_part(jwt.substr(0, dot1));
    if (!header)
        return failed("client_assertion header is not base64url JSON");
    const auto payload = decode_json_part(jwt.substr(dot1 + 1, dot2 - dot1 - 1));
    if (!payload)
        return failed("client_assertion payload is not base64url JSON");
    const auto signature = base64url_decode(jwt.substr(dot2 + 1));
    if (!signature || signature->empty())
        return failed("client_assertion signature is not base64url");

    if (string_claim(*header, "alg") != "RS256")
        return failed("client_assertion alg must be RS256");

    const auto iss = string_claim(*payload, "iss");
    const auto sub = string_claim(*payload, "sub");
    if (!iss || iss->empty())
        return failed("client_assertion has no iss claim");
    r.client_id = *iss;
    if (sub != iss)
        return failed("client_assertion sub must equal iss");
    if (!form_client_id.empty() && form_client_id != *iss)
        return failed("client_assertion iss does not match client_id");

    const std::string* cert_pem = lookup(*iss);
    if (cert_pem == nullptr)
        return failed("client '" + *iss + "' has no registered certificate");
    if (auto x5t = string_claim(*header, "x5t"); x5t && *x5t != certificate_x5t(*cert_pem))
        return failed("client_assertion x5t does not match the registered certificate");
    if (!signature_valid(*cert_pem, jwt.substr(0, dot2), *signature))
        return failed("client_assertion signature is invalid");

    if (!audience_matches(*payload, audience) &&
        (alt_audience.empty() || !audience_matches(*payload, alt_audience)))
        return failed("client_assertion aud must be " + std::string(audience));
    const auto exp = time_claim(*payload, "exp");
    if (!exp)
        return failed("client_assertion has no numeric exp claim");
    if (*exp + skew <= now)
        return failed("client_assertion has expired");
    if (*exp > now + max_lifetime + skew)
        return failed("client_assertion exp is too far in the future (at most 10 minutes)");
    if (auto nbf = time_claim(*payload, "nbf"); nbf && *nbf > now + skew)
        return failed("client_assertion nbf is in the future");
    if (payload->contains("nbf") && !time_claim(*payload, "nbf"))
        return failed("client_assertion nbf is not a NumericDate");
    if (auto iat = time_claim(*payload, "iat"); iat && *iat > now + skew)
        return failed("client_assertion iat is in the future");

    const auto jti = string_claim(*payload, "jti");
    if (!jti || jti->empty())
        return failed("client_assertion has no jti claim");
    // Forget jtis whose assertions can no longer be accepted anyway: the map stays small.
    std::erase_if(used_jtis_, [&](const auto& e) { return e.second + skew <= now; });
    if (!used_jtis_.emplace(*jti, *exp).second)
        return failed("client_assertion jti has already been used");

    r.ok = true;
    return r;
}

} // namespace dynjobs::sim::detail
