// Fuzzes the simulator's request-target parsing, and the client and simulator agreeing on it.
//
// Invariants, for any target:
// - parse() either validates it (page 1.., size 1..max_page_size, startTime <= finishTime) or
//   answers 400/403/404 with a JSON error body whose statusCode is that status;
// - a validated request's 200 reply decodes with the client's page_decoder; every job in it
//   matches the filter; the page holds at most pageSize jobs and totalCount is the dataset's;
// - its nextLink, followed the way the engine follows it (page_plan, then the jobs path), parses
//   back to the same filter and size at the next page;
// - the client's own target for that filter (jobs_query::target) parses back to the same filter.
#include "fuzz_check.hpp"
#include "policy/page_plan.hpp"
#include "sim/jobs_endpoint.hpp"

#include <dynjobs/jobs_query.hpp>
#include <dynjobs/page_decoder.hpp>

#include <boost/json/parse.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>

using namespace dynjobs;
using namespace dynjobs::sim;

namespace {

constexpr std::int64_t max_page_size = 50;

jobs_endpoint& endpoint() {
    static jobs_endpoint instance = [] {
        dataset_config data;
        data.organizations = 3;
        data.jobs = 300;
        jobs_endpoint_config config;
        config.max_page_size = max_page_size;
        return jobs_endpoint(dataset(data), config);
    }();
    return instance;
}

bool same_request(const jobs_request& a, const jobs_request& b) {
    return a.page_index == b.page_index && a.page_size == b.page_size &&
           a.where.type == b.where.type && a.where.start == b.where.start &&
           a.where.finish == b.where.finish && a.where.status == b.where.status &&
           a.where.organization == b.where.organization;
}

void check_error(const http_reply& reply) {
    FUZZ_CHECK(reply.status == 400 || reply.status == 403 || reply.status == 404);
    boost::system::error_code ec;
    const auto v = boost::json::parse(reply.body, ec);
    FUZZ_CHECK(!ec && v.is_object());
    const auto* code = v.as_object().if_contains("statusCode");
    FUZZ_CHECK(code != nullptr && code->is_int64() && code->as_int64() == reply.status);
}

// The next page's request, reached the way the engine reaches it from a nextLink.
void follow(const jobs_request& r, const jobs_page& page) {
    const auto everyone = [](std::size_t) { return true; };
    policy::page_plan_limits one_pass;
    one_pass.max_drift_refetches = 0; // the link is checked, not drift
    policy::page_plan plan(1, 1, r.page_size, one_pass);
    const auto first = plan.next(everyone);
    jobs_page without_count = page; // totalCount absent: the plan follows the link
    without_count.total_count.reset();
    plan.on_page(*first, without_count);
    const auto second = plan.next(everyone);
    FUZZ_CHECK(second && second->next_link_query);
    const auto next = endpoint().parse("/dynamicsbackup/jobs?" + *second->next_link_query, nullptr);
    FUZZ_CHECK(std::holds_alternative<jobs_request>(next));
    jobs_request expected = r;
    ++expected.page_index;
    FUZZ_CHECK(same_request(std::get<jobs_request>(next), expected));
}

// The client's target for the same filter parses to the same filter.
void client_agrees(const jobs_request& r) {
    jobs_query query;
    query.type = r.where.type;
    query.start_time = r.where.start;
    query.finish_time = r.where.finish;
    query.status = r.where.status;
    query.organization = r.where.organization;
    query.page_index = r.page_index;
    query.page_size = r.page_size;
    diagnostics diag;
    if (query.validate(diag))
        return; // the client is stricter (e.g. startTime before finishTime)
    const auto parsed = endpoint().parse(query.target(), nullptr);
    FUZZ_CHECK(std::holds_alternative<jobs_request>(parsed));
    FUZZ_CHECK(same_request(std::get<jobs_request>(parsed), r));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string target(reinterpret_cast<const char*>(data), size);
    auto parsed = endpoint().parse(target, nullptr);
    if (auto* reply = std::get_if<http_reply>(&parsed)) {
        check_error(*reply);
        return 0;
    }
    const jobs_request& r = std::get<jobs_request>(parsed);
    FUZZ_CHECK(r.page_index >= 1 && r.page_index <= INT32_MAX);
    FUZZ_CHECK(r.page_size >= 1 && r.page_size <= max_page_size);
    FUZZ_CHECK(r.where.start <= r.where.finish);

    const http_reply reply = endpoint().respond(r, "https://127.0.0.1:8443");
    FUZZ_CHECK(reply.status == 200);
    jobs_page page;
    diagnostics diag;
    FUZZ_CHECK(!decode_page(reply.body, page, diag));
    FUZZ_CHECK(page.total_count == static_cast<std::int64_t>(endpoint().data().count(r.where)));
    FUZZ_CHECK(static_cast<std::int64_t>(page.jobs.size()) <= r.page_size);
    for (const auto& j : page.jobs)
        FUZZ_CHECK(matches(r.where, j));
    if (page.next_link && !page.jobs.empty())
        follow(r, page);
    client_agrees(r);
    return 0;
}
