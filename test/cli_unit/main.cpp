// Test runner for the dynjobs command's pure logic: Boost.Test provides main().
#define BOOST_TEST_MODULE dynjobs_cli_unit
#include <boost/test/unit_test.hpp>
