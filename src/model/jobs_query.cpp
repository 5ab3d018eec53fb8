// Query validation happens before any request is sent, so a user's mistake is reported once,
// by parameter name and value, instead of as a 400 from the server for every page.
#include <dynjobs/jobs_query.hpp>

#include "common/bad_input.hpp"

#include <boost/url/url.hpp>

#include <string>

namespace dynjobs {
boost::system::error_code jobs_query::validate(diagnostics& diag) const {
    diag.clear();
    if (!type)
        return detail::bad_input(
            diag, "type", "",
            "is required (all, backup, restore, dry_run, retention, audit_backup, "
            "export or 0, 1, 2, 4, 8, 16, 32)");
    if (!is_documented(*type))
        return detail::bad_input(diag, "type", std::to_string(static_cast<std::int32_t>(*type)),
                                 "is not a documented job type (0, 1, 2, 4, 8, 16, 32)");
    if (!start_time)
        return detail::bad_input(diag, "startTime", "", "is required");
    if (!finish_time)
        return detail::bad_input(diag, "finishTime", "", "is required");
    if (*start_time >= *finish_time)
        return detail::bad_input(diag, "startTime", format_iso8601(*start_time),
                                 "must be before finishTime " + format_iso8601(*finish_time));
    if (status && !is_documented(*status))
        return detail::bad_input(diag, "status", std::to_string(static_cast<std::int32_t>(*status)),
                                 "is not a documented job status (2, 3, 4, 7)");
    if (organization && !organization->is_guid())
        return detail::bad_input(diag, "organizationId", organization->to_string(),
                                 "is not a GUID");
    if (page_index < 1)
        return detail::bad_input(diag, "pageIndex", std::to_string(page_index),
                                 "must be 1 or more");
    if (page_size < 1 || page_size > max_page_size)
        return detail::bad_input(diag, "pageSize", std::to_string(page_size),
                                 "must be between 1 and " + std::to_string(max_page_size));
    return {};
}

std::string jobs_query::target(std::string_view path) const {
    boost::urls::url url;
    url.set_path(path);
    auto params = url.params();
    params.append({"pageIndex", std::to_string(page_index)});
    params.append({"pageSize", std::to_string(page_size)});
    if (type)
        params.append({"type", std::to_string(static_cast<std::int32_t>(*type))});
    if (start_time)
        params.append({"startTime", format_iso8601(*start_time)});
    if (finish_time)
        params.append({"finishTime", format_iso8601(*finish_time)});
    if (status)
        params.append({"status", std::to_string(static_cast<std::int32_t>(*status))});
    if (organization)
        params.append({"organizationId", organization->to_string()});
    return std::string(url.encoded_target());
}

} // namespace dynjobs
