// Test runner for the simulator logic tier: Boost.Test provides main().
#define BOOST_TEST_MODULE dynjobs_sim_unit
#include <boost/test/unit_test.hpp>
