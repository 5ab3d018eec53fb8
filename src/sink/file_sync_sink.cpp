// `dynjobs sync` into a JSONL file: the file is a log of job versions. A job's line is appended
// when the job is new or any field differs from its last line in the file, so the last line per
// jobId is the job as it is now, and a job that never changes is in the file once.
//
// Change detection: at start the file is scanned once to rebuild jobId -> fingerprint (a 64-bit
// hash of the job's line, resume_scan.hpp). That costs about 120 bytes per job in memory (the
// hash-map node, the jobId's heap string, the bucket): 120 MB for a million jobs.
//
// The high-water mark lives in `<output>.sync-state` (the checkpoint format, checkpoint.hpp:
// the selection, `finish` = the mark, `output_offset` = the bytes it covers), written
// atomically after the output is synced at the end of each successful cycle. At start the
// output is cut back to that offset, as a backfill's resume does: a torn last line, or lines of
// a cycle that had not ended, go; the cycle after fetches them again and appends what differs.
#include "sink/sync_sink.hpp"

#include "cli/arg_reader.hpp"
#include "cli/checkpoint.hpp"
#include "cli/output_file.hpp"
#include "cli/resume_scan.hpp"

#include <fstream>
#include <sstream>
#include <unordered_map>

namespace dynjobs::sink {
namespace {

using namespace dynjobs::cli;

// The output is read back in pieces of this size at start, not whole.
constexpr std::uint64_t scan_chunk = 8 << 20;

std::filesystem::path state_path(const std::filesystem::path& output) {
    return output.string() + ".sync-state";
}

class file_sync_sink final : public sync_sink {
public:
    explicit file_sync_sink(const backfill_plan& plan)
        : plan_(plan)
        , state_path_(state_path(plan.output)) {}

    boost::asio::awaitable<std::optional<timestamp>> open() override {
        std::error_code ec;
        if (!std::filesystem::exists(state_path_, ec)) {
            // Appending to a file of unknown history could not tell new jobs from old ones.
            if (std::filesystem::exists(plan_.output, ec) &&
                std::filesystem::file_size(plan_.output, ec) != 0)
                throw usage_error{"--output: '" + plan_.output.string() +
                                  "' exists but was not written by sync (no '" +
                                  state_path_.string() +
                                  "'): give another --output, or move it away"};
            state_.chosen = plan_.chosen;
            out_.emplace(output_file::create(plan_.output));
            co_return std::nullopt;
        }
        std::ifstream in(state_path_, std::ios::binary);
        std::ostringstream text;
        text << in.rdbuf();
        std::string error;
        auto saved = decode_checkpoint(text.str(), error);
        if (!saved)
            throw usage_error{"--output: '" + state_path_.string() +
                              "' is not a usable sync state (" + error +
                              "); move it and the output away to start over"};
        if (auto mismatch = selection_mismatch(saved->chosen, plan_.chosen))
            throw usage_error{"--output: '" + plan_.output.string() +
                              "' was synced with another selection: " + *mismatch +
                              "; give another --output for this one"};
        state_ = *saved;
        out_.emplace(output_file::resume(plan_.output, state_.output_offset));
        scan(state_.output_offset);
        co_return state_.finish;
    }

    boost::asio::awaitable<void> write(job_batch batch) override {
        repair_if_damaged();
        auto& buffer = out_->buffer();
        for (const auto& j : batch.jobs) {
            const auto at = buffer.size();
            append_job_line(buffer, output_format::jsonl, j);
            const auto line = std::string_view(buffer).substr(at, buffer.size() - at - 1);
            const auto fingerprint = line_fingerprint(line);
            const auto [it, inserted] = fingerprints_.try_emplace(j.job_id, fingerprint);
            if (!inserted && it->second == fingerprint) {
                buffer.resize(at); // unchanged: not written again
                continue;
            }
            ++counts_.upserted;
            if (!inserted) {
                ++counts_.changed;
                it->second = fingerprint;
            }
        }
        damaged_ = true; // until the write below has gone through
        out_->commit_buffer();
        damaged_ = false;
        co_return;
    }

    boost::asio::awaitable<cycle_counts> commit_cycle(timestamp high_water_mark) override {
        repair_if_damaged();
        damaged_ = true;
        out_->sync(); // the state may only cover bytes that are on disk
        damaged_ = false;
        state_.finish = high_water_mark;
        state_.output_offset = out_->offset();
        state_.complete = true;
        write_file_atomically(state_path_, encode_checkpoint(state_));
        co_return std::exchange(counts_, {});
    }

    boost::asio::awaitable<cycle_counts> abandon_cycle() override {
        // The lines appended stay: they are jobs as they are, and the fingerprints know them.
        // The state keeps its offset until a cycle succeeds; a crash before then cuts them off
        // and the next start's scan forgets them with them. After a failed write they go now
        // (repair_if_damaged, at the next cycle's first write), and count as nothing written.
        if (damaged_)
            counts_ = {};
        co_return std::exchange(counts_, {});
    }

    std::string output_name() const override { return plan_.output.string(); }

private:
    /// After a failed write (a full disk, a file size limit) the file may end in part of a line,
    /// the buffer still holds what was not written, and the fingerprints know jobs the file does
    /// not: lines of them would never be appended. Back to the last committed cycle, as a
    /// restart would do; the next cycle fetches the same range again.
    void repair_if_damaged() {
        if (!damaged_)
            return;
        out_.reset();
        out_.emplace(output_file::resume(plan_.output, state_.output_offset));
        fingerprints_.clear();
        scan(state_.output_offset);
        damaged_ = false;
    }

    void scan(std::uint64_t size) {
        std::uint64_t from = 0;
        while (from < size) {
            const auto to = std::min(size, from + scan_chunk);
            const auto text = read_file_range(plan_.output, from, to);
            const auto end = text.rfind('\n');
            if (end == std::string::npos)
                throw std::runtime_error("output " + plan_.output.string() + " after byte " +
                                         std::to_string(from) + ": a line longer than " +
                                         std::to_string(scan_chunk) + " bytes: not sync's output");
            std::string error;
            if (!collect_job_fingerprints(std::string_view(text).substr(0, end + 1), fingerprints_,
                                          error))
                throw std::runtime_error("output " + plan_.output.string() + " after byte " +
                                         std::to_string(from) + ": " + error +
                                         ": not sync's output");
            from += end + 1;
        }
    }

    const backfill_plan& plan_;
    std::filesystem::path state_path_;
    checkpoint state_;
    std::optional<output_file> out_;
    std::unordered_map<std::string, std::uint64_t> fingerprints_;
    cycle_counts counts_;
    bool damaged_ = false; ///< a write failed: file, buffer and fingerprints disagree
};

} // namespace

std::unique_ptr<sync_sink> make_file_sync_sink(const backfill_plan& plan) {
    return std::make_unique<file_sync_sink>(plan);
}

} // namespace dynjobs::sink
