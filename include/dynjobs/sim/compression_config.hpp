// dynjobs/sim/compression_config.hpp - which compressed response bodies a simulator serves.
#pragma once

#include <dynjobs/export.hpp>

#include <cstddef>
#include <string_view>

namespace dynjobs::sim {

/// A content coding of a response body (RFC 9110 section 8.4.1).
enum class content_coding {
    identity, ///< the body as it is
    gzip,     ///< RFC 1952
    /// "deflate": RFC 1950 (a zlib stream), as RFC 9110 defines it; with
    /// compression_config::raw_deflate a raw RFC 1951 stream, as some servers send.
    deflate,
};

/// "identity", "gzip" or "deflate": also the Content-Encoding value.
DYNJOBS_DECL std::string_view to_string(content_coding c) noexcept;

/// What the simulator compresses and how. The default is a gateway as deployed: gzip and
/// deflate offered, bodies under 1 KiB sent as they are, zlib's fastest level.
struct compression_config {
    /// Serve gzip to requests that accept it. true.
    bool gzip = true;
    /// Serve deflate to requests that accept it (gzip first when both are accepted equally).
    /// true.
    bool deflate = true;
    /// Write "deflate" bodies as raw RFC 1951 streams, without the zlib header and Adler-32
    /// that RFC 9110 requires: servers built on APIs that emit raw deflate do so, and clients
    /// cope by looking at the first bytes. false: zlib-wrapped, as the RFC says.
    bool raw_deflate = false;
    /// Bodies shorter than this are sent as they are: compressing a few hundred bytes saves
    /// less than it costs. 1024, the smallest body Azure Front Door compresses. The jobs
    /// endpoint's error bodies (a few hundred bytes) and a page of one job stay plain.
    std::size_t min_size = 1024;
    /// zlib level, 1 (fastest) to 9 (smallest). 1: what ASP.NET Core's response compression
    /// uses by default (CompressionLevel.Fastest), and the better trade for a server: on the
    /// simulator's pages level 1 shrinks JSON 5.9 times at about 200 MB/s, level 6 7.7 times at
    /// about 90 MB/s (bench_compress, Release, 2 cores). At 100 Mbit/s, 100,000 jobs then take
    /// 0.68 s of link and 0.25 s of server CPU at level 1, 0.52 s of link and 0.55 s of CPU at
    /// level 6.
    int level = 1;
    /// Frame compressed bodies with `Transfer-Encoding: chunked` in chunks of the sizes
    /// awkward_chunk_sizes() gives (1, 7, 4093, ..., then the last 8 bytes as 3, 4 and 1), so
    /// that the gzip and zlib headers and trailers straddle chunk boundaries. false: one body
    /// with its Content-Length. Plain bodies always carry a Content-Length.
    bool awkward_chunks = false;

    /// Whether any coding is offered (else responses carry no Vary: Accept-Encoding).
    bool any() const noexcept { return gzip || deflate; }

    /// Every field equal.
    friend bool operator==(const compression_config&, const compression_config&) = default;
};

} // namespace dynjobs::sim
