// src/auth/certificate_loader.cpp - see certificate_loader.hpp.
#include "auth/certificate_loader.hpp"

#include "common/base64url.hpp"

#include <dynjobs/error.hpp>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace dynjobs::auth {

namespace {

using detail::bio_ptr;
using detail::evp_pkey_ptr;
using detail::x509_ptr;
using pkcs12_ptr = std::unique_ptr<PKCS12, detail::openssl_deleter<&PKCS12_free>>;

/// A certificate file is a few KB; anything far larger is not one, and reading it whole would
/// only waste memory.
constexpr std::size_t max_file_size = 1024 * 1024;

/// Fails with credential_error naming the file and the problem. `openssl_detail` adds
/// OpenSSL's reason when it says more than our own words.
boost::system::error_code fail(diagnostics& diag, std::string_view name, std::string_view problem,
                               bool openssl_detail = false) {
    diag.field = "certificate";
    diag.value = std::string(name);
    diag.message = "certificate file '" + std::string(name) + "': " + std::string(problem);
    if (openssl_detail) {
        const unsigned long err = ERR_peek_last_error();
        if (err != 0) {
            char reason[256];
            ERR_error_string_n(err, reason, sizeof reason);
            diag.message += " (OpenSSL: " + std::string(reason) + ")";
        }
    }
    ERR_clear_error();
    return errc::credential_error;
}

/// The PEM block (BEGIN line to END line) whose label ends with `label_suffix`, or "".
std::string_view find_pem_block(std::string_view text, std::string_view label_suffix) {
    std::size_t pos = 0;
    while ((pos = text.find("-----BEGIN ", pos)) != text.npos) {
        const auto label_start = pos + 11;
        const auto label_end = text.find("-----", label_start);
        if (label_end == text.npos)
            return {};
        const auto label = text.substr(label_start, label_end - label_start);
        if (label.size() >= label_suffix.size() &&
            label.substr(label.size() - label_suffix.size()) == label_suffix) {
            const std::string end_line = "-----END " + std::string(label) + "-----";
            const auto end = text.find(end_line, label_end);
            if (end == text.npos)
                return {};
            return text.substr(pos, end + end_line.size() - pos);
        }
        pos = label_end;
    }
    return {};
}

struct password_context {
    std::string_view password;
    bool asked = false;
};

/// PEM passphrase callback: hands over the configured password, never prompts on a terminal
/// (OpenSSL's default callback would).
int pem_password(char* buf, int size, int /*rwflag*/, void* user) {
    auto* ctx = static_cast<password_context*>(user);
    ctx->asked = true;
    if (ctx->password.empty() || ctx->password.size() > static_cast<std::size_t>(size))
        return -1;
    std::memcpy(buf, ctx->password.data(), ctx->password.size());
    return static_cast<int>(ctx->password.size());
}

boost::system::error_code parse_pem(std::string_view content, std::string_view password,
                                    std::string_view name, signing_certificate& out,
                                    diagnostics& diag) {
    const auto cert_block = find_pem_block(content, "CERTIFICATE");
    if (cert_block.empty() || cert_block.find("TRUSTED CERTIFICATE") != cert_block.npos)
        return fail(diag, name, "no certificate (-----BEGIN CERTIFICATE-----) in the PEM file");
    out.certificate = detail::parse_certificate_pem(cert_block);
    if (!out.certificate)
        return fail(diag, name, "the certificate does not parse", true);

    const auto key_block = find_pem_block(content, "PRIVATE KEY");
    if (key_block.empty())
        return fail(diag, name,
                    "no private key in the PEM file (it needs the certificate and its key)");
    const bool encrypted = key_block.find("ENCRYPTED") != key_block.npos;
    if (encrypted && password.empty())
        return fail(diag, name, "the private key is encrypted and no password was given");

    bio_ptr bio(BIO_new_mem_buf(key_block.data(), static_cast<int>(key_block.size())));
    if (!bio)
        return fail(diag, name, "out of memory", true);
    password_context pw{password};
    out.private_key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, &pem_password, &pw));
    if (!out.private_key) {
        // No OpenSSL detail here: with a wrong password, the decryption's padding check passes
        // by chance about once in 256 tries and the error then comes from the DER decoder
        // instead, so the detail would vary from run to run while the diagnosis does not.
        if (encrypted)
            return fail(diag, name, "wrong password for the private key (or the key is corrupt)");
        return fail(diag, name, "the private key does not parse", true);
    }
    return {};
}

boost::system::error_code parse_pfx(std::string_view content, std::string_view password,
                                    std::string_view name, signing_certificate& out,
                                    diagnostics& diag) {
    bio_ptr bio(BIO_new_mem_buf(content.data(), static_cast<int>(content.size())));
    if (!bio)
        return fail(diag, name, "out of memory", true);
    pkcs12_ptr p12(d2i_PKCS12_bio(bio.get(), nullptr));
    if (!p12)
        return fail(diag, name, "neither a PEM file nor a PFX/PKCS#12 file");

    // A NUL-terminated copy for the C API, wiped afterwards.
    std::string pass(password);
    struct wipe {
        std::string& s;
        ~wipe() { OPENSSL_cleanse(s.data(), s.size()); }
    } wipe_pass{pass};

    if (PKCS12_mac_present(p12.get()) == 1) {
        bool mac_ok =
            PKCS12_verify_mac(p12.get(), pass.c_str(), static_cast<int>(pass.size())) == 1;
        // Tools differ on how "no password" is written into the MAC: empty or absent.
        if (!mac_ok && pass.empty())
            mac_ok = PKCS12_verify_mac(p12.get(), nullptr, 0) == 1;
        if (!mac_ok)
            return fail(diag, name,
                        pass.empty() ? "the PFX file is protected by a password and none was given"
                                     : "wrong password for the PFX file");
    }

    EVP_PKEY* key = nullptr;
    X509* cert = nullptr;
    STACK_OF(X509)* chain = nullptr;
    const int parsed = PKCS12_parse(p12.get(), pass.c_str(), &key, &cert, &chain);
    out.private_key.reset(key);
    out.certificate.reset(cert);
    sk_X509_pop_free(chain, X509_free);
    if (parsed != 1)
        return fail(diag, name,
                    "the PFX file cannot be decrypted (wrong password, or a legacy algorithm "
                    "OpenSSL 3 no longer enables)",
                    true);
    if (!out.certificate)
        return fail(diag, name, "no certificate in the PFX file");
    if (!out.private_key)
        return fail(diag, name, "no private key in the PFX file");
    return {};
}

std::string time_text(const ASN1_TIME* t) {
    bio_ptr bio(BIO_new(BIO_s_mem()));
    if (!bio || ASN1_TIME_print(bio.get(), t) != 1)
        return "an unreadable date";
    return detail::bio_to_string(bio.get());
}

boost::system::error_code check(std::string_view name, signing_certificate& out,
                                diagnostics& diag) {
    if (EVP_PKEY_get_base_id(out.private_key.get()) != EVP_PKEY_RSA)
        return fail(diag, name, "RS256 needs an RSA key; this key is not RSA");
    if (X509_check_private_key(out.certificate.get(), out.private_key.get()) != 1)
        return fail(diag, name, "the private key does not match the certificate");
    if ((X509_get_extension_flags(out.certificate.get()) & EXFLAG_KUSAGE) != 0 &&
        (X509_get_key_usage(out.certificate.get()) & KU_DIGITAL_SIGNATURE) == 0)
        return fail(diag, name, "the certificate's keyUsage does not allow digitalSignature");
    const ASN1_TIME* not_after = X509_get0_notAfter(out.certificate.get());
    if (X509_cmp_current_time(not_after) < 0)
        return fail(diag, name, "the certificate expired on " + time_text(not_after));

    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    if (X509_digest(out.certificate.get(), EVP_sha1(), md, &md_len) != 1)
        return fail(diag, name, "cannot compute the certificate thumbprint", true);
    const std::string_view digest(reinterpret_cast<const char*>(md), md_len);
    out.x5t = detail::base64url_encode(digest);
    static constexpr char hex[] = "0123456789ABCDEF";
    out.kid.clear();
    for (unsigned char c : digest) {
        out.kid += hex[c >> 4];
        out.kid += hex[c & 0xF];
    }
    ERR_clear_error();
    return {};
}

} // namespace

boost::system::error_code parse_signing_certificate(std::string_view content,
                                                    std::string_view password,
                                                    std::string_view name, signing_certificate& out,
                                                    diagnostics& diag) {
    diag.clear();
    out = signing_certificate{};
    if (content.size() > max_file_size)
        return fail(diag, name, "the file is too large to be a certificate (over 1 MiB)");
    const bool pem = content.find("-----BEGIN") != content.npos;
    auto ec = pem ? parse_pem(content, password, name, out, diag)
                  : parse_pfx(content, password, name, out, diag);
    if (!ec)
        ec = check(name, out, diag);
    if (ec)
        out = signing_certificate{}; // never keep half of a credential
    return ec;
}

boost::system::error_code load_signing_certificate(const std::string& path,
                                                   std::string_view password,
                                                   signing_certificate& out, diagnostics& diag) {
    diag.clear();
    if (path.empty())
        return fail(diag, path, "no certificate file given");
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                         &std::fclose);
    if (!file)
        return fail(diag, path, std::string("cannot open: ") + std::strerror(errno));
    std::string content;
    char buf[16 * 1024];
    std::size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, file.get())) > 0) {
        content.append(buf, n);
        if (content.size() > max_file_size)
            return fail(diag, path, "the file is too large to be a certificate (over 1 MiB)");
    }
    if (std::ferror(file.get()))
        return fail(diag, path, std::string("cannot read: ") + std::strerror(errno));
    auto ec = parse_signing_certificate(content, password, path, out, diag);
    // The content may hold an unencrypted private key: wipe our copy.
    OPENSSL_cleanse(content.data(), content.size());
    OPENSSL_cleanse(buf, sizeof buf);
    return ec;
}

} // namespace dynjobs::auth
