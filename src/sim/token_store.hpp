// src/sim/token_store.hpp - the simulator's issued access tokens.
//
// Internal to dynjobs_sim; not synchronised (the simulator holds its state mutex around it).
// Tokens are opaque random strings, as the real identity service's are to a client: nothing
// in them may be relied on, so the store is the only truth.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <variant>

namespace dynjobs::sim::detail {

class token_store {
public:
    using clock = std::chrono::steady_clock;

    /// Why a presented token was refused, for the WWW-Authenticate error_description.
    enum class refusal { unknown, expired, revoked };

    /// Makes a fresh token for `client_id`, valid for `lifetime` from `now` (0 = already expired).
    std::string issue(std::string_view client_id, std::chrono::seconds lifetime,
                      clock::time_point now);

    /// The token's client id, or why it is refused.
    std::variant<std::string, refusal> check(std::string_view token, clock::time_point now) const;

    /// Revokes every token of one client / of every client. Revoked tokens are kept (until they
    /// would have expired) so that a retry sees "revoked", not "unknown".
    void revoke_client(std::string_view client_id);
    void revoke_all();

    static std::string_view describe(refusal r) noexcept;

private:
    struct entry {
        std::string client_id;
        clock::time_point expires;
        bool revoked = false;
    };
    void purge(clock::time_point now);

    std::map<std::string, entry, std::less<>> tokens_;
    std::size_t issued_since_purge_ = 0;
};

} // namespace dynjobs::sim::detail
