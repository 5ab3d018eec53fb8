// dynjobs/policy/token_lifetime.hpp - when an access token must be renewed.
#pragma once

#include <chrono>
#include <cstdint>

namespace dynjobs::policy {

/// When to renew tokens. The defaults suit the API's one-hour tokens.
struct token_refresh_config {
    /// Renew when less than this remains ...
    std::chrono::seconds refresh_before{300};
    /// ... or, for short-lived tokens, less than this fraction of the lifetime: the renewal
    /// margin is the smaller of the two, so a 60 s token is renewed 6 s before expiry, not
    /// immediately.
    double refresh_fraction = 0.1;
    /// The renewal moment is moved earlier by a random part of the margin up to this fraction,
    /// so that many clients started together do not renew together.
    double jitter_fraction = 0.2;
    /// A token is no longer sent once less than this remains: it could expire on the way.
    std::chrono::seconds expiry_safety{10};
};

/// The timeline of one token, fixed when it is obtained: usable until expires_at() minus the
/// safety margin, renewed in the background from refresh_at() on, while still in use.
///
/// Immutable value; thread-safe to read.
class token_lifetime {
public:
    using time_point = std::chrono::steady_clock::time_point;

    /// `obtained` is when the token request was *sent* (the server's clock started no later),
    /// `expires_in` the server's lifetime, `seed` drives the jitter.
    token_lifetime(time_point obtained, std::chrono::seconds expires_in,
                   const token_refresh_config& config, std::uint64_t seed);

    time_point expires_at() const noexcept { return expires_at_; }
    time_point refresh_at() const noexcept { return refresh_at_; }
    /// True while the token may be attached to a request.
    bool usable(time_point now) const noexcept { return now < usable_until_; }
    /// True once a renewal should be started.
    bool needs_refresh(time_point now) const noexcept { return now >= refresh_at_; }

private:
    time_point expires_at_;
    time_point usable_until_;
    time_point refresh_at_;
};

} // namespace dynjobs::policy
