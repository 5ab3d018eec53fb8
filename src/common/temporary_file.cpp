#include "common/temporary_file.hpp"

#include <cerrno>

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

namespace dynjobs::detail {

int open_temporary(const std::string& directory, std::error_code& error) {
    int fd = -1;
#ifdef O_TMPFILE
    fd = ::open(directory.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0)
        return fd;
    if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) {
        error.assign(errno, std::system_category());
        return -1;
    }
#endif
    // A file system without O_TMPFILE: a named file, unlinked at once.
    std::string path = directory + "/dynjobs-spill-XXXXXX";
    fd = ::mkostemp(path.data(), O_CLOEXEC);
    if (fd < 0) {
        error.assign(errno, std::system_category());
        return -1;
    }
    ::unlink(path.c_str());
    return fd;
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
