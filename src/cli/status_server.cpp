#include "cli/status_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <charconv>
#include <map>
#include <system_error>

namespace dynjobs::cli {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
// A scraper sends its next request within seconds; an idle connection past this is let go.
constexpr auto idle_limit = std::chrono::seconds(30);

http::response<http::string_body> answer(const http::request<http::empty_body>& req,
                                         const status_server::handlers& h) {
    http::response<http::string_body> res;
    res.version(req.version());
    res.keep_alive(req.keep_alive());
    res.set(http::field::content_type, "text/plain; charset=utf-8");
    if (req.method() != http::verb::get && req.method() != http::verb::head) {
        res.result(http::status::method_not_allowed);
        res.set(http::field::allow, "GET, HEAD");
        res.body() = "only GET and HEAD\n";
    } else {
        std::string_view path = req.target();
        path = path.substr(0, path.find('?'));
        if (path == "/metrics") {
            res.result(http::status::ok);
            res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
            res.body() = h.metrics();
        } else if (path == "/healthz") {
            res.result(http::status::ok);
            res.body() = "ok\n";
        } else if (path == "/readyz") {
            const bool ready = h.ready();
            res.result(ready ? http::status::ok : http::status::service_unavailable);
            res.body() = ready ? "ready\n" : "not ready: no successful cycle lately\n";
        } else {
            res.result(http::status::not_found);
            res.body() = "not found; try /metrics, /healthz or /readyz\n";
        }
    }
    res.prepare_payload();
    // HEAD: the headers of the GET, with its Content-Length, and no body.
    if (req.method() == http::verb::head)
        res.body().clear();
    return res;
}

} // namespace

std::optional<tcp::endpoint> parse_listen_endpoint(std::string_view text) {
    const auto colon = text.rfind(':');
    if (colon == text.npos)
        return std::nullopt;
    std::string_view host = text.substr(0, colon);
    const std::string_view port_text = text.substr(colon + 1);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    else if (host.find(':') != host.npos)
        return std::nullopt; // an IPv6 address needs its brackets
    unsigned port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
        port > 65535)
        return std::nullopt;
    boost::system::error_code address_ec;
    const auto address = asio::ip::make_address(std::string(host), address_ec);
    if (address_ec)
        return std::nullopt;
    return tcp::endpoint(address, static_cast<unsigned short>(port));
}

struct status_server::impl : std::enable_shared_from_this<impl> {
    impl(asio::any_io_executor ex, handlers h)
        : acceptor(ex)
        , handlers_(std::move(h)) {}

    tcp::acceptor acceptor;
    handlers handlers_;
    bool stopped = false;
    // Open connections by id, so stop() can close them; each session erases its own entry.
    std::map<std::uint64_t, std::shared_ptr<beast::tcp_stream>> connections;
    std::uint64_t next_id = 0;

    static asio::awaitable<void> accept_loop(std::shared_ptr<impl> self) {
        while (!self->stopped) {
            auto [ec, socket] = co_await self->acceptor.async_accept(use_tuple);
            if (self->stopped)
                break;
            if (ec)
                continue; // out of descriptors, a connection reset before accept: keep serving
            auto stream = std::make_shared<beast::tcp_stream>(std::move(socket));
            const auto id = self->next_id++;
            self->connections.emplace(id, stream);
            asio::co_spawn(self->acceptor.get_executor(), serve(self, stream, id), asio::detached);
        }
    }

    static asio::awaitable<void>
    serve(std::shared_ptr<impl> self, std::shared_ptr<beast::tcp_stream> stream, std::uint64_t id) {
        beast::flat_buffer buffer;
        for (;;) {
            http::request_parser<http::empty_body> parser;
            parser.header_limit(8 * 1024);
            stream->expires_after(idle_limit);
            auto [read_ec, read_n] = co_await http::async_read(*stream, buffer, parser, use_tuple);
            if (read_ec || self->stopped)
                break;
            auto res = answer(parser.get(), self->handlers_);
            stream->expires_after(idle_limit);
            auto [write_ec, write_n] = co_await http::async_write(*stream, res, use_tuple);
            if (write_ec || self->stopped || !res.keep_alive())
                break;
        }
        boost::system::error_code ignored;
        stream->socket().shutdown(tcp::socket::shutdown_send, ignored);
        self->connections.erase(id);
    }
};

status_server::status_server(asio::any_io_executor executor, const tcp::endpoint& endpoint,
                             handlers h)
    : impl_(std::make_shared<impl>(std::move(executor), std::move(h))) {
    boost::system::error_code ec;
    auto& acceptor = impl_->acceptor;
    acceptor.open(endpoint.protocol(), ec);
    if (!ec)
        acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec)
        acceptor.bind(endpoint, ec);
    if (!ec)
        acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
        throw std::system_error(ec, "--listen: cannot listen on " + endpoint.address().to_string() +
                                        ":" + std::to_string(endpoint.port()));
}

status_server::~status_server() {
    stop();
}

tcp::endpoint status_server::local_endpoint() const {
    return impl_->acceptor.local_endpoint();
}

void status_server::start() {
    asio::co_spawn(impl_->acceptor.get_executor(), impl::accept_loop(impl_), asio::detached);
}

void status_server::stop() {
    if (impl_->stopped)
        return;
    impl_->stopped = true;
    boost::system::error_code ignored;
    impl_->acceptor.close(ignored);
    for (auto& [id, stream] : impl_->connections)
        stream->socket().close(ignored);
    impl_->connections.clear();
}

} // namespace dynjobs::cli
