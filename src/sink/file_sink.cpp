// Exactly-once across crashes rests on three rules:
// - a segment (organization x window) is listed as done only once every job of it is in the
//   output, and the checkpoint is written only after the output bytes it covers are synced;
// - resume cuts the output back to the checkpoint's offset (which drops a torn last line);
// - jobs of unfinished segments that are already in the output (after scanFrom) are collected
//   on resume and dropped when their segments are fetched again.
#include "sink/file_sink.hpp"

#include "cli/arg_reader.hpp"
#include "cli/output_file.hpp"
#include "cli/resume_scan.hpp"
#include "policy/dedupe_set.hpp"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

namespace dynjobs::sink {
namespace {

using namespace dynjobs::cli;
using std::chrono::steady_clock;

std::string read_whole(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

class file_sink final : public job_sink {
public:
    explicit file_sink(const backfill_plan& plan)
        : plan_(plan)
        , resume_(plan.resume)
        , written_before_(policy::spill_of(plan.config.dedupe)) {}

    boost::asio::awaitable<resume_point> open() override {
        cp_ = prepare_checkpoint();
        resume_point out;
        out.resuming = resume_;
        out.complete = resume_ && cp_.complete;
        out.start = cp_.start;
        out.finish = cp_.finish;
        out.done = cp_.done;
        out.jobs_before = cp_.jobs_written;
        for (const auto& key : cp_.done)
            done_.insert(key);
        segments_before_ = cp_.done.size();
        jobs_before_ = cp_.jobs_written;
        // Jobs of segments that were unfinished at the checkpoint lie after its scanFrom; until
        // this run ends we cannot tell which of them are done, so later checkpoints keep
        // pointing there.
        if (cp_.scan_from < cp_.output_offset)
            carried_scan_from_ = cp_.scan_from;
        co_return out;
    }

    // Opens the output: cut back to the checkpoint on resume, and learns which jobs of
    // unfinished segments are in it already.
    boost::asio::awaitable<void> start(std::size_t) override {
        last_checkpoint_ = steady_clock::now();
        if (plan_.to_stdout) {
            out_.emplace(output_file::standard_output());
        } else if (resume_ && cp_.output_offset == 0) {
            // Killed between the first checkpoint and the first sync: nothing to keep, and the
            // output may not even exist yet.
            out_.emplace(output_file::create(plan_.output));
        } else if (resume_) {
            out_.emplace(output_file::resume(plan_.output, cp_.output_offset));
            collect_written_before();
        } else {
            save_checkpoint(false); // before the output is truncated: never a stale offset
            out_.emplace(output_file::create(plan_.output));
        }
        if (out_->offset() == 0)
            out_->append(output_preamble(plan_.format));
        co_return;
    }

    boost::asio::awaitable<void> write(job_batch batch) override {
        const policy::segment_key key{batch.organization_slot, batch.window};
        if (!batch.jobs.empty() && !open_.contains(key))
            open_.emplace(key, out_->offset());
        auto& buffer = out_->buffer();
        for (const auto& j : batch.jobs) {
            if (written_before_.size() != 0 && written_before_.contains(j.job_id)) {
                ++resume_duplicates_;
                continue;
            }
            append_job_line(buffer, plan_.format, j);
            ++jobs_written_;
        }
        out_->commit_buffer();
        if (batch.segment_complete) {
            open_.erase(key);
            done_.insert(key);
        }
        if (!plan_.checkpoint_path.empty() &&
            steady_clock::now() - last_checkpoint_ >= plan_.checkpoint_interval)
            save_checkpoint(false);
        co_return;
    }

    boost::asio::awaitable<void> finish(bool complete) override {
        if (!out_)
            co_return;
        if (plan_.checkpoint_path.empty())
            out_->flush();
        else
            save_checkpoint(complete);
    }

    sink_totals totals() const override {
        sink_totals t;
        t.jobs_written = jobs_written_;
        t.jobs_before = jobs_before_;
        t.resume_duplicates = resume_duplicates_;
        t.segments_done = done_.size();
        t.segments_before = segments_before_;
        return t;
    }

    std::string output_name() const override {
        return plan_.to_stdout ? "<stdout>" : plan_.output.string();
    }
    std::string progress_name() const override { return plan_.checkpoint_path.string(); }

private:
    // The ids of the jobs after the checkpoint's scanFrom, read a piece at a time: after a
    // crash inside a window of millions of jobs that part of the output holds gigabytes.
    void collect_written_before() {
        constexpr std::uint64_t chunk_bytes = 8u << 20;
        job_id_scan scan(plan_.format, [this](std::string_view id) { written_before_.insert(id); });
        std::string error;
        bool ok = true;
        for (std::uint64_t at = cp_.scan_from; ok && at < cp_.output_offset; at += chunk_bytes)
            ok = scan.feed(
                read_file_range(plan_.output, at, std::min(at + chunk_bytes, cp_.output_offset)),
                error);
        if (!ok || !scan.finish(error))
            throw std::runtime_error("output " + plan_.output.string() + " after byte " +
                                     std::to_string(cp_.scan_from) + ": " + error +
                                     "; it was changed since the checkpoint: start over");
    }

    // Loads the checkpoint this run continues (or checks that starting afresh overwrites nothing
    // unfinished).
    checkpoint prepare_checkpoint() {
        checkpoint cp;
        cp.chosen = plan_.chosen;
        cp.start = plan_.request.start;
        cp.finish = plan_.request.finish;
        if (plan_.checkpoint_path.empty())
            return cp;
        const auto& path = plan_.checkpoint_path;
        std::error_code exists_ec;
        const bool exists = std::filesystem::exists(path, exists_ec);
        if (!exists) {
            // Killed before its first checkpoint, a run has written nothing: "resume" from the
            // start, so that the same command finishes after a crash at any moment.
            if (resume_ && plan_.level != verbosity::quiet)
                std::cerr << "dynjobs: no checkpoint at '" << path.string()
                          << "': starting from the beginning\n";
            resume_ = false;
            return cp;
        }
        std::string error;
        auto saved = decode_checkpoint(read_whole(path), error);
        if (!saved)
            throw usage_error{"--checkpoint: '" + path.string() + "' is not a usable checkpoint (" +
                              error + "); move it away to start over"};
        if (!resume_) {
            if (!saved->complete)
                throw usage_error{"an unfinished backfill's checkpoint is at '" + path.string() +
                                  "': add --resume to finish it, or delete it to start over"};
            return cp; // a finished backfill: starting it again is a fresh run
        }
        if (auto mismatch = selection_mismatch(saved->chosen, plan_.chosen))
            throw usage_error{"--resume refused: " + *mismatch +
                              "; resume with the first run's selection, or delete '" +
                              path.string() + "' to start over"};
        return *saved;
    }

    void save_checkpoint(bool complete) {
        if (plan_.checkpoint_path.empty())
            return;
        std::uint64_t offset = 0;
        if (out_) {
            out_->sync(); // the checkpoint may only cover bytes that are on disk
            offset = out_->offset();
        }
        cp_.output_offset = offset;
        cp_.scan_from = carried_scan_from_.value_or(offset);
        for (const auto& [key, first] : open_)
            cp_.scan_from = std::min(cp_.scan_from, first);
        cp_.jobs_written = jobs_before_ + jobs_written_;
        cp_.done.assign(done_.begin(), done_.end());
        cp_.complete = complete;
        write_file_atomically(plan_.checkpoint_path, encode_checkpoint(cp_));
        last_checkpoint_ = steady_clock::now();
    }

    const backfill_plan& plan_;
    bool resume_;
    checkpoint cp_;
    std::size_t segments_before_ = 0;
    std::uint64_t jobs_before_ = 0;
    steady_clock::time_point last_checkpoint_;
    std::optional<output_file> out_;
    std::set<policy::segment_key, segment_less> done_;
    std::map<policy::segment_key, std::uint64_t, segment_less> open_; // -> first job's offset
    std::optional<std::uint64_t> carried_scan_from_;
    /// Jobs of unfinished segments found in the output on resume: as many as a window holds, so
    /// with the fetch's dedupe budget (past it, on disk).
    policy::dedupe_set written_before_;
    std::uint64_t jobs_written_ = 0;
    std::uint64_t resume_duplicates_ = 0;
};

} // namespace

std::unique_ptr<job_sink> make_file_sink(const backfill_plan& plan) {
    return std::make_unique<file_sink>(plan);
}

} // namespace dynjobs::sink
