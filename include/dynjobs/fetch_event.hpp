// dynjobs/fetch_event.hpp - what a fetch concluded or had to do about the server, as it happens.
#pragma once

#include <dynjobs/time_filter.hpp>

#include <cstddef>
#include <functional>
#include <string>

namespace dynjobs {

enum class fetch_event_kind {
    /// The fetch's view of the server's time filter changed (fetch_event::filter is the new
    /// one); `message` says which job showed it.
    time_filter_inferred,
    /// A job contradicts the semantics the request stated (fetch_request::server_time_filter):
    /// the fetch goes on with what the jobs show instead. Worth a loud warning.
    time_filter_contradicted,
    /// The server ignores the time filter: each organization's unfinished windows are now
    /// fetched as one (one window costs as much as all of them).
    windows_merged,
    /// A window's pages all came but held fewer distinct jobs than totalCount: it is paged
    /// again, one page at a time.
    window_refetched_for_completeness,
    /// The server refused the page size (a 400 naming pageSize): the window is fetched again
    /// with half of it. Reported once per fetch; fetch_stats counts every reduction.
    page_size_reduced,
    /// The jobIds of a large window could not be moved to disk (client_config::dedupe: the
    /// folder is full or unwritable): they stay in memory, which then grows with the window.
    /// Reported once per fetch; `message` names the folder and the error.
    dedupe_kept_in_memory,
};

/// One event; `organization_slot` and `window` say where, when it is about one window.
struct fetch_event {
    fetch_event_kind kind = fetch_event_kind::time_filter_inferred; ///< what happened
    /// The time-filter semantics the fetch acts on from now on.
    time_filter filter = time_filter::start;
    std::size_t organization_slot = 0; ///< index into fetch_request::organizations
    std::size_t window = 0;            ///< index into fetch_request::windows()
    /// One sentence for a log; never holds a secret.
    std::string message;
};

/// Called on the client's strand: it must be quick and must not block.
using fetch_event_hook = std::function<void(const fetch_event&)>;

} // namespace dynjobs
