// The error category's portable conditions: what code that knows nothing of dynjobs can test.
#include <dynjobs/error.hpp>

#include <boost/test/unit_test.hpp>

#include <system_error>

using namespace dynjobs;

BOOST_AUTO_TEST_SUITE(error_conditions)

BOOST_AUTO_TEST_CASE(every_phase_timeout_is_timed_out) {
    for (const auto e : {errc::resolve_timeout, errc::connect_timeout, errc::tls_handshake_timeout,
                         errc::write_timeout, errc::first_byte_timeout, errc::body_timeout,
                         errc::pool_acquire_timeout}) {
        const boost::system::error_code ec = e;
        BOOST_TEST_CONTEXT(ec.message()) {
            BOOST_TEST((ec == std::errc::timed_out));
            BOOST_TEST((ec == boost::system::errc::timed_out));
            // Still itself: the phase is not lost.
            BOOST_TEST((ec == e));
        }
    }
}

BOOST_AUTO_TEST_CASE(other_codes_are_not_timed_out) {
    for (const auto e : {errc::invalid_argument, errc::deadline_exceeded, errc::connection_closed,
                         errc::retries_exhausted}) {
        const boost::system::error_code ec = e;
        BOOST_TEST_CONTEXT(ec.message()) {
            BOOST_TEST(!(ec == std::errc::timed_out));
            BOOST_TEST((ec.default_error_condition().category() == error_category()));
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
