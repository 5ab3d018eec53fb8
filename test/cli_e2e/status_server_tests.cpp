// `dynjobs sync`'s HTTP endpoints over a real loopback socket: what a Prometheus scraper and a
// Kubernetes probe send, and what they get back.
#include "cli/status_server.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/test/unit_test.hpp>

#include <thread>

using namespace dynjobs::cli;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

// The server on its own io_context thread, the test as a blocking client on another: the same
// shape as a scraper talking to the command.
struct running_server {
    asio::io_context io;
    bool ready = false;
    int scrapes = 0;
    status_server server{io.get_executor(),
                         tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0),
                         {[this] {
                              ++scrapes;
                              return std::string("dynjobs_up 1\n");
                          },
                          [this] { return ready; }}};
    std::thread thread;

    running_server() {
        server.start();
        thread = std::thread([this] { io.run(); });
    }
    ~running_server() {
        asio::post(io, [this] { server.stop(); });
        thread.join();
    }
    void set_ready(bool r) {
        asio::post(io, [this, r] { ready = r; });
    }
};

struct scraper {
    asio::io_context io;
    beast::tcp_stream stream{io};
    beast::flat_buffer buffer;

    explicit scraper(const tcp::endpoint& at) { stream.connect(at); }

    http::response<http::string_body> send(http::verb method, const std::string& target) {
        http::request<http::empty_body> req{method, target, 11};
        req.set(http::field::host, "127.0.0.1");
        http::write(stream, req);
        http::response_parser<http::string_body> parser;
        parser.skip(method == http::verb::head);
        http::read(stream, buffer, parser);
        return parser.release();
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(cli_status_server)

BOOST_AUTO_TEST_CASE(metrics_healthz_and_readyz_answer_on_one_keep_alive_connection) {
    running_server s;
    scraper c(s.server.local_endpoint());

    auto metrics = c.send(http::verb::get, "/metrics");
    BOOST_TEST(metrics.result_int() == 200);
    BOOST_TEST(metrics[http::field::content_type] == "text/plain; version=0.0.4; charset=utf-8");
    BOOST_TEST(metrics.body() == "dynjobs_up 1\n");

    BOOST_TEST(c.send(http::verb::get, "/healthz").result_int() == 200);
    auto not_ready = c.send(http::verb::get, "/readyz");
    BOOST_TEST(not_ready.result_int() == 503);
    s.set_ready(true);
    BOOST_TEST(c.send(http::verb::get, "/readyz?verbose=1").result_int() == 200);

    auto head = c.send(http::verb::head, "/metrics");
    BOOST_TEST(head.result_int() == 200);
    BOOST_TEST(head[http::field::content_length] == "13");
    BOOST_TEST(head.body().empty());
}

BOOST_AUTO_TEST_CASE(other_paths_and_methods_are_refused_with_the_right_status) {
    running_server s;
    scraper c(s.server.local_endpoint());
    BOOST_TEST(c.send(http::verb::get, "/").result_int() == 404);
    auto post = c.send(http::verb::post, "/metrics");
    BOOST_TEST(post.result_int() == 405);
    BOOST_TEST(post[http::field::allow] == "GET, HEAD");
}

BOOST_AUTO_TEST_CASE(a_port_in_use_is_reported_with_the_address) {
    running_server first;
    asio::io_context io;
    try {
        status_server second(io.get_executor(), first.server.local_endpoint(),
                             {[] { return std::string(); }, [] { return true; }});
        BOOST_FAIL("a second server bound the same port");
    } catch (const std::system_error& e) {
        const std::string what = e.what();
        BOOST_TEST(what.find("--listen: cannot listen on 127.0.0.1:" +
                             std::to_string(first.server.local_endpoint().port())) == 0,
                   what);
    }
}

BOOST_AUTO_TEST_CASE(stop_closes_open_connections) {
    running_server s;
    scraper c(s.server.local_endpoint());
    BOOST_TEST(c.send(http::verb::get, "/healthz").result_int() == 200);
    asio::post(s.io, [&] { s.server.stop(); });
    // The kept-alive connection ends: the next read sees the close, not a hang.
    http::response<http::string_body> res;
    boost::system::error_code ec;
    http::read(c.stream, c.buffer, res, ec);
    BOOST_TEST(ec.failed());
}

BOOST_AUTO_TEST_SUITE_END()
