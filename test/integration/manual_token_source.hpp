// manual_token_source.hpp - a user token source the test answers by hand, which stops its
// request when the client cancels it, as a well-behaved source does.
#pragma once

#include <dynjobs/credentials.hpp>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/error.hpp>
#include <boost/test/unit_test.hpp>

#include <optional>
#include <string>

namespace dynjobs::testkit {

using token_source_handler =
    boost::asio::any_completion_handler<void(boost::system::error_code, access_token)>;

/// Holds each call's handler until complete(). On a terminal cancellation of the handler's slot
/// (the client no longer waiting) it completes the handler with operation_aborted and counts a
/// stop, unless `listens` is false: then the request goes on until complete().
struct manual_token_source {
    bool listens = true;
    int calls = 0;
    int stops = 0;
    std::optional<token_source_handler> pending;

    token_source make() {
        return [this](token_source_handler h) {
            ++calls;
            auto slot = boost::asio::get_associated_cancellation_slot(h);
            BOOST_TEST_REQUIRE(slot.is_connected());
            slot.assign([this](boost::asio::cancellation_type type) {
                if ((type & boost::asio::cancellation_type::terminal) ==
                        boost::asio::cancellation_type::none ||
                    !listens || !pending)
                    return;
                ++stops;
                complete(boost::asio::error::operation_aborted, "");
            });
            pending.emplace(std::move(h));
        };
    }

    void complete(boost::system::error_code ec, std::string token,
                  std::chrono::seconds expires_in = std::chrono::hours(1)) {
        BOOST_REQUIRE(pending.has_value());
        auto h = std::move(*pending);
        pending.reset();
        std::move(h)(ec, access_token{std::move(token), expires_in});
    }
};

} // namespace dynjobs::testkit
