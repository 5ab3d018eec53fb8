// src/sim/shared_crypto.hpp - the simulator uses the library's OpenSSL owners and base64url
// (src/common), under its own detail namespace.
#pragma once

#include "common/base64url.hpp"
#include "common/openssl_ptr.hpp"

namespace dynjobs::sim::detail {
using namespace dynjobs::detail;
} // namespace dynjobs::sim::detail
