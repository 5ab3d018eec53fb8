#include "sink/pg/held_rows.hpp"

#include "common/temporary_file.hpp"
#include "sink/pg/sql.hpp"

#include <algorithm>
#include <utility>

#include <unistd.h>

namespace dynjobs::sink::pg {

held_rows::held_rows(std::string spill_directory)
    : spill_directory_(std::move(spill_directory)) {}

held_rows::~held_rows() {
    if (fd_ >= 0)
        ::close(fd_);
}

held_rows::held_rows(held_rows&& other) noexcept
    : spill_directory_(std::move(other.spill_directory_))
    , memory_(std::move(other.memory_))
    , fd_(std::exchange(other.fd_, -1))
    , spilled_(std::exchange(other.spilled_, 0)) {
    other.memory_.clear();
}

held_rows& held_rows::operator=(held_rows&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0)
            ::close(fd_);
        spill_directory_ = std::move(other.spill_directory_);
        memory_ = std::move(other.memory_);
        other.memory_.clear();
        fd_ = std::exchange(other.fd_, -1);
        spilled_ = std::exchange(other.spilled_, 0);
    }
    return *this;
}

void held_rows::append(const job& j, std::uint64_t seq) {
    append_copy_row(memory_, j, seq);
}

bool held_rows::spill(std::error_code& error) {
    if (memory_.empty())
        return true;
    if (fd_ < 0) {
        fd_ = detail::open_temporary(spill_directory_, error);
        if (fd_ < 0)
            return false;
    }
    if (!detail::write_all(fd_, memory_.data(), memory_.size(), static_cast<off_t>(spilled_),
                           error))
        return false; // what was written past spilled_ is overwritten by the next spill
    spilled_ += memory_.size();
    // Its capacity too: an open segment that stops growing must not keep a buffer the size of
    // the budget (thirty of them would hold thirty times it).
    std::string().swap(memory_);
    return true;
}

void held_rows::clear() noexcept {
    memory_.clear();
    if (fd_ >= 0)
        ::close(std::exchange(fd_, -1));
    spilled_ = 0;
}

std::string_view held_rows::read(std::uint64_t offset, std::size_t max_bytes,
                                 std::string& buffer) const {
    if (offset < spilled_) {
        const auto n =
            static_cast<std::size_t>(std::min<std::uint64_t>(max_bytes, spilled_ - offset));
        buffer.resize(n);
        std::error_code error;
        if (!detail::read_all(fd_, buffer.data(), n, static_cast<off_t>(offset), error))
            throw std::system_error(error, "reading held rows back from their temporary file");
        return buffer;
    }
    const auto at = static_cast<std::size_t>(offset - spilled_);
    if (at >= memory_.size())
        return {};
    return std::string_view(memory_).substr(at, max_bytes);
}

std::string_view copy_reader::next() {
    // libpq's own send buffer takes it in pieces this size.
    constexpr std::size_t piece = 256 << 10;
    if (!header_sent_) {
        header_sent_ = true;
        return copy_header;
    }
    for (; part_ < parts_.size(); ++part_, offset_ = 0) {
        const auto rows = parts_[part_].read(offset_, piece, buffer_);
        if (!rows.empty()) {
            offset_ += rows.size();
            return rows;
        }
    }
    if (!trailer_sent_) {
        trailer_sent_ = true;
        return copy_trailer;
    }
    return {};
}

} // namespace dynjobs::sink::pg
