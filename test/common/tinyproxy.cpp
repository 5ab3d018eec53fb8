#include "tinyproxy.hpp"

#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <atomic>
#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <netinet/in.h>
#include <random>
#include <spawn.h>
#include <sstream>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace dynjobs::testkit {
namespace {

sockaddr_in loopback(std::uint16_t port) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    return addr;
}

// A port nothing listens on now; tinyproxy binds it a moment later.
std::uint16_t free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    auto addr = loopback(0);
    BOOST_TEST_REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    return ntohs(addr.sin_port);
}

bool accepts_connections(std::uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    auto addr = loopback(port);
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
}

std::string read_all(const std::filesystem::path& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

} // namespace

tinyproxy::tinyproxy(tinyproxy_options options)
    : options_(std::move(options)) {
    static std::atomic<unsigned> counter{0};
    dir_ = std::filesystem::temp_directory_path() /
           ("dynjobs-tinyproxy-" + std::to_string(::getpid()) + "-" +
            std::to_string(std::random_device{}()) + "-" + std::to_string(counter++));
    std::filesystem::create_directories(dir_);
    port_ = free_port();
    start();
}

tinyproxy::~tinyproxy() {
    if (pid_ > 0) {
        ::kill(pid_, SIGTERM);
        int status = 0;
        ::waitpid(pid_, &status, 0);
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
}

std::string tinyproxy::url() const {
    return "http://127.0.0.1:" + std::to_string(port_);
}

std::filesystem::path tinyproxy::log_of(std::size_t run) const {
    return dir_ / ("tinyproxy-" + std::to_string(run) + ".log");
}

void tinyproxy::kill() {
    BOOST_TEST_REQUIRE(pid_ > 0);
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
}

void tinyproxy::start() {
    BOOST_TEST_REQUIRE(pid_ < 0, "tinyproxy is already running");
    const auto config = dir_ / "tinyproxy.conf";
    {
        std::ofstream out(config);
        out << "Port " << port_ << "\nListen 127.0.0.1\nTimeout 60\nMaxClients 200\n"
            << "LogLevel Connect\nDisableViaHeader Yes\n";
        // As root, tinyproxy drops to these after binding, as a deployment runs it; its log is
        // this process's open file, so it can still write it.
        if (::geteuid() == 0)
            out << "User nobody\nGroup nogroup\n";
        if (!options_.user.empty())
            out << "BasicAuth " << options_.user << ' ' << options_.password << '\n';
        for (const auto p : options_.connect_ports)
            out << "ConnectPort " << p << '\n';
    }
    const auto log = log_of(runs_++);
    std::vector<std::string> args{"tinyproxy", "-d", "-c", config.string()};
    std::vector<char*> argv;
    for (auto& a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    // A restart may find the port still held by the connections of the killed process for a
    // moment: tinyproxy then exits at once, and is started again.
    for (int attempt = 0; attempt < 50; ++attempt) {
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        // -d logs to stdout when no LogFile is set; the file is opened here, as this process's
        // user.
        posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                         0644);
        posix_spawn_file_actions_adddup2(&actions, 1, 2);
        const int rc = ::posix_spawnp(&pid_, "tinyproxy", &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        BOOST_TEST_REQUIRE(rc == 0, "cannot run tinyproxy (scripts/setup installs it)");
        for (int i = 0; i < 500; ++i) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                break;
            }
            if (accepts_connections(port_))
                return;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            int status = 0;
            ::waitpid(pid_, &status, 0);
            pid_ = -1;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    BOOST_FAIL("tinyproxy did not start on port " << port_ << ": " << read_all(log));
}

std::vector<std::string> tinyproxy::connects(std::size_t run) const {
    // "CONNECT   Nov 30 14:00:31.946 [3784]: Request (file descriptor 4): CONNECT h:p HTTP/1.1"
    static const std::string marker = "): CONNECT ";
    std::vector<std::string> out;
    std::istringstream lines(read_all(log_of(run)));
    for (std::string line; std::getline(lines, line);) {
        const auto at = line.find(marker);
        if (at == std::string::npos || line.find("Request (file descriptor") == std::string::npos)
            continue;
        const auto from = at + marker.size();
        out.push_back(line.substr(from, line.find(' ', from) - from));
    }
    return out;
}

} // namespace dynjobs::testkit
