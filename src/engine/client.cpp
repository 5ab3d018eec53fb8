#include <dynjobs/client.hpp>

#include "engine/fetch_state.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>

#include <cmath>
#include <stdexcept>

namespace dynjobs {

namespace asio = boost::asio;
using boost::system::error_code;

client::client(asio::any_io_executor executor, client_config config)
    : state_(std::make_shared<detail::client_state>(std::move(executor), std::move(config))) {
    // The CA files, the certificate and its private key are read here, on the caller's thread,
    // not by the first fetch inside the event loop, where a slow disk would stall every other
    // handler. Nothing else holds the state yet, so the strand is not needed; the outcome is
    // kept and reported by the first fetch.
    diagnostics outcome;
    state_->prepare(outcome);
}

client::~client() {
    cancel();
}

client::client(client&& other) noexcept = default;

client& client::operator=(client&& other) noexcept {
    if (this != &other) {
        cancel();
        state_ = std::move(other.state_);
    }
    return *this;
}

client::executor_type client::get_executor() const noexcept {
    return state_->executor;
}

error_code client::validate(const fetch_request& request, diagnostics& diag) const {
    if (auto ec = detail::check_numbers(state_->config, diag))
        return ec;
    detail::endpoints where;
    if (auto ec = detail::resolve_endpoints(state_->config, where, diag))
        return ec;
    // Check the credentials with a throwaway token manager: nothing is sent by validate().
    std::shared_ptr<asio::ssl::context> tls;
    if (where.api.tls || where.token.tls)
        if (auto ec = net::make_tls_context(state_->config.tls, tls, diag))
            return ec;
    net::http_pool pool(state_->strand, where.token, where.token.tls ? tls : nullptr,
                        state_->config.pool);
    auth::token_manager_config token_config;
    token_config.creds = state_->config.creds;
    token_config.token_url = where.token_url;
    token_config.token_path = where.token_path;
    token_config.scope = state_->config.scope;
    auth::token_manager tokens(state_->strand, pool, std::move(token_config));
    if (auto ec = tokens.validate(diag))
        return ec;
    return request.validate(diag);
}

job_stream client::fetch(fetch_request request) {
    auto fetch = std::make_shared<detail::fetch_state>(state_, std::move(request));
    asio::dispatch(state_->strand, [state = state_, fetch] {
        std::erase_if(state->fetches, [](const auto& weak) { return weak.expired(); });
        state->fetches.push_back(fetch);
        asio::co_spawn(state->strand, detail::run_fetch(fetch), asio::detached);
    });
    return job_stream(std::move(fetch));
}

void client::cancel() {
    if (!state_) // moved-from
        return;
    asio::dispatch(state_->strand, [state = state_] {
        for (const auto& weak : state->fetches)
            if (auto fetch = weak.lock())
                detail::cancel_fetch(fetch);
    });
}

void client::set_max_rate(double requests_per_second) {
    if (!std::isfinite(requests_per_second) || requests_per_second < 0)
        throw std::invalid_argument(
            "rate.max_requests_per_second: " + std::to_string(requests_per_second) +
            " is not a rate (a number of requests per second, 0 or more)");
    if (!state_) // moved-from
        return;
    // The gate only: `config` is read by validate() on the caller's thread.
    asio::dispatch(state_->strand, [state = state_, requests_per_second] {
        state->gate.set_max_rate(requests_per_second);
    });
}

} // namespace dynjobs
