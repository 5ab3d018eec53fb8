// test/unit/auth_test_material.hpp - keys and certificates made with OpenSSL for the auth tests.
#pragma once

#include "common/openssl_ptr.hpp"

#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rsa.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>

namespace dynjobs::auth_test {

using detail::evp_pkey_ptr;
using detail::x509_ptr;

inline evp_pkey_ptr make_rsa_key() {
    evp_pkey_ptr key(EVP_RSA_gen(2048));
    if (!key)
        throw std::runtime_error("EVP_RSA_gen failed");
    return key;
}

inline evp_pkey_ptr make_ec_key() {
    evp_pkey_ptr key(EVP_EC_gen("P-256"));
    if (!key)
        throw std::runtime_error("EVP_EC_gen failed");
    return key;
}

struct cert_options {
    /// "digitalSignature", "keyEncipherment", ... or empty for no keyUsage extension.
    std::string key_usage = "critical,digitalSignature";
    long not_before_days = -1;
    long not_after_days = 30;
};

/// A self-signed certificate for `key`.
inline x509_ptr make_certificate(EVP_PKEY* key, const cert_options& options = {}) {
    x509_ptr cert(X509_new());
    if (!cert)
        throw std::runtime_error("X509_new failed");
    X509_set_version(cert.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), options.not_before_days * 86400L);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), options.not_after_days * 86400L);
    X509_set_pubkey(cert.get(), key);
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("dynjobs auth test"), -1, -1,
                               0);
    X509_set_issuer_name(cert.get(), name);
    if (!options.key_usage.empty()) {
        X509V3_CTX ctx;
        X509V3_set_ctx_nodb(&ctx);
        X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
        detail::x509_extension_ptr ext(
            X509V3_EXT_conf_nid(nullptr, &ctx, NID_key_usage, options.key_usage.c_str()));
        if (!ext || X509_add_ext(cert.get(), ext.get(), -1) != 1)
            throw std::runtime_error("keyUsage extension failed");
    }
    if (X509_sign(cert.get(), key, EVP_sha256()) == 0)
        throw std::runtime_error("X509_sign failed");
    return cert;
}

/// PKCS#8 PEM of a key encrypted with AES-256-CBC under `password`.
inline std::string encrypted_key_pem(EVP_PKEY* key, const std::string& password) {
    detail::bio_ptr bio(BIO_new(BIO_s_mem()));
    if (PEM_write_bio_PKCS8PrivateKey(bio.get(), key, EVP_aes_256_cbc(), password.c_str(),
                                      static_cast<int>(password.size()), nullptr, nullptr) != 1)
        throw std::runtime_error("PEM_write_bio_PKCS8PrivateKey failed");
    return detail::bio_to_string(bio.get());
}

/// Traditional ("BEGIN RSA PRIVATE KEY", Proc-Type: 4,ENCRYPTED) encrypted PEM.
inline std::string encrypted_traditional_key_pem(EVP_PKEY* key, const std::string& password) {
    detail::bio_ptr bio(BIO_new(BIO_s_mem()));
    if (PEM_write_bio_PrivateKey_traditional(
            bio.get(), key, EVP_aes_128_cbc(),
            reinterpret_cast<const unsigned char*>(password.data()),
            static_cast<int>(password.size()), nullptr, nullptr) != 1)
        throw std::runtime_error("PEM_write_bio_PrivateKey_traditional failed");
    return detail::bio_to_string(bio.get());
}

/// DER PKCS#12 of a key and certificate under `password` (OpenSSL 3 defaults: AES, PBKDF2).
inline std::string pfx(EVP_PKEY* key, X509* cert, const std::string& password) {
    std::unique_ptr<PKCS12, detail::openssl_deleter<&PKCS12_free>> p12(
        PKCS12_create(password.c_str(), "dynjobs", key, cert, nullptr, 0, 0, 0, 0, 0));
    if (!p12)
        throw std::runtime_error("PKCS12_create failed");
    detail::bio_ptr bio(BIO_new(BIO_s_mem()));
    if (i2d_PKCS12_bio(bio.get(), p12.get()) != 1)
        throw std::runtime_error("i2d_PKCS12_bio failed");
    return detail::bio_to_string(bio.get());
}

/// A scratch folder removed at the end of the test.
class temp_dir {
public:
    temp_dir() {
        std::random_device rd;
        path_ = std::filesystem::temp_directory_path() /
                ("dynjobs-auth-" + std::to_string(rd()) + std::to_string(rd()));
        std::filesystem::create_directories(path_);
        // Private keys go in here: owner only.
        std::filesystem::permissions(path_, std::filesystem::perms::owner_all);
    }
    ~temp_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;

    std::string write(const std::string& name, const std::string& content) const {
        const auto p = path_ / name;
        std::ofstream out(p, std::ios::binary);
        out << content;
        if (!out)
            throw std::runtime_error("cannot write " + p.string());
        return p.string();
    }
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

/// One RSA key and its certificate, made once per test process (key generation is slow).
struct rsa_material {
    evp_pkey_ptr key = make_rsa_key();
    x509_ptr cert = make_certificate(key.get());
    std::string cert_pem = detail::certificate_to_pem(cert.get());
    std::string key_pem = detail::private_key_to_pem(key.get());
};

inline const rsa_material& shared_rsa() {
    static const rsa_material material;
    return material;
}

} // namespace dynjobs::auth_test
