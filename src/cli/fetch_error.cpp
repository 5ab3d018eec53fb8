#include "cli/fetch_error.hpp"

#include "cli/backfill_plan.hpp"

#include <dynjobs/error.hpp>

namespace dynjobs::cli {

std::string in_command_terms(const diagnostics& diag, boost::system::error_code ec) {
    std::string message = diag.message.empty() ? ec.message() : diag.message;
    if (!diag.field.empty()) {
        const auto option = option_for_field(diag.field);
        if (message.starts_with(diag.field + ": "))
            message = std::string(option) + message.substr(diag.field.size());
        else if (message.find(option) == message.npos)
            message = std::string(option) + ": " + message;
    }
    return message;
}

bool is_authentication_error(boost::system::error_code ec) {
    return ec == errc::oauth_error || ec == errc::invalid_token_response ||
           ec == errc::unauthorized || ec == errc::forbidden || ec == errc::credential_error;
}

} // namespace dynjobs::cli
