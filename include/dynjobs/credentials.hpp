// dynjobs/credentials.hpp - how the client proves who it is to the AvePoint identity service.
#pragma once

#include <boost/asio/any_completion_handler.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <functional>
#include <string>
#include <variant>

namespace dynjobs {

/// OAuth 2.0 client credentials with a client secret (an app registration's secret).
struct client_secret_credentials {
    std::string client_id;     ///< the app registration's client id
    std::string client_secret; ///< secret: never logged, never written to any file by dynjobs
};

/// OAuth 2.0 client credentials with a certificate (private_key_jwt, RFC 7523): the client signs
/// a short-lived JWT assertion (RS256) with the certificate's private key.
struct certificate_credentials {
    std::string client_id; ///< the app registration's client id (also the JWT's iss and sub)
    /// Path of a PEM file holding the certificate and its private key, or of a PFX/PKCS#12 file.
    /// The format is detected from the content.
    std::string certificate_file;
    /// Password of the PFX file or of an encrypted PEM key; empty when there is none. Secret.
    std::string password;
};

/// An access token obtained elsewhere, used as is until it expires. Nothing renews it: when the
/// API answers 401 the fetch fails with errc::unauthorized.
struct bearer_token_credentials {
    std::string access_token; ///< secret
};

/// An access token as a token source produces it.
struct access_token {
    std::string value; ///< secret
    /// Lifetime from when the token source was called; renewal is planned from it
    /// (client_config::token_refresh). Negative values count as 0: expired at once.
    std::chrono::seconds expires_in{3600};
};

/// A user-supplied token source (a vault, a sidecar, a managed identity): called each time the
/// client needs a new token, on the client's executor; must complete the handler exactly once,
/// from any thread. An error ends the fetches that needed the token with that error.
///
/// Cancellation: the handler has an associated cancellation slot
/// (boost::asio::get_associated_cancellation_slot). When the client stops waiting for the token
/// (it is destroyed, or every fetch that waited for this token was cancelled or destroyed), a
/// terminal cancellation is emitted there, on the client's executor; a fetch that needs a token
/// later calls the source again. A source whose request can be stopped assigns a handler to the
/// slot in the call (slot.assign), stops the request in it, and still completes the handler,
/// with boost::asio::error::operation_aborted. It must not clear the slot: the client does.
using token_source = std::function<void(
    boost::asio::any_completion_handler<void(boost::system::error_code, access_token)>)>;

using credentials = std::variant<client_secret_credentials, certificate_credentials,
                                 bearer_token_credentials, token_source>;

} // namespace dynjobs
