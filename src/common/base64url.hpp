// src/common/base64url.hpp - base64url (RFC 4648 section 5) without padding, as JWTs use it.
//
// Internal, shared by the client (JWT assertions) and the simulator (JWT verification, tokens).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace dynjobs::detail {

/// Encodes bytes as base64url without '=' padding.
std::string base64url_encode(std::string_view bytes);

/// Decodes base64url; accepts trailing '=' padding (some encoders add it). Returns nullopt on a
/// character outside the alphabet or an impossible length (4n+1).
std::optional<std::string> base64url_decode(std::string_view text);

} // namespace dynjobs::detail
