// The HTTP endpoints of `dynjobs sync` for its orchestrator and its monitoring: /metrics
// (Prometheus text exposition), /healthz (the process answers) and /readyz (the last cycle
// succeeded recently). Plain HTTP/1.1 with keep-alive, GET and HEAD only, on the command's own
// io_context: scrapes are small and rare, so they need no thread of their own.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace dynjobs::cli {

/// `--listen` text: "127.0.0.1:9464", "[::1]:9464" or "0.0.0.0:9464" (an IP address literal,
/// not a host name, and a port 1-65535). nullopt for anything else.
std::optional<boost::asio::ip::tcp::endpoint> parse_listen_endpoint(std::string_view text);

class status_server {
public:
    struct handlers {
        /// The /metrics body, rendered per scrape.
        std::function<std::string()> metrics;
        /// /readyz answers 200 when this returns true, 503 otherwise.
        std::function<bool()> ready;
    };

    /// Binds and listens at once, so a port in use is reported before the first cycle. Throws
    /// std::system_error naming the address when the bind fails.
    status_server(boost::asio::any_io_executor executor,
                  const boost::asio::ip::tcp::endpoint& endpoint, handlers h);
    /// Stops: closes the listener and every open connection.
    ~status_server();
    status_server(const status_server&) = delete;
    status_server& operator=(const status_server&) = delete;

    /// The bound address (port 0 resolved to the one the system chose).
    boost::asio::ip::tcp::endpoint local_endpoint() const;

    /// Starts accepting. Call once, then keep the server alive until stop() or destruction.
    void start();
    /// Closes the listener and every open connection; pending handlers finish with
    /// operation_aborted. Call on the executor's thread (the command runs one).
    void stop();

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

} // namespace dynjobs::cli
