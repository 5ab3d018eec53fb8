// silent_server.hpp - a hung API for the cancellation tests: it accepts and reads, never answers.
#pragma once

#include <dynjobs/client_config.hpp>
#include <dynjobs/fetch_request.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

namespace dynjobs::testkit {

// A TCP server that accepts and reads but never answers: a hung API.
struct silent_server {
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::acceptor acceptor{ioc, {boost::asio::ip::make_address("127.0.0.1"), 0}};
    std::vector<std::shared_ptr<boost::asio::ip::tcp::socket>> sockets;
    std::atomic<int> accepted{0};
    std::atomic<int> closed{0};
    std::thread thread;

    silent_server() {
        accept();
        thread = std::thread([this] { ioc.run(); });
    }
    ~silent_server() {
        ioc.stop();
        thread.join();
    }
    void accept() {
        acceptor.async_accept([this](boost::system::error_code ec, boost::asio::ip::tcp::socket s) {
            if (ec)
                return;
            ++accepted;
            auto socket = std::make_shared<boost::asio::ip::tcp::socket>(std::move(s));
            sockets.push_back(socket);
            read(socket);
            accept();
        });
    }
    void read(std::shared_ptr<boost::asio::ip::tcp::socket> socket) {
        auto buffer = std::make_shared<std::array<char, 4096>>();
        socket->async_read_some(boost::asio::buffer(*buffer),
                                [this, socket, buffer](boost::system::error_code ec, std::size_t) {
                                    if (ec) {
                                        ++closed; // the client closed its end
                                        return;
                                    }
                                    read(socket);
                                });
    }
    std::uint16_t port() const { return acceptor.local_endpoint().port(); }
};

// A client of the silent server (plain http on loopback, a fixed token: nothing else to talk to).
inline client_config silent_config(const silent_server& server) {
    client_config config;
    config.base_url = "http://127.0.0.1:" + std::to_string(server.port());
    config.creds = bearer_token_credentials{"a-fixed-token"};
    return config;
}

inline fetch_request january_2024() {
    fetch_request request;
    request.start = *parse_iso8601("2024-01-01T00:00:00Z");
    request.finish = *parse_iso8601("2024-02-01T00:00:00Z");
    return request;
}

// Runs `ioc` until the server has accepted `n` connections (or 5 s passed).
inline void run_until_accepted(boost::asio::io_context& ioc, const silent_server& server, int n) {
    for (int i = 0; i < 500 && server.accepted < n; ++i)
        ioc.run_for(std::chrono::milliseconds(10));
}

// Waits until the server saw every accepted connection closed (or 1 s passed).
inline void wait_all_closed(const silent_server& server) {
    for (int i = 0; i < 200 && server.closed < server.accepted; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
}

} // namespace dynjobs::testkit
