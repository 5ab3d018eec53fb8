// How a fetch's error reads on the command line, shared by backfill and sync.
#pragma once

#include <dynjobs/diagnostics.hpp>

#include <boost/system/error_code.hpp>

#include <string>

namespace dynjobs::cli {

/// A library error in the command's terms: "base_url: 'x' ..." becomes "--base-url: 'x' ...".
std::string in_command_terms(const diagnostics& diag, boost::system::error_code ec);

/// The identity service or the API refused the credentials (or their token).
bool is_authentication_error(boost::system::error_code ec);

} // namespace dynjobs::cli
