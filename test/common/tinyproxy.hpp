// tinyproxy.hpp - Debian's tinyproxy started by a test: a real HTTP proxy (CONNECT tunnels) on a
// free loopback port, for the proxy tests of the library and of the command.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace dynjobs::testkit {

struct tinyproxy_options {
    /// BasicAuth: tinyproxy then wants these credentials (407 without any, 401 for wrong ones).
    /// Its configuration takes letters, digits, '-', '.' and '_' only. Empty user: open proxy.
    std::string user;
    std::string password;
    /// ConnectPort lines: the only ports CONNECT may reach (403 for others). Empty: every port,
    /// which is tinyproxy's rule when the configuration lists none.
    std::vector<std::uint16_t> connect_ports;
};

/// tinyproxy in the foreground (`tinyproxy -d -c CONF`) with a generated configuration, its log
/// in a private folder. As root it drops to nobody/nogroup after binding, as its User and Group
/// directives do. Fails the test (BOOST_REQUIRE) when it cannot start; the destructor stops it.
class tinyproxy {
public:
    explicit tinyproxy(tinyproxy_options options = {});
    ~tinyproxy();
    tinyproxy(const tinyproxy&) = delete;
    tinyproxy& operator=(const tinyproxy&) = delete;

    std::uint16_t port() const noexcept { return port_; }
    /// "http://127.0.0.1:PORT", without credentials.
    std::string url() const;

    /// SIGKILL, as a crash: its tunnels break mid-stream. Waits for the process to end.
    void kill();
    /// Starts it again on the same port (the first start is the constructor's).
    void start();

    /// The targets ("host:port") of the CONNECT requests it logged in run `run` (0 is the
    /// constructor's start, 1 the first start() after a kill(), ...).
    std::vector<std::string> connects(std::size_t run = 0) const;

private:
    std::filesystem::path log_of(std::size_t run) const;

    tinyproxy_options options_;
    std::filesystem::path dir_;
    std::uint16_t port_ = 0;
    pid_t pid_ = -1;
    std::size_t runs_ = 0;
};

} // namespace dynjobs::testkit
