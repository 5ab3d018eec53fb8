#include "secret_hygiene.hpp"

#include "net/proxy.hpp"

#include <boost/test/unit_test.hpp>

#include <sstream>

namespace dynjobs::testkit {

void issued_tokens::add(const std::string& token) {
    std::lock_guard lock(mutex_);
    tokens_.push_back(token);
}

std::vector<std::string> issued_tokens::all() const {
    std::lock_guard lock(mutex_);
    return tokens_;
}

sim::sim_config token_churn(sim::sim_config config, const std::string& client_id,
                            const std::string& secret, const std::string& certificate_pem,
                            int failing_page, issued_tokens& sink) {
    config.token_lifetime = std::chrono::seconds(12);
    config.clients = {{client_id, secret, certificate_pem, {}}};
    // Not the slow kinds (delay, trickle: a trickled page takes over a minute): they add time,
    // and nothing that could leak.
    std::erase_if(config.faults.kinds, [](sim::fault_kind k) {
        return k == sim::fault_kind::delay_first_byte || k == sim::fault_kind::trickle_body;
    });
    config.faults.rate = 0.2;
    std::string error;
    // Revocations first in the schedule (the first matching rule wins): new tokens whatever else
    // the request draws. Then a page that always fails, so that failures with URLs and bodies are
    // reported.
    for (const std::string& rule : std::vector<std::string>{
             "path=/dynamicsbackup/jobs,nth=4:revoke", "path=/dynamicsbackup/jobs,nth=12:revoke",
             "page=" + std::to_string(failing_page) + ",times=0:500"})
        config.faults.schedule.push_back(*sim::parse_fault_rule(rule, error));
    config.on_token_issued = [&sink](const std::string& token) { sink.add(token); };
    return config;
}

void require_no_secret(const std::string& emitted, const std::string& secret,
                       const std::vector<std::string>& tokens, const std::string& key_pem) {
    BOOST_TEST(!emitted.empty());
    BOOST_TEST(emitted.find(secret) == std::string::npos, "the client secret leaked");
    for (const auto& token : tokens)
        BOOST_TEST(emitted.find(token) == std::string::npos, "an access token leaked");
    std::istringstream key_lines(key_pem);
    for (std::string line; std::getline(key_lines, line);)
        if (!line.starts_with("-----"))
            BOOST_TEST(emitted.find(line) == std::string::npos, "private key material leaked");
}

void require_no_proxy_secret(const std::string& emitted, const std::string& user,
                             const std::string& password) {
    BOOST_TEST(!emitted.empty());
    BOOST_TEST(emitted.find(password) == std::string::npos, "the proxy password leaked");
    const auto basic = net::basic_authorization(user, password);
    BOOST_TEST(emitted.find(basic.substr(basic.find(' ') + 1)) == std::string::npos,
               "the proxy credentials leaked");
}

} // namespace dynjobs::testkit
