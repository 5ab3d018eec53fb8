#include "e2e_fixture.hpp"

#include "cli/job_format.hpp"

#include <dynjobs/page_decoder.hpp>

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <boost/test/unit_test.hpp>

#include <csignal>
#include <random>
#include <sstream>
#include <thread>
#include <unistd.h>

namespace dynjobs::e2e {

scratch_dir::scratch_dir() {
    static std::mt19937_64 rng(std::random_device{}());
    path_ = std::filesystem::temp_directory_path() /
            ("dynjobs-e2e-" + std::to_string(::getpid()) + "-" + std::to_string(rng()));
    std::filesystem::create_directories(path_);
}

scratch_dir::~scratch_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

namespace {
std::string line_value(const std::string& text, const std::string& label) {
    const auto at = text.find(label);
    if (at == text.npos)
        return {};
    const auto start = text.find_first_not_of(' ', at + label.size());
    return text.substr(start, text.find('\n', start) - start);
}
} // namespace

sim_process::sim_process(const scratch_dir& dir, sim_options options)
    : options_(std::move(options)) {
    std::vector<std::string> args{binary(),     "sim",
                                  "--port",     "0",
                                  "--threads",  "1",
                                  "--cert-dir", dir / "sim-certs",
                                  "--orgs",     std::to_string(options_.organizations),
                                  "--jobs",     std::to_string(options_.jobs),
                                  "--seed",     std::to_string(options_.seed)};
    args.insert(args.end(), options_.extra.begin(), options_.extra.end());
    const auto out = dir.path() / (options_.name + ".stdout");
    const auto err = dir.path() / (options_.name + ".stderr");
    process_ = std::make_unique<child>(args, std::map<std::string, std::string>{}, out, err);
    // The simulator prints its URLs once it listens; wait for that (bounded: a broken start
    // must fail the test, not hang it).
    for (int i = 0; i < 2000; ++i) {
        const auto text = read_text(out);
        if (text.find("Ctrl-C stops.") != text.npos) {
            base_url_ = line_value(text, "base URL:");
            ca_file_ = line_value(text, "CA file:");
            return;
        }
        ended how;
        BOOST_TEST_REQUIRE(!process_->poll(how), "dynjobs sim ended at start: " << read_text(err));
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    BOOST_FAIL("dynjobs sim did not start");
}

sim_process::~sim_process() {
    process_->signal(SIGTERM);
    process_->wait(std::chrono::seconds(10));
}

std::vector<job> sim_process::expected(timestamp start, timestamp finish) const {
    sim::dataset_config config;
    config.seed = options_.seed;
    config.organizations = options_.organizations;
    config.jobs = options_.jobs;
    const sim::dataset data(config);
    sim::filter f;
    f.start = start;
    f.finish = finish;
    return data.select(f);
}

std::vector<std::string> sim_process::connection() const {
    return {"--base-url", base_url_, "--client-id", "dynjobs-sim-client", "--ca-file", ca_file_};
}

std::map<std::string, std::string> sim_process::secret_env() {
    return {{"DYNJOBS_CLIENT_SECRET", "dynjobs-sim-secret"}};
}

namespace {

std::vector<job> decode_objects(const std::string& joined_objects) {
    const std::string body = "{\"jobs\":[" + joined_objects + "]}";
    jobs_page page;
    diagnostics diag;
    const auto ec = decode_page(body, page, diag);
    BOOST_TEST_REQUIRE(!ec, "output does not decode: " << diag.message);
    return std::move(page.jobs);
}

} // namespace

std::vector<job> read_jsonl(const std::filesystem::path& path) {
    std::istringstream in(read_text(path));
    std::string line;
    std::string joined;
    while (std::getline(in, line)) {
        BOOST_TEST_REQUIRE(!line.empty(), "empty line in " << path);
        if (!joined.empty())
            joined.push_back(',');
        joined += line;
    }
    return decode_objects(joined);
}

std::vector<job> read_csv(const std::filesystem::path& path) {
    const auto text = read_text(path);
    std::vector<std::vector<std::string>> records;
    std::size_t consumed = 0;
    BOOST_TEST_REQUIRE(cli::parse_csv_records(text, records, consumed));
    BOOST_TEST_REQUIRE(consumed == text.size(), "CSV ends in a torn record");
    BOOST_TEST_REQUIRE(!records.empty());
    const auto& header = records.front();
    const std::vector<std::string> expected_header(cli::csv_columns().begin(),
                                                   cli::csv_columns().end());
    BOOST_TEST_REQUIRE(header == expected_header);
    // Rebuild each record as the API's JSON object: strings quoted, numbers bare, an empty
    // time or duration as null.
    const auto is_string = [](const std::string& column) {
        return column == "module" || column == "jobId" || column == "startTime" ||
               column == "finishTime" || column == "organizationId" || column == "organizationName";
    };
    std::string joined;
    for (std::size_t r = 1; r < records.size(); ++r) {
        BOOST_TEST_REQUIRE(records[r].size() == header.size());
        joined += r > 1 ? ",{" : "{";
        for (std::size_t c = 0; c < header.size(); ++c) {
            const auto& value = records[r][c];
            joined += (c ? ",\"" : "\"") + header[c] + "\":";
            if (value.empty() && (header[c] == "finishTime" || header[c] == "durationHours"))
                joined += "null";
            else if (is_string(header[c]))
                joined += boost::json::serialize(boost::json::string(value));
            else
                joined += value;
        }
        joined += "}";
    }
    return decode_objects(joined);
}

void require_exactly(const std::vector<job>& written, const std::vector<job>& expected) {
    std::map<std::string, const job*> by_id;
    for (const auto& j : written) {
        const bool fresh = by_id.emplace(j.job_id, &j).second;
        BOOST_TEST_REQUIRE(fresh, "job " << j.job_id << " written twice");
    }
    BOOST_TEST_REQUIRE(written.size() == expected.size());
    for (const auto& j : expected) {
        const auto it = by_id.find(j.job_id);
        BOOST_TEST_REQUIRE((it != by_id.end()), "job " << j.job_id << " missing");
        BOOST_TEST_REQUIRE((*it->second == j), "job " << j.job_id << " differs");
    }
}

std::vector<std::string> against(const sim_process& sim, std::vector<std::string> args) {
    for (const auto& a : sim.connection())
        args.push_back(a);
    for (const auto& a : range_options())
        args.push_back(a);
    return args;
}

timestamp range_start() {
    return sim::dataset_config{}.begin;
}

timestamp range_finish() {
    return sim::dataset_config{}.end;
}

std::vector<std::string> range_options() {
    return {"--since", format_iso8601(range_start()), "--until", format_iso8601(range_finish())};
}

} // namespace dynjobs::e2e
