// dynjobs/region.hpp - the AvePoint Graph API hosts and their token endpoints.
#pragma once

#include <dynjobs/export.hpp>

#include <optional>
#include <span>
#include <string_view>

namespace dynjobs {

/// One deployment of the API, as the public AvePoint Graph API documentation lists it.
struct region {
    std::string_view name;         ///< "us", "we", "gov", "fedramp", ...
    std::string_view description;  ///< "US East", ...
    std::string_view api_base_url; ///< "https://graph-us.avepointonlineservices.com", ...
    std::string_view token_url;    ///< one per environment, not per region
};

/// Every known region. Cloud Backup for Dynamics 365 is not on the GCP hosts, so they are absent.
DYNJOBS_DECL std::span<const region> regions() noexcept;

/// The region of that name (case-insensitive), or nullopt.
DYNJOBS_DECL std::optional<region> find_region(std::string_view name) noexcept;

/// The region whose api_base_url has this host, or nullopt (used to derive the token URL from a
/// base URL).
DYNJOBS_DECL std::optional<region> find_region_by_host(std::string_view host) noexcept;

} // namespace dynjobs
