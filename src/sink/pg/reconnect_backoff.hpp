// How the PostgreSQL sink waits between attempts to reach a database that went away: doubling
// waits from `first` up to `longest`, and no attempt past `give_up_after` since the outage began
// (then the run stops: exit status 2, with every committed segment still true).
#pragma once

#include <chrono>
#include <optional>

namespace dynjobs::sink::pg {

class reconnect_backoff {
public:
    using duration = std::chrono::milliseconds;

    reconnect_backoff(duration first, duration longest, duration give_up_after) noexcept
        : first_(first)
        , longest_(longest)
        , give_up_after_(give_up_after)
        , next_(first) {}

    /// The wait before the next attempt when the outage has lasted `down_for`; nullopt once no
    /// attempt is left before the deadline. The last wait is cut to end at the deadline, so the
    /// final attempt happens at it rather than never.
    std::optional<duration> next(duration down_for) noexcept {
        if (down_for >= give_up_after_)
            return std::nullopt;
        const duration wait = std::min(next_, give_up_after_ - down_for);
        next_ = std::min(next_ * 2, longest_);
        return wait;
    }

    /// The database answered: the next outage starts from `first` again.
    void reset() noexcept { next_ = first_; }

    duration give_up_after() const noexcept { return give_up_after_; }

private:
    duration first_;
    duration longest_;
    duration give_up_after_;
    duration next_;
};

} // namespace dynjobs::sink::pg
