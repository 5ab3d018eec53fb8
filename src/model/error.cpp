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
        }
        return "unknown dynjobs error " + std::to_string(value);
    }
};

} // namespace

const boost::system::error_category& error_category() noexcept {
    static const category instance;
    return instance;
}

} // namespace dynjobs
