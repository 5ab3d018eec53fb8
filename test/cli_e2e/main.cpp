// End-to-end tests of the built `dynjobs` binary: processes, signals, files.
#define BOOST_TEST_MODULE dynjobs_cli_e2e
#include <boost/test/unit_test.hpp>
