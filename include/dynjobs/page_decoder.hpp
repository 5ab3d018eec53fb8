// dynjobs/page_decoder.hpp - incremental decoder of a jobs response body.
#pragma once

#include <dynjobs/diagnostics.hpp>
#include <dynjobs/export.hpp>
#include <dynjobs/jobs_page.hpp>

#include <boost/system/error_code.hpp>

#include <cstddef>
#include <memory>
#include <string_view>

namespace dynjobs {

/// Limits that bound what one response may make the decoder allocate or recurse into.
struct decoder_limits {
    /// Largest body accepted. A page of 10,000 jobs (jobs_query::max_page_size) is about 6 MB;
    /// 64 MiB leaves room for verbose servers while stopping a runaway stream.
    std::size_t max_body_bytes = 64u << 20;
    /// Longest single string or key. Job strings are names and ids; 64 KiB is generous.
    std::size_t max_string_bytes = 64u << 10;
    /// Deepest nesting of arrays and objects. A page is 3 deep; unknown fields may add some.
    std::size_t max_depth = 32;
    /// Most jobs in one page, before decoding the next is refused.
    std::size_t max_jobs = 100'000;
};

/// Decodes a GET /dynamicsbackup/jobs body fed in arbitrary chunks straight into a jobs_page,
/// without building a JSON tree (boost::json::basic_parser with a typed handler).
///
/// Accepts fields in any order, unknown fields at any depth (skipped), `null` for optional
/// values, integers written with a zero fraction (`1.0`), `//` and `/* */` comments and trailing
/// commas: the response sample of the published API page decodes verbatim.
///
/// Errors (dynjobs::errc): json_syntax, truncated_body (finish() before the document ended),
/// unexpected_type, value_out_of_range, invalid_value, missing_field, limit_exceeded. The
/// diagnostics carry the JSON path (`jobs[3].backupSize`) and a message such as
/// `jobs[3].backupSize: expected an integer, got a string`. After an error the decoder stays
/// failed until reset().
///
/// Thread safety: distinct objects are independent; one object is not safe for concurrent use.
class page_decoder {
public:
    /// A decoder that refuses input beyond `limits` (errc::limit_exceeded). Call reset()
    /// before the first write().
    DYNJOBS_DECL explicit page_decoder(decoder_limits limits = {});
    DYNJOBS_DECL ~page_decoder();
    /// Takes over `other`'s state, including a decode in progress; `other` must be reset()
    /// before it is used again.
    DYNJOBS_DECL page_decoder(page_decoder&&) noexcept;
    /// As the move constructor; the decode in progress here, if any, is dropped.
    DYNJOBS_DECL page_decoder& operator=(page_decoder&&) noexcept;

    /// Starts a new body, decoding into `out` (cleared first). `out` must outlive the decode.
    DYNJOBS_DECL void reset(jobs_page& out);

    /// Feeds the next chunk. Returns the error, if any, and fills diag on error.
    DYNJOBS_DECL boost::system::error_code write(std::string_view chunk, diagnostics& diag);

    /// Declares the end of the body. Fails with truncated_body if the document is incomplete,
    /// or missing_field if a required field never came.
    DYNJOBS_DECL boost::system::error_code finish(diagnostics& diag);

    /// True once a complete document has been decoded.
    DYNJOBS_DECL bool done() const noexcept;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

/// Decodes a whole body at once: reset, write, finish.
DYNJOBS_DECL boost::system::error_code decode_page(std::string_view body, jobs_page& out,
                                                   diagnostics& diag,
                                                   const decoder_limits& limits = {});

} // namespace dynjobs
