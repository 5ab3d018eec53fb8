// The bandwidth limit seen from clients over loopback TLS: responses are paced to the link, and
// connections at once share it rather than each getting it.
#include "sim_fixture.hpp"

#include <boost/test/unit_test.hpp>

#include <array>
#include <chrono>
#include <thread>

namespace {

using namespace dynjobs;
using namespace dynjobs::testkit;

constexpr std::uint64_t eight_mbit = 8'000'000; // 1 MB/s: a page of 1,000 jobs takes ~0.5 s

/// A simulator behind a link of `bits_per_second`, a client and a token.
struct link_fixture {
    explicit link_fixture(std::uint64_t bits_per_second)
        : fx([&] {
            auto config = small_sim_config();
            config.bandwidth_bits_per_second = bits_per_second;
            return config;
        }()) {}

    sim_fixture fx;
    test_client client = fx.https_client();
    std::string token = fx.token();
};

/// Seconds since `start`.
double since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

/// The seconds `bytes` take at `bits_per_second`.
double ideal(std::size_t bytes, std::uint64_t bits_per_second) {
    return static_cast<double>(bytes) * 8 / static_cast<double>(bits_per_second);
}

/// The body of a 200 answer to GET `target`; fails the test on anything else.
std::string page(test_client& client, const std::string& target, const std::string& token) {
    const http_response res = client.get(target, token);
    BOOST_TEST_REQUIRE(res.status == 200u, res.body);
    return res.body;
}

} // namespace

BOOST_AUTO_TEST_SUITE(sim_bandwidth)

BOOST_AUTO_TEST_CASE(one_connection_is_paced_to_the_link) {
    link_fixture link(eight_mbit);
    page(link.client, jobs_target("type=0", 1, 1), link.token); // connected: only pages timed
    const auto start = std::chrono::steady_clock::now();
    std::size_t bytes = 0;
    for (int index = 1; index <= 2; ++index)
        bytes += page(link.client, jobs_target("type=0", index, 1000), link.token).size();
    const double elapsed = since(start);
    BOOST_TEST_REQUIRE(bytes > 800'000u); // 2,000 jobs of about 500 bytes
    // Headers add a little to the bytes paced; scheduling adds a little to the time.
    BOOST_TEST(elapsed >= 0.95 * ideal(bytes, eight_mbit), elapsed << " s for " << bytes);
    BOOST_TEST(elapsed <= 2 * ideal(bytes, eight_mbit) + 1, elapsed << " s for " << bytes);
}

BOOST_AUTO_TEST_CASE(connections_share_one_link, *boost::unit_test::label("threads")) {
    link_fixture link(eight_mbit);
    // Two connections at once, a page of 1,000 jobs each: together they get the link once, so
    // this takes as long as both pages one after the other (each alone would take half).
    std::array<std::size_t, 2> bytes{};
    std::array<std::string, 2> errors;
    const auto start = std::chrono::steady_clock::now();
    {
        std::array<std::jthread, 2> clients;
        for (std::size_t i = 0; i < clients.size(); ++i)
            clients[i] = std::jthread([&, i] {
                try {
                    test_client c = link.fx.https_client();
                    const auto index = static_cast<std::int64_t>(i) + 1;
                    const auto res = c.get(jobs_target("type=0", index, 1000), link.token);
                    bytes[i] = res.status == 200 ? res.body.size() : 0;
                } catch (const std::exception& e) {
                    errors[i] = e.what();
                }
            });
    }
    const double elapsed = since(start);
    BOOST_TEST(errors[0] + errors[1] == "");
    BOOST_TEST_REQUIRE(bytes[0] > 400'000u);
    BOOST_TEST_REQUIRE(bytes[1] > 400'000u);
    const double both = ideal(bytes[0] + bytes[1], eight_mbit);
    BOOST_TEST(elapsed >= 0.95 * both, elapsed << " s for " << bytes[0] + bytes[1]);
    BOOST_TEST(elapsed <= 2 * both + 1, elapsed << " s for " << bytes[0] + bytes[1]);
}

BOOST_AUTO_TEST_SUITE_END()
