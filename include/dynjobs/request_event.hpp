// dynjobs/request_event.hpp - one request attempt, for the embedding service's logs and metrics.
#pragma once

#include <dynjobs/retry_config.hpp>

#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace dynjobs {

/// One attempt at one page request, as client_config::on_request receives it.
struct request_event {
    /// The request URL. It never carries secrets: the token travels in a header, not the URL.
    std::string url;
    /// HTTP status, or 0 when no response came.
    unsigned status = 0;
    /// The transport or decoding error of the attempt, if any.
    boost::system::error_code error;
    /// From asking the pool for a connection (so a new connection's connect and handshake
    /// count) to the end of the response or the failure.
    std::chrono::microseconds duration{0};
    /// 1 for the first attempt of a page.
    unsigned attempt = 1;
    /// Why the attempt will be retried (none when it succeeded or will not be retried).
    policy::retry_cause retry = policy::retry_cause::none;
    /// The wait before the retry, when there is one.
    std::chrono::milliseconds retry_wait{0};
    std::size_t organization_slot = 0; ///< index into fetch_request::organizations
    std::size_t window = 0;            ///< index into fetch_request::windows()
    std::int64_t page_index = 0;       ///< 1-based
};

/// Called once per request attempt, on the client's strand: it must be quick and must not block.
using request_hook = std::function<void(const request_event&)>;

} // namespace dynjobs
