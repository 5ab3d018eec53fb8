// A schema name the PostgreSQL sink accepts (--pg-schema). Header-only: option parsing (and its
// fuzz target) use it without linking the sink.
#pragma once

#include <string_view>

namespace dynjobs::sink::pg {

/// [a-z_][a-z0-9_]*, at most 63 bytes (PostgreSQL's limit): never needs quoting, so it cannot
/// change the meaning of the statements it is spliced into.
constexpr bool is_plain_identifier(std::string_view name) noexcept {
    if (name.empty() || name.size() > 63 || (name[0] >= '0' && name[0] <= '9'))
        return false;
    for (char c : name)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
    return true;
}

} // namespace dynjobs::sink::pg
