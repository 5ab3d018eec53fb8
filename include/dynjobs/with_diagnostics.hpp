// dynjobs/with_diagnostics.hpp - a completion token adapter: errors as error_with_diagnostics.
#pragma once

#include <dynjobs/diagnostics.hpp>
#include <dynjobs/error_with_diagnostics.hpp>

#include <boost/asio/associator.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/system/error_code.hpp>

#include <exception>
#include <functional>
#include <type_traits>
#include <utility>

namespace dynjobs {

/// The completion token that with_diagnostics() returns: `token`, adapted.
template <class CompletionToken>
struct with_diagnostics_t {
    /// The token the adapted operation completes with.
    CompletionToken token;
};

/// Adapts a completion token so that an operation completing with `(error_code, T...)` completes
/// with `(std::exception_ptr, T...)` instead: null on success, else an error_with_diagnostics
/// holding the error_code and the operation's diagnostics (for job_stream::async_next, those of
/// job_stream::error_diagnostics()). With asio::use_awaitable the `co_await` then throws
/// error_with_diagnostics, with asio::use_future the future's get() does, instead of a bare
/// boost::system::system_error that has lost the field, URL and HTTP status:
/// \code
///   auto batch = co_await stream.async_next(dynjobs::with_diagnostics(asio::use_awaitable));
/// \endcode
/// Operations that cannot say more than the error_code (any other Asio operation) complete with
/// an error_with_diagnostics whose diagnostics are empty.
template <class CompletionToken>
with_diagnostics_t<std::decay_t<CompletionToken>> with_diagnostics(CompletionToken&& token) {
    return {std::forward<CompletionToken>(token)};
}

namespace detail {

/// The diagnostics of an operation's failure, taken from its initiation: a dynjobs initiation
/// has `diagnostics_source()`; any other gives none.
template <class Initiation>
std::function<diagnostics()> diagnostics_source_of(const Initiation& initiation) {
    if constexpr (requires { initiation.diagnostics_source(); })
        return initiation.diagnostics_source();
    else
        return [] { return diagnostics{}; };
}

/// The handler of an operation started with with_diagnostics: turns its error_code into an
/// exception_ptr.
template <class Handler>
struct diagnostics_handler {
    Handler handler;                     ///< the final handler
    std::function<diagnostics()> source; ///< asked only on error

    /// Completes the final handler: no exception on success, else error_with_diagnostics.
    template <class... Args>
    void operator()(boost::system::error_code ec, Args&&... args) {
        std::exception_ptr error;
        if (ec)
            error = std::make_exception_ptr(error_with_diagnostics(ec, source()));
        std::move(handler)(std::move(error), std::forward<Args>(args)...);
    }
};

/// Starts the adapted operation with a diagnostics_handler around the final handler.
template <class Initiation>
struct diagnostics_initiation {
    Initiation initiation; ///< the adapted operation's own

    /// Starts the operation with a diagnostics_handler around `handler`.
    template <class Handler, class... Args>
    void operator()(Handler&& handler, Args&&... args) {
        auto source = diagnostics_source_of(initiation);
        std::move(initiation)(
            diagnostics_handler<std::decay_t<Handler>>{std::forward<Handler>(handler),
                                                       std::move(source)},
            std::forward<Args>(args)...);
    }
};

} // namespace detail
} // namespace dynjobs

// Asio's customisation points, outside the reference manual (doxygen cannot place members of a
// specialisation of another library's template).
/// \cond
/// with_diagnostics_t for operations completing with `(error_code, T...)`.
template <class CompletionToken, class... Args>
struct boost::asio::async_result<dynjobs::with_diagnostics_t<CompletionToken>,
                                 void(boost::system::error_code, Args...)> {
    /// Starts the operation with `token`'s inner token and the exception_ptr signature.
    template <class Initiation, class RawToken, class... InitArgs>
    static auto initiate(Initiation&& initiation, RawToken&& token, InitArgs&&... args) {
        return boost::asio::async_initiate<CompletionToken, void(std::exception_ptr, Args...)>(
            dynjobs::detail::diagnostics_initiation<std::decay_t<Initiation>>{
                std::forward<Initiation>(initiation)},
            token.token, std::forward<InitArgs>(args)...);
    }
};

/// The adapted handler keeps the inner handler's executor, allocator and cancellation slot.
template <template <class, class> class Associator, class Handler, class DefaultCandidate>
struct boost::asio::associator<Associator, dynjobs::detail::diagnostics_handler<Handler>,
                               DefaultCandidate> : Associator<Handler, DefaultCandidate> {
    /// The inner handler's associated object.
    static typename Associator<Handler, DefaultCandidate>::type
    get(const dynjobs::detail::diagnostics_handler<Handler>& h) noexcept {
        return Associator<Handler, DefaultCandidate>::get(h.handler);
    }
    /// The inner handler's associated object, else `c`.
    static auto get(const dynjobs::detail::diagnostics_handler<Handler>& h,
                    const DefaultCandidate& c) noexcept
        -> decltype(Associator<Handler, DefaultCandidate>::get(h.handler, c)) {
        return Associator<Handler, DefaultCandidate>::get(h.handler, c);
    }
};
/// \endcond
