// Tests of dynjobs::sim::bandwidth_limiter with a fake clock (time passed in, no sleeps).
#include "sim/bandwidth_limiter.hpp"

#include <boost/test/unit_test.hpp>

using namespace dynjobs::sim;
using namespace std::chrono;

namespace {
const bandwidth_limiter::clock::time_point t0{hours{1}};

/// How long after t0 a booking ends, in nanoseconds (printable by BOOST_TEST).
long long after_t0(bandwidth_limiter::clock::time_point t) {
    return static_cast<long long>(duration_cast<nanoseconds>(t - t0).count());
}
} // namespace

BOOST_AUTO_TEST_SUITE(sim_bandwidth_limiter)

BOOST_AUTO_TEST_CASE(bytes_take_eight_bits_each_at_the_rate) {
    bandwidth_limiter link{8'000'000}; // 1 MB/s
    BOOST_TEST(link.bits_per_second() == 8'000'000u);
    BOOST_TEST(after_t0(link.reserve(1'000'000, t0)) == 1'000'000'000);
}

BOOST_AUTO_TEST_CASE(bookings_queue_one_after_another) {
    bandwidth_limiter link{1'000'000}; // 125,000 bytes/s
    BOOST_TEST(after_t0(link.reserve(12'500, t0)) == 100'000'000);
    BOOST_TEST(after_t0(link.reserve(12'500, t0)) == 200'000'000);
    // Booked later but while the link is still busy: after the queue, not after `now`.
    BOOST_TEST(after_t0(link.reserve(12'500, t0 + milliseconds{150})) == 300'000'000);
    BOOST_TEST(link.bytes_booked() == 37'500u);
}

BOOST_AUTO_TEST_CASE(idle_time_is_not_saved_up) {
    bandwidth_limiter link{1'000'000};
    BOOST_TEST(after_t0(link.reserve(12'500, t0)) == 100'000'000);
    // Ten idle seconds buy no burst: the next bytes still take their 100 ms.
    BOOST_TEST(after_t0(link.reserve(12'500, t0 + seconds{10})) == 10'100'000'000);
}

BOOST_AUTO_TEST_CASE(many_connections_together_get_the_rate_once) {
    // Four connections taking turns with 16 KiB slices of a 1 MiB body each: the link carries
    // the 4 MiB in exactly the time one connection would need for all of it.
    bandwidth_limiter link{100'000'000};
    const std::size_t slice = 16 * 1024;
    bandwidth_limiter::clock::time_point last = t0;
    for (int round = 0; round < 64; ++round)
        for (int connection = 0; connection < 4; ++connection)
            last = link.reserve(slice, t0);
    const long long expected = 4LL * 1024 * 1024 * 8 * 1'000'000'000 / 100'000'000;
    BOOST_TEST(after_t0(last) == expected);
}

BOOST_AUTO_TEST_CASE(fractions_of_a_nanosecond_are_carried) {
    bandwidth_limiter link{3}; // 1 byte = 8/3 s, not a whole number of nanoseconds
    link.reserve(1, t0);
    link.reserve(1, t0);
    BOOST_TEST(after_t0(link.reserve(1, t0)) == 8'000'000'000);
}

BOOST_AUTO_TEST_CASE(time_going_backwards_books_after_the_queue) {
    bandwidth_limiter link{1'000'000};
    BOOST_TEST(after_t0(link.reserve(12'500, t0 + seconds{1})) == 1'100'000'000);
    BOOST_TEST(after_t0(link.reserve(12'500, t0)) == 1'200'000'000);
}

BOOST_AUTO_TEST_SUITE_END()
