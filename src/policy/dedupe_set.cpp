#include "policy/dedupe_set.hpp"

#include "common/temporary_file.hpp"

#include <algorithm>
#include <bit>
#include <span>

namespace dynjobs::policy {
namespace {

constexpr std::uint64_t packed_marker = 1ull << 63;
constexpr std::size_t max_letters = 4;
constexpr std::size_t max_digits = 27;
constexpr std::size_t low_digits = 19; // 10^19 < 2^64

std::uint64_t digits_value(std::string_view digits) noexcept {
    std::uint64_t value = 0;
    for (char c : digits)
        value = value * 10 + static_cast<std::uint64_t>(c - '0');
    return value;
}

std::size_t hash_of(std::uint64_t high, std::uint64_t low) noexcept {
    std::uint64_t h = (high ^ (low * 0x9e3779b97f4a7c15ull)) * 0xff51afd7ed558ccdull;
    return static_cast<std::size_t>(h ^ (h >> 32));
}

} // namespace

dedupe_spill spill_of(const dedupe_config& config) {
    dedupe_spill spill{config.memory_per_set, config.spill_directory};
    if (spill.directory.empty())
        spill.directory = detail::temporary_directory();
    return spill;
}

dedupe_set::dedupe_set(dedupe_spill spill)
    // A power of two (the table's sizes), and never below the table's first size.
    : max_slots_(
          spill.memory_bytes == 0
              ? 0
              : std::max<std::size_t>(std::bit_floor(spill.memory_bytes / sizeof(key)), 1024))
    , spill_directory_(std::move(spill.directory)) {}

bool dedupe_set::pack(std::string_view id, key& out) noexcept {
    std::size_t letters = 0;
    std::uint64_t letters_value = 0; // base 27, 'A' = 1, so "A" and "AA" differ
    while (letters < id.size() && id[letters] >= 'A' && id[letters] <= 'Z') {
        if (++letters > max_letters)
            return false;
        letters_value = letters_value * 27 + static_cast<std::uint64_t>(id[letters - 1] - 'A' + 1);
    }
    const std::string_view digits = id.substr(letters);
    if (digits.empty() || digits.size() > max_digits)
        return false;
    for (char c : digits)
        if (c < '0' || c > '9')
            return false;
    // The digit count fixes where the digits split between the words: the packing is bijective.
    const std::size_t split = digits.size() > low_digits ? digits.size() - low_digits : 0;
    out.low = digits_value(digits.substr(split));
    out.high = packed_marker | letters_value << 32 |
               static_cast<std::uint64_t>(digits.size()) << 27 |
               digits_value(digits.substr(0, split));
    return true;
}

std::size_t dedupe_set::find_slot(const key& k) const noexcept {
    const std::size_t mask = slots_.size() - 1;
    std::size_t i = hash_of(k.high, k.low) & mask;
    while (slots_[i].high != 0 && (slots_[i].high != k.high || slots_[i].low != k.low))
        i = (i + 1) & mask;
    return i;
}

void dedupe_set::grow() {
    std::vector<key> old = std::move(slots_);
    slots_.assign(old.empty() ? 1024 : old.size() * 2, key{});
    for (const key& k : old)
        if (k.high != 0)
            slots_[find_slot(k)] = k;
}

bool dedupe_set::insert_packed(const key& k) {
    std::size_t slot = slots_.empty() ? 0 : find_slot(k);
    if (!slots_.empty() && slots_[slot].high != 0)
        return false;
    if (disk_ && disk_->contains(k))
        return false;
    // Linear probing stays short below a load of 3/4.
    if ((packed_count_ + 1) * 4 > slots_.size() * 3) {
        make_room();
        slot = find_slot(k);
    }
    slots_[slot] = k;
    ++packed_count_;
    return true;
}

void dedupe_set::make_room() {
    if (max_slots_ == 0 || slots_.size() < max_slots_ || spill_error_ || !spill())
        grow();
}

void dedupe_set::expect(std::size_t ids) {
    expected_ = std::max(expected_, ids);
    if (disk_)
        disk_->expect(ids);
}

bool dedupe_set::spill() {
    // Sorted in place at the front of the table: a spill allocates nothing.
    const auto used =
        std::partition(slots_.begin(), slots_.end(), [](const key& k) { return k.high != 0; });
    std::sort(slots_.begin(), used);
    if (!disk_) {
        disk_.emplace(spill_directory_);
        disk_->expect(expected_);
    }
    if (!disk_->add(std::span<const key>(slots_.data(), packed_count_), spill_error_)) {
        // Back into the table as they were: the set goes on in memory.
        const std::vector<key> sorted(slots_.begin(), used);
        std::fill(slots_.begin(), slots_.end(), key{});
        for (const key& k : sorted)
            slots_[find_slot(k)] = k;
        return false;
    }
    std::fill(slots_.begin(), slots_.end(), key{});
    packed_count_ = 0;
    return true;
}

bool dedupe_set::insert(std::string_view job_id) {
    key k;
    if (!pack(job_id, k))
        return others_.emplace(job_id).second;
    return insert_packed(k);
}

void dedupe_set::absorb(const dedupe_set& other) {
    for (const key& k : other.slots_)
        if (k.high != 0)
            insert_packed(k);
    if (other.disk_)
        other.disk_->for_each([this](const key& k) { insert_packed(k); });
    others_.insert(other.others_.begin(), other.others_.end());
}

bool dedupe_set::contains(std::string_view job_id) const {
    key k;
    if (!pack(job_id, k))
        return others_.count(std::string(job_id)) != 0;
    return (!slots_.empty() && slots_[find_slot(k)].high != 0) || (disk_ && disk_->contains(k));
}

std::size_t dedupe_set::memory_bytes() const noexcept {
    std::size_t bytes = slots_.capacity() * sizeof(key);
    for (const auto& s : others_)
        bytes += sizeof(s) + 2 * sizeof(void*) + (s.size() > 15 ? s.capacity() + 1 : 0);
    return bytes + others_.bucket_count() * sizeof(void*) + (disk_ ? disk_->memory_bytes() : 0);
}

void dedupe_set::clear() {
    slots_.clear();
    slots_.shrink_to_fit();
    packed_count_ = 0;
    others_.clear();
    disk_.reset();
}

} // namespace dynjobs::policy
