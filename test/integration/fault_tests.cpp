// Fault injection observed on the wire: each fault kind does to a client exactly what it says,
// and the real per-client rate limit answers 429 with a Retry-After from its bucket.
#include "sim_fixture.hpp"

#include <dynjobs/page_decoder.hpp>

#include <boost/asio/error.hpp>
#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <charconv>

namespace {

using namespace dynjobs;
using namespace dynjobs::testkit;
using sim::fault_kind;

/// A simulator whose next jobs request (and only it) gets `kind`.
struct fault_fixture {
    sim_fixture fx;
    test_client client = fx.https_client();
    std::string token = fx.token();

    void arm(fault_kind kind, std::size_t times = 1) {
        sim::fault_config config;
        config.delay = std::chrono::milliseconds(300);
        config.trickle_chunk_bytes = 512; // small enough to need many writes, fast enough
        config.trickle_interval = std::chrono::milliseconds(1);
        sim::fault_rule rule;
        rule.kind = kind;
        rule.path = "/dynamicsbackup/jobs";
        rule.times = times;
        config.schedule.push_back(rule);
        fx.sim().set_fault_config(config);
    }

    fault_kind last_logged_fault() const {
        auto log = fx.sim().request_log();
        BOOST_TEST_REQUIRE(!log.empty());
        return log.back().fault;
    }
};

std::optional<std::size_t> content_length(std::string_view head) {
    const auto at = head.find("Content-Length: ");
    if (at == head.npos)
        return std::nullopt;
    std::size_t n = 0;
    const auto* begin = head.data() + at + 16;
    std::from_chars(begin, head.data() + head.size(), n);
    return n;
}

/// Splits raw bytes into head and body at the blank line; nullopt if no complete head came.
std::optional<std::pair<std::string, std::string>> split(const std::string& raw) {
    const auto end = raw.find("\r\n\r\n");
    if (end == raw.npos)
        return std::nullopt;
    return std::pair{raw.substr(0, end + 4), raw.substr(end + 4)};
}

} // namespace

BOOST_AUTO_TEST_SUITE(faults)

BOOST_FIXTURE_TEST_CASE(throttling_429_in_every_retry_after_format, fault_fixture) {
    arm(fault_kind::throttle_429);
    auto res = client.get(jobs_target(), token);
    BOOST_TEST(res.status == 429u);
    BOOST_TEST(res.header("Retry-After").value_or("") == "1");

    arm(fault_kind::throttle_429_fractional);
    res = client.get(jobs_target(), token);
    BOOST_TEST(res.status == 429u);
    const std::string fractional = res.header("Retry-After").value_or("");
    BOOST_TEST(fractional.find('.') != std::string::npos, fractional);
    BOOST_TEST(std::stod(fractional) > 0.0);

    arm(fault_kind::throttle_429_http_date);
    res = client.get(jobs_target(), token);
    BOOST_TEST(res.status == 429u);
    const std::string date = res.header("Retry-After").value_or("");
    // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
    BOOST_TEST(date.size() == 29u, date);
    BOOST_TEST(date.ends_with(" GMT"), date);
    BOOST_TEST(date[3] == ',');

    arm(fault_kind::throttle_429_no_retry_after);
    res = client.get(jobs_target(), token);
    BOOST_TEST(res.status == 429u);
    BOOST_TEST(!res.header("Retry-After").has_value());

    BOOST_TEST(fx.sim().counters().by_fault[fault_kind::throttle_429] == 1u);
    BOOST_TEST(client.get(jobs_target(), token).status == 200u); // the fault fired once only
}

BOOST_FIXTURE_TEST_CASE(server_errors_with_json_bodies, fault_fixture) {
    const std::vector<std::pair<fault_kind, unsigned>> cases{{fault_kind::error_500, 500},
                                                             {fault_kind::error_502, 502},
                                                             {fault_kind::error_503, 503},
                                                             {fault_kind::error_504, 504}};
    for (auto [kind, status] : cases) {
        arm(kind);
        auto res = client.get(jobs_target(), token);
        BOOST_TEST(res.status == status);
        BOOST_TEST(boost::json::parse(res.body).as_object().at("statusCode").as_int64() == status);
        BOOST_TEST(res.header("Retry-After").has_value() == (status == 503));
        BOOST_TEST((last_logged_fault() == kind));
    }
}

BOOST_FIXTURE_TEST_CASE(close_before_response_sends_no_byte, fault_fixture) {
    arm(fault_kind::close_before_response);
    auto raw = client.raw_get(jobs_target(), token);
    BOOST_TEST(raw.bytes.empty());
    BOOST_TEST(raw.end.failed());
    auto log = fx.sim().request_log();
    BOOST_TEST(log.back().status == 0u);
    BOOST_TEST((log.back().fault == fault_kind::close_before_response));
}

BOOST_FIXTURE_TEST_CASE(truncated_body_is_shorter_than_content_length, fault_fixture) {
    arm(fault_kind::truncated_body);
    auto raw = client.raw_get(jobs_target(), token);
    BOOST_TEST(raw.end.failed()); // no clean TLS close: stream_truncated
    auto parts = split(raw.bytes);
    BOOST_TEST_REQUIRE(parts.has_value());
    BOOST_TEST(parts->first.starts_with("HTTP/1.1 200"));
    const auto length = content_length(parts->first);
    BOOST_TEST_REQUIRE(length.has_value());
    BOOST_TEST(parts->second.size() < *length);
    BOOST_TEST(!parts->second.empty());

    // The keep-alive client sees the same as a broken read.
    arm(fault_kind::truncated_body);
    http_response res;
    BOOST_TEST(
        client.request("GET", jobs_target(), res, {{"Authorization", "Bearer " + token}}).failed());
}

BOOST_FIXTURE_TEST_CASE(reset_mid_body_on_plain_http_is_a_connection_reset, fault_fixture) {
    auto config = small_sim_config();
    config.http_port = 0;
    sim_fixture plain(config);
    const std::string plain_token = plain.token();
    sim::fault_rule rule;
    rule.kind = fault_kind::reset_mid_body;
    plain.sim().add_fault_rule(rule);
    auto http = plain.http_client();
    // pageSize 1000: a body far larger than the socket buffers, so the RST cannot arrive after
    // everything was already read.
    auto raw = http.raw_get(jobs_target("type=0", 1, 1000), plain_token);
    BOOST_TEST(raw.end == boost::asio::error::connection_reset, raw.end.message());
    if (auto parts = split(raw.bytes)) {
        BOOST_TEST(parts->second.size() < content_length(parts->first).value_or(0));
    }
    BOOST_TEST((plain.sim().request_log().back().fault == fault_kind::reset_mid_body));
}

BOOST_FIXTURE_TEST_CASE(reset_mid_body_over_tls_breaks_the_response, fault_fixture) {
    arm(fault_kind::reset_mid_body);
    auto raw = client.raw_get(jobs_target("type=0", 1, 1000), token);
    BOOST_TEST(raw.end.failed());
    BOOST_TEST(raw.end != boost::asio::error::eof);
    if (auto parts = split(raw.bytes)) {
        BOOST_TEST(parts->second.size() < content_length(parts->first).value_or(0));
    }
}

BOOST_FIXTURE_TEST_CASE(delayed_first_byte_and_trickled_body_still_deliver_the_page,
                        fault_fixture) {
    const std::string target = jobs_target("type=0", 2, 200);
    const std::string normal = client.get(target, token).body;

    arm(fault_kind::delay_first_byte);
    const auto before = std::chrono::steady_clock::now();
    auto delayed = client.get(target, token);
    // A lower bound only: the simulator must have waited at least the configured delay.
    BOOST_TEST((std::chrono::steady_clock::now() - before >= std::chrono::milliseconds(300)));
    BOOST_TEST(delayed.status == 200u);
    BOOST_TEST(delayed.body == normal);

    arm(fault_kind::trickle_body);
    auto trickled = client.get(target, token);
    BOOST_TEST(trickled.status == 200u);
    BOOST_TEST(trickled.body == normal);
    BOOST_TEST((last_logged_fault() == fault_kind::trickle_body));
    BOOST_TEST(client.connections_opened() == 1u); // both kept the connection usable
}

BOOST_FIXTURE_TEST_CASE(malformed_json_has_a_correct_length_but_does_not_decode, fault_fixture) {
    arm(fault_kind::malformed_json);
    auto res = client.get(jobs_target(), token); // the HTTP layer is satisfied...
    BOOST_TEST(res.status == 200u);
    BOOST_TEST(res.header("Content-Length").value_or("") == std::to_string(res.body.size()));
    jobs_page page;
    diagnostics diag;
    BOOST_TEST(decode_page(res.body, page, diag).failed()); // ...the decoder is not
}

BOOST_FIXTURE_TEST_CASE(revoked_token_gets_401_then_a_new_token_works, fault_fixture) {
    arm(fault_kind::revoke_token);
    auto res = client.get(jobs_target(), token);
    BOOST_TEST(res.status == 401u);
    BOOST_TEST(res.header("WWW-Authenticate").value_or("").find("invalid_token") !=
               std::string::npos);
    BOOST_TEST(client.get(jobs_target(), token).status == 401u); // stays revoked
    BOOST_TEST(client.get(jobs_target(), fx.token()).status == 200u);
}

BOOST_FIXTURE_TEST_CASE(drift_inserts_and_removes_matching_jobs, fault_fixture) {
    const std::string target = jobs_target("type=1", 1, 10);
    auto total = [&](const http_response& r) {
        jobs_page page;
        diagnostics diag;
        BOOST_TEST_REQUIRE(!decode_page(r.body, page, diag), diag.message);
        return page.total_count.value_or(-1);
    };
    const auto before = total(client.get(target, token));

    arm(fault_kind::drift_insert);
    BOOST_TEST(total(client.get(target, token)) == before + 1);
    BOOST_TEST(total(client.get(target, token)) == before + 1); // the change stays

    arm(fault_kind::drift_remove, 2);
    BOOST_TEST(total(client.get(target, token)) == before);
    BOOST_TEST(total(client.get(target, token)) == before - 1);

    sim::filter backups;
    backups.type = job_type::backup;
    backups.start = *parse_iso8601("2024-01-01T00:00:00Z");
    backups.finish = *parse_iso8601("2026-01-01T00:00:00Z");
    BOOST_TEST(static_cast<std::int64_t>(fx.sim().select(backups).size()) == before - 1);
}

BOOST_AUTO_TEST_CASE(random_faults_follow_the_rate) {
    auto config = small_sim_config();
    config.faults.rate = 1.0;
    config.faults.kinds = {fault_kind::error_503};
    sim_fixture fx(config);
    auto client = fx.https_client();
    const std::string token = fx.token(); // token requests are not hit by random faults
    for (int i = 0; i < 5; ++i)
        BOOST_TEST(client.get(jobs_target(), token).status == 503u);
    BOOST_TEST(fx.sim().counters().by_fault[fault_kind::error_503] == 5u);
}

BOOST_AUTO_TEST_CASE(rate_limit_answers_429_with_retry_after_from_the_bucket) {
    auto config = small_sim_config();
    // One token per 10 s: the third of three back-to-back requests is refused however slow
    // the machine, and the bucket says ~10 s until the next token.
    config.rate_limit.requests_per_second = 0.1;
    config.rate_limit.burst = 2;
    config.clients.push_back({std::string(sim::default_client_id),
                              std::string(sim::default_client_secret),
                              std::nullopt,
                              {}});
    config.clients.push_back({"second", std::string("second-secret"), std::nullopt, {}});
    sim_fixture fx(config);
    auto client = fx.https_client();
    const std::string token = fx.token();
    BOOST_TEST(client.get(jobs_target(), token).status == 200u);
    BOOST_TEST(client.get(jobs_target(), token).status == 200u);
    auto res = client.get(jobs_target(), token);
    BOOST_TEST(res.status == 429u);
    const int retry_after = std::stoi(res.header("Retry-After").value_or("0"));
    BOOST_TEST(retry_after >= 9);
    BOOST_TEST(retry_after <= 10);
    const auto counters = fx.sim().counters();
    BOOST_TEST(counters.rate_limited == 1u);
    BOOST_TEST((fx.sim().request_log().back().fault == fault_kind::none));

    // Buckets are per client: another client is still admitted.
    BOOST_TEST(client.get(jobs_target(), fx.token("second", "second-secret")).status == 200u);
}

BOOST_AUTO_TEST_CASE(token_endpoint_faults_are_scheduled_by_path) {
    auto config = small_sim_config();
    std::string error;
    auto rule = sim::parse_fault_rule("path=/connect/token,nth=2:500", error);
    BOOST_TEST_REQUIRE(rule.has_value(), error);
    config.faults.schedule.push_back(*rule);
    sim_fixture fx(config);
    auto client = fx.https_client();
    const auto form = secret_grant_form(sim::default_client_id, sim::default_client_secret);
    BOOST_TEST(client.post_form("/connect/token", form).status == 200u);
    BOOST_TEST(client.post_form("/connect/token", form).status == 500u);
    BOOST_TEST(client.post_form("/connect/token", form).status == 200u);
    BOOST_TEST(fx.sim().counters().tokens_issued == 2u);
}

BOOST_AUTO_TEST_SUITE_END()
