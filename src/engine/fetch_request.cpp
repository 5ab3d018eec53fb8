#include <dynjobs/fetch_request.hpp>

#include "common/bad_input.hpp"

#include <dynjobs/error.hpp>
#include <dynjobs/jobs_query.hpp>

#include <set>

namespace dynjobs {
boost::system::error_code fetch_request::validate(diagnostics& diag) const {
    diag.clear();
    // The per-page query rules are jobs_query's; check them on a representative query.
    jobs_query query;
    query.type = type;
    query.status = status;
    query.start_time = start;
    query.finish_time = finish;
    query.page_size = page_size;
    if (auto ec = query.validate(diag))
        return ec;
    std::set<organization_id> seen;
    for (std::size_t i = 0; i < organizations.size(); ++i) {
        const auto& org = organizations[i];
        const std::string field = "organizations[" + std::to_string(i) + "]";
        if (!org.is_guid())
            return detail::bad_input(diag, field, org.to_string(), "is not a GUID");
        if (!seen.insert(org).second)
            return detail::bad_input(diag, field, org.to_string(), "is listed twice");
    }
    if (window && window->count() <= 0)
        return detail::bad_input(diag, "window", std::to_string(window->count()) + "ms",
                                 "must be positive");
    if (window && (finish - start) / *window > 1'000'000)
        return detail::bad_input(diag, "window", std::to_string(window->count()) + "ms",
                                 "splits the range into more than 1,000,000 windows");
    if (to_string(server_time_filter) == "unknown")
        return detail::bad_input(diag, "server_time_filter",
                                 std::to_string(static_cast<int>(server_time_filter)),
                                 "is not auto, start, finish, overlap or ignored");
    if (deadline && deadline->count() <= 0)
        return detail::bad_input(diag, "deadline", std::to_string(deadline->count()) + "ms",
                                 "must be positive");
    if (max_pages_per_window < 1)
        return detail::bad_input(diag, "max_pages_per_window", std::to_string(max_pages_per_window),
                                 "must be at least 1");
    const std::size_t slots = organizations.empty() ? 1 : organizations.size();
    const std::size_t window_count = windows().size();
    for (const auto& key : skip)
        if (key.org_slot >= slots || key.window >= window_count)
            return detail::bad_input(
                diag, "skip", std::to_string(key.org_slot) + "/" + std::to_string(key.window),
                "names a segment outside the request");
    return {};
}

std::vector<std::pair<timestamp, timestamp>> fetch_request::windows() const {
    std::vector<std::pair<timestamp, timestamp>> result;
    if (!window || window->count() <= 0 || finish <= start) {
        result.emplace_back(start, finish);
        return result;
    }
    for (timestamp from = start; from < finish; from += *window)
        result.emplace_back(from, std::min(finish, from + *window));
    return result;
}

} // namespace dynjobs
