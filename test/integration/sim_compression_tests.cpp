// Compressed pages seen from a client over loopback TLS: what Accept-Encoding gets, bodies
// inflated here with zlib and compared with the plain page byte for byte, awkward chunk splits as
// the wire framed them, the broken-gzip faults, and what compression gains on a slow link.
//
// The clients are test_client and a Beast reader below, never the library's: a bug in the
// client's inflater must not hide one in the simulator.
#include "sim/compression.hpp"
#include "sim_fixture.hpp"
#include "zlib_inflate.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/test/unit_test.hpp>

#include <openssl/ssl.h>
#include <zlib.h>

#include <array>
#include <chrono>

namespace {

using namespace dynjobs;
using namespace dynjobs::testkit;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;
using sim::content_coding;
using sim::fault_kind;
using namespace std::chrono_literals;

inline auto with_ec(error_code& ec) {
    return asio::redirect_error(asio::use_awaitable, ec);
}

/// A response read by Beast's parser, with the size of every chunk as the framing announced it
/// (empty when the body came with a Content-Length).
struct framed_response {
    http::response<http::string_body> res;
    std::vector<std::size_t> chunks;
};

/// One GET on a fresh TLS connection, with `accept_encoding` when not empty.
framed_response get_framed(const sim::simulator& sim, std::string_view target,
                           std::string_view token, std::string_view accept_encoding) {
    asio::io_context ioc;
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    ctx.set_verify_mode(asio::ssl::verify_peer);
    ctx.add_certificate_authority(asio::buffer(sim.ca_pem()));
    ctx.set_verify_callback(asio::ssl::host_name_verification("localhost"));
    asio::ssl::stream<beast::tcp_stream> stream(beast::tcp_stream(ioc), ctx);
    SSL_set_tlsext_host_name(stream.native_handle(), "localhost");
    framed_response out;
    error_code ec;
    auto exchange = [&]() -> asio::awaitable<void> {
        auto& tcp = beast::get_lowest_layer(stream);
        tcp.expires_after(10s);
        co_await tcp.async_connect({asio::ip::make_address("127.0.0.1"), sim.https_port()},
                                   with_ec(ec));
        if (!ec)
            co_await stream.async_handshake(asio::ssl::stream_base::client, with_ec(ec));
        http::request<http::empty_body> req{http::verb::get, target, 11};
        req.set(http::field::host, "localhost");
        req.set(http::field::authorization, "Bearer " + std::string(token));
        if (!accept_encoding.empty())
            req.set(http::field::accept_encoding, accept_encoding);
        if (!ec)
            co_await http::async_write(stream, req, with_ec(ec));
        http::response_parser<http::string_body> parser;
        parser.body_limit(64u << 20);
        auto note = [&](std::uint64_t size, std::string_view, error_code&) {
            if (size != 0) // the last chunk, which ends the body
                out.chunks.push_back(static_cast<std::size_t>(size));
        };
        parser.on_chunk_header(note);
        beast::flat_buffer buffer;
        if (!ec)
            co_await http::async_read(stream, buffer, parser, with_ec(ec));
        if (!ec)
            out.res = parser.release();
    };
    asio::co_spawn(ioc, exchange, asio::detached);
    ioc.run();
    BOOST_TEST_REQUIRE(!ec, "GET " << target << ": " << ec.message());
    return out;
}

/// A page of 100 jobs (about 50 KB of JSON), well above the 1 KiB compression threshold.
const std::string page_target = jobs_target("type=0", 2, 100);

struct compression_fixture {
    explicit compression_fixture(sim::sim_config config = small_sim_config())
        : fx(std::move(config)) {}

    sim_fixture fx;
    test_client client = fx.https_client();
    std::string token = fx.token();

    http_response get(std::string_view target, std::string_view accept_encoding) {
        std::vector<std::pair<std::string, std::string>> headers{
            {"Authorization", "Bearer " + token}};
        if (!accept_encoding.empty())
            headers.emplace_back("Accept-Encoding", std::string(accept_encoding));
        http_response res;
        const auto ec = client.request("GET", target, res, headers);
        BOOST_TEST_REQUIRE(!ec, "GET " << target << ": " << ec.message());
        BOOST_TEST_REQUIRE(res.status == 200u, res.body);
        return res;
    }

    /// The page as sent to a client that asks for no compression.
    std::string plain_page() {
        const http_response res = get(page_target, "");
        BOOST_TEST_REQUIRE(!res.header("Content-Encoding").has_value());
        return res.body;
    }

    void arm(fault_kind kind) {
        sim::fault_config config;
        sim::fault_rule rule;
        rule.kind = kind;
        config.schedule.push_back(rule);
        fx.sim().set_fault_config(config);
    }

    sim::request_log_entry last_logged() const {
        const auto log = fx.sim().request_log();
        BOOST_TEST_REQUIRE(!log.empty());
        return log.back();
    }
};

sim::sim_config with_compression(const sim::compression_config& compression) {
    auto config = small_sim_config();
    config.compression = compression;
    return config;
}

} // namespace

BOOST_AUTO_TEST_SUITE(sim_compression)

BOOST_FIXTURE_TEST_CASE(gzip_and_deflate_inflate_to_the_plain_page, compression_fixture) {
    const std::string plain = plain_page();
    BOOST_TEST(plain.starts_with("{\"totalCount\":"));
    BOOST_TEST((last_logged().coding == content_coding::identity));

    const http_response gz = get(page_target, "gzip, deflate");
    BOOST_TEST(gz.header("Content-Encoding").value_or("") == "gzip");
    BOOST_TEST(gz.header("Vary").value_or("") == "Accept-Encoding");
    BOOST_TEST(gz.header("Content-Length").value_or("") == std::to_string(gz.body.size()));
    BOOST_TEST(gz.body.size() * 4 < plain.size(), gz.body.size() << " of " << plain.size());
    const inflated g = inflate_all(gz.body, 15 + 16);
    BOOST_TEST(g.rc == Z_STREAM_END);
    BOOST_TEST((g.out == plain));
    BOOST_TEST((last_logged().coding == content_coding::gzip));

    const http_response zl = get(page_target, "deflate");
    BOOST_TEST(zl.header("Content-Encoding").value_or("") == "deflate");
    const inflated z = inflate_all(zl.body, 15); // zlib-wrapped, as RFC 9110 says
    BOOST_TEST(z.rc == Z_STREAM_END);
    BOOST_TEST((z.out == plain));
    BOOST_TEST((last_logged().coding == content_coding::deflate));

    // Every jobs answer says it depends on Accept-Encoding, the plain one too.
    BOOST_TEST(get(page_target, "").header("Vary").value_or("") == "Accept-Encoding");
}

BOOST_FIXTURE_TEST_CASE(q_values_are_respected, compression_fixture) {
    BOOST_TEST(!get(page_target, "gzip;q=0").header("Content-Encoding").has_value());
    BOOST_TEST(!get(page_target, "identity").header("Content-Encoding").has_value());
    BOOST_TEST(!get(page_target, "br").header("Content-Encoding").has_value());
    BOOST_TEST(get(page_target, "gzip;q=0, deflate").header("Content-Encoding").value_or("") ==
               "deflate");
    BOOST_TEST(
        get(page_target, "gzip;q=0.4, deflate;q=0.9").header("Content-Encoding").value_or("") ==
        "deflate");
    BOOST_TEST(get(page_target, "deflate, gzip").header("Content-Encoding").value_or("") == "gzip");
    BOOST_TEST(get(page_target, "*").header("Content-Encoding").value_or("") == "gzip");
}

BOOST_FIXTURE_TEST_CASE(small_bodies_and_tokens_stay_plain, compression_fixture) {
    // A 400 (no type): a JSON error body of a few hundred bytes, under the 1 KiB threshold.
    http_response res;
    BOOST_TEST_REQUIRE(
        !client.request("GET", jobs_target("status=2"), res,
                        {{"Authorization", "Bearer " + token}, {"Accept-Encoding", "gzip"}}));
    BOOST_TEST(res.status == 400u);
    BOOST_TEST(res.body.size() < 1024u);
    BOOST_TEST(!res.header("Content-Encoding").has_value());
    BOOST_TEST(res.header("Vary").value_or("") == "Accept-Encoding");
    // A page of 1 job is under it too.
    BOOST_TEST(!get(jobs_target("type=0", 1, 1), "gzip").header("Content-Encoding").has_value());

    // The token endpoint never compresses, whatever is asked.
    BOOST_TEST_REQUIRE(
        !client.request("POST", "/connect/token", res,
                        {{"Content-Type", "application/x-www-form-urlencoded"},
                         {"Accept-Encoding", "gzip, deflate"}},
                        secret_grant_form(sim::default_client_id, sim::default_client_secret)));
    BOOST_TEST(res.status == 200u);
    BOOST_TEST(!res.header("Content-Encoding").has_value());
    BOOST_TEST(!res.header("Vary").has_value());
    BOOST_TEST(res.body.find("access_token") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(offered_codings_min_size_and_raw_deflate) {
    sim::compression_config none;
    none.gzip = none.deflate = false;
    compression_fixture off(with_compression(none));
    const http_response plain = off.get(page_target, "gzip, deflate");
    BOOST_TEST(!plain.header("Content-Encoding").has_value());
    BOOST_TEST(!plain.header("Vary").has_value()); // nothing could have been compressed

    sim::compression_config raw;
    raw.gzip = false;
    raw.raw_deflate = true;
    raw.min_size = 0;
    raw.level = 9;
    compression_fixture fx(with_compression(raw));
    const std::string page = fx.plain_page();
    const http_response deflated = fx.get(page_target, "gzip, deflate");
    BOOST_TEST(deflated.header("Content-Encoding").value_or("") == "deflate");
    BOOST_TEST(inflate_all(deflated.body, 15).rc == Z_DATA_ERROR); // no zlib wrapper
    const inflated r = inflate_all(deflated.body, -15);
    BOOST_TEST(r.rc == Z_STREAM_END);
    BOOST_TEST((r.out == page));
    // min_size 0: a 1-job page is compressed too.
    BOOST_TEST(
        fx.get(jobs_target("type=0", 1, 1), "deflate").header("Content-Encoding").value_or("") ==
        "deflate");
}

BOOST_AUTO_TEST_CASE(awkward_chunks_cut_the_compressed_stream_on_the_wire) {
    sim::compression_config awkward;
    awkward.awkward_chunks = true;
    compression_fixture fx(with_compression(awkward));
    const std::string plain = fx.plain_page();
    for (const auto& [asked, window_bits] : {std::pair{std::string_view("gzip"), 15 + 16},
                                             std::pair{std::string_view("deflate"), 15}}) {
        BOOST_TEST_CONTEXT("Accept-Encoding: " << asked) {
            const framed_response r = get_framed(fx.fx.sim(), page_target, fx.token, asked);
            BOOST_TEST(r.res[http::field::content_encoding] == asked);
            BOOST_TEST(r.res[http::field::transfer_encoding] == "chunked");
            BOOST_TEST(r.res.count(http::field::content_length) == 0u);
            const std::string& body = r.res.body();
            BOOST_TEST((r.chunks == sim::awkward_chunk_sizes(body.size())));
            BOOST_TEST_REQUIRE(r.chunks.size() > 6u);
            BOOST_TEST(r.chunks.front() == 1u);
            BOOST_TEST(r.chunks[1] == 7u);
            BOOST_TEST(r.chunks.back() == 1u);
            const inflated i = inflate_all(body, window_bits);
            BOOST_TEST(i.rc == Z_STREAM_END);
            BOOST_TEST((i.out == plain));
        }
    }
    // Plain bodies keep their Content-Length.
    const framed_response as_is = get_framed(fx.fx.sim(), page_target, fx.token, "");
    BOOST_TEST(as_is.chunks.empty());
    BOOST_TEST(as_is.res[http::field::content_length] == std::to_string(plain.size()));
    BOOST_TEST((as_is.res.body() == plain));
}

BOOST_FIXTURE_TEST_CASE(corrupt_gzip_breaks_in_the_middle, compression_fixture) {
    const std::string plain = plain_page();
    arm(fault_kind::corrupt_gzip);
    // Sent as gzip though this request asked for nothing: a server that compresses regardless.
    const http_response res = get(page_target, "");
    BOOST_TEST(res.header("Content-Encoding").value_or("") == "gzip");
    BOOST_TEST(res.header("Content-Length").value_or("") == std::to_string(res.body.size()));
    const inflated g = inflate_all(res.body, 15 + 16);
    BOOST_TEST(g.rc == Z_DATA_ERROR);
    BOOST_TEST((g.out == plain.substr(0, plain.size() / 2)));
    const auto entry = last_logged();
    BOOST_TEST((entry.fault == fault_kind::corrupt_gzip));
    BOOST_TEST((entry.coding == content_coding::gzip));
    // Once only: the retry gets a good page.
    const inflated again = inflate_all(get(page_target, "gzip").body, 15 + 16);
    BOOST_TEST(again.rc == Z_STREAM_END);
    BOOST_TEST((again.out == plain));
}

BOOST_FIXTURE_TEST_CASE(truncated_gzip_is_framed_right_and_ends_early, compression_fixture) {
    const std::string plain = plain_page();
    const std::string honest = get(page_target, "gzip").body;
    arm(fault_kind::truncated_gzip);
    const http_response res = get(page_target, "gzip");
    BOOST_TEST(res.header("Content-Encoding").value_or("") == "gzip");
    // The HTTP framing is right (the read above completed): the cut is inside the gzip stream.
    BOOST_TEST(res.header("Content-Length").value_or("") == std::to_string(res.body.size()));
    BOOST_TEST(res.body.size() == honest.size() - 8);
    const inflated g = inflate_all(res.body, 15 + 16);
    BOOST_TEST(g.rc != Z_STREAM_END);
    BOOST_TEST((g.out == plain)); // every JSON byte is there; only the trailer is missing
    BOOST_TEST((last_logged().fault == fault_kind::truncated_gzip));
    BOOST_TEST(client.is_open()); // and the connection stays usable
}

BOOST_FIXTURE_TEST_CASE(token_requests_get_no_broken_gzip, compression_fixture) {
    sim::fault_config config;
    sim::fault_rule rule;
    rule.kind = fault_kind::corrupt_gzip;
    rule.path = "/connect/token";
    config.schedule.push_back(rule);
    fx.sim().set_fault_config(config);
    http_response res = client.post_form(
        "/connect/token", secret_grant_form(sim::default_client_id, sim::default_client_secret));
    BOOST_TEST(res.status == 200u);
    BOOST_TEST(!res.header("Content-Encoding").has_value());
    BOOST_TEST((last_logged().fault == fault_kind::none));
}

// What crosses a slow link is the compressed page: at least 4 times fewer bytes, so at least 4
// times less of the link's time (bytes x 8 / bandwidth: sim_bandwidth_limiter's tests).
BOOST_AUTO_TEST_CASE(compressed_pages_cross_a_slow_link_in_a_quarter_of_the_bytes) {
    auto config = small_sim_config();
    config.bandwidth_bits_per_second = 8'000'000; // 1 MB/s
    compression_fixture fx(config);
    const std::string target = jobs_target("type=0", 1, 1000);
    const auto link_bytes_of = [&](std::string_view accept_encoding, http_response& res) {
        const auto before = fx.fx.sim().counters().link_bytes;
        res = fx.get(target, accept_encoding);
        return fx.fx.sim().counters().link_bytes - before;
    };
    http_response plain;
    http_response gz;
    const auto plain_bytes = link_bytes_of("", plain);
    const auto gzip_bytes = link_bytes_of("gzip", gz);
    BOOST_TEST(gz.header("Content-Encoding").value_or("") == "gzip");
    // The body as sent and its headers, nothing more.
    BOOST_TEST(plain_bytes >= plain.body.size());
    BOOST_TEST(plain_bytes < plain.body.size() + 1024);
    BOOST_TEST(gzip_bytes >= gz.body.size());
    BOOST_TEST(gzip_bytes < gz.body.size() + 1024);
    BOOST_TEST(gzip_bytes * 4 < plain_bytes);
}

BOOST_AUTO_TEST_SUITE_END()
