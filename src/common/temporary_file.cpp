#include "common/temporary_file.hpp"

#include <cerrno>
#include <filesystem>

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

namespace dynjobs::detail {

void unique_fd::reset() noexcept {
    if (fd_ >= 0)
        ::close(std::exchange(fd_, -1));
}

std::string temporary_directory() {
    std::error_code error;
    const auto path = std::filesystem::temp_directory_path(error);
    return error ? std::string("/tmp") : path.string();
}

unique_fd open_temporary(const std::string& directory, std::error_code& error) {
#ifdef O_TMPFILE
    unique_fd unnamed(::open(directory.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
    if (unnamed)
        return unnamed;
    if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) {
        error.assign(errno, std::system_category());
        return {};
    }
#endif
    // A file system without O_TMPFILE: a named file, unlinked at once.
    std::string path = directory + "/dynjobs-spill-XXXXXX";
    unique_fd named(::mkostemp(path.data(), O_CLOEXEC));
    if (!named) {
        error.assign(errno, std::system_category());
        return {};
    }
    ::unlink(path.c_str());
    return named;
}

bool write_all(int fd, const void* data, std::size_t bytes, off_t offset, std::error_code& error) {
    const char* p = static_cast<const char*>(data);
    while (bytes > 0) {
        const ssize_t n = ::pwrite(fd, p, bytes, offset);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            error.assign(n < 0 ? errno : ENOSPC, std::system_category());
            return false;
        }
        p += n;
        bytes -= static_cast<std::size_t>(n);
        offset += n;
    }
    return true;
}

bool read_all(int fd, void* data, std::size_t bytes, off_t offset, std::error_code& error) {
    char* p = static_cast<char*>(data);
    while (bytes > 0) {
        const ssize_t n = ::pread(fd, p, bytes, offset);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            error.assign(n < 0 ? errno : EIO, std::system_category()); // 0: shorter than written
            return false;
        }
        p += n;
        bytes -= static_cast<std::size_t>(n);
        offset += n;
    }
    return true;
}

} // namespace dynjobs::detail
