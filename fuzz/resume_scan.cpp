// Fuzzes the resume's scan of a JSONL output (`backfill --resume`, and `dynjobs sync` reading its
// file at start): lines as a crash, an editor or another program may have left them.
//
// Input: the first byte picks the piece size (1-64 bytes) the scan is fed in; the rest is the
// file's text.
//
// Invariants:
// - the scan agrees with boost::json::parse of each line (its own reading of a line is a SAX
//   handler): the same jobIds in the same order, and it fails exactly at the first line that is
//   not one JSON object with a string jobId, or at a last line without its end, naming that line;
// - fed in pieces it finds the same ids and the same error as fed at once.
#include "fuzz_check.hpp"

#include "cli/resume_scan.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

using namespace dynjobs::cli;

namespace {

struct scan_result {
    std::vector<std::string> ids;
    bool ok = true;
    std::string error;
};

scan_result scan_in_pieces(std::string_view text, std::size_t piece) {
    scan_result r;
    job_id_scan scan(output_format::jsonl, [&](std::string_view id) { r.ids.emplace_back(id); });
    for (std::size_t at = 0; at < text.size() && r.ok; at += piece)
        r.ok = scan.feed(text.substr(at, piece), r.error);
    if (r.ok)
        r.ok = scan.finish(r.error);
    return r;
}

// What a scan with a tree per line finds.
scan_result reference(std::string_view text) {
    scan_result r;
    for (std::size_t line = 1; !text.empty(); ++line) {
        const auto end = text.find('\n');
        if (end == text.npos) {
            r.ok = false;
            r.error = "line " + std::to_string(line) + " has no line end";
            return r;
        }
        boost::system::error_code ec;
        const auto value = boost::json::parse(text.substr(0, end), ec);
        const auto* obj = value.if_object();
        const auto* id = obj ? obj->if_contains("jobId") : nullptr;
        if (ec || !id || !id->is_string()) {
            r.ok = false;
            r.error = "line " + std::to_string(line) + " is not a job with a jobId";
            return r;
        }
        r.ids.emplace_back(id->get_string());
        text.remove_prefix(end + 1);
    }
    return r;
}

void check_same(const scan_result& a, const scan_result& b) {
    FUZZ_CHECK(a.ok == b.ok);
    FUZZ_CHECK(a.ids == b.ids);
    FUZZ_CHECK(a.ok || a.error == b.error);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0)
        return 0;
    const std::size_t piece = 1 + data[0] % 64;
    const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
    const scan_result whole = scan_in_pieces(text, text.size() + 1);
    check_same(whole, reference(text));
    check_same(scan_in_pieces(text, piece), whole);
    return 0;
}
