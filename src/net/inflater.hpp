// src/net/inflater.hpp - a gzip or deflate response body, inflated as it streams in.
#pragma once

#include <dynjobs/diagnostics.hpp>

#include <boost/system/error_code.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

namespace dynjobs::net {

/// The Content-Encoding of a response body.
enum class content_coding {
    identity,
    gzip,    ///< RFC 1952
    deflate, ///< RFC 1950 (zlib), or raw RFC 1951 as some servers send it: told apart by header
};

/// Parses a Content-Encoding header value ("gzip", "x-gzip", "deflate", "identity", empty;
/// case-insensitive). False for anything else (br, compress, a list of codings): the body cannot
/// be decoded, and the caller reports it.
bool parse_content_coding(std::string_view header, content_coding& out) noexcept;

/// Inflates one body chunk by chunk into a fixed 64 KB output buffer handed to `out` as it
/// fills: memory is zlib's state (its 32 KB window) plus that buffer, whatever the body's size,
/// taken at the first compressed body (an identity body passes through and costs nothing: each
/// pooled connection has an inflater, and most servers send these pages uncompressed).
///
/// Errors (diag.message says what, never with body bytes):
/// - errc::bad_content_encoding: the stream is corrupt, or ends before the compressed stream
///   does (finish()), or has bytes after it;
/// - errc::limit_exceeded: more than `max_inflated` bytes would come out (a decompression bomb).
/// An error returned by `out` is passed on as is.
///
/// Not thread-safe. reset() makes it ready for another body, reusing zlib's state.
class inflater {
public:
    using output = std::function<boost::system::error_code(std::string_view)>;

    inflater();
    ~inflater();
    inflater(const inflater&) = delete;
    inflater& operator=(const inflater&) = delete;

    void reset(content_coding coding, std::uint64_t max_inflated);
    boost::system::error_code write(std::string_view chunk, const output& out, diagnostics& diag);
    /// The body ended: the compressed stream must have ended with it.
    boost::system::error_code finish(diagnostics& diag);

    std::uint64_t inflated_bytes() const noexcept;

private:
    struct impl;
    content_coding coding_ = content_coding::identity;
    std::unique_ptr<impl> impl_;
};

} // namespace dynjobs::net
