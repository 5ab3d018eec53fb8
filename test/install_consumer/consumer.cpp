// Built against the installed dynjobs package: proves headers, library and exported
// dependencies are enough on their own.
#include <dynjobs/jobs_query.hpp>
#include <dynjobs/page_decoder.hpp>

#include <iostream>

int main() {
    dynjobs::jobs_query query;
    query.type = dynjobs::job_type::backup;
    query.start_time = dynjobs::parse_iso8601("2024-01-01T00:00:00Z");
    query.finish_time = dynjobs::parse_iso8601("2024-02-01T00:00:00Z");
    dynjobs::diagnostics diag;
    if (query.validate(diag)) {
        std::cerr << diag.message << '\n';
        return 1;
    }
    dynjobs::jobs_page page;
    if (dynjobs::decode_page(R"({"totalCount":0,"jobs":[]})", page, diag)) {
        std::cerr << diag.message << '\n';
        return 1;
    }
    std::cout << query.target() << '\n';
    return page.total_count == 0 ? 0 : 1;
}
