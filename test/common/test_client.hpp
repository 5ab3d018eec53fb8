// test_client.hpp - a deliberately small HTTP(S) client for the integration tests.
//
// Independent of the library's own connection code on purpose: the simulator is checked with a
// client whose only job is to show what really went over the wire (including broken responses),
// so a bug in the library's client cannot hide a bug in the simulator or vice versa.
//
// Synchronous from the caller's view: each call runs its own io_context until the operation
// completes or the per-operation timeout (default 10 s) fires. Not thread-safe; use one client
// per thread.
#pragma once

#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dynjobs::testkit {

/// A response as received. Header names are kept as sent; header() looks them up
/// case-insensitively.
struct http_response {
    unsigned status = 0;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    bool keep_alive = false;

    /// The first header of that name, or nullopt.
    std::optional<std::string> header(std::string_view name) const;
};

/// What a raw exchange saw: every byte until the connection ended, and how it ended.
struct raw_result {
    std::string bytes;
    boost::system::error_code end; ///< eof, stream_truncated, connection_reset, timeout...
};

struct client_options {
    /// Server's port on 127.0.0.1.
    std::uint16_t port = 0;
    /// TLS when set: the CA to trust (PEM). Empty = plain HTTP.
    std::string ca_pem;
    /// Name checked against the certificate and sent as SNI.
    std::string host_name = "localhost";
    /// Cap the client's TLS version (e.g. TLS1_1_VERSION) to check the server refuses it; 0 =
    /// OpenSSL's default range.
    int max_tls_version = 0;
    /// Every connect, write and read must complete within this.
    std::chrono::milliseconds timeout{10'000};
};

class test_client {
public:
    explicit test_client(client_options options);
    ~test_client();
    test_client(test_client&&) noexcept;
    test_client& operator=(test_client&&) noexcept;

    /// Connects (and handshakes) if not connected.
    boost::system::error_code connect();
    /// Closes the connection (no TLS close_notify: tests do not need it).
    void close();
    bool is_open() const;
    /// TCP connections opened so far: lets keep-alive tests see reuse.
    std::size_t connections_opened() const;

    /// Sends one request on the current connection (connecting first if needed) and reads the
    /// response. On error the connection is closed. `headers` are added as given.
    boost::system::error_code
    request(std::string_view method, std::string_view target, http_response& out,
            const std::vector<std::pair<std::string, std::string>>& headers = {},
            std::string_view body = {});

    /// GET with an optional bearer token; throws std::runtime_error on a transport error.
    http_response get(std::string_view target, std::string_view bearer = {});
    /// POST of a form body; throws std::runtime_error on a transport error.
    http_response post_form(std::string_view target, std::string_view form_body);

    /// Sends a GET (bearer optional) then reads bytes until the connection ends; the request
    /// carries `Connection: close` so a healthy server ends it after one response.
    raw_result raw_get(std::string_view target, std::string_view bearer = {});

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

/// application/x-www-form-urlencoded body from name/value pairs (values percent-encoded).
std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields);

} // namespace dynjobs::testkit
