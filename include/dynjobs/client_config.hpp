// dynjobs/client_config.hpp - everything a client needs to know, with its defaults.
#pragma once

#include <dynjobs/credentials.hpp>
#include <dynjobs/dedupe_config.hpp>
#include <dynjobs/fetch_event.hpp>
#include <dynjobs/pool_config.hpp>
#include <dynjobs/proxy_config.hpp>
#include <dynjobs/rate_config.hpp>
#include <dynjobs/request_event.hpp>
#include <dynjobs/retry_config.hpp>
#include <dynjobs/tls_config.hpp>
#include <dynjobs/token_refresh_config.hpp>

#include <cstddef>
#include <string>

namespace dynjobs {

/// Everything a client is told: where the API is, how to authenticate, and how hard to push.
/// Every member but the endpoint and the credentials has a working default. Checked by
/// client::validate() and at the start of every fetch (errc::invalid_argument naming the field).
struct client_config {
    /// The API: a region name from region.hpp ("us", "we", ...) ...
    std::string region;
    /// ... or any base URL (the simulator's, a proxy's). Exactly one of the two must be set.
    /// A path prefix is kept ("https://proxy/avepoint" ->
    /// "https://proxy/avepoint/dynamicsbackup/jobs").
    std::string base_url;
    /// The OAuth token endpoint. Empty: the region's (or, for a base URL of a known region host,
    /// that region's); for any other base URL, base_url + "/connect/token", which is where the
    /// simulator serves it.
    std::string token_url;
    /// How to authenticate. Default: an empty client secret, which validate() refuses.
    credentials creds = client_secret_credentials{};
    /// The scope for this endpoint, requested on its own (a documented server bug failed requests
    /// that combined it with other scopes).
    std::string scope = "dynamics.readwrite.all";
    /// Which servers to trust and which TLS versions to accept (see tls_config).
    tls_config tls;
    /// An HTTP proxy for the API and the token endpoint, each choosing by its own host. Default:
    /// none set here, the environment's (HTTPS_PROXY, NO_PROXY, ...; loopback never) read.
    proxy_config proxy;
    /// Connections per origin; the API and the token endpoint each get a pool.
    pool_config pool;
    /// Retries of failed page and token requests, and the retry budget (see retry_config).
    policy::retry_config retry;
    /// Admission to the API host: in-flight limit (the global limit of pages in flight), AIMD on
    /// 429, optional fixed requests-per-second ceiling.
    policy::rate_config rate;
    /// When tokens are renewed, ahead of their expiry (see token_refresh_config).
    policy::token_refresh_config token_refresh;
    /// Most pages of one organization in flight at once, so that one large organization does not
    /// take every slot while others wait. 8 keeps a single organization at ~8x the serial speed.
    std::size_t max_in_flight_per_organization = 8;
    /// Decoded pages buffered between the engine and a slow consumer (backpressure point).
    std::size_t channel_capacity = 8;
    /// Memory for the jobIds that make delivery exactly-once, and where they go past it.
    dedupe_config dedupe;
    /// The User-Agent header of every request; empty sends none.
    std::string user_agent = "dynjobs/0.1";
    /// Ask for compressed pages (Accept-Encoding: gzip, deflate) and inflate them as they
    /// stream in. A page of JSON shrinks about 7 times: on a slow link that is the speed-up; on
    /// loopback it costs some CPU. On by default, as every browser and HTTP library does.
    bool compression = true;
    /// Called once per request attempt (see request_event.hpp). Empty: none.
    request_hook on_request;
    /// Called when a fetch learns something about the server or refetches a window for
    /// completeness (see fetch_event.hpp). Empty: none.
    fetch_event_hook on_fetch_event;
    /// Seed of the jitter in the backoff between retries of page requests; 0 = from the steady
    /// clock. Tests fix it. The token requests' backoff and the renewal jitter are always seeded
    /// from std::random_device: clients started together must not renew together.
    std::uint64_t seed = 0;
};

} // namespace dynjobs
