// src/sim/compression.hpp - compressed response bodies: Accept-Encoding negotiation, gzip and
// deflate, chunk splits that cut a compressed stream at awkward places, and broken gzip bodies.
//
// Socket-free, so that the simulator's choices are unit-tested alone; the session frames and
// sends what these functions produce.
#pragma once

#include <dynjobs/sim/compression_config.hpp>
#include <dynjobs/sim/faults.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dynjobs::sim {

/// The coding to answer with, from the request's Accept-Encoding (RFC 9110 section 12.5.3; all
/// its header lines joined with ", ", empty when absent) and what `offered` allows:
/// - a coding is accepted when listed with q > 0 (`x-gzip` counts as gzip), or, when not listed
///   by name, when `*` is listed with q > 0; `gzip;q=0` refuses gzip whatever `*` says;
/// - the accepted offered coding with the highest q wins, gzip before deflate at equal q;
/// - `identity` competes only when named, and wins only with a q above the best coding's:
///   `identity;q=1, gzip;q=0.5` gets identity, `gzip, identity` gets gzip (as ASP.NET Core's
///   response compression decides);
/// - an absent or empty header, or nothing accepted, gets identity (never a 406: servers send
///   the plain body rather than refuse).
/// Names and `q` are case-insensitive; whitespace around `,`, `;` and `=` is allowed. An element
/// whose q is not a qvalue (`q=2`, `q=0.5000`, `q=x`) is ignored, as if absent.
content_coding negotiate_coding(std::string_view accept_encoding,
                                const compression_config& offered);

/// `body` compressed as `coding` at zlib `level` (1 to 9); `raw_deflate` writes deflate without
/// its zlib wrapper. identity returns the body as it is. Throws std::invalid_argument for a
/// level outside 1 to 9, std::bad_alloc when zlib cannot get memory.
std::string compress_body(std::string_view body, content_coding coding, int level,
                          bool raw_deflate = false);

/// The fault kinds corrupt_gzip and truncated_gzip applied to `body`: a gzip stream (at `level`)
/// that no inflater accepts in full. nullopt for any other kind.
/// - corrupt_gzip: the body is compressed in two halves with a full flush between them, so the
///   second half starts a new deflate block on a byte boundary; that byte gets its block type
///   bits flipped to the reserved type 3. An inflater yields exactly the first half of the body,
///   then fails with a data error ("invalid block type"), deterministically.
/// - truncated_gzip: the whole gzip stream but its last 8 bytes (the CRC-32 and length
///   trailer). Every byte of the body inflates; only the end of the stream is missing, which a
///   client notices only if it checks that the stream ended.
std::optional<std::string> faulty_gzip(std::string_view body, fault_kind kind, int level);

/// The chunk sizes compression_config::awkward_chunks splits a body of `size` bytes into: 1, 7,
/// 4093, 1, 7, 4093, ... over all but the last 8 bytes (the first cut falls inside the gzip
/// magic number, the second inside gzip's 10-byte header), then 3, 4 and 1 (cutting gzip's
/// CRC-32, its ISIZE and zlib's Adler-32). They add up to `size`; none is 0; empty for 0.
std::vector<std::size_t> awkward_chunk_sizes(std::size_t size);

} // namespace dynjobs::sim
