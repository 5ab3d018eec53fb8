#include "pg_cluster.hpp"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <netinet/in.h>
#include <pwd.h>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace dynjobs::testkit {
namespace {

std::string quoted(const std::string& s) {
    std::string out = "'";
    for (char c : s) {
        if (c == '\'')
            out += "'\\''";
        else
            out.push_back(c);
    }
    return out + "'";
}

struct shell_result {
    int status = -1;
    std::string output;
};

// stderr joins stdout: a failure's message is what the caller reports.
shell_result shell(const std::string& command) {
    shell_result r;
    FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
    if (!pipe)
        throw std::runtime_error("cannot run: " + command);
    std::array<char, 4096> buffer{};
    std::size_t n = 0;
    while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0)
        r.output.append(buffer.data(), n);
    const int status = ::pclose(pipe);
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

std::string checked(const std::string& command) {
    auto r = shell(command);
    if (r.status != 0)
        throw std::runtime_error("failed (" + std::to_string(r.status) + "): " + command + "\n" +
                                 r.output);
    return r.output;
}

std::filesystem::path server_binaries() {
    auto r = shell("pg_config --bindir");
    while (!r.output.empty() && (r.output.back() == '\n' || r.output.back() == '\r'))
        r.output.pop_back();
    if (r.status == 0 && std::filesystem::exists(std::filesystem::path(r.output) / "initdb"))
        return r.output;
    return "/usr/lib/postgresql/15/bin";
}

// The kernel's choice of a free loopback port. Another process may take it before the server
// binds it: start() then fails and the constructor tries again with another.
std::uint16_t free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
        throw std::runtime_error("no free loopback port");
    ::close(fd);
    return ntohs(addr.sin_port);
}

bool is_root() {
    return ::geteuid() == 0;
}

} // namespace

pg_cluster::pg_cluster()
    : bin_(server_binaries()) {
    std::string pattern = (std::filesystem::temp_directory_path() / "dynjobs-pg-XXXXXX").string();
    if (!::mkdtemp(pattern.data()))
        throw std::runtime_error("cannot create a folder for the PostgreSQL cluster");
    root_ = pattern;
    data_ = root_ / "data";
    sockets_ = root_ / "sockets";
    std::filesystem::create_directories(sockets_);
    if (is_root()) {
        // PostgreSQL refuses to run as root: the folder becomes the postgres user's.
        const passwd* pw = ::getpwnam("postgres");
        if (!pw)
            throw std::runtime_error("running as root, but there is no 'postgres' user to run "
                                     "the server as (scripts/setup installs postgresql-15)");
        checked("chown -R postgres: " + quoted(root_.string()));
    }
    checked(as_server_user(quoted((bin_ / "initdb").string()) + " -D " + quoted(data_.string()) +
                           " -U postgres --auth-local=trust --auth-host=scram-sha-256 -E UTF8 "
                           "--locale=C --no-sync"));
    for (int attempt = 0;; ++attempt) {
        port_ = free_port();
        try {
            start();
            break;
        } catch (const std::exception&) {
            if (attempt == 2)
                throw;
        }
    }
    sql(std::string("CREATE ROLE ") + writer + " LOGIN PASSWORD '" + writer_password +
            "'; CREATE ROLE " + reader + " LOGIN PASSWORD '" + reader_password + "'; ALTER ROLE " +
            reader + " SET default_transaction_read_only = on",
        "postgres");
    sql(std::string("CREATE DATABASE ") + database + " OWNER " + writer, "postgres");
}

pg_cluster::~pg_cluster() {
    try {
        stop();
    } catch (const std::exception&) {
        // The folder goes anyway; a server that would not stop dies with it.
    }
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
}

std::string pg_cluster::as_server_user(const std::string& command) const {
    return is_root() ? "runuser -u postgres -- " + command : command;
}

std::string pg_cluster::uri(const std::string& user, const std::string& db) const {
    return "postgresql://" + user + "@127.0.0.1:" + std::to_string(port_) + "/" + db;
}

std::string pg_cluster::sql(const std::string& statements, const std::string& db) const {
    return checked(quoted((bin_ / "psql").string()) + " -X -q -At -v ON_ERROR_STOP=1 -h " +
                   quoted(sockets_.string()) + " -p " + std::to_string(port_) + " -U postgres -d " +
                   quoted(db) + " -c " + quoted(statements));
}

void pg_cluster::start() {
    // fsync off: the tests crash the client, never the machine; a server restart is clean.
    const std::string options = "-p " + std::to_string(port_) + " -k " + sockets_.string() +
                                " -c listen_addresses=127.0.0.1 -c fsync=off "
                                "-c full_page_writes=off -c max_connections=40 "
                                "-c shared_buffers=32MB";
    const auto log = root_ / "server.log";
    const auto r = shell(as_server_user(quoted((bin_ / "pg_ctl").string()) + " -D " +
                                        quoted(data_.string()) + " -l " + quoted(log.string()) +
                                        " -w -t 60 -o " + quoted(options) + " start"));
    if (r.status != 0)
        throw std::runtime_error("pg_ctl start failed: " + r.output + "\n" +
                                 shell("tail -n 20 " + quoted(log.string())).output);
    running_ = true;
}

void pg_cluster::stop() {
    stop_in("fast");
}

void pg_cluster::stop_in(const std::string& mode) {
    if (!running_)
        return;
    checked(as_server_user(quoted((bin_ / "pg_ctl").string()) + " -D " + quoted(data_.string()) +
                           " -w -t 60 -m " + mode + " stop"));
    running_ = false;
}

void pg_cluster::crash_restart() {
    stop_in("immediate");
    start();
}

void pg_cluster::restart() {
    stop();
    start();
}

} // namespace dynjobs::testkit
