// The simulator a backfill runs against when given no endpoint and no credentials: in this
// process, on its own thread, so serving and fetching do not queue behind each other.
#pragma once

#include "cli/backfill_plan.hpp"

#include <dynjobs/sim/simulator.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <filesystem>
#include <optional>
#include <thread>

namespace dynjobs::cli {

class embedded_simulator {
public:
    /// Starts it and points `plan.config` (URLs, CA, credentials) at it; says so on stderr
    /// unless quiet. Throws std::runtime_error when it cannot listen.
    explicit embedded_simulator(backfill_plan& plan);
    ~embedded_simulator();
    embedded_simulator(const embedded_simulator&) = delete;
    embedded_simulator& operator=(const embedded_simulator&) = delete;

private:
    boost::asio::io_context ioc_{1};
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{
        ioc_.get_executor()};
    std::optional<sim::simulator> sim_;
    std::thread thread_;
    std::filesystem::path cert_dir_;
};

} // namespace dynjobs::cli
