// Test runner for the simulator over loopback tier: Boost.Test provides main().
#define BOOST_TEST_MODULE dynjobs_integration
#include <boost/test/unit_test.hpp>
