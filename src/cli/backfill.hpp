// `dynjobs backfill`: runs one resolved plan to its end and returns the exit status.
#pragma once

#include "cli/backfill_plan.hpp"

namespace dynjobs::cli {

/// Runs the backfill: starts the embedded simulator when the plan says so, checks everything
/// with client::validate before any request, writes the output and checkpoints, reports
/// progress and the summary on stderr, and handles SIGINT/SIGTERM (the first stops the fetch and
/// saves the checkpoint; a second exits at once, leaving the last checkpoint valid).
///
/// Returns the exit status: 0, 2 (failures), 3 (authentication), 130 (interrupted). Throws
/// usage_error for bad input found before the first request (exit status 1).
int run_backfill(backfill_plan plan);

} // namespace dynjobs::cli
