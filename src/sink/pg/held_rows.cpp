#include "sink/pg/held_rows.hpp"

#include "sink/pg/sql.hpp"

#include <algorithm>
#include <utility>

namespace dynjobs::sink::pg {

held_rows::held_rows(std::string spill_directory)
    : spill_directory_(std::move(spill_directory)) {}

void held_rows::append(const job& j, std::uint64_t seq) {
    append_copy_row(memory_, j, seq);
}

bool held_rows::spill(std::error_code& error) {
    if (memory_.empty())
        return true;
    if (!file_) {
        file_ = detail::open_temporary(spill_directory_, error);
        if (!file_)
            return false;
    }
    if (!detail::write_all(file_.get(), memory_.data(), memory_.size(),
                           static_cast<off_t>(spilled_), error))
        return false; // what was written past spilled_ is overwritten by the next spill
    spilled_ += memory_.size();
    // Its capacity too: an open segment that stops growing must not keep a buffer the size of
    // the budget (thirty of them would hold thirty times it).
    std::string().swap(memory_);
    return true;
}

void held_rows::clear() noexcept {
    memory_.clear();
    file_.reset();
    spilled_ = 0;
}

std::string_view held_rows::read(std::uint64_t offset, std::size_t max_bytes,
                                 std::string& buffer) const {
    if (offset < spilled_) {
        const auto n =
            static_cast<std::size_t>(std::min<std::uint64_t>(max_bytes, spilled_ - offset));
        buffer.resize(n);
        std::error_code error;
        if (!detail::read_all(file_.get(), buffer.data(), n, static_cast<off_t>(offset), error))
            throw std::system_error(error, "reading held rows back from their temporary file");
        return buffer;
    }
    const auto at = static_cast<std::size_t>(offset - spilled_);
    if (at >= memory_.size())
        return {};
    return std::string_view(memory_).substr(at, max_bytes);
}

std::string_view copy_reader::next() {
    // Large enough that a piece costs one pread and one PQputCopyData call, small enough that
    // the piece buffer and libpq's output buffer (copy_in flushes it after each piece) stay
    // far below the sink's 8 MiB of held rows.
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
