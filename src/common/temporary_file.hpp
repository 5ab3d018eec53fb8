// src/common/temporary_file.hpp - unnamed temporary files for data spilled out of memory.
//
// Internal, shared by the dedupe set's spilled ids and the PostgreSQL sink's held rows.
#pragma once

#include <cstddef>
#include <string>
#include <system_error>

#include <sys/types.h>

namespace dynjobs::detail {

/// Opens a new temporary file in `directory` for reading and writing: unnamed (O_TMPFILE), or on
/// a file system without it a named file unlinked at once, so nothing is left behind, even
/// after a kill -9. Returns the descriptor (the caller closes it), or -1 with `error` set.
int open_temporary(const std::string& directory, std::error_code& error);

/// Writes all `bytes` at `offset`. False with `error` set on failure (ENOSPC for a write that
/// made no progress).
bool write_all(int fd, const void* data, std::size_t bytes, off_t offset, std::error_code& error);

/// Reads exactly `bytes` at `offset`. False with `error` set on failure (EIO when the file is
/// shorter than that).
bool read_all(int fd, void* data, std::size_t bytes, off_t offset, std::error_code& error);

} // namespace dynjobs::detail
