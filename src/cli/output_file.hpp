// The backfill's output file: buffered appends, a known byte offset, and durable syncs.
//
// The checkpoint records an offset that is only ever a record boundary whose bytes were synced
// to disk, so a crash at any moment leaves at most a torn tail past that offset, which resume
// cuts off. Errors throw std::system_error naming the file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace dynjobs::cli {

class output_file {
public:
    /// Creates or truncates `path`.
    static output_file create(const std::filesystem::path& path);
    /// Opens `path` and cuts it to `offset` bytes (what the checkpoint covers). Throws when the
    /// file is shorter than that: it was changed since the checkpoint.
    static output_file resume(const std::filesystem::path& path, std::uint64_t offset);
    /// Standard output: no resume, and sync() only flushes.
    static output_file standard_output();

    output_file(output_file&& other) noexcept;
    output_file& operator=(output_file&&) = delete;
    ~output_file();

    /// Appends to the buffer; writes it out when it grows past a megabyte.
    void append(std::string_view bytes);
    /// The buffer the caller may append to directly (then call commit_buffer()).
    std::string& buffer() noexcept { return buffer_; }
    void commit_buffer();

    /// Bytes in the file once everything appended is written.
    std::uint64_t offset() const noexcept { return written_ + buffer_.size(); }

    /// Writes the buffer out and, for a regular file, waits until it is on disk (fdatasync).
    void sync();
    /// Writes the buffer out without waiting for the disk.
    void flush();

    const std::filesystem::path& path() const noexcept { return path_; }

private:
    output_file(int fd, std::filesystem::path path, std::uint64_t written, bool owned);

    int fd_ = -1;
    bool owned_ = true;
    std::filesystem::path path_;
    std::uint64_t written_ = 0;
    std::string buffer_;
};

/// Reads bytes [from, to) of a file (the part of the output a resume must look at).
std::string read_file_range(const std::filesystem::path& path, std::uint64_t from,
                            std::uint64_t to);

/// Writes `content` to `path` atomically: a temporary beside it, fsync, rename over, and an
/// fsync of the folder so the rename itself survives a crash. `path` holds either the old or the
/// new content, whatever happens.
void write_file_atomically(const std::filesystem::path& path, std::string_view content);

} // namespace dynjobs::cli
