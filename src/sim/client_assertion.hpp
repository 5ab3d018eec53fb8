// src/sim/client_assertion.hpp - verifies a private_key_jwt client assertion (RFC 7523).
//
// Internal to dynjobs_sim; socket-free, so the token endpoint calls it under the simulator's lock
// and it needs no synchronisation of its own. It checks what a careful identity provider checks:
// RS256 signature against the registered certificate, x5t, iss/sub, aud, exp/nbf/iat with skew,
// a bounded lifetime and jti replay.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace dynjobs::sim::detail {

/// The outcome of one verification.
struct assertion_result {
    bool ok = false;
    std::string client_id; ///< iss (== sub) once parsed, even on a later failure
    std::string failure;   ///< which check failed, for error_description
};

class client_assertion_verifier {
public:
    using clock = std::chrono::system_clock;

    /// Tolerated clock difference between the client and the simulator (exp, nbf, iat).
    static constexpr std::chrono::seconds skew{60};
    /// Longest accepted assertion lifetime (exp - now), beyond the skew: assertions are meant to
    /// be used at once; a long-lived one is a stolen-assertion risk.
    static constexpr std::chrono::seconds max_lifetime{600};

    /// Returns the PEM certificate registered for a client id, or nullptr when the client is
    /// unknown or has no certificate.
    using certificate_lookup = std::function<const std::string*(std::string_view client_id)>;

    /// Verifies `jwt`. `form_client_id` is the request's client_id parameter (may be empty; when
    /// present it must equal iss). `audience` is the token URL the assertion must name;
    /// `alt_audience` (may be empty) another spelling of it that is accepted as well.
    assertion_result verify(std::string_view jwt, std::string_view form_client_id,
                            std::string_view audience, std::string_view alt_audience,
                            const certificate_lookup& lookup, clock::time_point now);

private:
    /// jti -> its exp: a jti is remembered as long as its assertion could still be accepted.
    std::map<std::string, clock::time_point, std::less<>> used_jtis_;
};

} // namespace dynjobs::sim::detail
