// Runs one coroutine on an io_context to its end, from synchronous code: the command's steps
// before and after the concurrent part of a run (open a sink, plan, finish).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <exception>

namespace dynjobs::cli {

/// Rethrows what the coroutine threw.
template <class T>
T run_to_end(boost::asio::io_context& ioc, boost::asio::awaitable<T> task) {
    std::exception_ptr error;
    T result{};
    boost::asio::co_spawn(ioc, std::move(task), [&](std::exception_ptr e, T value) {
        error = e;
        result = std::move(value);
    });
    ioc.restart();
    ioc.run();
    if (error)
        std::rethrow_exception(error);
    return result;
}

inline void run_to_end(boost::asio::io_context& ioc, boost::asio::awaitable<void> task) {
    std::exception_ptr error;
    boost::asio::co_spawn(ioc, std::move(task), [&](std::exception_ptr e) { error = e; });
    ioc.restart();
    ioc.run();
    if (error)
        std::rethrow_exception(error);
}

} // namespace dynjobs::cli
