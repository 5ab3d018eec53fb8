// `--output postgresql://...`: recognising, checking and printing a libpq connection URI.
// Socket-free (libpq's own URI parser, no connection), so unit-tested alone.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace dynjobs::sink::pg {

/// Where and how the PostgreSQL sink writes.
struct target {
    std::string uri;                     ///< as given; holds no password (refused)
    std::string shown;                   ///< for messages: the URI, any password removed
    std::string schema = "dynjobs";      ///< --pg-schema
    std::optional<std::string> password; ///< --pg-password-file's first line
    /// --pg-retry-for: how long the sink keeps reconnecting to a database that went away.
    std::chrono::milliseconds retry_for{60'000};
};

/// True for postgresql://... and postgres://... (the schemes libpq takes).
bool is_postgres_uri(std::string_view text) noexcept;

/// `uri` with any password removed (user:password@ in the authority, password= in the query).
std::string without_password(std::string_view uri);

/// Checks `uri` with libpq's parser. Returns an error for the operator, naming `option` and the
/// URI without its password: malformed, or carrying a password (it would leak into shell history
/// and the process list). nullopt when usable.
std::optional<std::string> check_uri(std::string_view option, std::string_view uri);

} // namespace dynjobs::sink::pg
