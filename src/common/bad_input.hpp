// src/common/bad_input.hpp - the one way dynjobs reports a bad input value.
#pragma once

#include <dynjobs/diagnostics.hpp>

#include <boost/system/error_code.hpp>

#include <string>
#include <string_view>

namespace dynjobs::detail {

/// Fills `diag` (field, value, and the message "field: 'value' problem") and returns
/// errc::invalid_argument. An empty value is left out of the message ("type: is required").
boost::system::error_code bad_input(diagnostics& diag, std::string_view field, std::string value,
                                    std::string_view problem);

} // namespace dynjobs::detail
