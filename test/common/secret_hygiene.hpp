// secret_hygiene.hpp - what the secret-hygiene tests of the library and of the command share: a
// simulator that makes a client renew, lose and re-obtain tokens under faults, and the scan of
// everything the client emitted.
#pragma once

#include <dynjobs/sim/sim_config.hpp>

#include <mutex>
#include <string>
#include <vector>

namespace dynjobs::testkit {

/// Every access token a simulator issues, collected from its serving threads.
class issued_tokens {
public:
    void add(const std::string& token);
    std::vector<std::string> all() const;

private:
    mutable std::mutex mutex_;
    std::vector<std::string> tokens_;
};

/// `config` plus: `client_id` registered with `secret` and `certificate_pem`; 12 s tokens (not
/// sent in their last 10 s, so renewed every couple of seconds); revocations at the 4th and 12th
/// job requests; every fault kind but the slow ones on a fifth of the job requests; page
/// `failing_page` failing for good; every token issued reported to `sink`.
sim::sim_config token_churn(sim::sim_config config, const std::string& client_id,
                            const std::string& secret, const std::string& certificate_pem,
                            int failing_page, issued_tokens& sink);

/// Fails the test if `emitted` holds `secret`, any of `tokens`, or a base64 line of `key_pem`.
void require_no_secret(const std::string& emitted, const std::string& secret,
                       const std::vector<std::string>& tokens, const std::string& key_pem);

/// Fails the test if `emitted` holds the proxy's `password`, or the Basic credentials
/// (base64 of user:password) that carry it to the proxy.
void require_no_proxy_secret(const std::string& emitted, const std::string& user,
                             const std::string& password);

} // namespace dynjobs::testkit
