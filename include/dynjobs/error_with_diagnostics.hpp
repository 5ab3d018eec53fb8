// dynjobs/error_with_diagnostics.hpp - the exception the throwing coroutine faces use.
#pragma once

#include <dynjobs/diagnostics.hpp>
#include <dynjobs/export.hpp>

#include <boost/system/system_error.hpp>

#include <utility>

namespace dynjobs {

/// A system_error that also carries the diagnostics. what() includes diagnostics::message.
/// Exported whole, type_info included: a program's catch must match what a shared libdynjobs
/// throws, and not every C++ runtime compares type_info by name (libstdc++ does).
class DYNJOBS_DECL error_with_diagnostics : public boost::system::system_error {
public:
    /// The error `ec`, explained by `diag` (its message becomes part of what()).
    error_with_diagnostics(const boost::system::error_code& ec, diagnostics diag)
        : boost::system::system_error(ec, diag.message)
        , diag_(std::move(diag)) {}

    /// The details of the failure: field, value, HTTP status, URL, body excerpt.
    const diagnostics& get_diagnostics() const noexcept { return diag_; }

private:
    diagnostics diag_;
};

} // namespace dynjobs
