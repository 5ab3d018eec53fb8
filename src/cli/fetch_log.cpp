#include "cli/fetch_log.hpp"

#include <dynjobs/fetch_event.hpp>

#include <iostream>

namespace dynjobs::cli {

void attach_fetch_log(verbosity level, client_config& config, const std::string& tenant) {
    const std::string prefix = "dynjobs: " + (tenant.empty() ? "" : "tenant " + tenant + ": ");
    if (level == verbosity::verbose)
        config.on_request = [prefix](const request_event& e) {
            if (e.retry == policy::retry_cause::none && !e.error && e.status < 400)
                return;
            std::string line = prefix + "GET " + e.url + " -> ";
            line += e.error ? e.error.message() : "HTTP " + std::to_string(e.status);
            if (e.retry != policy::retry_cause::none)
                line += ", retry " + std::to_string(e.attempt) + " (" +
                        std::string(policy::to_string(e.retry)) + ") in " +
                        std::to_string(e.retry_wait.count()) + " ms";
            std::cerr << line << '\n';
        };
    config.on_fetch_event = [level, prefix](const fetch_event& e) {
        // A contradicted --time-filter is printed even under --quiet: the user stated something
        // about the server that is not true, and should know.
        if (e.kind == fetch_event_kind::time_filter_contradicted)
            std::cerr << '\n' << prefix << "warning: " << e.message << '\n';
        else if (level == verbosity::verbose ||
                 (level == verbosity::normal &&
                  e.kind != fetch_event_kind::window_refetched_for_completeness))
            std::cerr << '\n' << prefix << e.message << '\n';
    };
}

} // namespace dynjobs::cli
