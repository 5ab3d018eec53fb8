// src/sim/bandwidth_limiter.cpp - the link schedule shared by every connection.
#include "sim/bandwidth_limiter.hpp"

#include <algorithm>

namespace dynjobs::sim {

bandwidth_limiter::bandwidth_limiter(std::uint64_t bits_per_second)
    : bits_per_second_(bits_per_second) {}

bandwidth_limiter::clock::time_point bandwidth_limiter::reserve(std::size_t bytes,
                                                                clock::time_point now) {
    const std::lock_guard lock{mutex_};
    bytes_booked_ += bytes;
    if (free_at_ < now) {
        // The link sat idle: nothing queued, and idle time is not saved up for later.
        free_at_ = now;
        carried_bit_seconds_ = 0;
    }
    // bytes x 8 x 10^9 / bandwidth nanoseconds, the remainder kept for the next booking. 64 bits
    // hold it for bookings of up to 2 GB at once; the session books at most 16 KiB.
    carried_bit_seconds_ += static_cast<std::uint64_t>(bytes) * 8 * 1'000'000'000;
    const std::uint64_t ns = carried_bit_seconds_ / bits_per_second_;
    carried_bit_seconds_ %= bits_per_second_;
    free_at_ += std::chrono::nanoseconds(ns);
    return free_at_;
}

std::uint64_t bandwidth_limiter::bytes_booked() const {
    const std::lock_guard lock{mutex_};
    return bytes_booked_;
}

} // namespace dynjobs::sim
