// Streaming inflation of gzip and deflate bodies: split anywhere, corrupt, truncated, bombs.
#include "net/inflater.hpp"

#include <dynjobs/error.hpp>

#include <boost/test/unit_test.hpp>

#include <zlib.h>

#include <string>

using namespace dynjobs;
using net::content_coding;
using net::inflater;

namespace {

// windowBits: 15 + 16 gzip, 15 zlib, -15 raw deflate.
std::string compress(const std::string& plain, int window_bits) {
    z_stream z{};
    BOOST_REQUIRE(deflateInit2(&z, 6, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    std::string out(deflateBound(&z, plain.size()) + 32, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(plain.data()));
    z.avail_in = static_cast<uInt>(plain.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    BOOST_REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}

std::string page_text(int jobs) {
    std::string s = R"({"totalCount":)" + std::to_string(jobs) + R"(,"jobs":[)";
    for (int i = 0; i < jobs; ++i)
        s += (i ? "," : "") + std::string(R"({"jobId":"DCIB2024010100000000)") +
             std::to_string(10000 + i) + R"(","module":"Customer Engagement"})";
    return s + "]}";
}

struct result {
    boost::system::error_code ec;
    std::string out;
    diagnostics diag;
};

// Feeds `body` in pieces of `piece` bytes (0: all at once).
result inflate_all(inflater& z, const std::string& body, content_coding coding,
                   std::size_t piece = 0, std::uint64_t limit = 1 << 24) {
    result r;
    z.reset(coding, limit);
    const inflater::output out = [&](std::string_view bytes) {
        r.out.append(bytes);
        return boost::system::error_code{};
    };
    const std::size_t step = piece == 0 ? body.size() : piece;
    for (std::size_t at = 0; at < body.size() && !r.ec; at += step)
        r.ec = z.write(std::string_view(body).substr(at, step), out, r.diag);
    if (!r.ec)
        r.ec = z.finish(r.diag);
    return r;
}

} // namespace

BOOST_AUTO_TEST_SUITE(inflaters)

BOOST_AUTO_TEST_CASE(content_codings_parse_as_servers_write_them) {
    content_coding c{};
    BOOST_TEST((net::parse_content_coding("gzip", c) && c == content_coding::gzip));
    BOOST_TEST((net::parse_content_coding(" X-GZip ", c) && c == content_coding::gzip));
    BOOST_TEST((net::parse_content_coding("Deflate", c) && c == content_coding::deflate));
    BOOST_TEST((net::parse_content_coding("", c) && c == content_coding::identity));
    BOOST_TEST((net::parse_content_coding("identity", c) && c == content_coding::identity));
    BOOST_TEST(!net::parse_content_coding("br", c));
    BOOST_TEST(!net::parse_content_coding("gzip, br", c));
}

BOOST_AUTO_TEST_CASE(gzip_zlib_and_raw_deflate_inflate_split_at_every_point) {
    const std::string plain = page_text(40);
    inflater z; // one instance for every body: its zlib state is reused
    const std::pair<int, content_coding> codings[] = {{15 + 16, content_coding::gzip},
                                                      {15, content_coding::deflate},
                                                      {-15, content_coding::deflate}};
    for (const auto& [bits, coding] : codings) {
        const std::string body = compress(plain, bits);
        BOOST_TEST_REQUIRE(body.size() < plain.size() / 3);
        for (std::size_t piece : {0, 1, 2, 3, 7, 100, 4093}) {
            const auto r = inflate_all(z, body, coding, piece);
            BOOST_TEST_REQUIRE(!r.ec, bits << "/" << piece << ": " << r.diag.message);
            BOOST_TEST(r.out == plain, bits << "/" << piece);
            BOOST_TEST(z.inflated_bytes() == plain.size());
        }
    }
}

BOOST_AUTO_TEST_CASE(a_large_body_comes_out_in_bounded_pieces) {
    const std::string plain = page_text(5000); // about 400 KB
    inflater z;
    z.reset(content_coding::gzip, 1 << 24);
    std::size_t largest = 0, total = 0;
    diagnostics diag;
    const inflater::output out = [&](std::string_view bytes) {
        largest = std::max(largest, bytes.size());
        total += bytes.size();
        return boost::system::error_code{};
    };
    BOOST_TEST(!z.write(compress(plain, 15 + 16), out, diag));
    BOOST_TEST(!z.finish(diag));
    BOOST_TEST(total == plain.size());
    BOOST_TEST(largest <= 64u * 1024u); // never the whole body at once
}

BOOST_AUTO_TEST_CASE(a_corrupt_stream_is_an_error_not_garbage) {
    std::string body = compress(page_text(40), 15 + 16);
    for (std::size_t i = 20; i < 40; ++i)
        body[i] = static_cast<char>(body[i] ^ 0x5a);
    inflater z;
    const auto r = inflate_all(z, body, content_coding::gzip);
    BOOST_TEST((r.ec == errc::bad_content_encoding));
    BOOST_TEST(r.diag.message.find("corrupt") != std::string::npos, r.diag.message);
}

BOOST_AUTO_TEST_CASE(a_truncated_stream_is_an_error_at_the_end_of_the_body) {
    const std::string body = compress(page_text(40), 15 + 16);
    inflater z;
    const auto r = inflate_all(z, body.substr(0, body.size() - 10), content_coding::gzip, 5);
    BOOST_TEST((r.ec == errc::bad_content_encoding));
    BOOST_TEST(r.diag.message.find("truncated") != std::string::npos, r.diag.message);
}

BOOST_AUTO_TEST_CASE(bytes_after_the_stream_are_an_error) {
    const std::string body = compress(page_text(3), 15 + 16) + "trailing";
    inflater z;
    const auto r = inflate_all(z, body, content_coding::gzip);
    BOOST_TEST((r.ec == errc::bad_content_encoding));
}

BOOST_AUTO_TEST_CASE(a_decompression_bomb_stops_at_the_limit) {
    const std::string zeros(8 << 20, '0'); // 8 MiB of one byte: a few KB compressed
    const std::string body = compress(zeros, 15 + 16);
    BOOST_TEST_REQUIRE(body.size() < 64u * 1024u);
    inflater z;
    const auto r = inflate_all(z, body, content_coding::gzip, 0, 1 << 20);
    BOOST_TEST((r.ec == errc::limit_exceeded));
    BOOST_TEST(r.out.size() <= (1u << 20) + 64u * 1024u); // stopped within one output buffer
    BOOST_TEST(r.diag.message.find("1048576") != std::string::npos, r.diag.message);
}

BOOST_AUTO_TEST_CASE(identity_passes_through_and_an_empty_body_is_no_stream) {
    inflater z;
    const auto plain = inflate_all(z, "{\"jobs\":[]}", content_coding::identity);
    BOOST_TEST(!plain.ec);
    BOOST_TEST(plain.out == "{\"jobs\":[]}");
    const auto empty = inflate_all(z, "", content_coding::gzip);
    BOOST_TEST(!empty.ec);
    BOOST_TEST(empty.out.empty());
}

BOOST_AUTO_TEST_CASE(one_inflater_serves_identity_and_compressed_bodies_in_any_order) {
    // As a pooled connection's does: zlib's state is made at the first compressed body and kept
    // for later ones, whatever comes between.
    const std::string plain = page_text(40);
    const std::string gzip = compress(plain, 15 + 16);
    inflater z;
    const auto first = inflate_all(z, plain, content_coding::identity, 100);
    BOOST_TEST((!first.ec && first.out == plain));
    BOOST_TEST(z.inflated_bytes() == 0u);
    const auto second = inflate_all(z, gzip, content_coding::gzip, 7);
    BOOST_TEST((!second.ec && second.out == plain));
    BOOST_TEST(z.inflated_bytes() == plain.size());
    const auto third = inflate_all(z, plain, content_coding::identity);
    BOOST_TEST((!third.ec && third.out == plain));
    BOOST_TEST(z.inflated_bytes() == 0u);
    const auto cut = inflate_all(z, gzip.substr(0, gzip.size() / 2), content_coding::gzip);
    BOOST_TEST((cut.ec == errc::bad_content_encoding));
    const auto after = inflate_all(z, compress(plain, 15), content_coding::deflate, 3);
    BOOST_TEST((!after.ec && after.out == plain));
}

BOOST_AUTO_TEST_SUITE_END()
