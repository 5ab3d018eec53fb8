// `backfill --worker --tenants FILE`: the tenants a provider backs up, each with its own app
// registration, endpoint, organizations and rate, read from one JSON file.
//
// JSON, not TOML: Boost.JSON is already linked, and a ConfigMap or a script writes JSON as
// easily. Every field is named as the backfill option it stands for, without the dashes, so the
// README's option table documents both. The file holds no secret: only where each one is (an
// environment variable or a file), so it can live in a ConfigMap and in version control.
//
//   {"tenants": [
//     {"name": "contoso", "region": "us", "client-id": "...",
//      "client-secret-env": "CONTOSO_SECRET", "orgs": ["3f2504e0-..."], "max-rate": 50},
//     {"name": "fabrikam", "base-url": "https://...", "token-url": "https://...",
//      "client-id": "...", "certificate": "/secrets/fabrikam.pfx",
//      "certificate-password-env": "FABRIKAM_PFX_PASSWORD"}]}
//
// parse_tenants() is pure (text in, specs out), so every rule is unit-tested alone; the secrets
// are read when the plan is resolved (backfill_plan.cpp).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dynjobs::cli {

/// One tenant as the file gives it, checked for shape only.
struct tenant_spec {
    std::string name; ///< 1 to 64 of [A-Za-z0-9._-]; unique; names it in logs and the database
    std::optional<std::string> region;   ///< exactly one of region and base-url
    std::optional<std::string> base_url; ///< "base-url"
    std::optional<std::string> token_url;
    std::string client_id;
    /// Exactly one way to authenticate: a secret in this environment variable, a secret file,
    /// or a certificate (its password, if any, in `certificate_password_env`).
    std::optional<std::string> client_secret_env;
    std::optional<std::string> client_secret_file;
    std::optional<std::string> certificate;
    std::optional<std::string> certificate_password_env;
    std::optional<std::string> scope; ///< none: the command's --scope
    std::vector<std::string> orgs;    ///< GUIDs; empty: every organization the app may see
    std::optional<double> max_rate;   ///< requests/s for all workers together; none: --max-rate
};

/// Parses a tenants file's text. `file` names it in errors. Throws usage_error naming the file,
/// the tenant (its position and name) and the field with its value: not JSON (with the line
/// and column), an unknown field, a field of the wrong type or shape, a missing or doubled
/// choice (region or base-url; one credential), a secret written into the file, a name given
/// twice, no tenant at all.
std::vector<tenant_spec> parse_tenants(std::string_view text, std::string_view file);

} // namespace dynjobs::cli
