#include "cli/output_file.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>
#include <utility>

namespace dynjobs::cli {
namespace {

constexpr std::size_t flush_threshold = 1 << 20;

[[noreturn]] void fail(const std::filesystem::path& path, const char* what) {
    throw std::system_error(errno, std::generic_category(),
                            std::string(what) + " " + path.string());
}

void write_all(int fd, std::string_view bytes, const std::filesystem::path& path) {
    while (!bytes.empty()) {
        const auto n = ::write(fd, bytes.data(), bytes.size());
        if (n < 0) {
            if (errno == EINTR)
                continue;
            fail(path, "cannot write");
        }
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
}

// fsync on a pipe or terminal fails with EINVAL: there is nothing to make durable there.
void sync_fd(int fd, const std::filesystem::path& path, bool data_only) {
    const int rc = data_only ? ::fdatasync(fd) : ::fsync(fd);
    if (rc != 0 && errno != EINVAL && errno != EROFS)
        fail(path, "cannot sync");
}

} // namespace

output_file::output_file(int fd, std::filesystem::path path, std::uint64_t written, bool owned)
    : fd_(fd)
    , owned_(owned)
    , path_(std::move(path))
    , written_(written) {
    buffer_.reserve(flush_threshold + (64 << 10));
}

output_file::output_file(output_file&& other) noexcept
    : fd_(std::exchange(other.fd_, -1))
    , owned_(other.owned_)
    , path_(std::move(other.path_))
    , written_(other.written_)
    , buffer_(std::move(other.buffer_)) {}

output_file::~output_file() {
    if (fd_ >= 0 && owned_)
        ::close(fd_);
}

output_file output_file::create(const std::filesystem::path& path) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        fail(path, "cannot create");
    return output_file(fd, path, 0, true);
}

output_file output_file::resume(const std::filesystem::path& path, std::uint64_t offset) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        fail(path, "cannot open");
    output_file file(fd, path, offset, true);
    struct stat st {};
    if (::fstat(fd, &st) != 0)
        fail(path, "cannot stat");
    if (static_cast<std::uint64_t>(st.st_size) < offset)
        throw std::system_error(std::make_error_code(std::errc::invalid_argument),
                                "output " + path.string() + " holds " + std::to_string(st.st_size) +
                                    " bytes but its checkpoint " + "covers " +
                                    std::to_string(offset) +
                                    ": it was changed since; start the backfill over");
    // Cut what was written after the checkpoint, a torn last line included.
    if (::ftruncate(fd, static_cast<off_t>(offset)) != 0)
        fail(path, "cannot truncate");
    if (::lseek(fd, static_cast<off_t>(offset), SEEK_SET) < 0)
        fail(path, "cannot seek in");
    return file;
}

output_file output_file::standard_output() {
    return output_file(STDOUT_FILENO, "<stdout>", 0, false);
}

void output_file::append(std::string_view bytes) {
    buffer_.append(bytes);
    commit_buffer();
}

void output_file::commit_buffer() {
    if (buffer_.size() >= flush_threshold)
        flush();
}

void output_file::flush() {
    write_all(fd_, buffer_, path_);
    written_ += buffer_.size();
    buffer_.clear();
}

void output_file::sync() {
    flush();
    sync_fd(fd_, path_, true);
}

std::string read_file_range(const std::filesystem::path& path, std::uint64_t from,
                            std::uint64_t to) {
    std::string out;
    if (to <= from)
        return out;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        fail(path, "cannot open");
    out.resize(to - from);
    std::size_t done = 0;
    while (done < out.size()) {
        const auto n =
            ::pread(fd, out.data() + done, out.size() - done, static_cast<off_t>(from + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            const int saved = n < 0 ? errno : EIO;
            ::close(fd);
            errno = saved;
            fail(path, "cannot read");
        }
        done += static_cast<std::size_t>(n);
    }
    ::close(fd);
    return out;
}

void write_file_atomically(const std::filesystem::path& path, std::string_view content) {
    auto temporary = path;
    temporary += ".tmp";
    const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        fail(temporary, "cannot create");
    try {
        write_all(fd, content, temporary);
        sync_fd(fd, temporary, false);
    } catch (...) {
        ::close(fd);
        throw;
    }
    ::close(fd);
    if (::rename(temporary.c_str(), path.c_str()) != 0)
        fail(path, "cannot rename onto");
    auto folder = path.parent_path();
    if (folder.empty())
        folder = ".";
    const int dir = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0)
        fail(folder, "cannot open folder");
    sync_fd(dir, folder, false);
    ::close(dir);
}

} // namespace dynjobs::cli
