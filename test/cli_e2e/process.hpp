// Runs the dynjobs binary as a child process with a chosen environment, output to files.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <sys/types.h>

namespace dynjobs::e2e {

/// How a child ended: its exit status, or the signal that killed it.
struct ended {
    int exit_status = -1; ///< -1 when killed by a signal
    int signal = 0;
};

class child {
public:
    /// Starts `binary args...` with exactly `env` as its environment (nothing inherited, so a
    /// secret in the test runner's environment cannot change what is tested), stdout and stderr
    /// going to the given files.
    child(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
          const std::filesystem::path& stdout_file, const std::filesystem::path& stderr_file,
          const std::filesystem::path& work_dir = {});
    ~child();
    child(const child&) = delete;
    child& operator=(const child&) = delete;

    void signal(int sig) const;
    pid_t pid() const noexcept { return pid_; }
    /// Waits for the end; after `limit`, kills it with SIGKILL (a hung child must not hang the
    /// suite) and reports it as killed.
    ended wait(std::chrono::seconds limit = std::chrono::seconds(120));
    /// Non-blocking: whether it has ended (and then its status in `out`).
    bool poll(ended& out);

private:
    pid_t pid_ = -1;
    bool reaped_ = false;
};

/// The text of a file ("" when it does not exist).
std::string read_text(const std::filesystem::path& path);

/// Path of the dynjobs binary under test.
std::string binary();

/// Runs `dynjobs args...` in `work_dir` to its end; returns how it ended and its output.
struct run_result {
    ended how;
    std::string out;
    std::string err;
};
run_result run(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
               const std::filesystem::path& work_dir);

} // namespace dynjobs::e2e
