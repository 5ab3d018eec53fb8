// Fuzzes the streaming inflater feeding the page decoder, as a compressed page arrives: the
// input is taken as a gzip or deflate body (valid, corrupt or truncated) split into chunks.
//
// Invariants:
// - the chunking never changes the outcome: chunked and whole inflation both fail or both
//   succeed, and then produce the same bytes;
// - the inflated size never passes the limit (a decompression bomb is an error, not memory);
// - nothing crashes, leaks or reads out of bounds (ASan, UBSan).
#include "fuzz_check.hpp"
#include "net/inflater.hpp"

#include <dynjobs/error.hpp>
#include <dynjobs/page_decoder.hpp>

#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

using namespace dynjobs;

namespace {

constexpr std::uint64_t limit = 1u << 20;

struct outcome {
    boost::system::error_code ec;
    std::string out;
};

outcome inflate(net::inflater& z, net::content_coding coding, const std::string& body,
                const std::vector<std::size_t>& chunks) {
    outcome r;
    z.reset(coding, limit);
    diagnostics diag;
    const net::inflater::output sink = [&](std::string_view bytes) {
        r.out.append(bytes);
        return boost::system::error_code{};
    };
    std::size_t pos = 0;
    for (std::size_t i = 0; pos < body.size() && !r.ec; ++i) {
        const std::size_t n = chunks.empty() ? body.size() : chunks[i % chunks.size()];
        r.ec = z.write(std::string_view(body).substr(pos, n), sink, diag);
        pos += n;
    }
    if (!r.ec)
        r.ec = z.finish(diag);
    return r;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider in(data, size);
    const auto coding = in.ConsumeBool() ? net::content_coding::gzip : net::content_coding::deflate;
    std::vector<std::size_t> chunks(in.ConsumeIntegralInRange<std::size_t>(1, 8));
    for (auto& n : chunks)
        n = in.ConsumeIntegralInRange<std::size_t>(1, 64);
    const std::string body = in.ConsumeRemainingBytesAsString();

    net::inflater z;
    const auto whole = inflate(z, coding, body, {});
    const auto chunked = inflate(z, coding, body, chunks); // the same inflater, reset
    FUZZ_CHECK(whole.out.size() <= limit + 64 * 1024);
    FUZZ_CHECK(static_cast<bool>(whole.ec) == static_cast<bool>(chunked.ec));
    if (!whole.ec) {
        FUZZ_CHECK(whole.out == chunked.out);
        // What inflated is a page body: the decoder must take it without crashing.
        jobs_page page;
        diagnostics diag;
        (void)decode_page(whole.out, page, diag);
    }
    return 0;
}
