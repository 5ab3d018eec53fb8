// dynjobs/dedupe_config.hpp - how much memory a fetch gives to remembering the jobs it delivered.
#pragma once

#include <cstddef>
#include <string>

namespace dynjobs {

/// A fetch delivers each job once: it keeps the jobIds each open window delivered, and the ids
/// each window's pages returned (to check them against totalCount), until the window settles.
/// That is about 21 bytes per job in memory, so a window of ten million jobs (one window over
/// years, or any server that ignores the time filter) would take hundreds of MB. Past this
/// budget the ids move to unnamed temporary files instead, kept sorted, with a small filter in
/// memory (1 to 1.5 bytes per id) that spares nearly every lookup a read.
struct dedupe_config {
    /// Table memory per set of ids before its ids move to disk. A window has two sets, so 1 MiB
    /// keeps windows of up to 49,152 jobs wholly in memory (2 MiB each) and a larger one near
    /// 2 MiB plus 2.5 bytes per job: 46 MB peak RSS for a fetch of ten million jobs in one
    /// window (bench/README.md, scenario 5). A table this small also stays in the CPU's cache:
    /// 4 MiB made that fetch slower, not faster. 0 never spills: memory then grows with the
    /// window (21 to 48 bytes per job and set). Otherwise at least 64 KiB.
    std::size_t memory_per_set = 1u << 20;
    /// The folder for the spilled ids: 16 bytes per job of the windows past the budget, twice
    /// that while runs merge. The files have no name (O_TMPFILE) and vanish with the fetch or
    /// the process, even a killed one. Empty: std::filesystem::temp_directory_path() ($TMPDIR,
    /// else /tmp). If a file cannot be written there (a full disk), the ids stay in memory:
    /// exactness is never traded for memory.
    std::string spill_directory;
};

} // namespace dynjobs
