// src/sim/token_store.cpp - see token_store.hpp.
#include "token_store.hpp"

#include "shared_crypto.hpp"

#include <openssl/rand.h>

#include <random>
#include <stdexcept>

namespace dynjobs::sim::detail {

namespace {

/// 32 random bytes = 43 base64url characters: unguessable, as a bearer token must be.
std::string random_token() {
    std::string bytes(32, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), 32) != 1) {
        // OpenSSL's DRBG cannot fail on a working system; random_device keeps the simulator
        // usable if it ever does (tokens only guard test data).
        std::random_device rd;
        for (auto& c : bytes)
            c = static_cast<char>(rd());
    }
    return base64url_encode(bytes);
}

} // namespace

std::string token_store::issue(std::string_view client_id, std::chrono::seconds lifetime,
                               clock::time_point now) {
    // Purge now and then rather than on every call: issuing stays O(log n) amortised.
    if (++issued_since_purge_ >= 1024) {
        purge(now);
        issued_since_purge_ = 0;
    }
    std::string token = random_token();
    tokens_[token] = entry{std::string(client_id), now + lifetime, false};
    return token;
}

std::variant<std::string, token_store::refusal> token_store::check(std::string_view token,
                                                                   clock::time_point now) const {
    auto it = tokens_.find(token);
    if (it == tokens_.end())
        return refusal::unknown;
    if (it->second.revoked)
        return refusal::revoked;
    if (now >= it->second.expires)
        return refusal::expired;
    return it->second.client_id;
}

void token_store::revoke_client(std::string_view client_id) {
    for (auto& [token, e] : tokens_)
        if (e.client_id == client_id)
            e.revoked = true;
}

void token_store::revoke_all() {
    for (auto& [token, e] : tokens_)
        e.revoked = true;
}

std::string_view token_store::describe(refusal r) noexcept {
    switch (r) {
    case refusal::unknown:
        return "The access token is unknown";
    case refusal::expired:
        return "The access token has expired";
    case refusal::revoked:
        return "The access token has been revoked";
    }
    return "The access token is invalid";
}

void token_store::purge(clock::time_point now) {
    // A token expired for an hour is no longer worth a descriptive "expired": drop it.
    std::erase_if(tokens_,
                  [&](const auto& e) { return e.second.expires + std::chrono::hours(1) < now; });
}

} // namespace dynjobs::sim::detail
