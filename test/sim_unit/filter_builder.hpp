// filter_builder.hpp - a sim::filter from positional arguments, for the simulator's unit tests.
#pragma once

#include <dynjobs/sim/dataset.hpp>

#include <optional>
#include <set>

namespace dynjobs::sim::testing {

/// Builds a filter without -Wmissing-field-initializers noise from partial aggregate init.
inline filter flt(job_type t, timestamp start, timestamp finish,
                  std::optional<job_status> status = {}, std::optional<organization_id> org = {},
                  const std::set<organization_id>* visible = nullptr,
                  window_match window = window_match::start_time) {
    filter f;
    f.type = t;
    f.start = start;
    f.finish = finish;
    f.status = status;
    f.organization = org;
    f.visible = visible;
    f.window = window;
    return f;
}

} // namespace dynjobs::sim::testing
