// The "dynjobs" error category: stable messages for dynjobs::errc. The specific detail of one
// failure (field, value, JSON path, HTTP status) belongs in dynjobs::diagnostics, not here.
#include <dynjobs/error.hpp>

#include <string>

namespace dynjobs {
namespace {

class category final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "dynjobs"; }

    std::string message(int value) const override {
        switch (static_cast<errc>(value)) {
        case errc::invalid_argument:
            return "invalid argument";
        case errc::json_syntax:
            return "malformed JSON in response body";
        case errc::truncated_body:
            return "response body ended before the JSON document was complete";
        case errc::unexpected_type:
            return "JSON value has the wrong type for its field";
        case errc::value_out_of_range:
            return "JSON number out of range for its field";
        case errc::invalid_value:
            return "field value is not valid";
        case errc::missing_field:
            return "required field missing from response";
        case errc::limit_exceeded:
            return "response exceeds a decoder limit";
        case errc::http_status:
            return "server answered with a status that is not retried";
        case errc::retries_exhausted:
            return "request failed on every allowed attempt";
        case errc::retry_budget_exhausted:
            return "retry budget exhausted: too many retries across the client";
        case errc::deadline_exceeded:
            return "deadline exceeded";
        case errc::resolve_timeout:
            return "timed out resolving the host name";
        case errc::connect_timeout:
            return "timed out connecting";
        case errc::tls_handshake_timeout:
            return "timed out in the TLS handshake";
        case errc::write_timeout:
            return "timed out sending the request";
        case errc::first_byte_timeout:
            return "timed out waiting for the response";
        case errc::body_timeout:
            return "timed out reading the response body";
        case errc::pool_acquire_timeout:
            return "timed out waiting for a free connection";
        case errc::connection_closed:
            return "server closed the connection before a complete response";
        case errc::insecure_scheme:
            return "plain http is only allowed to loopback hosts unless explicitly enabled";
        case errc::oauth_error:
            return "token endpoint refused the request";
        case errc::invalid_token_response:
            return "token endpoint sent an invalid response";
        case errc::unauthorized:
            return "API refused the access token";
        case errc::credential_error:
            return "certificate or private key could not be loaded";
        case errc::drift_unresolved:
            return "result set kept changing while paging";
        case errc::pages_failed:
            return "some pages could not be fetched";
        case errc::incomplete_window:
            return "a window's pages held fewer jobs than its totalCount";
        case errc::invalid_next_link:
            return "nextLink is not a usable link to the next page";
        case errc::implausible_total:
            return "totalCount is not believable";
        case errc::bad_content_encoding:
            return "the response body's compression cannot be decoded";
        case errc::forbidden:
            return "API refused access (403)";
        case errc::unexpected_content_type:
            return "response is not JSON";
        case errc::proxy_auth_required:
            return "the proxy refused the tunnel: proxy authentication required";
        case errc::proxy_refused:
            return "the proxy did not open a tunnel to the server";
        }
        return "unknown dynjobs error " + std::to_string(value);
    }

    // Every per-phase timeout is also the portable "timed out": `ec == std::errc::timed_out`
    // holds for code that knows nothing of dynjobs.
    boost::system::error_condition default_error_condition(int value) const noexcept override {
        if (is_timeout({value, *this}))
            return boost::system::errc::make_error_condition(boost::system::errc::timed_out);
        return {value, *this};
    }
};

} // namespace

const boost::system::error_category& error_category() noexcept {
    static const category instance;
    return instance;
}

bool is_timeout(const boost::system::error_code& ec) noexcept {
    if (ec.category() != error_category())
        return false;
    const auto e = static_cast<errc>(ec.value());
    return e >= errc::resolve_timeout && e <= errc::pool_acquire_timeout;
}

} // namespace dynjobs
