// src/sim/bandwidth_limiter.hpp - one link's bandwidth, shared by every connection.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>

namespace dynjobs::sim {

/// The schedule of a link of a fixed bandwidth that every response of the server crosses, so
/// that N connections together get the bandwidth, as over one real link (a token bucket that
/// holds no burst: a link that sat idle sends no faster afterwards). Time is passed in, so
/// tests need no sleeps.
///
/// Each reserve() books its bytes after those booked before (first come, first served, as one
/// queue on the link) and says when they have crossed it; the caller sends them at that time.
/// Bookings of several connections interleave, so each gets its turn between the others'
/// slices of a long body.
///
/// Thread safety: reserve() may be called concurrently (internal mutex).
class bandwidth_limiter {
public:
    using clock = std::chrono::steady_clock;

    /// `bits_per_second` > 0.
    explicit bandwidth_limiter(std::uint64_t bits_per_second);

    /// Books `bytes` on the link at `now`; returns when their last bit has crossed: `now` (or
    /// the end of the previous booking, if later) plus bytes x 8 / bandwidth. Exact over any
    /// number of bookings (the fractions of a nanosecond are carried). A `now` that went
    /// backwards books after everything booked, like any other.
    clock::time_point reserve(std::size_t bytes, clock::time_point now);

    std::uint64_t bits_per_second() const noexcept { return bits_per_second_; }
    /// Every byte booked so far.
    std::uint64_t bytes_booked() const;

private:
    std::uint64_t bits_per_second_;
    mutable std::mutex mutex_;
    std::uint64_t bytes_booked_ = 0;
    clock::time_point free_at_{};           ///< when the link has sent everything booked
    std::uint64_t carried_bit_seconds_ = 0; ///< bits x 10^9 not yet a whole nanosecond
};

} // namespace dynjobs::sim
