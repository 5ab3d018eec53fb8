#include "sink/pg/target.hpp"

#include <libpq-fe.h>

#include <memory>

namespace dynjobs::sink::pg {

bool is_postgres_uri(std::string_view text) noexcept {
    return text.starts_with("postgresql://") || text.starts_with("postgres://");
}

std::string without_password(std::string_view uri) {
    std::string out(uri);
    const auto scheme_end = out.find("://");
    if (scheme_end != out.npos) {
        const auto authority = scheme_end + 3;
        const auto authority_end = out.find_first_of("/?#", authority);
        const auto at = out.rfind('@', authority_end == out.npos ? out.npos : authority_end - 1);
        if (at != out.npos && at >= authority) {
            const auto colon = out.find(':', authority);
            if (colon != out.npos && colon < at)
                out.erase(colon, at - colon);
        }
    }
    // password=... in the query, wherever it stands.
    const auto query = out.find('?');
    if (query == out.npos)
        return out;
    std::string kept;
    std::string_view rest = std::string_view(out).substr(query + 1);
    while (!rest.empty()) {
        const auto amp = rest.find('&');
        const auto part = rest.substr(0, amp);
        if (!part.starts_with("password="))
            kept += (kept.empty() ? "" : "&") + std::string(part);
        rest = amp == rest.npos ? std::string_view{} : rest.substr(amp + 1);
    }
    return out.substr(0, query) + (kept.empty() ? "" : "?" + kept);
}

std::optional<std::string> check_uri(std::string_view option, std::string_view uri) {
    const std::string text(uri);
    const auto shown = without_password(text);
    char* message = nullptr;
    PQconninfoOption* parsed = PQconninfoParse(text.c_str(), &message);
    const std::unique_ptr<PQconninfoOption, void (*)(PQconninfoOption*)> options(parsed,
                                                                                 PQconninfoFree);
    if (!parsed) {
        std::string why = message ? message : "out of memory";
        PQfreemem(message);
        while (!why.empty() && (why.back() == '\n' || why.back() == ' '))
            why.pop_back();
        return "invalid value '" + shown + "' for " + std::string(option) +
               ": not a PostgreSQL connection URI (" + why + ")";
    }
    for (auto* o = parsed; o->keyword; ++o) {
        if (std::string_view(o->keyword) == "password" && o->val && *o->val)
            return std::string(option) + ": a password in the URI ('" + shown +
                   "') is not accepted: it leaks into shell history and the process list; give "
                   "it in PGPASSWORD, ~/.pgpass or --pg-password-file";
    }
    return std::nullopt;
}

} // namespace dynjobs::sink::pg
