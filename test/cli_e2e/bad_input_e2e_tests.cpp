// Bad input to `dynjobs backfill`: one clear line naming the option and the value, exit 1, and
// nothing sent (a listening socket in the place of the API sees no connection).
#include "e2e_fixture.hpp"

#include "../unit/auth_test_material.hpp"

#include <boost/test/unit_test.hpp>

#include <fstream>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace dynjobs;
using namespace dynjobs::e2e;

namespace {

// A loopback port that listens but never answers, standing in for the API: counts the
// connections it was offered.
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

struct bad_case {
    std::string name;
    std::vector<std::string> args;          ///< after the connection options
    std::map<std::string, std::string> env; ///< replaces the default secret when set
    std::vector<std::string> message_parts; ///< the stderr line must hold each
    bool with_connection = true;            ///< add --base-url/--client-id/secret
};

void check(const bad_case& c, const scratch_dir& dir) {
    BOOST_TEST_CONTEXT("case " << c.name) {
        listening_port api;
        std::vector<std::string> args{"backfill", "--output", dir / "jobs.jsonl"};
        std::map<std::string, std::string> env = c.env;
        if (c.with_connection) {
            for (const auto& a : {"--base-url", "--client-id"})
                args.push_back(a),
                    args.push_back(a == std::string("--base-url") ? api.url() : "client");
            if (env.empty())
                env["DYNJOBS_CLIENT_SECRET"] = "a-secret-value";
            if (std::find(c.args.begin(), c.args.end(), "--since") == c.args.end())
                args.insert(args.end(), {"--since", "2024-01-01"});
        }
        args.insert(args.end(), c.args.begin(), c.args.end());
        const auto r = run(args, env, dir.path());
        BOOST_TEST(r.how.exit_status == 1, r.err);
        for (const auto& part : c.message_parts)
            BOOST_TEST(r.err.find(part) != std::string::npos, "'" << part << "' not in: " << r.err);
        BOOST_TEST(std::count(r.err.begin(), r.err.end(), '\n') == 1, "not one line: " << r.err);
        BOOST_TEST(r.err.find("a-secret-value") == std::string::npos);
        BOOST_TEST(api.connections() == 0, "a request was sent");
        BOOST_TEST(!std::filesystem::exists(dir.path() / "jobs.jsonl"), "output was created");
    }
}

} // namespace

BOOST_AUTO_TEST_SUITE(bad_input_e2e)

BOOST_AUTO_TEST_CASE(each_bad_input_is_named_and_nothing_is_sent) {
    scratch_dir dir;
    {
        std::ofstream orgs(dir / "orgs.txt");
        orgs << "# our tenants\n3f2504e0-4f89-41d3-9a0c-0305e82c3301\nnot-a-guid\n";
    }
    const auto& material = auth_test::shared_rsa();
    const std::string password = "right-password";
    {
        std::ofstream pem(dir / "client.pem");
        pem << material.cert_pem << auth_test::encrypted_key_pem(material.key.get(), password);
    }
    const std::vector<bad_case> cases{
        {"month 13", {"--since", "2024-13-01"}, {}, {"--since", "'2024-13-01'"}},
        {"not a date", {"--until", "yesterday"}, {}, {"--until", "'yesterday'"}},
        {"since after until",
         {"--since", "2025-01-01", "--until", "2024-01-01"},
         {},
         {"--since '2025-01-01'", "is not before --until '2024-01-01'"}},
        {"type name", {"--type", "nightly"}, {}, {"--type", "'nightly'"}},
        {"status name", {"--status", "done"}, {}, {"--status", "'done'"}},
        {"org GUID", {"--org", "1234-not-a-guid"}, {}, {"--org", "'1234-not-a-guid'"}},
        {"orgs file line",
         {"--orgs-file", dir / "orgs.txt"},
         {},
         {"--orgs-file", "line 3", "'not-a-guid'"}},
        {"window", {"--window", "30x"}, {}, {"--window", "'30x'"}},
        {"page size", {"--page-size", "0"}, {}, {"--page-size", "'0'"}},
        {"concurrency", {"--concurrency", "many"}, {}, {"--concurrency", "'many'"}},
        {"format", {"--format", "xml"}, {}, {"--format", "'xml'"}},
        {"missing folder",
         {"--output", "/no/such/folder/jobs.jsonl"},
         {},
         {"--output", "/no/such/folder", "does not exist"}},
        {"secret on the command line",
         {"--client-secret", "s3cr3t"},
         {},
         {"--client-secret", "DYNJOBS_CLIENT_SECRET"}},
        {"unreadable secret file",
         {"--client-secret-file", "/no/such/secret"},
         {{"HOME", "/"}},
         {"--client-secret-file", "/no/such/secret"}},
        {"no credentials", {}, {{"HOME", "/"}}, {"no credentials", "DYNJOBS_CLIENT_SECRET"}},
        {"wrong certificate password",
         {"--certificate", dir / "client.pem"},
         {{"DYNJOBS_CERT_PASSWORD", "wrong-password"}},
         {"--certificate"}},
        {"plain http to a remote host",
         {"--base-url", "http://graph-us.example.com"},
         {},
         {"--base-url", "http://graph-us.example.com"}},
        {"unknown region", {"--region", "mars"}, {}, {"--region", "'mars'"}, false},
        {"resume without checkpoint", {"--resume"}, {}, {"--resume", "no checkpoint"}},
        {"unknown option", {"--colour", "red"}, {}, {"--colour"}},
        {"credentials without endpoint",
         {"--client-id", "x"},
         {},
         {"--client-id", "--region or --base-url"},
         false},
    };
    for (const auto& c : cases)
        check(c, dir);
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
          "--resume",      "--stats-json", "--verbose",   "--quiet"})
        BOOST_TEST(help.out.find(option) != std::string::npos, option);
    const auto top = run({"--help"}, {}, dir.path());
    BOOST_TEST(top.how.exit_status == 0);
    BOOST_TEST(top.out.find("backfill") != std::string::npos);
    BOOST_TEST(top.out.find("sim") != std::string::npos);
    const auto version = run({"--version"}, {}, dir.path());
    BOOST_TEST(version.out.starts_with("dynjobs " DYNJOBS_VERSION));
    const auto sim_help = run({"sim", "--help"}, {}, dir.path());
    BOOST_TEST(sim_help.out.find("--rate-limit") != std::string::npos);
    const auto unknown = run({"frobnicate"}, {}, dir.path());
    BOOST_TEST(unknown.how.exit_status == 1);
    BOOST_TEST(unknown.err.find("'frobnicate'") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
