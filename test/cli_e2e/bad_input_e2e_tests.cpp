// Bad input to `dynjobs backfill` and `dynjobs sync`: the README's tables, walked row by row. Each
// row must exit 1 with exactly its one-line message, send nothing (a listening socket stands in for
// the API at https://127.0.0.1:8443 and must see no connection), leak no secret and create no
// output.
#include "e2e_fixture.hpp"

#include "../common/readme_table.hpp"
#include "../unit/auth_test_material.hpp"

#include <boost/test/unit_test.hpp>

#include <fstream>
#include <netinet/in.h>
#include <sstream>
#include <sys/socket.h>
#include <unistd.h>

using namespace dynjobs;
using namespace dynjobs::e2e;

namespace {

// A loopback port that listens but never answers: counts the connections it was offered.
class listening_port {
public:
    listening_port() {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        BOOST_TEST_REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
        BOOST_TEST_REQUIRE(::listen(fd_, 16) == 0);
        socklen_t len = sizeof addr;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
        port_ = ntohs(addr.sin_port);
    }
    ~listening_port() { ::close(fd_); }
    std::string url() const { return "https://127.0.0.1:" + std::to_string(port_); }
    int connections() {
        int n = 0;
        for (int fd; (fd = ::accept(fd_, nullptr, nullptr)) >= 0; ++n)
            ::close(fd);
        return n;
    }

private:
    int fd_ = -1;
    unsigned short port_ = 0;
};

void replace_all(std::string& text, const std::string& from, const std::string& to) {
    for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
        text.replace(at, from.size(), to);
}

std::vector<std::string> words(const std::string& text) {
    std::istringstream in(text);
    std::vector<std::string> out;
    for (std::string w; in >> w;)
        out.push_back(w);
    return out;
}

// The files the table's rows name, in the folder the command runs in.
void write_row_files(const scratch_dir& dir) {
    std::ofstream(dir / "orgs.txt") << "# our tenants\n3f2504e0-4f89-41d3-9a0c-0305e82c3301\n"
                                       "not-a-guid\n";
    const auto& material = auth_test::shared_rsa();
    std::ofstream(dir / "client.pem")
        << material.cert_pem << auth_test::encrypted_key_pem(material.key.get(), "right-password");
}

// Runs every row of the README table `table` as `dynjobs COMMAND ARGS...`.
void check_table(const std::string& table, const std::string& command, std::size_t at_least) {
    scratch_dir dir;
    write_row_files(dir);
    const auto rows = dynjobs::test::readme_table(table);
    BOOST_TEST_REQUIRE(rows.size() >= at_least);
    for (const auto& row : rows) {
        BOOST_TEST_REQUIRE(row.size() == 3u);
        BOOST_TEST_CONTEXT("dynjobs " << command << " " << row[1]) {
            listening_port api;
            std::map<std::string, std::string> env;
            for (const auto& assignment : words(row[0])) {
                const auto eq = assignment.find('=');
                env[assignment.substr(0, eq)] = assignment.substr(eq + 1);
            }
            std::string args = row[1];
            replace_all(args, "https://127.0.0.1:8443", api.url());
            std::string expected = "dynjobs: " + row[2] + "\n";
            replace_all(expected, "https://127.0.0.1:8443", api.url());
            replace_all(expected, "<cwd>", dir.path().string());
            auto argv = words(args);
            argv.insert(argv.begin(), command);
            const auto r = run(argv, env, dir.path());
            BOOST_TEST(r.how.exit_status == 1);
            BOOST_TEST(r.err == expected);
            for (const auto& [name, value] : env)
                BOOST_TEST(r.err.find(value) == std::string::npos, name << " leaked: " << r.err);
            BOOST_TEST(api.connections() == 0, "a request was sent");
            BOOST_TEST(!std::filesystem::exists(dir.path() / "jobs.jsonl"), "output created");
        }
    }
}

} // namespace

BOOST_AUTO_TEST_SUITE(bad_input_e2e)

BOOST_AUTO_TEST_CASE(readme_command_bad_input_table_holds_row_by_row) {
    check_table("bad-input-command", "backfill", 20);
}

BOOST_AUTO_TEST_CASE(readme_sync_bad_input_table_holds_row_by_row) {
    check_table("bad-input-sync", "sync", 10);
}

BOOST_AUTO_TEST_CASE(help_and_version_describe_every_option) {
    scratch_dir dir;
    const auto help = run({"backfill", "--help"}, {}, dir.path());
    BOOST_TEST(help.how.exit_status == 0);
    for (const auto* option :
         {"--type",        "--status",     "--since",     "--until",       "--org",
          "--orgs-file",   "--window",     "--page-size", "--concurrency", "--max-rate",
          "--region",      "--base-url",   "--token-url", "--client-id",   "--client-secret-file",
          "--certificate", "--ca-file",    "--output",    "--format",      "--checkpoint",
          "--resume",      "--stats-json", "--verbose",   "--quiet",       "--extra-ca-file",
          "--proxy",       "--no-proxy"})
        BOOST_TEST(help.out.find(option) != std::string::npos, option);
    const auto top = run({"--help"}, {}, dir.path());
    BOOST_TEST(top.how.exit_status == 0);
    BOOST_TEST(top.out.find("backfill") != std::string::npos);
    BOOST_TEST(top.out.find("sim") != std::string::npos);
    BOOST_TEST(top.out.find("sync") != std::string::npos);
    const auto sync_help = run({"sync", "--help"}, {}, dir.path());
    BOOST_TEST(sync_help.how.exit_status == 0);
    for (const auto* option : {"--every", "--lookback", "--listen", "--log-format", "--once"})
        BOOST_TEST(sync_help.out.find(option) != std::string::npos, option);
    const auto version = run({"--version"}, {}, dir.path());
    BOOST_TEST(version.out.starts_with("dynjobs " DYNJOBS_VERSION));
    const auto sim_help = run({"sim", "--help"}, {}, dir.path());
    BOOST_TEST(sim_help.out.find("--rate-limit") != std::string::npos);
    const auto unknown = run({"frobnicate"}, {}, dir.path());
    BOOST_TEST(unknown.how.exit_status == 1);
    BOOST_TEST(unknown.err.find("'frobnicate'") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
