// Fuzzes how a nextLink from the server becomes the next request.
//
// A server that sends no totalCount is paged by following its nextLink: page_plan keeps the
// link's query and the engine sends `<jobs path>?<query>` (src/engine/fetch.cpp). The link comes
// from the network, so it is hostile input.
//
// Invariants:
// - the request target built from any link is a valid origin-form target whose query is exactly
//   the one planned: no space, control character, '#' or non-ASCII byte can reach the request
//   line (no header injection or request smuggling through a link);
// - the chain is followed exactly when the link has a non-empty query; an empty link ends the
//   segment as complete; any other link (no query, not a URI) fails it loudly
//   (segment_failure_reason::invalid_next_link); either way the plan is then done.
#include "fuzz_check.hpp"
#include "policy/page_plan.hpp"

#include <boost/url/parse.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

using namespace dynjobs;
using dynjobs::policy::page_plan;

namespace {

bool safe_in_request_line(char c) {
    const auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u < 0x7F && c != '#';
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string link(reinterpret_cast<const char*>(data), size);
    const auto everyone = [](std::size_t) { return true; };

    page_plan plan(1, 1, 100);
    const auto first = plan.next(everyone);
    FUZZ_CHECK(first && first->page_index == 1 && !first->next_link_query);

    jobs_page body; // no totalCount: the plan must follow the link
    body.next_link = link;
    body.jobs.emplace_back();
    const auto verdict = plan.on_page(*first, body);

    const auto uri = boost::urls::parse_uri_reference(link);
    const bool has_query = uri && uri->has_query() && !uri->encoded_query().empty();
    const auto second = plan.next(everyone);
    FUZZ_CHECK(second.has_value() == has_query);
    if (!second) {
        FUZZ_CHECK(plan.done());
        FUZZ_CHECK(plan.complete(0) == link.empty());
        FUZZ_CHECK((verdict == policy::page_verdict::accepted) == link.empty());
        if (!link.empty())
            FUZZ_CHECK(plan.failure(0).reason == policy::segment_failure_reason::invalid_next_link);
        return 0;
    }
    FUZZ_CHECK(verdict == policy::page_verdict::accepted);
    FUZZ_CHECK(second->page_index == 2);
    FUZZ_CHECK(second->next_link_query.has_value());
    const std::string& query = *second->next_link_query;
    FUZZ_CHECK(query == std::string(uri->encoded_query()));

    const std::string target = "/api/dynamicsbackup/jobs?" + query;
    for (const char c : target)
        FUZZ_CHECK(safe_in_request_line(c));
    const auto parsed = boost::urls::parse_origin_form(target);
    FUZZ_CHECK(parsed.has_value());
    FUZZ_CHECK(parsed->encoded_path() == "/api/dynamicsbackup/jobs");
    FUZZ_CHECK(parsed->encoded_query() == query);

    // The last page of the chain (no jobs) completes the plan.
    FUZZ_CHECK(plan.on_page(*second, jobs_page{}) == policy::page_verdict::accepted);
    FUZZ_CHECK(!plan.next(everyone));
    FUZZ_CHECK(plan.done());
    FUZZ_CHECK(plan.complete(0));
    return 0;
}
