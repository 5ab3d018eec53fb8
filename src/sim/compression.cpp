// src/sim/compression.cpp - Accept-Encoding negotiation and zlib compression of response bodies.
#include "sim/compression.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <new>
#include <stdexcept>

namespace dynjobs::sim {

namespace {

char lower(char c) noexcept {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                              [](char x, char y) { return lower(x) == lower(y); });
}

/// Without the optional whitespace (OWS: spaces and tabs) around it.
std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

/// A qvalue (RFC 9110 section 12.4.2: "0", "0.5", "0.125", "1", "1.000") in thousandths, or -1
/// when `v` is not one.
int parse_qvalue(std::string_view v) noexcept {
    if (v.empty() || (v[0] != '0' && v[0] != '1') || v.size() > 5)
        return -1;
    int value = v[0] == '1' ? 1000 : 0;
    if (v.size() == 1)
        return value;
    if (v[1] != '.')
        return -1;
    int scale = 100;
    for (char c : v.substr(2)) {
        if (c < '0' || c > '9')
            return -1;
        value += (c - '0') * scale;
        scale /= 10;
    }
    return value > 1000 ? -1 : value;
}

/// What an Accept-Encoding value says about the codings the simulator knows: each one's q in
/// thousandths, -1 when not listed by name.
struct acceptance {
    int gzip = -1;
    int deflate = -1;
    int identity = -1;
    int any = -1; ///< `*`

    /// `listed` counts once more. A coding listed twice counts with its lowest q: a client that
    /// refuses it once (q=0) does not want it.
    static void note(int& listed, int q) { listed = listed < 0 ? q : std::min(listed, q); }
};

acceptance parse_accept_encoding(std::string_view header) {
    acceptance out;
    while (!header.empty()) {
        const auto comma = header.find(',');
        std::string_view element = header.substr(0, comma);
        header = comma == header.npos ? std::string_view{} : header.substr(comma + 1);

        const auto semicolon = element.find(';');
        const std::string_view name = trim(element.substr(0, semicolon));
        if (name.empty() || name.find_first_of(" \t") != name.npos)
            continue; // an empty list element (", ,") or garbage: no coding named
        int q = 1000;
        bool valid = true;
        std::string_view params =
            semicolon == element.npos ? std::string_view{} : element.substr(semicolon + 1);
        while (valid && !params.empty()) {
            const auto next = params.find(';');
            const std::string_view param = params.substr(0, next);
            params = next == params.npos ? std::string_view{} : params.substr(next + 1);
            const auto eq = param.find('=');
            // Parameters other than q are no part of Accept-Encoding's grammar: ignored.
            if (eq == param.npos || !iequals(trim(param.substr(0, eq)), "q"))
                continue;
            q = parse_qvalue(trim(param.substr(eq + 1)));
            valid = q >= 0;
        }
        if (!valid)
            continue;
        if (iequals(name, "gzip") || iequals(name, "x-gzip")) // RFC 9110 section 8.4.1.3
            acceptance::note(out.gzip, q);
        else if (iequals(name, "deflate"))
            acceptance::note(out.deflate, q);
        else if (iequals(name, "identity"))
            acceptance::note(out.identity, q);
        else if (name == "*")
            acceptance::note(out.any, q);
    }
    return out;
}

/// One zlib deflate stream; the window bits pick the wrapper (gzip, zlib or none).
class deflater {
public:
    deflater(content_coding coding, int level, bool raw_deflate) {
        const int window_bits = coding == content_coding::gzip ? 15 + 16 : raw_deflate ? -15 : 15;
        const int rc = deflateInit2(&z_, level, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY);
        if (rc == Z_MEM_ERROR)
            throw std::bad_alloc();
        if (rc != Z_OK)
            throw std::invalid_argument("zlib level " + std::to_string(level) +
                                        " is not from 1 to 9");
    }
    ~deflater() { deflateEnd(&z_); }
    deflater(const deflater&) = delete;
    deflater& operator=(const deflater&) = delete;

    /// Compresses `in` onto `out`, ending with `flush` (Z_FULL_FLUSH or Z_FINISH).
    void run(std::string_view in, int flush, std::string& out) {
        z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
        z_.avail_in = static_cast<uInt>(in.size());
        for (;;) {
            // deflateBound is enough for the rest in one call; the 64 bytes cover a flush's
            // marker and the trailer.
            const std::size_t at = out.size();
            out.resize(at + deflateBound(&z_, z_.avail_in) + 64);
            z_.next_out = reinterpret_cast<Bytef*>(out.data() + at);
            z_.avail_out = static_cast<uInt>(out.size() - at);
            const int rc = deflate(&z_, flush);
            out.resize(out.size() - z_.avail_out);
            if (rc == Z_STREAM_END || (flush != Z_FINISH && z_.avail_in == 0 && z_.avail_out != 0))
                return;
            if (rc != Z_OK && rc != Z_BUF_ERROR)
                throw std::logic_error("zlib deflate failed"); // only on a broken stream state
        }
    }

private:
    z_stream z_{};
};

} // namespace

std::string_view to_string(content_coding c) noexcept {
    switch (c) {
    case content_coding::gzip:
        return "gzip";
    case content_coding::deflate:
        return "deflate";
    case content_coding::identity:
        break;
    }
    return "identity";
}

content_coding negotiate_coding(std::string_view accept_encoding,
                                const compression_config& offered) {
    const acceptance a = parse_accept_encoding(accept_encoding);
    // A coding not listed by name takes the q of `*`, and is refused when neither is listed.
    const auto q_of = [&](int listed) { return listed >= 0 ? listed : std::max(a.any, 0); };
    content_coding best = content_coding::identity;
    int best_q = 0;
    if (offered.gzip && q_of(a.gzip) > best_q) {
        best = content_coding::gzip;
        best_q = q_of(a.gzip);
    }
    if (offered.deflate && q_of(a.deflate) > best_q) {
        best = content_coding::deflate;
        best_q = q_of(a.deflate);
    }
    return a.identity > best_q ? content_coding::identity : best;
}

std::string compress_body(std::string_view body, content_coding coding, int level,
                          bool raw_deflate) {
    if (coding == content_coding::identity)
        return std::string(body);
    std::string out;
    deflater(coding, level, raw_deflate).run(body, Z_FINISH, out);
    return out;
}

std::optional<std::string> faulty_gzip(std::string_view body, fault_kind kind, int level) {
    if (kind == fault_kind::truncated_gzip) {
        std::string out = compress_body(body, content_coding::gzip, level);
        out.resize(out.size() - 8);
        return out;
    }
    if (kind != fault_kind::corrupt_gzip)
        return std::nullopt;
    std::string out;
    deflater z(content_coding::gzip, level, false);
    z.run(body.substr(0, body.size() / 2), Z_FULL_FLUSH, out);
    // After a full flush the next block starts on this byte: bit 0 is BFINAL, bits 1-2 BTYPE.
    const std::size_t next_block = out.size();
    z.run(body.substr(body.size() / 2), Z_FINISH, out);
    out[next_block] = static_cast<char>(out[next_block] | 0x06);
    return out;
}

std::vector<std::size_t> awkward_chunk_sizes(std::size_t size) {
    constexpr std::array<std::size_t, 3> leading{1, 7, 4093};
    constexpr std::array<std::size_t, 3> trailing{3, 4, 1};
    std::vector<std::size_t> sizes;
    const std::size_t head = size > 8 ? size - 8 : 0;
    for (std::size_t at = 0, i = 0; at < head; ++i) {
        const std::size_t n = std::min(leading[i % leading.size()], head - at);
        sizes.push_back(n);
        at += n;
    }
    std::size_t left = size - head;
    for (std::size_t i = 0; left > 0; ++i) {
        const std::size_t n = std::min(trailing[i], left);
        sizes.push_back(n);
        left -= n;
    }
    return sizes;
}

} // namespace dynjobs::sim
