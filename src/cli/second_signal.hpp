// After the first SIGINT/SIGTERM a command stops in order; a second one must not wait for
// anything (backfill and sync keep their outputs valid at every moment, so exiting at once
// loses at most the work since the last checkpoint or commit).
#pragma once

namespace dynjobs::cli {

/// From now on, SIGINT and SIGTERM end the process at once with status 130. Call after clearing
/// the asio signal_set that caught the first signal.
void exit_on_next_signal();

} // namespace dynjobs::cli
