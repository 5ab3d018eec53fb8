#include "sink/pg/target.hpp"

#include <libpq-fe.h>

#include <cctype>
#include <charconv>
#include <map>
#include <memory>
#include <vector>

namespace dynjobs::sink::pg {

namespace {

using options_ptr = std::unique_ptr<PQconninfoOption, void (*)(PQconninfoOption*)>;

options_ptr parse(const std::string& uri, std::string* message) {
    char* why = nullptr;
    options_ptr parsed(PQconninfoParse(uri.c_str(), &why), PQconninfoFree);
    if (message) {
        *message = why ? why : (parsed ? "" : "out of memory");
        while (!message->empty() && (message->back() == '\n' || message->back() == ' '))
            message->pop_back();
    }
    PQfreemem(why);
    return parsed;
}

// %XX decoded; nullopt for a malformed escape or a NUL (libpq refuses both).
std::optional<std::string> percent_decoded(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '%') {
            out.push_back(s[i]);
            continue;
        }
        unsigned value = 0;
        const char* digits = s.data() + i + 1;
        if (i + 2 >= s.size() || !std::isxdigit(static_cast<unsigned char>(digits[0])) ||
            std::from_chars(digits, digits + 2, value, 16).ptr != digits + 2 || value == 0)
            return std::nullopt;
        out.push_back(static_cast<char>(value));
        i += 2;
    }
    return out;
}

// `also`: characters the URI's part allows unencoded besides the unreserved ones.
std::string percent_encoded(std::string_view s, std::string_view also = {}) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~' || also.find(ch) != also.npos) {
            out.push_back(ch);
        } else {
            out.push_back('%');
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 15]);
        }
    }
    return out;
}

std::vector<std::string> split(std::string_view s, char by) {
    std::vector<std::string> out;
    for (;;) {
        const auto at = s.find(by);
        out.emplace_back(s.substr(0, at));
        if (at == s.npos)
            return out;
        s.remove_prefix(at + 1);
    }
}

// A URI libpq parsed, written again from its options without the password: whatever spelling
// the password had (user:pw@, password=, pass%77ord=), it is not among what is written.
std::string rebuilt(std::string_view uri, const PQconninfoOption* options) {
    std::map<std::string, std::string> values;
    for (auto* o = options; o->keyword; ++o)
        if (o->val && *o->val && std::string_view(o->keyword) != "password")
            values.emplace(o->keyword, o->val);
    const auto take = [&](const std::string& key) {
        const auto it = values.find(key);
        if (it == values.end())
            return std::string();
        auto v = it->second;
        values.erase(it);
        return v;
    };
    std::string out(uri.substr(0, uri.find("://") + 3));
    if (const auto user = take("user"); !user.empty())
        out += percent_encoded(user) + "@";
    const auto hosts = split(take("host"), ',');
    const auto port_text = take("port");
    const auto ports = split(port_text, ',');
    for (std::size_t i = 0; i < hosts.size(); ++i) {
        if (i)
            out.push_back(',');
        const auto& h = hosts[i];
        out += h.find(':') != h.npos ? "[" + h + "]" : percent_encoded(h);
        const auto& port = ports.size() == hosts.size() ? ports[i] : ports.front();
        if (!port.empty())
            out += ":" + port;
    }
    if (const auto db = take("dbname"); !db.empty())
        out += "/" + percent_encoded(db, ":@");
    char separator = '?';
    for (const auto& [key, value] : values) {
        out += separator + key + "=" + percent_encoded(value);
        separator = '&';
    }
    return out;
}

// A URI libpq could not parse, shown without anything that may be a password: the userinfo's
// password, and every query parameter whose name is, or may be, "password" (an undecodable
// name may be it). `secrets` collects them, to be cut out of libpq's message too.
std::string redacted(std::string_view uri, std::vector<std::string>& secrets) {
    std::string out(uri);
    const auto scheme_end = out.find("://");
    if (scheme_end != out.npos) {
        const auto authority = scheme_end + 3;
        const auto authority_end = out.find_first_of("/?", authority);
        const auto at = out.rfind('@', authority_end == out.npos ? out.npos : authority_end - 1);
        if (at != out.npos && at >= authority) {
            const auto colon = out.find(':', authority);
            if (colon != out.npos && colon < at) {
                secrets.push_back(out.substr(colon + 1, at - colon - 1));
                out.erase(colon, at - colon);
            }
        }
    }
    const auto query = out.find('?');
    if (query == out.npos)
        return out;
    std::string kept;
    for (const auto& part : split(std::string_view(out).substr(query + 1), '&')) {
        const auto eq = part.find('=');
        const auto key = percent_decoded(std::string_view(part).substr(0, eq));
        if (!key || *key == "password") {
            secrets.push_back(part);
            if (eq != part.npos)
                secrets.push_back(part.substr(eq + 1));
            continue;
        }
        kept += (kept.empty() ? "" : "&") + part;
    }
    return out.substr(0, query) + (kept.empty() ? "" : "?" + kept);
}

void cut(std::string& text, const std::vector<std::string>& secrets) {
    for (const auto& s : secrets) {
        if (s.empty())
            continue;
        for (auto at = text.find(s); at != text.npos; at = text.find(s, at + 3))
            text.replace(at, s.size(), "***");
    }
}

} // namespace

bool is_postgres_uri(std::string_view text) noexcept {
    return text.starts_with("postgresql://") || text.starts_with("postgres://");
}

std::string without_password(std::string_view uri) {
    const std::string text(uri);
    if (const auto options = parse(text, nullptr))
        return rebuilt(text, options.get());
    std::vector<std::string> secrets;
    auto out = redacted(text, secrets);
    cut(out, secrets); // a password spelled again elsewhere (in the path, say)
    return out;
}

std::optional<std::string> check_uri(std::string_view option, std::string_view uri) {
    const std::string text(uri);
    std::string why;
    const auto options = parse(text, &why);
    if (!options) {
        // libpq's message quotes the token it could not read, which may be the password
        // itself ("invalid percent-encoded token: \"s3cr%zzet\""): every candidate is cut out.
        std::vector<std::string> secrets;
        auto shown = redacted(text, secrets);
        cut(shown, secrets);
        cut(why, secrets);
        return "invalid value '" + shown + "' for " + std::string(option) +
               ": not a PostgreSQL connection URI (" + why + ")";
    }
    for (auto* o = options.get(); o->keyword; ++o) {
        if (std::string_view(o->keyword) == "password" && o->val && *o->val)
            return std::string(option) + ": a password in the URI ('" +
                   rebuilt(text, options.get()) +
                   "') is not accepted: it leaks into shell history and the process list; give "
                   "it in PGPASSWORD, ~/.pgpass or --pg-password-file";
    }
    return std::nullopt;
}

} // namespace dynjobs::sink::pg
