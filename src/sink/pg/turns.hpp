// Coroutines of one thread taking turns at something that does one thing at a time (a libpq
// connection: one statement in flight), in the order they asked.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <deque>
#include <memory>

namespace dynjobs::sink::pg {

class turns {
public:
    /// Held until destroyed: the next waiter's turn begins then.
    class turn {
    public:
        explicit turn(turns* owner) noexcept
            : owner_(owner) {}
        turn(turn&& other) noexcept
            : owner_(std::exchange(other.owner_, nullptr)) {}
        turn& operator=(turn&&) = delete;
        ~turn() {
            if (owner_)
                owner_->pass_on();
        }

    private:
        turns* owner_;
    };

    explicit turns(boost::asio::any_io_executor ex)
        : ex_(std::move(ex)) {}
    turns(const turns&) = delete;
    turns& operator=(const turns&) = delete;

    /// Completes when it is the caller's turn. Not cancellable: a turn is short (one statement
    /// or one transaction, each with its own deadline).
    boost::asio::awaitable<turn> take() {
        if (!held_) {
            held_ = true;
            co_return turn(this);
        }
        // Shared: the waiter list and this frame both own the timer.
        auto wake = std::make_shared<boost::asio::steady_timer>(
            ex_, boost::asio::steady_timer::time_point::max());
        waiters_.push_back(wake);
        co_await wake->async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
        co_return turn(this); // handed over by pass_on(): held_ stayed true
    }

private:
    void pass_on() {
        if (waiters_.empty()) {
            held_ = false;
            return;
        }
        waiters_.front()->cancel();
        waiters_.pop_front();
    }

    boost::asio::any_io_executor ex_;
    bool held_ = false;
    std::deque<std::shared_ptr<boost::asio::steady_timer>> waiters_;
};

} // namespace dynjobs::sink::pg
