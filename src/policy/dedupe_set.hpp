// src/policy/dedupe_set.hpp - the jobIds a fetch has delivered.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace dynjobs::policy {

/// An exact set of jobIds with compact keys.
///
/// AvePoint jobIds are up to four capital letters and a run of digits
/// (`DCIB2022081903124382222110`): such an id (letters 0-4, digits 1-27) is packed losslessly into
/// 16 bytes in an open-addressing table, about 21 bytes per id at the table's load. Any other id
/// is kept as a string. Never a hash in place of the id: a collision would silently drop a job.
///
/// Not thread-safe.
class dedupe_set {
public:
    /// Adds `job_id`; true when it was not there yet.
    bool insert(std::string_view job_id);
    bool contains(std::string_view job_id) const;
    /// Adds every id of `other` (windows merged into one keep what each had delivered).
    void absorb(const dedupe_set& other);
    std::size_t size() const noexcept { return packed_count_ + others_.size(); }
    /// Approximate heap bytes held.
    std::size_t memory_bytes() const noexcept;
    void clear();

private:
    struct key {
        std::uint64_t high = 0; // 0 marks an empty slot; packed keys always have the top bit set
        std::uint64_t low = 0;
    };
    static bool pack(std::string_view id, key& out) noexcept;
    std::size_t find_slot(const key& k) const noexcept;
    bool insert_packed(const key& k);
    void grow();

    std::vector<key> slots_;
    std::size_t packed_count_ = 0;
    std::unordered_set<std::string> others_;
};

} // namespace dynjobs::policy
