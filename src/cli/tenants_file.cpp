#include "cli/tenants_file.hpp"

#include "cli/arg_reader.hpp"

#include <dynjobs/organization_id.hpp>

#include <boost/json/parser.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cmath>
#include <set>

namespace dynjobs::cli {
namespace json = boost::json;

namespace {

// Where a parse error is, for an operator with an editor open.
std::string line_and_column(std::string_view text, std::size_t offset) {
    offset = std::min(offset, text.size());
    const auto before = text.substr(0, offset);
    const auto line = std::count(before.begin(), before.end(), '\n') + 1;
    const auto last_newline = before.rfind('\n');
    const auto column = offset - (last_newline == before.npos ? 0 : last_newline + 1) + 1;
    return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

bool is_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}

// One tenant object's fields, each error prefixed with the file and the tenant.
class tenant_reader {
public:
    tenant_reader(std::string_view file, std::size_t index, const json::object& object)
        : object_(object)
        , where_(std::string(file) + ": tenant " + std::to_string(index + 1)) {
        if (const auto* name = object.if_contains("name"); name && name->is_string())
            where_ += " ('" + std::string(name->get_string()) + "')";
    }

    [[noreturn]] void fail(const std::string& what) const {
        throw usage_error{where_ + ": " + what};
    }

    std::optional<std::string> text(std::string_view field) const {
        const auto* value = object_.if_contains(field);
        if (!value)
            return std::nullopt;
        if (!value->is_string() || value->get_string().empty())
            fail("\"" + std::string(field) + "\" is " + json::serialize(*value) +
                 ": expected a non-empty string");
        return std::string(value->get_string());
    }

    std::string required(std::string_view field, std::string_view example) const {
        auto value = text(field);
        if (!value)
            fail("\"" + std::string(field) + "\" is missing, e.g. \"" + std::string(field) +
                 "\": \"" + std::string(example) + "\"");
        return std::move(*value);
    }

    std::vector<std::string> organizations() const {
        std::vector<std::string> out;
        const auto* value = object_.if_contains("orgs");
        if (!value)
            return out;
        if (!value->is_array())
            fail("\"orgs\" is " + json::serialize(*value) + ": expected a list of GUIDs");
        for (const auto& entry : value->get_array()) {
            if (!entry.is_string() || !organization_id::parse(entry.get_string()))
                fail("\"orgs\" holds " + json::serialize(entry) +
                     ": expected a GUID like \"3f2504e0-4f89-41d3-9a0c-0305e82c3301\"");
            out.emplace_back(entry.get_string());
        }
        // An empty list would silently widen the tenant to every organization.
        if (out.empty())
            fail("\"orgs\" is an empty list: list the organizations, or leave \"orgs\" out for "
                 "every organization the app may see");
        return out;
    }

    std::optional<double> rate() const {
        const auto* value = object_.if_contains("max-rate");
        if (!value)
            return std::nullopt;
        const auto number = value->is_number() ? value->to_number<double>() : -1.0;
        if (!value->is_number() || !std::isfinite(number) || number < 0 || number > 1e6)
            fail("\"max-rate\" is " + json::serialize(*value) +
                 ": expected requests per second, a number from 0 (no ceiling) to 1000000");
        return number;
    }

private:
    const json::object& object_;
    std::string where_;
};

constexpr std::string_view known_fields[] = {
    "name",
    "region",
    "base-url",
    "token-url",
    "client-id",
    "client-secret-env",
    "client-secret-file",
    "certificate",
    "certificate-password-env",
    "scope",
    "orgs",
    "max-rate",
};

tenant_spec read_tenant(std::string_view file, std::size_t index, const json::value& value) {
    if (!value.is_object())
        throw usage_error{std::string(file) + ": tenant " + std::to_string(index + 1) + " is " +
                          json::serialize(value) + ": expected an object"};
    const auto& object = value.get_object();
    const tenant_reader in(file, index, object);
    for (const auto& field : object) {
        if (field.key() == "client-secret")
            in.fail("\"client-secret\": a secret is not accepted in the tenants file (it would "
                    "sit in a ConfigMap and in version control): give \"client-secret-env\" or "
                    "\"client-secret-file\"");
        if (std::find(std::begin(known_fields), std::end(known_fields), field.key()) ==
            std::end(known_fields)) {
            std::string names;
            for (const auto known : known_fields)
                names += (names.empty() ? "" : ", ") + std::string(known);
            in.fail("unknown field \"" + std::string(field.key()) + "\": expected " + names);
        }
    }
    tenant_spec t;
    t.name = in.required("name", "contoso");
    if (t.name.size() > 64 || !std::all_of(t.name.begin(), t.name.end(), is_name_char))
        in.fail("\"name\" is \"" + t.name + "\": expected 1 to 64 letters, digits, '.', '_', '-'");
    t.region = in.text("region");
    t.base_url = in.text("base-url");
    if (t.region && t.base_url)
        in.fail("\"region\" and \"base-url\" are both given: give one");
    if (!t.region && !t.base_url)
        in.fail("no endpoint: give \"region\" (e.g. \"us\") or \"base-url\"");
    t.token_url = in.text("token-url");
    t.client_id = in.required("client-id", "00000000-0000-0000-0000-000000000000");
    t.client_secret_env = in.text("client-secret-env");
    t.client_secret_file = in.text("client-secret-file");
    t.certificate = in.text("certificate");
    t.certificate_password_env = in.text("certificate-password-env");
    const int ways =
        (t.client_secret_env ? 1 : 0) + (t.client_secret_file ? 1 : 0) + (t.certificate ? 1 : 0);
    if (ways == 0)
        in.fail("no credential: give \"client-secret-env\" (an environment variable), "
                "\"client-secret-file\" or \"certificate\"");
    if (ways > 1)
        in.fail("more than one credential (\"client-secret-env\", \"client-secret-file\", "
                "\"certificate\"): give one");
    if (t.certificate_password_env && !t.certificate)
        in.fail("\"certificate-password-env\" is given without \"certificate\"");
    t.scope = in.text("scope");
    if (t.scope && t.scope->find_first_of(" \t\r\n") != std::string::npos)
        in.fail("\"scope\" is \"" + *t.scope +
                "\": expected one scope such as "
                "dynamics.readwrite.all");
    t.orgs = in.organizations();
    t.max_rate = in.rate();
    return t;
}

} // namespace

std::vector<tenant_spec> parse_tenants(std::string_view text, std::string_view file) {
    json::parser parser;
    boost::system::error_code ec;
    const auto consumed = parser.write(text.data(), text.size(), ec);
    if (ec)
        throw usage_error{std::string(file) + ": not JSON at " + line_and_column(text, consumed) +
                          ": " + ec.message()};
    const auto root = parser.release();
    const auto* list = root.is_object() ? root.get_object().if_contains("tenants") : nullptr;
    if (!list || !list->is_array())
        throw usage_error{std::string(file) +
                          ": expected an object with a list \"tenants\": {\"tenants\": [{\"name\": "
                          "..., ...}]}"};
    if (root.get_object().size() != 1)
        for (const auto& field : root.get_object())
            if (field.key() != "tenants")
                throw usage_error{std::string(file) + ": unknown field \"" +
                                  std::string(field.key()) + "\" beside \"tenants\""};
    std::vector<tenant_spec> out;
    std::set<std::string> names;
    for (std::size_t i = 0; i < list->get_array().size(); ++i) {
        out.push_back(read_tenant(file, i, list->get_array()[i]));
        if (!names.insert(out.back().name).second)
            throw usage_error{std::string(file) + ": tenant " + std::to_string(i + 1) +
                              ": the name \"" + out.back().name + "\" is given twice"};
    }
    if (out.empty())
        throw usage_error{std::string(file) + ": \"tenants\" lists no tenant"};
    return out;
}

} // namespace dynjobs::cli
