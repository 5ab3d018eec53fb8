// Private: the one random draw the policies need (jitter), reproducible from a seed.
#pragma once

#include <cstdint>

namespace dynjobs::policy::detail {

/// Advances a splitmix64 state and returns a uniform double in [0, 1).
inline double unit_random(std::uint64_t& state) noexcept {
    state += 0x9e3779b97f4a7c15ull;
    std::uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return static_cast<double>(z >> 11) * 0x1.0p-53;
}

} // namespace dynjobs::policy::detail
