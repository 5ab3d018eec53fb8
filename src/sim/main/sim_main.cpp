// dynjobs-sim: runs the AvePoint Graph API simulator until SIGINT or SIGTERM.
//
// A thin command line over dynjobs::sim::simulator (the `dynjobs sim` subcommand will replace
// it). Every option maps onto one sim_config member; a bad value is reported with the option's
// name and exits with status 1 before anything is bound.
#include <dynjobs/sim/simulator.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <charconv>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using dynjobs::sim::sim_config;

constexpr std::string_view usage = R"(usage: dynjobs-sim [options]
  --port N              HTTPS port (default 0: any free port)
  --http-port N         also serve plain HTTP on this port (0: any free port)
  --cert-dir DIR        where ca.pem, server.pem, server-key.pem are written
                        (default: <temp>/dynjobs-sim)
  --cert FILE --key FILE  serve this certificate and key instead of generated ones
  --seed N              dataset seed (default 42)
  --orgs N              organizations (default 20)
  --jobs N              jobs (default 100000)
  --max-page-size N     largest page served (default 1000)
  --oversize cap|reject what a larger pageSize gets (default cap)
  --next-link-style published|absolute|null|empty|omitted   (default published)
  --latency-ms N        added before every response (default 0)
  --rate-limit R[:B]    R requests/s per client, burst B (default off; burst 10)
  --fault-rate P        probability in [0,1] of a random fault per jobs request (default 0)
  --fault-seed N        seed of random faults (default 1)
  --fault RULE          scheduled fault, e.g. "page=7,nth=3:503" (repeatable)
  --token-lifetime S    access token lifetime in seconds (default 3600)
  --threads N           threads running the server (default 2)
  --help                this text
)";

struct bad_option {
    std::string message;
};

template <class T>
T number(std::string_view option, std::string_view text, T min, T max) {
    T value{};
    const auto* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc{} || ptr != end || value < min || value > max)
        throw bad_option{"invalid value '" + std::string(text) + "' for " + std::string(option) +
                         ": expected a number from " + std::to_string(min) + " to " +
                         std::to_string(max)};
    return value;
}

double real(std::string_view option, std::string_view text, double min, double max) {
    // from_chars for double is in libstdc++ 11+, fine on g++ 12.
    return number<double>(option, text, min, max);
}

struct parsed {
    sim_config config;
    int threads = 2;
};

parsed parse_args(int argc, char** argv) {
    parsed out;
    sim_config& cfg = out.config;
    cfg.cert_dir = std::filesystem::temp_directory_path() / "dynjobs-sim";
    std::vector<std::string_view> args(argv + 1, argv + argc);
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string_view opt = args[i];
        std::optional<std::string_view> inline_value;
        if (auto eq = opt.find('='); opt.starts_with("--") && eq != opt.npos) {
            inline_value = opt.substr(eq + 1);
            opt = opt.substr(0, eq);
        }
        if (opt == "--help" || opt == "-h") {
            std::cout << usage;
            std::exit(0);
        }
        auto value = [&]() -> std::string_view {
            if (inline_value)
                return *inline_value;
            if (i + 1 >= args.size())
                throw bad_option{"option " + std::string(opt) + " needs a value"};
            return args[++i];
        };
        if (opt == "--port")
            cfg.https_port = number<std::uint16_t>(opt, value(), 0, 65535);
        else if (opt == "--http-port")
            cfg.http_port = number<std::uint16_t>(opt, value(), 0, 65535);
        else if (opt == "--cert-dir")
            cfg.cert_dir = std::string(value());
        else if (opt == "--cert")
            cfg.cert_file = std::string(value());
        else if (opt == "--key")
            cfg.key_file = std::string(value());
        else if (opt == "--seed")
            cfg.dataset.seed = number<std::uint64_t>(opt, value(), 0, UINT64_MAX);
        else if (opt == "--orgs")
            cfg.dataset.organizations = number<std::size_t>(opt, value(), 1, 100'000);
        else if (opt == "--jobs")
            cfg.dataset.jobs = number<std::size_t>(opt, value(), 0, 50'000'000);
        else if (opt == "--max-page-size")
            cfg.jobs.max_page_size = number<std::int64_t>(opt, value(), 1, 1'000'000);
        else if (opt == "--oversize") {
            const auto v = value();
            if (v == "cap")
                cfg.jobs.oversize = dynjobs::sim::oversize_page::cap;
            else if (v == "reject")
                cfg.jobs.oversize = dynjobs::sim::oversize_page::reject;
            else
                throw bad_option{"invalid value '" + std::string(v) +
                                 "' for --oversize: expected cap or reject"};
        } else if (opt == "--next-link-style") {
            using dynjobs::sim::next_link_style;
            const auto v = value();
            if (v == "published")
                cfg.jobs.link_style = next_link_style::published;
            else if (v == "absolute")
                cfg.jobs.link_style = next_link_style::absolute;
            else if (v == "null")
                cfg.jobs.link_style = next_link_style::null;
            else if (v == "empty")
                cfg.jobs.link_style = next_link_style::empty;
            else if (v == "omitted")
                cfg.jobs.link_style = next_link_style::omitted;
            else
                throw bad_option{"invalid value '" + std::string(v) +
                                 "' for --next-link-style: expected published, absolute, null, "
                                 "empty or omitted"};
        } else if (opt == "--latency-ms")
            cfg.latency = std::chrono::milliseconds(number<std::int64_t>(opt, value(), 0, 600'000));
        else if (opt == "--rate-limit") {
            const auto v = value();
            const auto colon = v.find(':');
            cfg.rate_limit.requests_per_second = real(opt, v.substr(0, colon), 0, 1e9);
            if (colon != v.npos)
                cfg.rate_limit.burst = real(opt, v.substr(colon + 1), 1, 1e9);
        } else if (opt == "--fault-rate")
            cfg.faults.rate = real(opt, value(), 0, 1);
        else if (opt == "--fault-seed")
            cfg.faults.seed = number<std::uint64_t>(opt, value(), 0, UINT64_MAX);
        else if (opt == "--fault") {
            std::string error;
            auto rule = dynjobs::sim::parse_fault_rule(value(), error);
            if (!rule)
                throw bad_option{"invalid value for --fault: " + error};
            cfg.faults.schedule.push_back(std::move(*rule));
        } else if (opt == "--token-lifetime")
            cfg.token_lifetime =
                std::chrono::seconds(number<std::int64_t>(opt, value(), 0, 10LL * 365 * 86400));
        else if (opt == "--threads")
            out.threads = number<int>(opt, value(), 1, 64);
        else
            throw bad_option{"unknown option '" + std::string(args[i]) + "' (see --help)"};
    }
    return out;
}

} // namespace

int main(int argc, char** argv) {
    parsed args;
    try {
        args = parse_args(argc, argv);
    } catch (const bad_option& e) {
        std::cerr << "dynjobs-sim: " << e.message << '\n';
        return 1;
    }

    boost::asio::io_context ioc(args.threads);
    dynjobs::sim::simulator sim(ioc.get_executor(), args.config);
    dynjobs::diagnostics diag;
    if (auto ec = sim.start(diag)) {
        std::cerr << "dynjobs-sim: " << (diag.message.empty() ? ec.message() : diag.message)
                  << '\n';
        return 1;
    }
    const auto& clients = sim.config().clients;
    std::cout << "base URL:   " << sim.base_url() << '\n'
              << "token URL:  " << sim.token_url() << '\n'
              << "CA file:    " << sim.ca_file().string() << '\n';
    if (sim.http_port() != 0)
        std::cout << "plain HTTP: " << sim.http_base_url() << '\n';
    for (const auto& c : clients)
        std::cout << "client id:  " << c.client_id << '\n'
                  << "secret:     " << c.client_secret.value_or("(certificate only)") << '\n';
    std::cout << "scope:      dynamics.readwrite.all\n"
              << "Ctrl-C stops." << std::endl;

    boost::asio::signal_set signals(ioc, SIGINT, SIGTERM);
    boost::asio::steady_timer grace(ioc);
    signals.async_wait([&](const boost::system::error_code& ec, int) {
        if (ec)
            return;
        sim.stop();
        // stop() closes every connection through the executor; give that a moment, then end
        // the loop whatever is left (a client that never reads must not keep us alive).
        grace.expires_after(std::chrono::milliseconds(200));
        grace.async_wait([&](const boost::system::error_code&) { ioc.stop(); });
    });

    std::vector<std::thread> threads;
    for (int i = 1; i < args.threads; ++i)
        threads.emplace_back([&] { ioc.run(); });
    ioc.run();
    for (auto& t : threads)
        t.join();
    return 0;
}
