// src/sim/certificates.cpp - see dynjobs/sim/certificates.hpp.
#include <dynjobs/sim/certificates.hpp>

#include "shared_crypto.hpp"

#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <fstream>
#include <sstream>

namespace dynjobs::sim {

namespace {

using detail::last_openssl_error;

boost::system::error_code fail(diagnostics& diag, std::string message) {
    auto ec = last_openssl_error();
    diag.message = std::move(message) + ": " + ec.message();
    return ec;
}

/// Subject/issuer name with just a CN: enough for a test PKI.
detail::x509_name_ptr make_name(std::string_view cn) {
    detail::x509_name_ptr name(X509_NAME_new());
    if (name && X509_NAME_add_entry_by_txt(name.get(), "CN", MBSTRING_UTF8,
                                           reinterpret_cast<const unsigned char*>(cn.data()),
                                           static_cast<int>(cn.size()), -1, 0) != 1)
        name.reset();
    return name;
}

/// Adds one extension in openssl.cnf syntax; `issuer` is needed for authorityKeyIdentifier.
bool add_extension(X509* cert, X509* issuer, int nid, const char* value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    detail::x509_extension_ptr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
    return ext && X509_add_ext(cert, ext.get(), -1) == 1;
}

/// A certificate skeleton: v3, random 128-bit serial, validity now-1h..now+days, subject, key.
detail::x509_ptr make_certificate(EVP_PKEY* key, std::string_view cn, int validity_days) {
    detail::x509_ptr cert(X509_new());
    detail::bignum_ptr serial(BN_new());
    detail::x509_name_ptr name = make_name(cn);
    if (!cert || !serial || !name)
        return nullptr;
    // Random serials: two runs writing to the same folder must never issue equal serials, which
    // browsers and some TLS stacks reject for one issuer.
    if (X509_set_version(cert.get(), X509_VERSION_3) != 1 ||
        BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
        BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) == nullptr ||
        X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) == nullptr ||
        X509_gmtime_adj(X509_getm_notAfter(cert.get()), long{validity_days} * 86400) == nullptr ||
        X509_set_subject_name(cert.get(), name.get()) != 1 || X509_set_pubkey(cert.get(), key) != 1)
        return nullptr;
    return cert;
}

boost::system::error_code write_file(const std::filesystem::path& path, std::string_view data,
                                     mode_t mode, diagnostics& diag) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) {
        boost::system::error_code ec(errno, boost::system::system_category());
        diag.message = "cannot create " + path.string() + ": " + ec.message();
        return ec;
    }
    boost::system::error_code ec;
    // open() only applies the mode to a new file: force it on an existing one too.
    if (::fchmod(fd, mode) != 0)
        ec.assign(errno, boost::system::system_category());
    std::size_t done = 0;
    while (!ec && done < data.size()) {
        const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            ec.assign(errno, boost::system::system_category());
        else
            done += static_cast<std::size_t>(n);
    }
    if (::close(fd) != 0 && !ec)
        ec.assign(errno, boost::system::system_category());
    if (ec)
        diag.message = "cannot write " + path.string() + ": " + ec.message();
    return ec;
}

boost::system::error_code create_folder(const std::filesystem::path& dir, diagnostics& diag) {
    std::error_code sec;
    std::filesystem::create_directories(dir, sec);
    if (!sec)
        return {};
    diag.message = "cannot create folder " + dir.string() + ": " + sec.message();
    diag.value = dir.string();
    return boost::system::error_code(sec.value(), boost::system::system_category());
}

boost::system::error_code read_file(const std::filesystem::path& path, std::string& out,
                                    diagnostics& diag) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    if (in)
        text << in.rdbuf();
    if (!in) {
        diag.message = "cannot read " + path.string();
        diag.value = path.string();
        return boost::system::errc::make_error_code(boost::system::errc::no_such_file_or_directory);
    }
    out = std::move(text).str();
    return {};
}

std::string sha1(std::string_view bytes) {
    std::string digest(SHA_DIGEST_LENGTH, '\0');
    SHA1(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
         reinterpret_cast<unsigned char*>(digest.data()));
    return digest;
}

} // namespace

boost::system::error_code generate_server_pki(const pki_options& options, server_pki& out,
                                              diagnostics& diag) {
    diag.clear();
    // EC P-256: key generation takes microseconds, where RSA would add ~100 ms to every start.
    detail::evp_pkey_ptr ca_key(EVP_EC_gen("P-256"));
    detail::evp_pkey_ptr leaf_key(EVP_EC_gen("P-256"));
    if (!ca_key || !leaf_key)
        return fail(diag, "cannot generate EC P-256 keys");

    auto ca = make_certificate(ca_key.get(), options.ca_common_name, options.validity_days);
    if (!ca || X509_set_issuer_name(ca.get(), X509_get_subject_name(ca.get())) != 1 ||
        !add_extension(ca.get(), ca.get(), NID_basic_constraints, "critical,CA:TRUE") ||
        !add_extension(ca.get(), ca.get(), NID_key_usage, "critical,keyCertSign,cRLSign") ||
        !add_extension(ca.get(), ca.get(), NID_subject_key_identifier, "hash") ||
        X509_sign(ca.get(), ca_key.get(), EVP_sha256()) == 0)
        return fail(diag, "cannot make the CA certificate");

    auto leaf = make_certificate(leaf_key.get(), "localhost", options.validity_days);
    if (!leaf || X509_set_issuer_name(leaf.get(), X509_get_subject_name(ca.get())) != 1 ||
        !add_extension(leaf.get(), ca.get(), NID_basic_constraints, "critical,CA:FALSE") ||
        !add_extension(leaf.get(), ca.get(), NID_key_usage,
                       "critical,digitalSignature,keyEncipherment") ||
        !add_extension(leaf.get(), ca.get(), NID_ext_key_usage, "serverAuth") ||
        !add_extension(leaf.get(), ca.get(), NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1") ||
        !add_extension(leaf.get(), ca.get(), NID_subject_key_identifier, "hash") ||
        !add_extension(leaf.get(), ca.get(), NID_authority_key_identifier, "keyid:always") ||
        X509_sign(leaf.get(), ca_key.get(), EVP_sha256()) == 0)
        return fail(diag, "cannot make the server certificate");

    server_pki pki;
    pki.ca_cert_pem = detail::certificate_to_pem(ca.get());
    pki.server_cert_pem = detail::certificate_to_pem(leaf.get());
    pki.server_key_pem = detail::private_key_to_pem(leaf_key.get());
    if (pki.ca_cert_pem.empty() || pki.server_cert_pem.empty() || pki.server_key_pem.empty())
        return fail(diag, "cannot encode the certificates as PEM");
    out = std::move(pki);
    return {};
}

boost::system::error_code write_server_pki(const server_pki& pki, const std::filesystem::path& dir,
                                           diagnostics& diag) {
    diag.clear();
    if (auto ec = create_folder(dir, diag))
        return ec;
    if (auto ec = write_file(dir / "ca.pem", pki.ca_cert_pem, 0644, diag))
        return ec;
    if (auto ec = write_file(dir / "server.pem", pki.server_cert_pem, 0644, diag))
        return ec;
    return write_file(dir / "server-key.pem", pki.server_key_pem, 0600, diag);
}

namespace {

// Whether `dir` holds a whole PKI, each certificate valid for at least another day: a
// simulator started now must not begin serving one that expires during its run.
bool usable_pki_in(const std::filesystem::path& dir, server_pki& out) {
    server_pki pki;
    diagnostics ignored;
    if (read_file(dir / "ca.pem", pki.ca_cert_pem, ignored) ||
        read_file(dir / "server.pem", pki.server_cert_pem, ignored) ||
        read_file(dir / "server-key.pem", pki.server_key_pem, ignored))
        return false;
    const auto ca = detail::parse_certificate_pem(pki.ca_cert_pem);
    const auto leaf = detail::parse_certificate_pem(pki.server_cert_pem);
    const auto key = detail::parse_private_key_pem(pki.server_key_pem);
    if (!ca || !leaf || !key)
        return false;
    EVP_PKEY* ca_key = X509_get0_pubkey(ca.get());
    time_t tomorrow = time(nullptr) + 86400;
    const bool valid = ca_key != nullptr && X509_check_private_key(leaf.get(), key.get()) == 1 &&
                       X509_verify(leaf.get(), ca_key) == 1 &&
                       X509_cmp_time(X509_get0_notAfter(ca.get()), &tomorrow) > 0 &&
                       X509_cmp_time(X509_get0_notAfter(leaf.get()), &tomorrow) > 0;
    ERR_clear_error(); // a failed check leaves OpenSSL errors a later report would pick up
    if (valid)
        out = std::move(pki);
    return valid;
}

} // namespace

boost::system::error_code load_or_make_server_pki(const pki_options& options,
                                                  const std::filesystem::path& dir, server_pki& out,
                                                  diagnostics& diag) {
    diag.clear();
    if (auto ec = create_folder(dir, diag))
        return ec;
    const auto lock_path = dir / ".lock";
    const int lock = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock < 0 || ::flock(lock, LOCK_EX) != 0) {
        boost::system::error_code ec(errno, boost::system::system_category());
        diag.message = "cannot lock " + lock_path.string() + ": " + ec.message();
        diag.value = lock_path.string();
        if (lock >= 0)
            ::close(lock);
        return ec;
    }
    boost::system::error_code ec;
    if (!usable_pki_in(dir, out)) {
        server_pki fresh;
        ec = generate_server_pki(options, fresh, diag);
        if (!ec)
            ec = write_server_pki(fresh, dir, diag);
        if (!ec)
            out = std::move(fresh);
    }
    ::close(lock); // releases the lock
    return ec;
}

boost::system::error_code load_server_pki(const std::filesystem::path& cert_file,
                                          const std::filesystem::path& key_file, server_pki& out,
                                          diagnostics& diag) {
    diag.clear();
    server_pki pki;
    if (auto ec = read_file(cert_file, pki.server_cert_pem, diag))
        return ec;
    if (auto ec = read_file(key_file, pki.server_key_pem, diag))
        return ec;
    auto cert = detail::parse_certificate_pem(pki.server_cert_pem);
    if (!cert) {
        diag.value = cert_file.string();
        return fail(diag, "no PEM certificate in " + cert_file.string());
    }
    auto key = detail::parse_private_key_pem(pki.server_key_pem);
    if (!key) {
        diag.value = key_file.string();
        return fail(diag, "no unencrypted PEM private key in " + key_file.string());
    }
    if (X509_check_private_key(cert.get(), key.get()) != 1)
        return fail(diag, "the key in " + key_file.string() + " does not match the certificate");
    out = std::move(pki);
    return {};
}

boost::system::error_code make_client_certificate(std::string_view common_name,
                                                  client_certificate& out, diagnostics& diag,
                                                  int validity_days) {
    diag.clear();
    // RSA because the grant is RS256; 2048 bits is the smallest size AvePoint accepts.
    detail::evp_pkey_ptr key(EVP_RSA_gen(2048));
    if (!key)
        return fail(diag, "cannot generate an RSA 2048 key");
    auto cert = make_certificate(key.get(), common_name, validity_days);
    if (!cert || X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get())) != 1 ||
        !add_extension(cert.get(), cert.get(), NID_basic_constraints, "critical,CA:FALSE") ||
        !add_extension(cert.get(), cert.get(), NID_key_usage, "critical,digitalSignature") ||
        !add_extension(cert.get(), cert.get(), NID_ext_key_usage, "clientAuth") ||
        X509_sign(cert.get(), key.get(), EVP_sha256()) == 0)
        return fail(diag, "cannot make the client certificate");
    client_certificate result;
    result.cert_pem = detail::certificate_to_pem(cert.get());
    result.key_pem = detail::private_key_to_pem(key.get());
    const std::string der = detail::certificate_to_der(cert.get());
    if (result.cert_pem.empty() || result.key_pem.empty() || der.empty())
        return fail(diag, "cannot encode the client certificate");
    const std::string digest = sha1(der);
    result.x5t = detail::base64url_encode(digest);
    static constexpr char hex[] = "0123456789ABCDEF";
    for (unsigned char c : digest) {
        result.thumbprint_hex += hex[c >> 4];
        result.thumbprint_hex += hex[c & 15];
    }
    out = std::move(result);
    return {};
}

std::string certificate_x5t(std::string_view cert_pem) {
    auto cert = detail::parse_certificate_pem(cert_pem);
    if (!cert)
        return {};
    const std::string der = detail::certificate_to_der(cert.get());
    return der.empty() ? std::string{} : detail::base64url_encode(sha1(der));
}

} // namespace dynjobs::sim
