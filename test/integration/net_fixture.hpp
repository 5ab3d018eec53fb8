// test/integration/net_fixture.hpp - a simulator on a background thread and helpers for the
// connection pool tests (net_*.cpp).
#pragma once

#include "net/http_pool.hpp"
#include "net/origin.hpp"

#include <dynjobs/error.hpp>
#include <dynjobs/sim/simulator.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <optional>
#include <random>
#include <string>
#include <thread>

namespace dynjobs::net_test {

namespace asio = boost::asio;
using boost::system::error_code;

/// Runs `work` on `ioc` until it and everything it started are done; rethrows its exception.
template <class T>
T run(asio::io_context& ioc, asio::awaitable<T> work) {
    auto result = asio::co_spawn(ioc, std::move(work), asio::use_future);
    ioc.restart();
    ioc.run();
    return result.get();
}

/// A small simulator (few jobs, quick to start) with its CA written to a private folder, run by
/// its own thread so that the test thread can drive the client's io_context alone.
class sim_server {
public:
    explicit sim_server(sim::sim_config config = small_config()) {
        static std::atomic<unsigned> counter{0};
        dir_ = std::filesystem::temp_directory_path() /
               ("dynjobs-net-" + std::to_string(std::random_device{}()) + "-" +
                std::to_string(counter++));
        config.cert_dir = dir_;
        if (!config.http_port) {
            config.http_port = 0;
        }
        sim_.emplace(ioc_.get_executor(), std::move(config));
        diagnostics diag;
        const auto ec = sim_->start(diag);
        BOOST_REQUIRE_MESSAGE(!ec, "simulator start: " << ec.message() << " " << diag.message);
        thread_ = std::thread([this] {
            ioc_.run();
            stopped_ = true;
        });
    }

    ~sim_server() {
        sim_->stop();
        guard_.reset();
        // stop() closes everything on the simulator's thread; give it a moment to wind down,
        // then stop the loop outright so that a lingering connection cannot hang the suite.
        for (int i = 0; i < 200 && !stopped_; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        ioc_.stop();
        thread_.join();
        sim_.reset();
        std::error_code ignored;
        std::filesystem::remove_all(dir_, ignored);
    }

    static sim::sim_config small_config() {
        sim::sim_config c;
        c.dataset.jobs = 3000;
        c.dataset.organizations = 3;
        return c;
    }

    sim::simulator& sim() { return *sim_; }
    sim::simulator* operator->() { return &*sim_; }

    tls_config tls() const {
        tls_config t;
        t.ca_file = (dir_ / "ca.pem").string();
        return t;
    }

    net::origin https_origin() const { return parse(sim_->base_url()); }
    net::origin http_origin() const { return parse(sim_->http_base_url()); }

    static net::origin parse(const std::string& url) {
        net::origin o;
        diagnostics diag;
        const auto ec = net::parse_origin(url, tls_config{}, "url", o, diag);
        BOOST_REQUIRE_MESSAGE(!ec, url << ": " << diag.message);
        return o;
    }

    std::shared_ptr<asio::ssl::context> context() const {
        std::shared_ptr<asio::ssl::context> ctx;
        diagnostics diag;
        const auto ec = net::make_tls_context(tls(), ctx, diag);
        BOOST_REQUIRE_MESSAGE(!ec, diag.message);
        return ctx;
    }

private:
    std::filesystem::path dir_;
    asio::io_context ioc_;
    asio::executor_work_guard<asio::io_context::executor_type> guard_{ioc_.get_executor()};
    std::optional<sim::simulator> sim_;
    std::atomic<bool> stopped_{false};
    std::thread thread_;
};

inline net::http_request get(std::string target) {
    net::http_request r;
    r.target = std::move(target);
    r.user_agent = "dynjobs-net-tests";
    return r;
}

/// A page of every job type over 2025, as the jobs endpoint wants it.
inline std::string jobs_target(int page_size = 100, int page_index = 1) {
    return "/dynamicsbackup/jobs?type=0&startTime=2025-01-01T00:00:00Z"
           "&finishTime=2025-12-31T00:00:00Z&pageIndex=" +
           std::to_string(page_index) + "&pageSize=" + std::to_string(page_size);
}

/// POSTs the default client's credentials to /connect/token; returns "Bearer <token>".
inline asio::awaitable<std::string> fetch_token(net::http_pool& pool) {
    net::http_request r;
    r.method = boost::beast::http::verb::post;
    r.target = "/connect/token";
    r.content_type = "application/x-www-form-urlencoded";
    r.body = "grant_type=client_credentials&client_id=" + std::string(sim::default_client_id) +
             "&client_secret=" + std::string(sim::default_client_secret) +
             "&scope=dynamics.readwrite.all";
    net::http_response response;
    const auto ec = co_await pool.async_exchange(r, response, nullptr);
    BOOST_REQUIRE_MESSAGE(!ec, "token request: " << ec.message());
    BOOST_REQUIRE_EQUAL(response.status, 200u);
    const auto json = boost::json::parse(response.body);
    co_return "Bearer " + std::string(json.at("access_token").as_string());
}

} // namespace dynjobs::net_test
