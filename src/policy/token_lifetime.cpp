
#include "policy/token_lifetime.hpp"
#include "unit_random.hpp"

#include <algorithm>

namespace dynjobs::policy {

using namespace std::chrono;

token_lifetime::token_lifetime(time_point obtained, seconds expires_in,
                               const token_refresh_config& config, std::uint64_t seed) {
    const auto lifetime = duration_cast<milliseconds>(std::max(expires_in, seconds{0}));
    expires_at_ = obtained + lifetime;
    usable_until_ =
        expires_at_ - std::min(duration_cast<milliseconds>(config.expiry_safety), lifetime / 2);

    const auto by_fraction = milliseconds{static_cast<milliseconds::rep>(
        static_cast<double>(lifetime.count()) * config.refresh_fraction)};
    const auto margin = std::min(duration_cast<milliseconds>(config.refresh_before), by_fraction);

    const double unit = detail::unit_random(seed);
    const auto jitter = milliseconds{static_cast<milliseconds::rep>(
        unit * config.jitter_fraction * static_cast<double>(margin.count()))};

    refresh_at_ = std::max(obtained, expires_at_ - margin - jitter);
}

} // namespace dynjobs::policy
