#include <dynjobs/region.hpp>

#include <array>

namespace dynjobs {
namespace {

constexpr std::string_view commercial_token =
    "https://identity.avepointonlineservices.com/connect/token";

constexpr std::array<region, 18> known_regions = {{
    {"au", "Australia", "https://graph-au.avepointonlineservices.com", commercial_token},
    {"sg", "Singapore", "https://graph-sg.avepointonlineservices.com", commercial_token},
    {"ca", "Canada Central", "https://graph-ca.avepointonlineservices.com", commercial_token},
    {"ne", "Ireland (North Europe)", "https://graph-ne.avepointonlineservices.com",
     commercial_token},
    {"we", "Netherlands (West Europe)", "https://graph-we.avepointonlineservices.com",
     commercial_token},
    {"fr", "France Central", "https://graph-fr.avepointonlineservices.com", commercial_token},
    {"de", "Germany West Central", "https://graph-de.avepointonlineservices.com", commercial_token},
    {"jp", "Japan West", "https://graph-jp.avepointonlineservices.com", commercial_token},
    {"kr", "Korea Central", "https://graph-kr.avepointonlineservices.com", commercial_token},
    {"ch", "Switzerland North", "https://graph-ch.avepointonlineservices.com", commercial_token},
    {"uk", "UK South", "https://graph-uk.avepointonlineservices.com", commercial_token},
    {"us", "US East", "https://graph-us.avepointonlineservices.com", commercial_token},
    {"uae", "UAE (Dubai)", "https://graph-uae.avepointonlineservices.com", commercial_token},
    {"za", "South Africa North", "https://graph-za.avepointonlineservices.com", commercial_token},
    {"qa", "Qatar Central", "https://graph-qa.avepointonlineservices.com", commercial_token},
    {"gov", "AOS US Government", "https://graph-gov.avepointonlineservices.com",
     "https://identity-gov.avepointonlineservices.com/connect/token"},
    {"aos2", "AOS2", "https://graph-aos2.avepointonlineservices.com",
     "https://identity-aos2.avepointonlineservices.com/connect/token"},
    {"fedramp", "FedRAMP", "https://graphusgovapi.online15.net",
     "https://identity.online15.net/connect/token"},
}};

bool iequal(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char c = a[i];
        if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c - 'A' + 'a');
        if (c != b[i])
            return false;
    }
    return true;
}

} // namespace

std::span<const region> regions() noexcept {
    return known_regions;
}

std::optional<region> find_region(std::string_view name) noexcept {
    for (const auto& r : known_regions)
        if (iequal(name, r.name))
            return r;
    return std::nullopt;
}

std::optional<region> find_region_by_host(std::string_view host) noexcept {
    for (const auto& r : known_regions) {
        std::string_view url_host = r.api_base_url;
        url_host.remove_prefix(url_host.find("://") + 3);
        if (iequal(host, url_host))
            return r;
    }
    return std::nullopt;
}

} // namespace dynjobs
