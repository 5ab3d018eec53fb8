// src/policy/token_lifetime.hpp - when an access token must be renewed.
#pragma once

#include <dynjobs/token_refresh_config.hpp>

#include <chrono>
#include <cstdint>

namespace dynjobs::policy {

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
