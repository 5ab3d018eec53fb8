#include "policy/spilled_ids.hpp"

#include "common/temporary_file.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include <sys/types.h>

namespace dynjobs::policy {
namespace {

constexpr std::size_t block_ids = 256;    // 4 KiB: one read per lookup that reaches a run
constexpr std::size_t buffer_ids = 4096;  // 64 KiB: sequential reads and writes
constexpr std::size_t runs_per_level = 4; // merged into one of the next level
constexpr std::size_t filter_bits_per_id = 8;
constexpr unsigned filter_probes = 6;  // with 8 bits per id: about 2 % false positives
constexpr std::size_t block_words = 8; // 512 bits, one cache line

std::system_error read_failure(int error) {
    return std::system_error(error, std::system_category(), "reading spilled jobIds");
}

// Reads exactly `bytes` at `offset`; a run that cannot be read makes the answer unknown.
void read_all(int fd, void* data, std::size_t bytes, off_t offset) {
    std::error_code error;
    if (!detail::read_all(fd, data, bytes, offset, error))
        throw read_failure(error.value());
}

// The block an id's hash picks: its top bits scaled to the block count (no division).
__extension__ using wide = unsigned __int128;
std::size_t block_of(std::uint64_t hash, std::size_t blocks) noexcept {
    return static_cast<std::size_t>((static_cast<wide>(hash) * blocks) >> 64);
}

std::uint64_t mix(const packed_id& id) noexcept {
    std::uint64_t h = (id.high ^ (id.low * 0x9e3779b97f4a7c15ull)) * 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    return h ^ (h >> 33);
}

// An id's place in a filter of `words` words: the first word of its block, and the bits to set
// (or test) in each of the block's words. Adding and testing must agree on it exactly.
struct filter_bits {
    std::size_t block = 0;
    std::array<std::uint64_t, block_words> mask{};
};

filter_bits bits_of(const packed_id& id, std::size_t words) noexcept {
    const std::uint64_t h = mix(id);
    filter_bits out;
    out.block = block_of(h, words / block_words) * block_words;
    std::uint64_t bits = h * 0x9e3779b97f4a7c15ull;
    for (unsigned p = 0; p < filter_probes; ++p, bits >>= 9)
        out.mask[(bits >> 6) & 7] |= 1ull << (bits & 63);
    return out;
}

} // namespace

struct spilled_ids::run {
    detail::unique_fd file;
    std::size_t count = 0;
    unsigned level = 0;
    std::vector<packed_id> fences; ///< the first id of every block

    bool contains(const packed_id& id) const {
        const auto after = std::upper_bound(fences.begin(), fences.end(), id);
        if (after == fences.begin())
            return false;
        const auto block = static_cast<std::size_t>(after - fences.begin() - 1);
        const std::size_t n = std::min(block_ids, count - block * block_ids);
        std::array<packed_id, block_ids> ids;
        read_all(file.get(), ids.data(), n * sizeof(packed_id),
                 static_cast<off_t>(block * block_ids * sizeof(packed_id)));
        return std::binary_search(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(n), id);
    }
};

namespace {

// Reads a run front to back.
class run_reader {
public:
    run_reader(int fd, std::size_t count)
        : fd_(fd)
        , count_(count) {}
    bool next(packed_id& out) {
        if (at_ == filled_) {
            if (offset_ == count_)
                return false;
            filled_ = std::min(buffer_ids, count_ - offset_);
            buffer_.resize(filled_);
            read_all(fd_, buffer_.data(), filled_ * sizeof(packed_id),
                     static_cast<off_t>(offset_ * sizeof(packed_id)));
            offset_ += filled_;
            at_ = 0;
        }
        out = buffer_[at_++];
        return true;
    }

private:
    int fd_;
    std::size_t count_;
    std::size_t offset_ = 0; ///< ids read from the file
    std::vector<packed_id> buffer_;
    std::size_t filled_ = 0;
    std::size_t at_ = 0;
};

// Writes a run front to back, noting its block fences.
class run_writer {
public:
    explicit run_writer(int fd)
        : fd_(fd) {
        buffer_.reserve(buffer_ids);
    }
    bool put(const packed_id& id, std::error_code& error) {
        if (count_ % block_ids == 0)
            fences_.push_back(id);
        buffer_.push_back(id);
        ++count_;
        return buffer_.size() < buffer_ids || flush(error);
    }
    bool flush(std::error_code& error) {
        const std::size_t bytes = buffer_.size() * sizeof(packed_id);
        if (!detail::write_all(fd_, buffer_.data(), bytes, offset_, error))
            return false;
        offset_ += static_cast<off_t>(bytes);
        buffer_.clear();
        return true;
    }
    std::size_t count() const noexcept { return count_; }
    std::vector<packed_id> take_fences() {
        fences_.shrink_to_fit();
        return std::move(fences_);
    }

private:
    int fd_;
    off_t offset_ = 0;
    std::size_t count_ = 0;
    std::vector<packed_id> buffer_;
    std::vector<packed_id> fences_;
};

} // namespace

spilled_ids::spilled_ids(std::string directory)
    : directory_(std::move(directory)) {}
spilled_ids::~spilled_ids() = default;
spilled_ids::spilled_ids(spilled_ids&&) noexcept = default;
spilled_ids& spilled_ids::operator=(spilled_ids&&) noexcept = default;

bool spilled_ids::add(std::span<const packed_id> sorted, std::error_code& error) {
    if (sorted.empty())
        return true;
    run r;
    r.file = detail::open_temporary(directory_, error);
    if (!r.file)
        return false;
    run_writer writer(r.file.get());
    for (const packed_id& id : sorted)
        if (!writer.put(id, error))
            return false;
    if (!writer.flush(error))
        return false;
    r.count = writer.count();
    r.fences = writer.take_fences();
    runs_.push_back(std::move(r));
    count_ += sorted.size();

    if (count_ > filter_capacity_)
        // Without an expectation, 1.5x the ids so far: rebuilding (a read of every run) then
        // happens a logarithmic number of times.
        rebuild_filter(std::clamp(expected_, count_ + count_ / 2, count_ * 16));
    else
        for (const packed_id& id : sorted)
            add_to_filter(id);

    for (unsigned level = 0; merge_level(level); ++level) {
    }
    return true;
}

bool spilled_ids::merge_level(unsigned level) {
    std::vector<std::size_t> inputs;
    for (std::size_t i = 0; i < runs_.size(); ++i)
        if (runs_[i].level == level)
            inputs.push_back(i);
    if (inputs.size() < runs_per_level)
        return false;

    std::error_code error;
    run merged;
    merged.level = level + 1;
    merged.file = detail::open_temporary(directory_, error);
    if (!merged.file)
        return false;
    std::vector<run_reader> readers;
    std::vector<packed_id> heads(inputs.size());
    std::vector<bool> live(inputs.size());
    for (std::size_t k = 0; k < inputs.size(); ++k) {
        readers.emplace_back(runs_[inputs[k]].file.get(), runs_[inputs[k]].count);
        live[k] = readers[k].next(heads[k]);
    }
    run_writer writer(merged.file.get());
    for (;;) {
        std::size_t least = inputs.size();
        for (std::size_t k = 0; k < inputs.size(); ++k)
            if (live[k] && (least == inputs.size() || heads[k] < heads[least]))
                least = k;
        if (least == inputs.size())
            break;
        if (!writer.put(heads[least], error))
            return false; // the inputs stay as they are
        live[least] = readers[least].next(heads[least]);
    }
    if (!writer.flush(error))
        return false;
    merged.count = writer.count();
    merged.fences = writer.take_fences();
    for (auto k = inputs.rbegin(); k != inputs.rend(); ++k)
        runs_.erase(runs_.begin() + static_cast<std::ptrdiff_t>(*k));
    runs_.push_back(std::move(merged));
    return true;
}

void spilled_ids::rebuild_filter(std::size_t capacity) {
    const std::size_t blocks = (capacity * filter_bits_per_id + 511) / 512;
    filter_ = {}; // freed before the new one is taken: the two never coexist
    filter_capacity_ = 0;
    filter_.assign(blocks * block_words, 0);
    filter_capacity_ = capacity;
    for_each([this](const packed_id& id) { add_to_filter(id); });
}

void spilled_ids::add_to_filter(const packed_id& id) noexcept {
    const filter_bits bits = bits_of(id, filter_.size());
    for (std::size_t w = 0; w < block_words; ++w)
        filter_[bits.block + w] |= bits.mask[w];
}

bool spilled_ids::filter_may_contain(const packed_id& id) const noexcept {
    if (filter_.empty())
        return true; // a rebuild that ran out of memory: every lookup reads the runs
    const filter_bits bits = bits_of(id, filter_.size());
    for (std::size_t w = 0; w < block_words; ++w)
        if ((filter_[bits.block + w] & bits.mask[w]) != bits.mask[w])
            return false;
    return true;
}

bool spilled_ids::contains(const packed_id& id) const {
    if (count_ == 0 || !filter_may_contain(id))
        return false;
    for (auto r = runs_.rbegin(); r != runs_.rend(); ++r)
        if (r->contains(id))
            return true;
    return false;
}

void spilled_ids::for_each(const std::function<void(const packed_id&)>& f) const {
    for (const run& r : runs_) {
        run_reader reader(r.file.get(), r.count);
        packed_id id;
        while (reader.next(id))
            f(id);
    }
}

std::size_t spilled_ids::run_count() const noexcept {
    return runs_.size();
}

std::size_t spilled_ids::memory_bytes() const noexcept {
    std::size_t bytes = filter_.capacity() * sizeof(std::uint64_t) + runs_.capacity() * sizeof(run);
    for (const run& r : runs_)
        bytes += r.fences.capacity() * sizeof(packed_id);
    return bytes;
}

void spilled_ids::clear() noexcept {
    runs_.clear();
    count_ = 0;
    filter_.clear();
    filter_.shrink_to_fit();
    filter_capacity_ = 0;
}

} // namespace dynjobs::policy
