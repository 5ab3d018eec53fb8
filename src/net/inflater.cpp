#include "net/inflater.hpp"

#include <dynjobs/error.hpp>

#include <zlib.h>

#include <array>
#include <cctype>
#include <string>

namespace dynjobs::net {
using boost::system::error_code;

namespace {

bool equals_ignoring_case(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) !=
            std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}

std::string_view trimmed(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

// A zlib (RFC 1950) stream starts with CMF/FLG: method 8 and a header checksum. Raw deflate
// data practically never looks like that.
bool looks_like_zlib(unsigned char cmf, unsigned char flg) noexcept {
    return (cmf & 0x0f) == 8 && (cmf >> 4) <= 7 && ((cmf << 8) | flg) % 31 == 0;
}

constexpr std::size_t out_size = 64 * 1024;

} // namespace

bool parse_content_coding(std::string_view header, content_coding& out) noexcept {
    const auto v = trimmed(header);
    if (v.empty() || equals_ignoring_case(v, "identity"))
        out = content_coding::identity;
    else if (equals_ignoring_case(v, "gzip") || equals_ignoring_case(v, "x-gzip"))
        out = content_coding::gzip;
    else if (equals_ignoring_case(v, "deflate"))
        out = content_coding::deflate;
    else
        return false;
    return true;
}

struct inflater::impl {
    z_stream z{};
    bool initialised = false;
    bool started = false; ///< zlib set up for this body (deflate waits for its first 2 bytes)
    bool ended = false;   ///< Z_STREAM_END seen
    std::uint64_t max_inflated = 0;
    std::uint64_t inflated = 0;
    unsigned char first_byte = 0;
    bool have_first_byte = false;
    bool any_input = false; ///< an empty body (a 204, a HEAD) is no stream at all
    /// Not zeroed: inflate() writes before anything reads (new pages cost a fault each).
    std::array<char, out_size> buffer;

    ~impl() {
        if (initialised)
            inflateEnd(&z);
    }

    error_code fail(errc e, std::string message, diagnostics& diag) {
        diag.message = std::move(message);
        return e;
    }

    // windowBits: 15 + 16 = gzip only, 15 = zlib, -15 = raw deflate.
    error_code start(int window_bits, diagnostics& diag) {
        const int rc = initialised ? inflateReset2(&z, window_bits) : inflateInit2(&z, window_bits);
        if (rc != Z_OK)
            return fail(errc::bad_content_encoding, "zlib could not start inflating", diag);
        initialised = true;
        started = true;
        return {};
    }

    error_code inflate_bytes(const unsigned char* data, std::size_t size, const output& out,
                             diagnostics& diag) {
        z.next_in = const_cast<unsigned char*>(data);
        z.avail_in = static_cast<uInt>(size);
        while (z.avail_in > 0) {
            if (ended)
                return fail(errc::bad_content_encoding,
                            "bytes follow the end of the compressed body", diag);
            z.next_out = reinterpret_cast<unsigned char*>(buffer.data());
            z.avail_out = static_cast<uInt>(buffer.size());
            const int rc = inflate(&z, Z_NO_FLUSH);
            const std::size_t produced = buffer.size() - z.avail_out;
            if (rc != Z_OK && rc != Z_STREAM_END && !(rc == Z_BUF_ERROR && produced > 0))
                return fail(errc::bad_content_encoding,
                            std::string("the compressed body is corrupt (zlib: ") +
                                (z.msg != nullptr ? z.msg : "error " + std::to_string(rc)) + ")",
                            diag);
            ended = rc == Z_STREAM_END;
            inflated += produced;
            if (inflated > max_inflated)
                return fail(errc::limit_exceeded,
                            "the compressed body inflates to more than " +
                                std::to_string(max_inflated) + " bytes",
                            diag);
            if (produced > 0)
                if (auto ec = out(std::string_view(buffer.data(), produced)))
                    return ec;
        }
        return {};
    }
};

inflater::inflater() = default;

inflater::~inflater() = default;

void inflater::reset(content_coding coding, std::uint64_t max_inflated) {
    coding_ = coding;
    if (coding == content_coding::identity)
        return;
    if (!impl_)
        impl_.reset(new impl); // default-initialised: the output buffer is left as it is
    impl_->max_inflated = max_inflated;
    impl_->inflated = 0;
    impl_->started = false;
    impl_->ended = false;
    impl_->have_first_byte = false;
    impl_->any_input = false;
}

error_code inflater::write(std::string_view chunk, const output& out, diagnostics& diag) {
    if (coding_ == content_coding::identity)
        return out(chunk);
    impl& d = *impl_;
    auto* data = reinterpret_cast<const unsigned char*>(chunk.data());
    std::size_t size = chunk.size();
    d.any_input |= size != 0;
    if (!d.started && coding_ == content_coding::gzip)
        if (auto ec = d.start(15 + 16, diag))
            return ec;
    if (!d.started) { // deflate: zlib-wrapped or raw, told by the first two bytes
        if (size == 0)
            return {};
        if (!d.have_first_byte) {
            d.first_byte = data[0];
            d.have_first_byte = true;
            ++data;
            --size;
            if (size == 0)
                return {};
        }
        if (auto ec = d.start(looks_like_zlib(d.first_byte, data[0]) ? 15 : -15, diag))
            return ec;
        if (auto ec = d.inflate_bytes(&d.first_byte, 1, out, diag))
            return ec;
    }
    return d.inflate_bytes(data, size, out, diag);
}

error_code inflater::finish(diagnostics& diag) {
    if (coding_ == content_coding::identity)
        return {};
    impl& d = *impl_;
    if (d.ended || !d.any_input)
        return {};
    return d.fail(errc::bad_content_encoding,
                  "the body ended before its compressed stream did (truncated)", diag);
}

std::uint64_t inflater::inflated_bytes() const noexcept {
    return coding_ == content_coding::identity ? 0 : impl_->inflated;
}

} // namespace dynjobs::net
