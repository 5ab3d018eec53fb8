// dynjobs/token_refresh_config.hpp - when a client renews its access tokens.
#pragma once

#include <chrono>

// Named in the `policy` namespace of the engine code that applies it
// (src/policy/token_lifetime.hpp).
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

} // namespace dynjobs::policy
