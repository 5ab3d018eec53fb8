// src/net/tls_context.cpp - the client's TLS context: trust, minimum version, session cache.
#include "net/http_pool.hpp"

#include <dynjobs/error.hpp>

#include <boost/asio/ssl/context.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <filesystem>

namespace dynjobs::net {
namespace {

boost::system::error_code fail(diagnostics& diag, std::string field, const std::string& value,
                               std::string message) {
    diag.message = field + ": " + message;
    diag.field = std::move(field);
    diag.value = value;
    return errc::credential_error;
}

} // namespace

boost::system::error_code make_tls_context(const tls_config& tls,
                                           std::shared_ptr<boost::asio::ssl::context>& out,
                                           diagnostics& diag) {
    namespace ssl = boost::asio::ssl;
    diag.clear();
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
    SSL_CTX* native = ctx->native_handle();
    // The API refuses anything older than TLS 1.2; refusing it here too means a downgrade
    // cannot happen even against a misconfigured proxy.
    if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1) {
        ERR_clear_error();
        diag.message = "cannot set the minimum TLS version to 1.2";
        return errc::credential_error;
    }
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_compression);

    boost::system::error_code ec;
    if (tls.verify_peer) {
        ctx->set_verify_mode(ssl::verify_peer);
        if (!tls.ca_file.empty()) {
            ctx->load_verify_file(tls.ca_file, ec);
            if (ec) {
                ERR_clear_error();
                return fail(diag, "tls.ca_file", tls.ca_file,
                            "cannot load CA certificates from '" + tls.ca_file +
                                "': " + ec.message());
            }
        }
        if (!tls.ca_path.empty()) {
            // OpenSSL only looks into the folder at verification time, so a wrong path would
            // otherwise surface later as a confusing "certificate verify failed".
            std::error_code fs_ec;
            if (!std::filesystem::is_directory(tls.ca_path, fs_ec)) {
                return fail(diag, "tls.ca_path", tls.ca_path,
                            "CA folder '" + tls.ca_path + "' does not exist or is not a folder");
            }
            ctx->add_verify_path(tls.ca_path, ec);
            if (ec) {
                ERR_clear_error();
                return fail(diag, "tls.ca_path", tls.ca_path,
                            "cannot use CA folder '" + tls.ca_path + "': " + ec.message());
            }
        }
        if (tls.ca_file.empty() && tls.ca_path.empty()) {
            ctx->set_default_verify_paths(ec);
            if (ec) {
                ERR_clear_error();
                return fail(diag, "tls", {},
                            "cannot load the system's default CA certificates: " + ec.message());
            }
        }
        if (!tls.extra_ca_file.empty()) {
            ctx->load_verify_file(tls.extra_ca_file, ec);
            if (ec) {
                ERR_clear_error();
                return fail(diag, "tls.extra_ca_file", tls.extra_ca_file,
                            "cannot load CA certificates from '" + tls.extra_ca_file +
                                "': " + ec.message());
            }
        }
    } else {
        ctx->set_verify_mode(ssl::verify_none);
    }
    // The pool keeps and offers sessions itself (SSL_set_session); the client cache mode makes
    // OpenSSL hand out resumable sessions and tickets for that.
    SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_CLIENT);
    out = std::move(ctx);
    return {};
}

} // namespace dynjobs::net
