// The token manager with a user token source and a fixed bearer token, and cancellation: a
// source completed by the test lets it hold a token request open as long as it likes.
#include "auth_fixture.hpp"
#include "manual_token_source.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>

#include <optional>
#include <thread>

namespace dynjobs::auth_test {
namespace {

using source_handler = testkit::token_source_handler;
using manual_source = testkit::manual_token_source;

auth::token_manager_config source_config(token_source source) {
    auth::token_manager_config c;
    c.creds = std::move(source);
    return c;
}

void run(asio::io_context& ioc) {
    ioc.restart();
    ioc.run();
}

void poll(asio::io_context& ioc) {
    ioc.restart();
    ioc.poll();
}

} // namespace

BOOST_AUTO_TEST_SUITE(auth_token_source)

BOOST_AUTO_TEST_CASE(one_source_call_for_many_callers) {
    auth_env env;
    manual_source source;
    auto m = env.manager(source_config(source.make()));
    std::vector<get_result> results(50);
    for (auto& r : results)
        spawn_get(env.ioc, *m, r);
    poll(env.ioc);
    BOOST_TEST(source.calls == 1);
    for (const auto& r : results)
        BOOST_TEST(!r.done);
    source.complete({}, "from-the-vault");
    run(env.ioc);
    for (const auto& r : results) {
        BOOST_TEST(r.done);
        BOOST_TEST(!r.ec);
        BOOST_TEST(r.token == "from-the-vault");
    }
    BOOST_TEST(get_now(env.ioc, *m).token == "from-the-vault");
    BOOST_TEST(source.calls == 1);
    BOOST_TEST(m->stats().token_requests == 1u);
}

BOOST_AUTO_TEST_CASE(source_completing_from_another_thread, *boost::unit_test::label("threads")) {
    auth_env env;
    std::thread worker;
    auto m = env.manager(source_config([&](source_handler h) {
        worker = std::thread([h = std::move(h)]() mutable {
            std::move(h)(boost::system::error_code{},
                         access_token{"threaded", std::chrono::hours(1)});
        });
    }));
    const auto r = get_now(env.ioc, *m);
    worker.join();
    BOOST_TEST(!r.ec);
    BOOST_TEST(r.token == "threaded");
}

BOOST_AUTO_TEST_CASE(source_errors_reach_every_waiter) {
    auth_env env;
    manual_source source;
    auto m = env.manager(source_config(source.make()));
    std::vector<get_result> results(3);
    for (auto& r : results)
        spawn_get(env.ioc, *m, r);
    poll(env.ioc);
    source.complete(boost::system::errc::make_error_code(boost::system::errc::permission_denied),
                    "");
    run(env.ioc);
    for (const auto& r : results) {
        BOOST_TEST(r.ec == boost::system::errc::permission_denied);
        BOOST_TEST(r.diag.message.find("token source") != std::string::npos, r.diag.message);
    }
    BOOST_TEST(m->stats().token_failures == 1u);

    // An empty token is refused, not handed out.
    get_result again;
    spawn_get(env.ioc, *m, again);
    poll(env.ioc);
    BOOST_TEST(source.calls == 2);
    source.complete({}, "");
    run(env.ioc);
    BOOST_TEST(again.ec == make_error_code(errc::invalid_token_response));
}

// A source that can stop its request listens on its handler's slot: cancelling the manager
// (as the client's destruction does) reaches it, and it completes with operation_aborted.
BOOST_AUTO_TEST_CASE(a_cancelled_manager_stops_a_listening_source) {
    auth_env env;
    manual_source source;
    auto m = env.manager(source_config(source.make()));
    get_result r;
    spawn_get(env.ioc, *m, r);
    poll(env.ioc);
    BOOST_TEST_REQUIRE(source.pending.has_value());
    m->cancel();
    run(env.ioc);
    BOOST_TEST(source.stops == 1);
    BOOST_TEST(!source.pending.has_value());
    BOOST_TEST(r.done);
    BOOST_TEST(r.ec == asio::error::operation_aborted);
}

BOOST_AUTO_TEST_CASE(a_waiter_can_be_cancelled_alone) {
    auth_env env;
    manual_source source;
    auto m = env.manager(source_config(source.make()));
    get_result patient, impatient;
    spawn_get(env.ioc, *m, patient);
    asio::cancellation_signal signal;
    spawn_cancellable_get(env.ioc, *m, impatient, signal);
    poll(env.ioc);
    BOOST_TEST(source.calls == 1);

    signal.emit(asio::cancellation_type::terminal);
    poll(env.ioc);
    BOOST_TEST(impatient.done);
    BOOST_TEST(impatient.ec == asio::error::operation_aborted);
    BOOST_TEST(!patient.done);

    source.complete({}, "late-token");
    run(env.ioc);
    BOOST_TEST(patient.done);
    BOOST_TEST(patient.token == "late-token");
}

// When the last waiter gives up (its fetch cancelled), nobody needs the token: the request in
// flight stops, and the next caller asks the source again.
BOOST_AUTO_TEST_CASE(the_last_waiter_leaving_stops_the_request) {
    auth_env env;
    manual_source source;
    auto m = env.manager(source_config(source.make()));
    get_result first, second;
    asio::cancellation_signal first_signal, second_signal;
    spawn_cancellable_get(env.ioc, *m, first, first_signal);
    spawn_cancellable_get(env.ioc, *m, second, second_signal);
    poll(env.ioc);
    BOOST_TEST_REQUIRE(source.calls == 1);

    first_signal.emit(asio::cancellation_type::terminal);
    poll(env.ioc);
    BOOST_TEST(first.ec == asio::error::operation_aborted);
    BOOST_TEST(source.stops == 0);
    BOOST_TEST(!second.done);

    second_signal.emit(asio::cancellation_type::terminal);
    poll(env.ioc);
    BOOST_TEST(second.ec == asio::error::operation_aborted);
    BOOST_TEST(source.stops == 1);
    BOOST_TEST(!source.pending.has_value());

    get_result next;
    spawn_get(env.ioc, *m, next);
    poll(env.ioc);
    BOOST_TEST_REQUIRE(source.calls == 2);
    source.complete({}, "asked-again");
    run(env.ioc);
    BOOST_TEST(next.token == "asked-again");
}

BOOST_AUTO_TEST_CASE(cancel_fails_waiters_and_a_later_call_starts_afresh) {
    auth_env env;
    manual_source source;
    source.listens = false; // its request completes late, after the cancel
    auto m = env.manager(source_config(source.make()));
    std::vector<get_result> results(4);
    for (auto& r : results)
        spawn_get(env.ioc, *m, r);
    poll(env.ioc);
    m->cancel();
    poll(env.ioc);
    for (const auto& r : results) {
        BOOST_TEST(r.done);
        BOOST_TEST(r.ec == asio::error::operation_aborted);
    }
    // The cancelled request completes late: its token is not taken.
    source.complete({}, "stale");
    run(env.ioc);

    get_result next;
    spawn_get(env.ioc, *m, next);
    poll(env.ioc);
    BOOST_TEST(source.calls == 2);
    source.complete({}, "fresh");
    run(env.ioc);
    BOOST_TEST(next.token == "fresh");
}

BOOST_AUTO_TEST_CASE(cancel_aborts_a_token_request_on_the_wire) {
    // The token endpoint takes 2 s to answer; cancel() must not wait for it.
    auto config = auth_env::make_config(std::chrono::hours(1));
    sim::fault_rule slow;
    slow.kind = sim::fault_kind::delay_first_byte;
    slow.path = "/connect/token";
    config.faults.schedule.push_back(slow);
    auth_env env(config);
    auto m = env.manager(env.secret_config());
    get_result r;
    spawn_get(env.ioc, *m, r);
    env.ioc.restart();
    env.ioc.run_for(std::chrono::milliseconds(200));
    BOOST_TEST(!r.done);
    m->cancel();
    poll(env.ioc);
    BOOST_TEST(r.done);
    BOOST_TEST(r.ec == asio::error::operation_aborted);
    // The exchange itself ends too: run() returns (on a hang the suite's timeout would fire).
    m.reset();
    run(env.ioc);
}

BOOST_AUTO_TEST_CASE(fixed_bearer_token) {
    auth_env env;
    auth::token_manager_config c;
    c.creds = bearer_token_credentials{"fixed-token"};
    auto m = env.manager(c);
    diagnostics diag;
    BOOST_TEST(!m->validate(diag));
    BOOST_TEST(get_now(env.ioc, *m).token == "fixed-token");
    m->invalidate("fixed-token");
    const auto r = get_now(env.ioc, *m);
    BOOST_TEST(r.ec == make_error_code(errc::unauthorized));
    BOOST_TEST(r.diag.message.find("fixed-token") == std::string::npos);
    BOOST_TEST(m->stats().token_requests == 0u);
}

BOOST_AUTO_TEST_CASE(validate_names_the_bad_field) {
    auth_env env;
    struct bad {
        credentials creds;
        std::string field;
    };
    std::vector<bad> cases;
    cases.push_back({client_secret_credentials{"", "s"}, "client_id"});
    cases.push_back({client_secret_credentials{"id", ""}, "client_secret"});
    cases.push_back({certificate_credentials{"id", "", ""}, "certificate_file"});
    cases.push_back({bearer_token_credentials{""}, "access_token"});
    cases.push_back({bearer_token_credentials{"a\r\nb"}, "access_token"});
    cases.push_back({token_source{}, "token_source"});
    for (auto& c : cases) {
        auth::token_manager_config config = env.secret_config();
        config.creds = c.creds;
        auto m = env.manager(config);
        diagnostics diag;
        BOOST_TEST(m->validate(diag) == make_error_code(errc::invalid_argument));
        BOOST_TEST(diag.field == c.field);
    }
    auto no_scope = env.secret_config();
    no_scope.scope.clear();
    diagnostics diag;
    BOOST_TEST(env.manager(no_scope)->validate(diag) == make_error_code(errc::invalid_argument));
    BOOST_TEST(diag.field == "scope");
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace dynjobs::auth_test
