// Compressed bodies: Accept-Encoding negotiation with q-values, gzip / zlib / raw deflate checked
// by inflating them with zlib here, the broken-gzip faults, and the awkward chunk sizes.
#include "sim/compression.hpp"
#include "sim/jobs_endpoint.hpp"

#include "../common/zlib_inflate.hpp"

#include <boost/test/unit_test.hpp>

#include <zlib.h>

#include <array>
#include <chrono>
#include <numeric>

using namespace dynjobs::sim;
using dynjobs::testkit::inflate_all;
using dynjobs::testkit::inflated;

namespace {

/// A real jobs page of 100 jobs (about 50 KB of JSON), as the simulator serves it.
std::string page_body() {
    dataset_config c;
    c.seed = 5;
    c.organizations = 3;
    c.jobs = 500;
    c.begin = c.end - std::chrono::days{30};
    jobs_endpoint ep{dataset{c}};
    const http_reply r = ep.handle(
        "/dynamicsbackup/jobs?type=0&startTime=2025-12-02T00:00:00Z&finishTime=2026-01-01T00:"
        "00:00Z&pageSize=100",
        nullptr, "https://127.0.0.1:8443");
    BOOST_TEST_REQUIRE(r.status == 200u);
    BOOST_TEST_REQUIRE(r.body.size() > 40'000u);
    return r.body;
}

compression_config offering(bool gzip, bool deflate) {
    compression_config c;
    c.gzip = gzip;
    c.deflate = deflate;
    return c;
}

} // namespace

BOOST_AUTO_TEST_SUITE(sim_compression)

BOOST_AUTO_TEST_CASE(defaults_are_a_deployed_gateway) {
    const compression_config c;
    BOOST_TEST(c.gzip);
    BOOST_TEST(c.deflate);
    BOOST_TEST(!c.raw_deflate);
    BOOST_TEST(c.min_size == 1024u);
    BOOST_TEST(c.level == 1);
    BOOST_TEST(!c.awkward_chunks);
    BOOST_TEST(c.any());
    BOOST_TEST(!offering(false, false).any());
    BOOST_TEST(to_string(content_coding::gzip) == "gzip");
    BOOST_TEST(to_string(content_coding::deflate) == "deflate");
    BOOST_TEST(to_string(content_coding::identity) == "identity");
}

BOOST_AUTO_TEST_CASE(accept_encoding_with_q_values) {
    using enum content_coding;
    const std::pair<std::string_view, content_coding> cases[] = {
        {"", identity}, // absent (or empty): the plain body
        {"gzip", gzip},
        {"deflate", deflate},
        {"gzip, deflate", gzip}, // equal q: gzip first, whatever the order
        {"deflate, gzip", gzip},
        {"gzip;q=0", identity},
        {"gzip;q=0, deflate", deflate},
        {"gzip;q=0.0, deflate;q=0.001", deflate},
        {"gzip;q=0, *", deflate}, // `*` does not undo an explicit refusal
        {"*", gzip},
        {"*;q=0", identity},
        {"deflate;q=0.5, *;q=0.2", deflate},
        {"gzip;q=0.5, deflate;q=0.8", deflate},
        {"gzip;q=0.8, deflate;q=0.5", gzip},
        {"identity", identity},
        {"identity;q=1, gzip;q=0.5", identity},
        {"gzip, identity", gzip}, // codings win ties
        {"gzip;q=0.5, identity;q=0.5", gzip},
        {"identity;q=0", identity}, // nothing acceptable: still the plain body, never a 406
        {"GZIP;Q=0.5", gzip},
        {"x-gzip", gzip},
        {"br", identity},
        {"br, gzip;q=0.1", gzip},
        {" gzip ; q=0.5 ,\tdeflate ; q = 0.6 ", deflate},
        {", ,gzip,", gzip},
        {"gzip;level=9", gzip},         // parameters other than q: ignored
        {"gzip;q=2, deflate", deflate}, // not a qvalue: the element is ignored
        {"gzip;q=0.5000", identity},
        {"gzip;q=1.001", identity},
        {"gzip;q=.5", identity},
        {"gzip;q=", identity},
        {"gzip;q=1.000", gzip},
        {"gzip, gzip;q=0", identity}, // listed twice: the lowest q counts
        {"gzip deflate", identity},   // not a list of two
    };
    const compression_config both;
    for (const auto& [header, expected] : cases) {
        BOOST_TEST_CONTEXT("Accept-Encoding: '" << header << "'") {
            BOOST_TEST(to_string(negotiate_coding(header, both)) == to_string(expected));
        }
    }
}

BOOST_AUTO_TEST_CASE(only_offered_codings_are_served) {
    using enum content_coding;
    BOOST_TEST((negotiate_coding("deflate", offering(true, false)) == identity));
    BOOST_TEST((negotiate_coding("gzip;q=0.1, deflate", offering(true, false)) == gzip));
    BOOST_TEST((negotiate_coding("gzip, deflate;q=0.2", offering(false, true)) == deflate));
    BOOST_TEST((negotiate_coding("*", offering(false, true)) == deflate));
    BOOST_TEST((negotiate_coding("gzip, deflate, *", offering(false, false)) == identity));
}

BOOST_AUTO_TEST_CASE(every_coding_inflates_to_the_body_byte_for_byte) {
    const std::string body = page_body();
    for (int level : {1, 6, 9}) {
        BOOST_TEST_CONTEXT("level " << level) {
            const std::string gz = compress_body(body, content_coding::gzip, level);
            BOOST_TEST_REQUIRE(gz.size() > 18u);
            BOOST_TEST(static_cast<unsigned char>(gz[0]) == 0x1fu); // RFC 1952 magic number
            BOOST_TEST(static_cast<unsigned char>(gz[1]) == 0x8bu);
            const inflated g = inflate_all(gz, 15 + 16);
            BOOST_TEST(g.rc == Z_STREAM_END);
            BOOST_TEST((g.out == body));

            const std::string zl = compress_body(body, content_coding::deflate, level);
            // RFC 1950 header: method 8 (deflate), a check of the first two bytes.
            BOOST_TEST((static_cast<unsigned char>(zl[0]) & 0x0f) == 8u);
            BOOST_TEST(
                (static_cast<unsigned char>(zl[0]) * 256u + static_cast<unsigned char>(zl[1])) %
                    31u ==
                0u);
            const inflated z = inflate_all(zl, 15);
            BOOST_TEST(z.rc == Z_STREAM_END);
            BOOST_TEST((z.out == body));

            const std::string raw = compress_body(body, content_coding::deflate, level, true);
            const inflated r = inflate_all(raw, -15);
            BOOST_TEST(r.rc == Z_STREAM_END);
            BOOST_TEST((r.out == body));
            // Raw is no zlib stream: a client that only knows RFC 1950 fails on it.
            BOOST_TEST(inflate_all(raw, 15).rc == Z_DATA_ERROR);
            BOOST_TEST(raw.size() == zl.size() - 6); // no 2-byte header, no Adler-32

            // JSON shrinks several times: the point of compressing pages.
            BOOST_TEST(gz.size() * 5 < body.size(), gz.size() << " of " << body.size());
        }
    }
    BOOST_TEST(compress_body(body, content_coding::identity, 1) == body);
    BOOST_TEST(inflate_all(compress_body("", content_coding::gzip, 1), 15 + 16).rc == Z_STREAM_END);
    BOOST_CHECK_THROW(compress_body(body, content_coding::gzip, 10), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(corrupt_gzip_inflates_half_then_fails) {
    const std::string body = page_body();
    const auto broken = faulty_gzip(body, fault_kind::corrupt_gzip, 1);
    BOOST_TEST_REQUIRE(broken.has_value());
    BOOST_TEST(static_cast<unsigned char>((*broken)[0]) == 0x1fu);
    const inflated g = inflate_all(*broken, 15 + 16);
    BOOST_TEST(g.rc == Z_DATA_ERROR);
    // Exactly the first half came out before the bad block: the damage is in the middle, and
    // nothing garbled reaches a client before the error.
    BOOST_TEST((g.out == body.substr(0, body.size() / 2)));
}

BOOST_AUTO_TEST_CASE(truncated_gzip_lacks_only_its_trailer) {
    const std::string body = page_body();
    const std::string honest = compress_body(body, content_coding::gzip, 1);
    const auto cut = faulty_gzip(body, fault_kind::truncated_gzip, 1);
    BOOST_TEST_REQUIRE(cut.has_value());
    BOOST_TEST(cut->size() == honest.size() - 8);
    BOOST_TEST((*cut == honest.substr(0, honest.size() - 8)));
    const inflated g = inflate_all(*cut, 15 + 16);
    BOOST_TEST(g.rc != Z_STREAM_END); // the stream never ends
    BOOST_TEST(g.rc != Z_DATA_ERROR); // though nothing in it is wrong
    BOOST_TEST((g.out == body));      // and every byte of the body is there
}

BOOST_AUTO_TEST_CASE(other_kinds_are_no_broken_gzip) {
    for (fault_kind k : {fault_kind::none, fault_kind::malformed_json, fault_kind::html_body,
                         fault_kind::truncated_body})
        BOOST_TEST(!faulty_gzip("{}", k, 1).has_value());
}

BOOST_AUTO_TEST_CASE(awkward_chunks_cut_headers_and_trailers) {
    const auto sizes = awkward_chunk_sizes(10'000);
    BOOST_TEST(std::accumulate(sizes.begin(), sizes.end(), std::size_t{0}) == 10'000u);
    BOOST_TEST_REQUIRE(sizes.size() >= 6u);
    BOOST_TEST(sizes[0] == 1u); // inside gzip's magic number (and the zlib header)
    BOOST_TEST(sizes[1] == 7u); // ends inside gzip's 10-byte header
    BOOST_TEST(sizes[2] == 4093u);
    BOOST_TEST(sizes[3] == 1u);
    // The last 8 bytes: gzip's CRC-32 and ISIZE, zlib's Adler-32, each cut in two.
    BOOST_TEST(sizes[sizes.size() - 3] == 3u);
    BOOST_TEST(sizes[sizes.size() - 2] == 4u);
    BOOST_TEST(sizes[sizes.size() - 1] == 1u);
    for (std::size_t n : sizes)
        BOOST_TEST(n > 0u);

    BOOST_TEST(awkward_chunk_sizes(0).empty());
    BOOST_TEST((awkward_chunk_sizes(5) == std::vector<std::size_t>{3, 2}));
    BOOST_TEST((awkward_chunk_sizes(8) == std::vector<std::size_t>{3, 4, 1}));
    BOOST_TEST((awkward_chunk_sizes(9) == std::vector<std::size_t>{1, 3, 4, 1}));
    BOOST_TEST((awkward_chunk_sizes(20) == std::vector<std::size_t>{1, 7, 4, 3, 4, 1}));
}

BOOST_AUTO_TEST_SUITE_END()
