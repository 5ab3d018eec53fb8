// What a fetch tells the operator on stderr as it goes, by verbosity: failed and retried
// requests (--verbose), the engine's notices (a window fetched again, a time filter inferred),
// and, whatever the verbosity, a contradicted --time-filter. Shared by the plain backfill and
// the workers, so that both say the same.
#pragma once

#include "cli/backfill_plan.hpp"

#include <dynjobs/client_config.hpp>

#include <string>

namespace dynjobs::cli {

/// Sets `config`'s on_request and on_fetch_event hooks for `level`. `tenant`, when not empty,
/// starts each line ("dynjobs: tenant contoso: ..."), for a worker fetching many tenants.
void attach_fetch_log(verbosity level, client_config& config, const std::string& tenant = {});

} // namespace dynjobs::cli
