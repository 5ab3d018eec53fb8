// src/common/openssl_ptr.hpp - unique_ptr owners for the OpenSSL objects dynjobs creates.
//
// Internal, shared by the client and the simulator. Every OpenSSL object allocated goes straight into one of
// these, so that an early return on any error path frees it (the C API has no destructors).
#pragma once

#include <boost/system/error_code.hpp>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>
#include <string_view>

namespace dynjobs::detail {

/// A deleter calling an OpenSSL free function; a type per function keeps unique_ptr small.
template <auto Free>
struct openssl_deleter {
    template <class T>
    void operator()(T* p) const noexcept {
        Free(p);
    }
};

using bio_ptr = std::unique_ptr<BIO, openssl_deleter<&BIO_free_all>>;
using bignum_ptr = std::unique_ptr<BIGNUM, openssl_deleter<&BN_free>>;
using evp_pkey_ptr = std::unique_ptr<EVP_PKEY, openssl_deleter<&EVP_PKEY_free>>;
using evp_md_ctx_ptr = std::unique_ptr<EVP_MD_CTX, openssl_deleter<&EVP_MD_CTX_free>>;
using x509_ptr = std::unique_ptr<X509, openssl_deleter<&X509_free>>;
using x509_name_ptr = std::unique_ptr<X509_NAME, openssl_deleter<&X509_NAME_free>>;
using x509_extension_ptr = std::unique_ptr<X509_EXTENSION, openssl_deleter<&X509_EXTENSION_free>>;

/// The most recent OpenSSL error of this thread as an error_code (Asio's SSL category, whose
/// message() is OpenSSL's reason string), then clears the thread's error queue so a later
/// failure does not report a stale reason. Never returns success: with an empty queue it yields
/// errc::invalid_argument-like "unknown" via the generic category.
boost::system::error_code last_openssl_error();

/// Reads a memory BIO's whole content (used after PEM_write_bio_*).
std::string bio_to_string(BIO* bio);

/// Parses the first certificate of a PEM text; null on failure.
x509_ptr parse_certificate_pem(std::string_view pem);

/// Parses a PEM private key (PKCS#8 or traditional, unencrypted); null on failure.
evp_pkey_ptr parse_private_key_pem(std::string_view pem);

/// PEM text of a certificate / private key (unencrypted PKCS#8); empty on failure.
std::string certificate_to_pem(X509* cert);
std::string private_key_to_pem(EVP_PKEY* key);

/// DER encoding of a certificate; empty on failure.
std::string certificate_to_der(X509* cert);

} // namespace dynjobs::detail
