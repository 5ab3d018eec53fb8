// src/sim/prng.hpp - the simulator's own portable PRNG (internal).
//
// std::uniform_int_distribution and friends give different sequences on different standard
// libraries, so the simulator draws everything from xoshiro256** with integer-only helpers: the
// same seed gives the same dataset and the same faults everywhere.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace dynjobs::sim::detail {

/// SplitMix64 finaliser: a good stateless 64-bit mixer.
constexpr std::uint64_t mix64(std::uint64_t z) noexcept {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/// FNV-1a over bytes: a portable string hash (std::hash is not).
constexpr std::uint64_t fnv1a(std::string_view s) noexcept {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (unsigned char c : s) {
        h = (h ^ c) * 0x100000001b3ULL;
    }
    return h;
}

class xoshiro256ss {
public:
    explicit xoshiro256ss(std::uint64_t seed) noexcept {
        for (auto& s : s_) {
            seed += 0x9e3779b97f4a7c15ULL;
            s = mix64(seed);
        }
    }

    std::uint64_t next() noexcept {
        const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
        const std::uint64_t t = s_[1] << 17;
        s_[2] ^= s_[0];
        s_[3] ^= s_[1];
        s_[1] ^= s_[2];
        s_[0] ^= s_[3];
        s_[2] ^= t;
        s_[3] = rotl(s_[3], 45);
        return result;
    }

    /// Uniform in [0, n), unbiased (rejection). n must be > 0.
    std::uint64_t below(std::uint64_t n) noexcept {
        const std::uint64_t threshold = (0 - n) % n;
        for (;;) {
            const std::uint64_t r = next();
            if (r >= threshold) {
                return r % n;
            }
        }
    }

    /// Uniform in [lo, hi], both inclusive.
    std::int64_t between(std::int64_t lo, std::int64_t hi) noexcept {
        return lo + static_cast<std::int64_t>(below(static_cast<std::uint64_t>(hi - lo) + 1));
    }

    /// True with probability per_mille / 1000.
    bool chance(unsigned per_mille) noexcept { return below(1000) < per_mille; }

    /// An index drawn with the given integer weights (their sum must be > 0).
    std::size_t weighted(std::span<const unsigned> weights) noexcept {
        std::uint64_t sum = 0;
        for (unsigned w : weights) {
            sum += w;
        }
        std::uint64_t r = below(sum);
        for (std::size_t i = 0; i < weights.size(); ++i) {
            if (r < weights[i]) {
                return i;
            }
            r -= weights[i];
        }
        return weights.size() - 1;
    }

    /// A log-uniform-ish integer: uniform within [base * 2^k, base * 2^(k+1)) for k uniform in
    /// [0, octaves). Integer-only, so portable (no libm).
    std::int64_t octaves(std::int64_t base, unsigned octaves) noexcept {
        const std::int64_t lo = base << below(octaves);
        return between(lo, 2 * lo - 1);
    }

private:
    static constexpr std::uint64_t rotl(std::uint64_t x, int k) noexcept {
        return (x << k) | (x >> (64 - k));
    }
    std::uint64_t s_[4];
};

} // namespace dynjobs::sim::detail
