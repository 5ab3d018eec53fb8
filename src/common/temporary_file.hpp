// src/common/temporary_file.hpp - unnamed temporary files for data spilled out of memory.
//
// Internal, shared by the dedupe set's spilled ids and the PostgreSQL sink's held rows.
#pragma once

#include <cstddef>
#include <string>
#include <system_error>

#include <sys/types.h>

#include <utility>

namespace dynjobs::detail {

/// Owns a file descriptor: closes it when destroyed or reset. Movable, not copyable.
class unique_fd {
public:
    unique_fd() = default;
    explicit unique_fd(int fd) noexcept
        : fd_(fd) {}
    unique_fd(unique_fd&& other) noexcept
        : fd_(std::exchange(other.fd_, -1)) {}
    unique_fd& operator=(unique_fd&& other) noexcept {
        unique_fd(std::move(other)).swap(*this);
        return *this;
    }
    unique_fd(const unique_fd&) = delete;
    unique_fd& operator=(const unique_fd&) = delete;
    ~unique_fd() { reset(); }

    int get() const noexcept { return fd_; }
    explicit operator bool() const noexcept { return fd_ >= 0; }
    void reset() noexcept;
    void swap(unique_fd& other) noexcept { std::swap(fd_, other.fd_); }

private:
    int fd_ = -1;
};

/// $TMPDIR, else /tmp: where data spilled out of memory goes unless a directory is configured.
std::string temporary_directory();

/// Opens a new temporary file in `directory` for reading and writing: unnamed (O_TMPFILE), or on
/// a file system without it a named file unlinked at once, so nothing is left behind, even
/// after a kill -9. An empty descriptor with `error` set when it cannot.
unique_fd open_temporary(const std::string& directory, std::error_code& error);

/// Writes all `bytes` at `offset`. False with `error` set on failure (ENOSPC for a write that
/// made no progress).
bool write_all(int fd, const void* data, std::size_t bytes, off_t offset, std::error_code& error);

/// Reads exactly `bytes` at `offset`. False with `error` set on failure (EIO when the file is
/// shorter than that).
bool read_all(int fd, void* data, std::size_t bytes, off_t offset, std::error_code& error);

} // namespace dynjobs::detail
