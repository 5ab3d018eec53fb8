#include "process.hpp"

#include <boost/test/unit_test.hpp>

#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <spawn.h>
#include <sstream>
#include <stdexcept>
#include <sys/wait.h>
#include <thread>

namespace dynjobs::e2e {

namespace {
ended decode(int status) {
    ended out;
    if (WIFEXITED(status))
        out.exit_status = WEXITSTATUS(status);
    else if (WIFSIGNALED(status))
        out.signal = WTERMSIG(status);
    return out;
}
} // namespace

child::child(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
             const std::filesystem::path& stdout_file, const std::filesystem::path& stderr_file,
             const std::filesystem::path& work_dir) {
    std::vector<char*> argv;
    std::vector<std::string> owned_args = args;
    for (auto& a : owned_args)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> owned_env;
    for (const auto& [k, v] : env)
        owned_env.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (auto& e : owned_env)
        envp.push_back(e.data());
    envp.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, stdout_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    posix_spawn_file_actions_addopen(&actions, 2, stderr_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    if (!work_dir.empty()) // after the opens: their paths are the caller's, not the child's
        posix_spawn_file_actions_addchdir_np(&actions, work_dir.c_str());
    const int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0)
        throw std::runtime_error("cannot start " + args.front());
}

child::~child() {
    if (!reaped_ && pid_ > 0) {
        ::kill(pid_, SIGKILL);
        int status = 0;
        ::waitpid(pid_, &status, 0);
    }
}

void child::signal(int sig) const {
    if (!reaped_)
        ::kill(pid_, sig);
}

bool child::poll(ended& out) {
    if (reaped_)
        return true;
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r != pid_)
        return false;
    reaped_ = true;
    out = decode(status);
    return true;
}

ended child::wait(std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    ended out;
    while (!poll(out)) {
        if (std::chrono::steady_clock::now() > deadline) {
            BOOST_TEST_MESSAGE("child did not end in time: killing it");
            ::kill(pid_, SIGKILL);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return out;
}

std::string read_text(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string binary() {
    return DYNJOBS_BINARY;
}

run_result run(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
               const std::filesystem::path& work_dir) {
    std::vector<std::string> full{binary()};
    full.insert(full.end(), args.begin(), args.end());
    const auto out_file = work_dir / "run.stdout";
    const auto err_file = work_dir / "run.stderr";
    child c(full, env, out_file, err_file, work_dir);
    run_result r;
    r.how = c.wait();
    r.out = read_text(out_file);
    r.err = read_text(err_file);
    return r;
}

} // namespace dynjobs::e2e
