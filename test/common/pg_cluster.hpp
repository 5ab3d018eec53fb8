// pg_cluster.hpp - a throwaway PostgreSQL 15 server for the tests of the PostgreSQL sink.
//
// initdb into a fresh temp folder, a free loopback port and a private Unix socket folder, removed
// at the end. Run as root (CI), the server runs as the `postgres` system user (PostgreSQL refuses
// to run as root) and the folder is handed to it. Connections over TCP need a password
// (scram-sha-256), as a real deployment's would; the tests' own setup queries go through the
// Unix socket as the superuser (trust).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace dynjobs::testkit {

class pg_cluster {
public:
    /// The role the sink's tests write with, its password and database.
    static constexpr const char* writer = "dynjobs_writer";
    static constexpr const char* writer_password = "writer-Pass-9f3";
    static constexpr const char* database = "dynjobs_test";
    /// A role that may log in and read, but not write (default_transaction_read_only, no grants).
    static constexpr const char* reader = "dynjobs_reader";
    static constexpr const char* reader_password = "reader-Pass-2c7";

    /// initdb, start, and create the roles and database above. Throws std::runtime_error with
    /// the server's log when it cannot.
    pg_cluster();
    /// Stops the server (fast) and removes its folder.
    ~pg_cluster();
    pg_cluster(const pg_cluster&) = delete;
    pg_cluster& operator=(const pg_cluster&) = delete;

    std::uint16_t port() const noexcept { return port_; }
    /// postgresql://USER@127.0.0.1:PORT/DB (no password: it comes from PGPASSWORD or a file).
    std::string uri(const std::string& user = writer, const std::string& db = database) const;

    /// Runs SQL through psql as the superuser over the Unix socket; returns its unaligned,
    /// tuples-only output (fields separated by '|', one row a line). Throws on failure.
    std::string sql(const std::string& statements, const std::string& db = database) const;

    void stop();
    void start();
    /// Stops (fast: open connections are cut) and starts again on the same port.
    void restart();
    /// Stops as a crash does (immediate: no checkpoint, every backend killed) and starts again:
    /// the server recovers from its WAL.
    void crash_restart();

private:
    std::string as_server_user(const std::string& command) const;
    void stop_in(const std::string& mode);

    std::filesystem::path root_;
    std::filesystem::path data_;
    std::filesystem::path sockets_;
    std::filesystem::path bin_;
    std::uint16_t port_ = 0;
    bool running_ = false;
};

} // namespace dynjobs::testkit
