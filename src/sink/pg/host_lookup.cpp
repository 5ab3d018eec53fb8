#include "sink/pg/host_lookup.hpp"

#include <libpq-fe.h>

#include <arpa/inet.h>

#include <cstdlib>
#include <memory>

namespace dynjobs::sink::pg {

namespace {

std::vector<std::string> split_list(std::string_view s) {
    std::vector<std::string> out;
    for (;;) {
        const auto comma = s.find(',');
        out.emplace_back(s.substr(0, comma));
        if (comma == s.npos)
            return out;
        s.remove_prefix(comma + 1);
    }
}

std::string joined(const std::vector<std::string>& items) {
    std::string out;
    for (std::size_t i = 0; i < items.size(); ++i)
        out += (i ? "," : "") + items[i];
    return out;
}

std::string env_or_empty(const char* name) {
    const char* value = std::getenv(name);
    return value ? value : "";
}

} // namespace

bool needs_lookup(std::string_view host) noexcept {
    if (host.empty() || host.front() == '/' || host.front() == '@')
        return false;
    const std::string text(host);
    unsigned char address[16];
    return inet_pton(AF_INET, text.c_str(), address) != 1 &&
           inet_pton(AF_INET6, text.c_str(), address) != 1;
}

std::optional<host_list> hosts_to_look_up(const std::string& uri) {
    std::unique_ptr<PQconninfoOption, void (*)(PQconninfoOption*)> options(
        PQconninfoParse(uri.c_str(), nullptr), PQconninfoFree);
    if (!options)
        return std::nullopt; // libpq will say what is wrong with it
    std::string host;
    std::string port;
    for (const auto* o = options.get(); o->keyword; ++o) {
        const std::string_view key = o->keyword;
        const std::string value = o->val ? o->val : "";
        if ((key == "hostaddr" || key == "service") && !value.empty())
            return std::nullopt;
        if (key == "host")
            host = value;
        else if (key == "port")
            port = value;
    }
    if (!env_or_empty("PGHOSTADDR").empty() || !env_or_empty("PGSERVICE").empty())
        return std::nullopt;
    if (host.empty())
        host = env_or_empty("PGHOST");
    if (port.empty())
        port = env_or_empty("PGPORT");
    host_list out;
    out.hosts = split_list(host);
    const auto ports = split_list(port);
    // libpq's rule: one port for every host, or one per host; anything else it refuses itself.
    if (ports.size() != 1 && ports.size() != out.hosts.size())
        return std::nullopt;
    for (std::size_t i = 0; i < out.hosts.size(); ++i) {
        const auto& given = ports.size() == 1 ? ports[0] : ports[i];
        out.ports.push_back(given.empty() ? "5432" : given); // libpq's default port
    }
    for (const auto& h : out.hosts)
        if (needs_lookup(h))
            return out;
    return std::nullopt;
}

host_options with_addresses(const host_list& hosts,
                            const std::vector<std::vector<std::string>>& addresses) {
    std::vector<std::string> host;
    std::vector<std::string> hostaddr;
    std::vector<std::string> port;
    for (std::size_t i = 0; i < hosts.hosts.size(); ++i) {
        if (i >= addresses.size() || addresses[i].empty()) {
            host.push_back(hosts.hosts[i]);
            hostaddr.emplace_back();
            port.push_back(hosts.ports[i]);
            continue;
        }
        for (const auto& address : addresses[i]) {
            host.push_back(hosts.hosts[i]);
            hostaddr.push_back(address);
            port.push_back(hosts.ports[i]);
        }
    }
    return {joined(host), joined(hostaddr), joined(port)};
}

} // namespace dynjobs::sink::pg
