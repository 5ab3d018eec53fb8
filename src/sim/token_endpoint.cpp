// src/sim/token_endpoint.cpp - POST /connect/token: OAuth 2.0 client credentials.
//
// Checks in the order a careful identity provider does, so each failure has one clear answer:
// method (405), content type and form syntax (400 invalid_request), grant_type (400
// unsupported_grant_type), scope (400 invalid_scope: before client authentication so that a
// scope typo does not burn the assertion's jti), then client authentication (401
// invalid_client), and only then a token.
#include "simulator_impl.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/url/params_view.hpp>
#include <boost/url/parse_query.hpp>

#include <openssl/crypto.h>

#include <algorithm>
#include <cctype>
#include <map>

namespace dynjobs::sim::detail {

namespace {

constexpr std::string_view required_scope = "dynamics.readwrite.all";
constexpr std::string_view jwt_bearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

bool iequals(std::string_view a, std::string_view b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
        return std::tolower(static_cast<unsigned char>(x)) ==
               std::tolower(static_cast<unsigned char>(y));
    });
}

/// Secrets are compared in constant time, as a real service must (timing would leak them).
bool secret_equals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

/// The media type without parameters ("application/x-www-form-urlencoded; charset=utf-8").
std::string_view media_type(std::string_view content_type) {
    content_type = content_type.substr(0, content_type.find(';'));
    while (!content_type.empty() && content_type.back() == ' ')
        content_type.remove_suffix(1);
    return content_type;
}

} // namespace

http_reply oauth_error(unsigned status, std::string_view error, std::string_view description) {
    http_reply r;
    r.status = status;
    r.headers = {{"Content-Type", "application/json; charset=utf-8"},
                 {"Cache-Control", "no-store"},
                 {"Pragma", "no-cache"}};
    boost::json::object body;
    body["error"] = error;
    body["error_description"] = description;
    r.body = boost::json::serialize(body);
    return r;
}

http_reply handle_token_request(simulator::impl& sim, const request_view& request,
                                std::string& client_id) {
    if (request.method != "POST") {
        auto r = oauth_error(405, "invalid_request", "The token endpoint only accepts POST");
        r.headers.emplace_back("Allow", "POST");
        return r;
    }
    if (!iequals(media_type(request.content_type), "application/x-www-form-urlencoded"))
        return oauth_error(400, "invalid_request",
                           "Content-Type must be application/x-www-form-urlencoded");
    if (!boost::urls::parse_query(request.body))
        return oauth_error(400, "invalid_request", "The request body is not a valid form");

    // Form values: percent-decoded, '+' as space (HTML form encoding). A repeated parameter is
    // ambiguous and refused, as RFC 6749 section 3.2 requires.
    boost::urls::encoding_opts opts;
    opts.space_as_plus = true;
    std::map<std::string, std::string, std::less<>> form;
    for (const auto& p : boost::urls::params_view(request.body, opts)) {
        if (p.key.empty())
            continue;
        if (!form.emplace(p.key, p.value).second)
            return oauth_error(400, "invalid_request", "Parameter " + p.key + " is repeated");
    }
    auto param = [&](std::string_view name) -> const std::string* {
        auto it = form.find(name);
        return it == form.end() ? nullptr : &it->second;
    };

    const std::string* grant = param("grant_type");
    if (grant == nullptr)
        return oauth_error(400, "invalid_request", "grant_type is required");
    if (*grant != "client_credentials")
        return oauth_error(400, "unsupported_grant_type",
                           "Only grant_type=client_credentials is supported");

    const std::string* scope = param("scope");
    if (scope == nullptr)
        return oauth_error(400, "invalid_scope", "scope is required: dynamics.readwrite.all");
    if (!iequals(*scope, required_scope))
        return oauth_error(400, "invalid_scope",
                           "The scope must be exactly dynamics.readwrite.all, not '" + *scope +
                               "'");

    const std::string* form_client = param("client_id");
    const std::string* secret = param("client_secret");
    const std::string* assertion_type = param("client_assertion_type");
    const std::string* assertion = param("client_assertion");
    if (form_client != nullptr)
        client_id = *form_client;

    if (secret != nullptr && (assertion != nullptr || assertion_type != nullptr))
        return oauth_error(400, "invalid_request",
                           "Use either client_secret or client_assertion, not both");

    if (assertion != nullptr || assertion_type != nullptr) {
        if (assertion_type == nullptr || *assertion_type != jwt_bearer)
            return oauth_error(400, "invalid_request",
                               "client_assertion_type must be " + std::string(jwt_bearer));
        if (assertion == nullptr || assertion->empty())
            return oauth_error(400, "invalid_request", "client_assertion is required");
        auto lookup = [&](std::string_view id) -> const std::string* {
            const registered_client* c = sim.find_client(id);
            return c != nullptr && c->certificate_pem ? &*c->certificate_pem : nullptr;
        };
        const auto now = std::chrono::system_clock::now();
        std::lock_guard lock(sim.mutex); // the jti cache
        // Both spellings of our own token URL are accepted as aud: they name the same server.
        auto result = sim.assertions.verify(*assertion, form_client ? *form_client : "",
                                            sim.token_url, sim.token_url_localhost, lookup, now);
        client_id = result.client_id;
        if (!result.ok)
            return oauth_error(401, "invalid_client", result.failure);
    } else {
        if (form_client == nullptr || form_client->empty())
            return oauth_error(401, "invalid_client", "client_id is required");
        const registered_client* c = sim.find_client(*form_client);
        if (c == nullptr)
            return oauth_error(401, "invalid_client", "Unknown client '" + *form_client + "'");
        if (secret == nullptr)
            return oauth_error(401, "invalid_client",
                               "No client authentication: send client_secret or client_assertion");
        if (!c->client_secret || !secret_equals(*c->client_secret, *secret))
            return oauth_error(401, "invalid_client", "Invalid client secret");
    }

    std::string token;
    {
        std::lock_guard lock(sim.mutex);
        token = sim.tokens.issue(client_id, sim.config.token_lifetime,
                                 std::chrono::steady_clock::now());
        ++sim.counters.tokens_issued;
    }
    if (sim.config.on_token_issued)
        sim.config.on_token_issued(token);
    http_reply r;
    r.headers = {{"Content-Type", "application/json; charset=utf-8"},
                 {"Cache-Control", "no-store"},
                 {"Pragma", "no-cache"}};
    boost::json::object body;
    body["token_type"] = "Bearer";
    body["expires_in"] = sim.config.token_lifetime.count();
    body["ext_expires_in"] = sim.config.token_lifetime.count();
    body["access_token"] = token;
    r.body = boost::json::serialize(body);
    return r;
}

} // namespace dynjobs::sim::detail
