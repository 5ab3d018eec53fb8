// The backfill's checkpoint: which segments (organization x window) are fully in the output,
// and how many bytes of the output that covers.
//
// Written after the output it covers is synced (see output_file), atomically
// (write_file_atomically), so after a crash at any moment the checkpoint on disk is one that was
// true. It holds no secret: only the selection, offsets and segment numbers.
#pragma once

#include <dynjobs/fetch_request.hpp>
#include <dynjobs/timestamp.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dynjobs::cli {

/// The arguments that decide which jobs a backfill writes where, as "option, value" pairs (for
/// example {"--since", "90d"}). A resume must be given the same ones.
using selection = std::vector<std::pair<std::string, std::string>>;

struct checkpoint {
    selection chosen;
    timestamp start{};  ///< the resolved range, fixed at the first run's start
    timestamp finish{}; ///< (a relative --since or the default --until resolve to the same times)
    std::uint64_t output_offset = 0; ///< bytes of the output this checkpoint covers
    /// Where a resume starts reading the output for jobs of segments that were not complete:
    /// those jobs are in the output already and must not be written again.
    std::uint64_t scan_from = 0;
    std::uint64_t jobs_written = 0; ///< jobs in the first output_offset bytes
    std::vector<policy::segment_key> done;
    bool complete = false; ///< every segment done: nothing is left to resume
};

std::string encode_checkpoint(const checkpoint& c);

/// nullopt with `error` naming what is wrong, for a file that is not a checkpoint of this
/// version.
std::optional<checkpoint> decode_checkpoint(std::string_view text, std::string& error);

/// The first difference between the selection a checkpoint was made with and the current one,
/// as a message naming the option and both values; nullopt when they are the same.
std::optional<std::string> selection_mismatch(const selection& saved, const selection& now);

} // namespace dynjobs::cli
