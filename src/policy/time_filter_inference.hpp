// src/policy/time_filter_inference.hpp - what a server's time filter really does, from the
// jobs it returns.
#pragma once

#include <dynjobs/job.hpp>
#include <dynjobs/time_filter.hpp>
#include <dynjobs/timestamp.hpp>

#include <cstdint>
#include <string>

namespace dynjobs::policy {

/// Narrows the server's time-filter semantics down, one returned job at a time.
///
/// Each job a window [a, b] returns rules out the semantics under which the server could not
/// have returned it (both ends inclusive, as the simulator and the published examples are):
/// start needs a <= startTime <= b; finish needs a finish time in [a, b]; overlap needs
/// startTime <= b and a finish time >= a (or none yet); ignored explains anything.
///
/// The conclusion is the stated semantics while no job contradicts it; otherwise (auto, or a
/// contradiction) the most specific one still possible, in the order start, finish, overlap,
/// ignored. Each step only ever widens what the server is known to return, so a job delivered
/// under an earlier conclusion is still in the range under a later one (see the README's
/// Guarantees for the one exception with `ignored`).
///
/// Socket-free, single-threaded.
class time_filter_inference {
public:
    explicit time_filter_inference(time_filter stated = time_filter::auto_detect) noexcept;

    /// Takes one job that the window [window_start, window_finish] returned. True when the
    /// conclusion changed.
    bool observe(timestamp window_start, timestamp window_finish, const job& j);

    /// The semantics the fetch acts on now; never auto_detect.
    time_filter conclusion() const noexcept { return conclusion_; }
    time_filter stated() const noexcept { return stated_; }
    /// True when `stated` (not auto) was ruled out by a job.
    bool contradicted() const noexcept { return contradicted_; }
    /// The first job that ruled out the stated or inferred semantics, in words ("job DCIB...
    /// (startTime ..., finishTime ...) returned for window ..."); empty while nothing was ruled
    /// out.
    const std::string& evidence() const noexcept { return evidence_; }

private:
    static constexpr unsigned bit(time_filter t) noexcept { return 1u << static_cast<unsigned>(t); }
    time_filter pick() const noexcept;

    time_filter stated_;
    unsigned possible_;
    time_filter conclusion_;
    bool contradicted_ = false;
    std::string evidence_;
};

} // namespace dynjobs::policy
