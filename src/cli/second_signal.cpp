#include "cli/second_signal.hpp"

#include <csignal>
#include <unistd.h>

namespace dynjobs::cli {
namespace {

extern "C" void exit_now(int) {
    ::_exit(130);
}

} // namespace

void exit_on_next_signal() {
    std::signal(SIGINT, exit_now);
    std::signal(SIGTERM, exit_now);
}

} // namespace dynjobs::cli
