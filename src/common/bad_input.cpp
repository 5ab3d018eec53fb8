#include "common/bad_input.hpp"

#include <dynjobs/error.hpp>

namespace dynjobs::detail {

boost::system::error_code bad_input(diagnostics& diag, std::string_view field, std::string value,
                                    std::string_view problem) {
    diag.field = field;
    diag.message = std::string(field) + ": " + (value.empty() ? "" : "'" + value + "' ") +
                   std::string(problem);
    diag.value = std::move(value);
    return errc::invalid_argument;
}

} // namespace dynjobs::detail
