// src/policy/spilled_ids.hpp - packed jobIds moved out of memory into sorted temporary files.
#pragma once

#include <algorithm>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <system_error>
#include <vector>

namespace dynjobs::policy {

/// A jobId packed losslessly into 16 bytes (see dedupe_set). Ordered, for sorted runs.
struct packed_id {
    std::uint64_t high = 0; ///< 0 marks an empty table slot; packed ids always have the top bit set
    std::uint64_t low = 0;
    friend auto operator<=>(const packed_id&, const packed_id&) = default;
};

/// The ids a dedupe_set moved to disk once its table reached its memory budget.
///
/// Why this shape: a window of ten million jobs needs its ids (160 MB packed) to drop repeats
/// exactly, and a hash in their place could drop a job. So the ids go to disk, sorted, and
/// memory keeps only what makes a lookup cheap:
/// - each spill is a sorted run in an unnamed temporary file (O_TMPFILE, else a file unlinked
///   at once): nothing is left behind, even after a kill -9;
/// - runs are merged four at a time into the next level, so that a lookup reads at most about
///   three runs per level (log4 of the count) and every id is rewritten once per level;
/// - a blocked Bloom filter over every spilled id (one cache line per lookup, 10 bits per id
///   when sized for the window's totalCount, about 1 % false positives) answers "not spilled"
///   for nearly every new id without a read. A false positive costs a read per run, so the
///   filter is sized for what is expected (expect()) rather than grown step by step;
/// - each run keeps the first id of every 4 KiB block in memory (1/16 byte per id), so a lookup
///   that does reach a run reads one block.
///
/// Errors: add() reports a failure to create or write a file (a full disk, a missing
/// directory) and changes nothing: the caller keeps the ids in memory instead. A run that was
/// written and then cannot be read makes contains() and for_each() throw std::system_error:
/// the answer would be unknown, and a guess could lose or repeat a job.
///
/// Not thread-safe.
class spilled_ids {
public:
    /// Runs go to `directory` (must exist when add() is called).
    explicit spilled_ids(std::string directory);
    ~spilled_ids();
    spilled_ids(spilled_ids&&) noexcept;
    spilled_ids& operator=(spilled_ids&&) noexcept;

    /// Writes `sorted` (ascending, none of them here already) as a new run, then merges full
    /// levels. False with `error` set when the run could not be written; nothing changed then.
    /// A merge that fails leaves its runs unmerged (lookups read more runs, nothing is lost).
    bool add(std::span<const packed_id> sorted, std::error_code& error);
    /// The ids the set expects to hold in the end (the window's totalCount): the filter is sized
    /// for that many at once instead of growing, but never for more than 16 times the ids
    /// actually spilled (a server may claim any totalCount).
    void expect(std::size_t ids) noexcept { expected_ = std::max(expected_, ids); }
    /// Whether `id` was spilled. Throws std::system_error when a run cannot be read.
    bool contains(const packed_id& id) const;
    /// Calls `f` with every spilled id. Throws std::system_error when a run cannot be read.
    void for_each(const std::function<void(const packed_id&)>& f) const;
    std::size_t size() const noexcept { return count_; }
    std::size_t run_count() const noexcept;
    /// Heap bytes held: the filter and the runs' block indexes.
    std::size_t memory_bytes() const noexcept;
    /// Drops every run (their files go with them).
    void clear() noexcept;

private:
    struct run;
    bool merge_level(unsigned level);
    void rebuild_filter(std::size_t capacity);
    void add_to_filter(const packed_id& id) noexcept;
    bool filter_may_contain(const packed_id& id) const noexcept;

    std::string directory_;
    std::vector<run> runs_; ///< oldest first
    std::size_t count_ = 0;
    std::vector<std::uint64_t> filter_; ///< blocks of 8 words (512 bits, one cache line)
    std::size_t filter_capacity_ = 0;   ///< ids the filter is sized for
    std::size_t expected_ = 0;
};

} // namespace dynjobs::policy
