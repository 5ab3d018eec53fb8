// Fuzzes the tenants file of `backfill --worker --tenants FILE` (JSON an operator writes by hand
// or a script generates).
//
// Invariants:
// - parsing either accepts or throws usage_error, whose message is one line and names the file;
//   no other exception, no crash;
// - what is accepted holds its promises: at least one tenant, unique names of 1 to 64 of
//   [A-Za-z0-9._-], exactly one endpoint and one credential each, a client id, GUIDs that
//   parse, a max rate in [0, 1e6];
// - parsing is deterministic.
#include "fuzz_check.hpp"

#include "cli/arg_reader.hpp"
#include "cli/tenants_file.hpp"

#include <dynjobs/organization_id.hpp>

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

using namespace dynjobs;
using namespace dynjobs::cli;

namespace {

constexpr std::string_view file = "tenants.json";

void check_accepted(const std::vector<tenant_spec>& tenants) {
    FUZZ_CHECK(!tenants.empty());
    std::set<std::string> names;
    for (const auto& t : tenants) {
        FUZZ_CHECK(!t.name.empty() && t.name.size() <= 64);
        for (const char c : t.name)
            FUZZ_CHECK((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '.' || c == '_' || c == '-');
        FUZZ_CHECK(names.insert(t.name).second);
        FUZZ_CHECK(t.region.has_value() != t.base_url.has_value());
        FUZZ_CHECK(!t.client_id.empty());
        FUZZ_CHECK(t.client_secret_env.has_value() + t.client_secret_file.has_value() +
                       t.certificate.has_value() ==
                   1);
        FUZZ_CHECK(!t.certificate_password_env || t.certificate);
        for (const auto& org : t.orgs)
            FUZZ_CHECK(organization_id::parse(org).has_value());
        FUZZ_CHECK(!t.max_rate || (*t.max_rate >= 0 && *t.max_rate <= 1e6));
    }
}

bool same(const std::vector<tenant_spec>& a, const std::vector<tenant_spec>& b) {
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (a[i].name != b[i].name || a[i].region != b[i].region ||
            a[i].base_url != b[i].base_url || a[i].client_id != b[i].client_id ||
            a[i].orgs != b[i].orgs || a[i].max_rate != b[i].max_rate)
            return false;
    return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    std::vector<tenant_spec> first;
    try {
        first = parse_tenants(text, file);
    } catch (const usage_error& e) {
        FUZZ_CHECK(e.message.starts_with(file));
        FUZZ_CHECK(e.message.find('\n') == std::string::npos);
        return 0;
    }
    check_accepted(first);
    FUZZ_CHECK(same(first, parse_tenants(text, file)));
    return 0;
}
