// test_client.cpp - see test_client.hpp.
#include "test_client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include <openssl/ssl.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace dynjobs::testkit {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;

namespace {

inline auto with_ec(error_code& ec) {
    return asio::redirect_error(asio::use_awaitable, ec);
}

bool iequals(std::string_view a, std::string_view b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
        return std::tolower(static_cast<unsigned char>(x)) ==
               std::tolower(static_cast<unsigned char>(y));
    });
}

} // namespace

std::optional<std::string> http_response::header(std::string_view name) const {
    for (const auto& [n, v] : headers)
        if (iequals(n, name))
            return v;
    return std::nullopt;
}

struct test_client::impl {
    client_options options;
    asio::io_context ioc;
    std::optional<asio::ssl::context> ssl_ctx;
    std::optional<asio::ssl::stream<beast::tcp_stream>> tls;
    std::optional<beast::tcp_stream> plain;
    beast::flat_buffer buffer;
    std::size_t opened = 0;

    explicit impl(client_options o)
        : options(std::move(o)) {
        if (options.ca_pem.empty())
            return;
        ssl_ctx.emplace(asio::ssl::context::tls_client);
        ssl_ctx->set_verify_mode(asio::ssl::verify_peer);
        ssl_ctx->add_certificate_authority(asio::buffer(options.ca_pem));
        ssl_ctx->set_verify_callback(asio::ssl::host_name_verification(options.host_name));
        if (options.max_tls_version != 0) {
            // OpenSSL 3 refuses TLS < 1.2 below security level 0; lower it so that the client
            // really offers the old version and it is the SERVER that must refuse it.
            SSL_CTX_set_security_level(ssl_ctx->native_handle(), 0);
            SSL_CTX_set_cipher_list(ssl_ctx->native_handle(), "DEFAULT:@SECLEVEL=0");
            SSL_CTX_set_min_proto_version(ssl_ctx->native_handle(), TLS1_VERSION);
            SSL_CTX_set_max_proto_version(ssl_ctx->native_handle(), options.max_tls_version);
        }
    }

    beast::tcp_stream& tcp() { return tls ? beast::get_lowest_layer(*tls) : *plain; }
    bool open() const { return tls || plain; }

    void close() {
        if (open()) {
            tcp().close();
        }
        tls.reset();
        plain.reset();
        buffer.clear();
    }

    /// Runs one coroutine to completion on the private io_context.
    void run(asio::awaitable<void> op) {
        std::exception_ptr failure;
        asio::co_spawn(ioc, std::move(op), [&](std::exception_ptr e) { failure = e; });
        ioc.restart();
        ioc.run();
        if (failure)
            std::rethrow_exception(failure);
    }

    asio::awaitable<void> do_connect(error_code& ec) {
        beast::tcp_stream stream(ioc);
        stream.expires_after(options.timeout);
        const asio::ip::tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), options.port);
        co_await stream.async_connect(ep, with_ec(ec));
        if (ec)
            co_return;
        ++opened;
        if (!ssl_ctx) {
            plain.emplace(std::move(stream));
            co_return;
        }
        tls.emplace(std::move(stream), *ssl_ctx);
        SSL_set_tlsext_host_name(tls->native_handle(), options.host_name.c_str());
        beast::get_lowest_layer(*tls).expires_after(options.timeout);
        co_await tls->async_handshake(asio::ssl::stream_base::client, with_ec(ec));
    }

    template <class Op>
    asio::awaitable<void> on_stream(Op op) {
        tcp().expires_after(options.timeout);
        if (tls)
            co_await op(*tls);
        else
            co_await op(*plain);
    }

    asio::awaitable<void> do_request(const http::request<http::string_body>& req,
                                     http_response& out, error_code& ec) {
        co_await on_stream([&](auto& s) -> asio::awaitable<void> {
            co_await http::async_write(s, req, with_ec(ec));
        });
        if (ec)
            co_return;
        http::response_parser<http::string_body> parser;
        parser.body_limit(64u << 20);
        co_await on_stream([&](auto& s) -> asio::awaitable<void> {
            co_await http::async_read(s, buffer, parser, with_ec(ec));
        });
        if (ec)
            co_return;
        const auto& res = parser.get();
        out.status = res.result_int();
        out.headers.clear();
        for (const auto& f : res)
            out.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
        out.body = res.body();
        out.keep_alive = res.keep_alive();
    }

    asio::awaitable<void> do_raw(std::string request, raw_result& out) {
        error_code ec;
        co_await on_stream([&](auto& s) -> asio::awaitable<void> {
            co_await asio::async_write(s, asio::buffer(request), with_ec(ec));
        });
        // Whatever the parser-free read sees is the truth: bytes until the connection ends.
        std::array<char, 16 * 1024> chunk;
        while (!ec) {
            std::size_t n = 0;
            co_await on_stream([&](auto& s) -> asio::awaitable<void> {
                n = co_await s.async_read_some(asio::buffer(chunk), with_ec(ec));
            });
            out.bytes.append(chunk.data(), n);
        }
        out.end = ec;
    }
};

test_client::test_client(client_options options)
    : impl_(std::make_unique<impl>(std::move(options))) {}
test_client::~test_client() = default;
test_client::test_client(test_client&&) noexcept = default;
test_client& test_client::operator=(test_client&&) noexcept = default;

error_code test_client::connect() {
    if (impl_->open())
        return {};
    error_code ec;
    impl_->run(impl_->do_connect(ec));
    if (ec)
        impl_->close();
    return ec;
}

void test_client::close() {
    impl_->close();
}
bool test_client::is_open() const {
    return impl_->open();
}
std::size_t test_client::connections_opened() const {
    return impl_->opened;
}

error_code test_client::request(std::string_view method, std::string_view target,
                                http_response& out,
                                const std::vector<std::pair<std::string, std::string>>& headers,
                                std::string_view body) {
    if (auto ec = connect())
        return ec;
    http::request<http::string_body> req;
    req.method_string(method);
    req.target(target);
    req.version(11);
    req.set(http::field::host,
            impl_->options.host_name + ":" + std::to_string(impl_->options.port));
    req.set(http::field::user_agent, "dynjobs-testkit");
    for (const auto& [name, value] : headers)
        req.insert(name, value);
    req.body() = std::string(body);
    req.keep_alive(true);
    req.prepare_payload();
    error_code ec;
    impl_->run(impl_->do_request(req, out, ec));
    if (ec || !out.keep_alive)
        impl_->close();
    return ec;
}

http_response test_client::get(std::string_view target, std::string_view bearer) {
    http_response out;
    std::vector<std::pair<std::string, std::string>> headers;
    if (!bearer.empty())
        headers.emplace_back("Authorization", "Bearer " + std::string(bearer));
    if (auto ec = request("GET", target, out, headers))
        throw std::runtime_error("GET " + std::string(target) + " failed: " + ec.message());
    return out;
}

http_response test_client::post_form(std::string_view target, std::string_view form_body) {
    http_response out;
    if (auto ec = request("POST", target, out,
                          {{"Content-Type", "application/x-www-form-urlencoded"}}, form_body))
        throw std::runtime_error("POST " + std::string(target) + " failed: " + ec.message());
    return out;
}

raw_result test_client::raw_get(std::string_view target, std::string_view bearer) {
    raw_result out;
    if (auto ec = connect()) {
        out.end = ec;
        return out;
    }
    std::string request = "GET " + std::string(target) +
                          " HTTP/1.1\r\nHost: " + impl_->options.host_name +
                          "\r\nConnection: close\r\n";
    if (!bearer.empty())
        request += "Authorization: Bearer " + std::string(bearer) + "\r\n";
    request += "\r\n";
    impl_->run(impl_->do_raw(std::move(request), out));
    impl_->close();
    return out;
}

std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields) {
    std::string out;
    for (const auto& [name, value] : fields) {
        if (!out.empty())
            out += '&';
        out += boost::urls::encode(name, boost::urls::unreserved_chars);
        out += '=';
        out += boost::urls::encode(value, boost::urls::unreserved_chars);
    }
    return out;
}

} // namespace dynjobs::testkit
