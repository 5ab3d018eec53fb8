// src/policy/dedupe_set.hpp - the jobIds a fetch has delivered.
#pragma once

#include "policy/spilled_ids.hpp"

#include <dynjobs/dedupe_config.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_set>
#include <vector>

namespace dynjobs::policy {

/// When a dedupe_set moves its ids to disk (see dedupe_config, its public face).
struct dedupe_spill {
    /// Bytes of table past which the packed ids go to disk; 0 keeps everything in memory.
    std::size_t memory_bytes = 0;
    /// Where they go (an existing directory).
    std::string directory;
};

/// The spill of a dedupe_config: its folder, or the system's temporary folder when none is set.
dedupe_spill spill_of(const dedupe_config& config);

/// An exact set of jobIds with compact keys.
///
/// AvePoint jobIds are up to four capital letters and a run of digits
/// (`DCIB2022081903124382222110`): such an id (letters 0-4, digits 1-27) is packed losslessly into
/// 16 bytes in an open-addressing table, about 21 bytes per id at the table's load. Any other id
/// is kept as a string. Never a hash in place of the id: a collision would silently drop a job.
///
/// With a dedupe_spill budget, a table that reaches it moves its packed ids to disk
/// (spilled_ids) and starts empty again: memory stays near the budget plus about 1 to 2 bytes
/// per spilled id, whatever the count. Ids outside the packed form always stay in memory. When
/// spilling fails (a full disk, a missing directory), the set keeps growing in memory instead
/// and spill_error() says why: exactness is never traded for memory. A spilled run that cannot
/// be read back makes insert() and contains() throw std::system_error.
///
/// Not thread-safe.
class dedupe_set {
public:
    dedupe_set() = default;
    explicit dedupe_set(dedupe_spill spill);

    /// Adds `job_id`; true when it was not there yet.
    bool insert(std::string_view job_id);
    bool contains(std::string_view job_id) const;
    /// Adds every id of `other` (windows merged into one keep what each had delivered).
    void absorb(const dedupe_set& other);
    std::size_t size() const noexcept {
        return packed_count_ + others_.size() + (disk_ ? disk_->size() : 0);
    }
    /// The ids the set will likely hold in the end (a window's totalCount): sizes the filter of
    /// the spilled ids (see spilled_ids::expect). No effect until the set spills.
    void expect(std::size_t ids);
    /// Ids moved to disk.
    std::size_t spilled() const noexcept { return disk_ ? disk_->size() : 0; }
    /// Why the set stopped spilling, if it did.
    const std::error_code& spill_error() const noexcept { return spill_error_; }
    /// Approximate heap bytes held.
    std::size_t memory_bytes() const noexcept;
    /// Empties the set, its spilled ids included.
    void clear();

private:
    using key = packed_id;
    static bool pack(std::string_view id, key& out) noexcept;
    std::size_t find_slot(const key& k) const noexcept;
    bool insert_packed(const key& k);
    void make_room();
    bool spill();
    void grow();

    std::vector<key> slots_;
    std::size_t packed_count_ = 0;
    std::unordered_set<std::string> others_;
    std::size_t max_slots_ = 0; ///< table size at which it spills instead of growing; 0 never
    std::string spill_directory_;
    std::optional<spilled_ids> disk_;
    std::size_t expected_ = 0;
    std::error_code spill_error_;
};

} // namespace dynjobs::policy
