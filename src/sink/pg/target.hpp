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

/// `uri` for messages, with any password removed: written again from libpq's parse of it (so no
/// spelling of `password` survives), or, when libpq cannot parse it, with the userinfo's password
/// and every query parameter that is or may be `password` cut out.
std::string without_password(std::string_view uri);

/// Checks `uri` with libpq's parser. Returns an error for the operator, naming `option` and the
/// URI without its password: malformed (libpq's reason, with any password candidate cut out of
/// it), or carrying a password in any spelling (it would leak into shell history and the
/// process list). nullopt when usable.
std::optional<std::string> check_uri(std::string_view option, std::string_view uri);

} // namespace dynjobs::sink::pg
