// src/sink/pg/held_rows.hpp - jobs waiting for their commit, as COPY tuples, in memory or on disk.
#pragma once

#include "common/temporary_file.hpp"

#include <dynjobs/job.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

namespace dynjobs::sink::pg {

/// The COPY binary tuples (append_copy_row) of jobs held until they commit.
///
/// They stay in memory until the holder calls spill(): then they move to an unnamed temporary
/// file (common/temporary_file.hpp), gone with the object or the process. So one huge segment
/// (`--window none` over millions of jobs, committed whole when it completes) costs disk, not
/// memory. Rows carry their own seq, so the order they are read back in does not matter: the
/// upsert keeps a job's highest seq.
///
/// Not thread-safe. Movable, not copyable (the file is owned); a moved-from object may only be
/// destroyed or assigned to.
class held_rows {
public:
    /// `spill_directory`: where spill() puts the file (must exist by then).
    explicit held_rows(std::string spill_directory = {});

    void append(const job& j, std::uint64_t seq);

    /// Moves the rows held in memory to the file. False with `error` set when the file cannot
    /// be created or written (a full disk, a missing directory): the rows then stay in memory,
    /// as whole as before. Exactness is never traded for memory.
    bool spill(std::error_code& error);

    /// Drops every row, and the file.
    void clear() noexcept;

    std::size_t memory_bytes() const noexcept { return memory_.size(); }
    std::uint64_t spilled_bytes() const noexcept { return spilled_; }
    bool empty() const noexcept { return memory_.empty() && spilled_ == 0; }

    /// The rows from byte `offset` on (of spilled_bytes() + memory_bytes(), the spilled first),
    /// at most `max_bytes` of them, not cut at row boundaries; empty at the end. A spilled piece
    /// is read into `buffer`; the view points into it or into this object. Throws
    /// std::system_error when the file cannot be read back.
    std::string_view read(std::uint64_t offset, std::size_t max_bytes, std::string& buffer) const;

private:
    std::string spill_directory_;
    std::string memory_;
    detail::unique_fd file_;
    std::uint64_t spilled_ = 0;
};

/// What copy_sql() reads, piece by piece: copy_header, the rows of every part in turn,
/// copy_trailer, then empty pieces. `parts` must outlive the reader; a piece lives until the
/// next call. Throws std::system_error when spilled rows cannot be read back.
class copy_reader {
public:
    explicit copy_reader(std::span<const held_rows> parts)
        : parts_(parts) {}
    std::string_view next();

private:
    std::span<const held_rows> parts_;
    bool header_sent_ = false;
    std::size_t part_ = 0;
    std::uint64_t offset_ = 0; ///< into parts_[part_]
    bool trailer_sent_ = false;
    std::string buffer_;
};

} // namespace dynjobs::sink::pg
