// Test runner for the library logic tier: Boost.Test provides main().
#define BOOST_TEST_MODULE dynjobs_unit
#include <boost/test/unit_test.hpp>
