// src/sim/openssl_ptr.cpp - see openssl_ptr.hpp.
#include "common/openssl_ptr.hpp"

#include <boost/asio/ssl/error.hpp>

#include <openssl/err.h>
#include <openssl/pem.h>

namespace dynjobs::detail {

boost::system::error_code last_openssl_error() {
    // The last error is the most specific one (the outermost function that failed).
    const unsigned long err = ERR_peek_last_error();
    ERR_clear_error();
    if (err == 0)
        return boost::system::errc::make_error_code(boost::system::errc::protocol_error);
    return {static_cast<int>(err), boost::asio::error::get_ssl_category()};
}

std::string bio_to_string(BIO* bio) {
    BUF_MEM* mem = nullptr;
    BIO_get_mem_ptr(bio, &mem);
    if (mem == nullptr || mem->data == nullptr)
        return {};
    return std::string(mem->data, mem->length);
}

x509_ptr parse_certificate_pem(std::string_view pem) {
    bio_ptr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (!bio)
        return nullptr;
    return x509_ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

evp_pkey_ptr parse_private_key_pem(std::string_view pem) {
    bio_ptr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (!bio)
        return nullptr;
    // An empty passphrase callback argument: encrypted keys are refused rather than prompting
    // on the terminal, which OpenSSL's default callback would do.
    return evp_pkey_ptr(
        PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, const_cast<char*>("")));
}

std::string certificate_to_pem(X509* cert) {
    bio_ptr bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1)
        return {};
    return bio_to_string(bio.get());
}

std::string private_key_to_pem(EVP_PKEY* key) {
    bio_ptr bio(BIO_new(BIO_s_mem()));
    if (!bio ||
        PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
        return {};
    return bio_to_string(bio.get());
}

std::string certificate_to_der(X509* cert) {
    const int len = i2d_X509(cert, nullptr);
    if (len <= 0)
        return {};
    std::string der(static_cast<std::size_t>(len), '\0');
    auto* p = reinterpret_cast<unsigned char*>(der.data());
    if (i2d_X509(cert, &p) != len)
        return {};
    return der;
}

} // namespace dynjobs::detail
