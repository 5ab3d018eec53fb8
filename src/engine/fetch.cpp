// The fetch scheduler and the page task. Both run on the client's strand: they only do I/O and
// call into the policy classes (page_plan, retry_policy, host_gate, dedupe_set) for decisions.
#include "engine/fetch_state.hpp"
#include "policy/retry_after.hpp"

#include <dynjobs/error.hpp>
#include <dynjobs/jobs_query.hpp>
#include <dynjobs/page_decoder.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cctype>
#include <tuple>

namespace dynjobs::detail {

namespace asio = boost::asio;
using boost::system::error_code;
using clock_type = std::chrono::steady_clock;
using policy::host_gate;

namespace {

constexpr std::size_t body_excerpt_bytes = 300;

// At most `body_excerpt_bytes` of a body, control characters escaped: a gateway's HTML or a
// binary body must not garble the one-line report or the terminal.
std::string sanitized_excerpt(std::string_view body) {
    body = body.substr(0, body_excerpt_bytes);
    std::string out;
    out.reserve(body.size());
    for (const char ch : body) {
        const auto c = static_cast<unsigned char>(ch);
        if (c == '\n')
            out += "\\n";
        else if (c == '\r')
            out += "\\r";
        else if (c == '\t')
            out += "\\t";
        else if (c < 0x20 || c == 0x7f) {
            static constexpr char hex[] = "0123456789abcdef";
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 15];
        } else
            out += ch;
    }
    return out;
}

// A JSON media type: application/json, text/json, application/<x>+json, with any parameters.
// An absent Content-Type is let through: the decoder then decides.
bool is_json_media_type(std::string_view type) {
    type = type.substr(0, type.find(';'));
    while (!type.empty() && type.back() == ' ')
        type.remove_suffix(1);
    std::string lower(type);
    for (auto& ch : lower)
        ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return lower.empty() || lower == "application/json" || lower == "text/json" ||
           (lower.starts_with("application/") && lower.ends_with("+json"));
}

// A 400's body names pageSize (the simulator's and ASP.NET's validation errors do).
bool names_page_size(std::string_view body) {
    std::string lower(body);
    for (auto& ch : lower)
        ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return lower.find("pagesize") != std::string::npos;
}

// `key="value"` (or key=value) from a WWW-Authenticate challenge; empty when absent.
std::string challenge_param(std::string_view header, std::string_view key) {
    for (std::size_t at = header.find(key); at != std::string_view::npos;
         at = header.find(key, at + 1)) {
        const bool starts = at == 0 || header[at - 1] == ' ' || header[at - 1] == ',';
        const std::size_t eq = at + key.size();
        if (!starts || eq >= header.size() || header[eq] != '=')
            continue;
        std::string_view rest = header.substr(eq + 1);
        if (!rest.empty() && rest.front() == '"') {
            rest.remove_prefix(1);
            return std::string(rest.substr(0, rest.find('"')));
        }
        return std::string(rest.substr(0, rest.find_first_of(", ")));
    }
    return {};
}

// The request target of a page: built from the query, or from a nextLink's query string.
std::string page_target(const fetch_state& f, const policy::page_ref& ref) {
    const auto& where = f.client->where;
    if (ref.next_link_query)
        return where.jobs_path + "?" + *ref.next_link_query;
    const auto key = f.plan->key(ref.segment);
    jobs_query query;
    query.type = f.request.type;
    query.status = f.request.status;
    std::tie(query.start_time, query.finish_time) = f.query_range(ref.segment);
    if (!f.request.organizations.empty())
        query.organization = f.request.organizations[key.org_slot];
    query.page_index = ref.page_index;
    query.page_size = ref.page_size;
    return query.target(where.jobs_path);
}

void refresh_shared_counters(fetch_state& f) {
    const auto pool = f.client->api_pool->stats();
    const auto tokens = f.client->tokens->stats();
    std::lock_guard lock(f.mutex);
    f.stats.connections_opened = pool.connections_opened;
    f.stats.connections_reused = pool.connections_reused;
    f.stats.tls_sessions_resumed = pool.tls_sessions_resumed;
    f.stats.reconnects_server_close = pool.closed_by_server;
    f.stats.reconnects_idle = pool.closed_idle;
    f.stats.reconnects_stale_retry = pool.stale_connection_retries;
    f.stats.reconnects_request_cap = pool.retired_request_cap;
    f.stats.token_requests = tokens.token_requests;
}

// `last_ec`/`attempts`: the page's last attempt's own error and how many were made (none for a
// segment the plan gave up on: then its own code, and 0).
void record_failure(fetch_state& f, const policy::page_ref& ref, error_code ec,
                    const diagnostics& diag, error_code last_ec, unsigned attempts) {
    const auto key = f.plan->key(ref.segment);
    page_failure failure;
    failure.organization_slot = key.org_slot;
    if (!f.request.organizations.empty())
        failure.organization = f.request.organizations[key.org_slot];
    failure.window = key.window;
    failure.window_start = f.windows[key.window].first;
    failure.window_finish = f.windows[key.window].second;
    failure.page_index = ref.page_index;
    failure.error = ec;
    failure.diag = diag;
    failure.last_error = last_ec;
    failure.attempts = attempts;
    std::lock_guard lock(f.mutex);
    ++f.stats.pages_failed;
    f.failures.push_back(std::move(failure));
}

// Describes a page that failed for good, in one line a person can act on.
diagnostics page_diagnostics(const fetch_state& f, const policy::page_ref& ref, error_code final_ec,
                             error_code last_ec, unsigned attempts, const std::string& url,
                             const net::http_response& response, const diagnostics& detail) {
    diagnostics diag = detail;
    const std::string where = f.describe(ref.segment) + ", page " + std::to_string(ref.page_index);
    diag.url = url;
    if (response.status != 0) {
        diag.http_status = static_cast<int>(response.status);
        diag.body_excerpt = sanitized_excerpt(response.body);
    }
    if (!detail.body_excerpt.empty())
        diag.body_excerpt = detail.body_excerpt;
    std::string what = last_ec ? last_ec.message() : "HTTP " + std::to_string(response.status);
    if (!detail.message.empty())
        what += ": " + detail.message;
    // Through a proxy, every failure names it: a refused connection or a reset may be its.
    const auto& proxy = f.client->where.api_proxy;
    std::string via = proxy ? " via proxy " + proxy->to_string() : "";
    if (proxy && (last_ec == errc::proxy_refused || last_ec == errc::proxy_auth_required)) {
        what = net::describe_tunnel_failure(*proxy, f.client->where.api, last_ec,
                                            response.proxy_status);
        via.clear();
        diag.url = proxy->to_string();
        diag.http_status = static_cast<int>(response.proxy_status);
    }
    if (final_ec != errc::http_status && final_ec != errc::unauthorized &&
        final_ec != errc::forbidden)
        what = final_ec.message() + " after " + std::to_string(attempts) +
               " attempt(s); last: " + what;
    diag.message = where + ": " + what + " (GET " + url + via + ")";
    if (!diag.body_excerpt.empty())
        diag.message += " body: " + diag.body_excerpt;
    return diag;
}

errc failure_code(policy::segment_failure_reason reason) {
    switch (reason) {
    case policy::segment_failure_reason::incomplete:
        return errc::incomplete_window;
    case policy::segment_failure_reason::invalid_next_link:
        return errc::invalid_next_link;
    case policy::segment_failure_reason::total_not_believable:
        return errc::implausible_total;
    default:
        return errc::drift_unresolved;
    }
}

void emit(const fetch_state& f, fetch_event_kind kind, std::size_t segment, std::string message) {
    if (!f.client->config.on_fetch_event)
        return;
    fetch_event event;
    event.kind = kind;
    event.filter = f.inference.conclusion();
    const auto key = f.plan->key(segment);
    event.organization_slot = key.org_slot;
    event.window = key.window;
    event.message = std::move(message);
    f.client->config.on_fetch_event(event);
}

// A segment the plan gave up on: recorded with why, and the end of the fetch under `stop`.
void segment_failed(const std::shared_ptr<fetch_state>& self, const policy::page_ref& ref) {
    fetch_state& f = *self;
    const auto& failure = f.plan->failure(ref.segment);
    const error_code code = failure_code(failure.reason);
    diagnostics diag;
    diag.message = f.describe(ref.segment) + ": " + failure.detail;
    record_failure(f, ref, code, diag, code, 0);
    {
        std::lock_guard lock(f.mutex);
        f.stats.jobs_missing += static_cast<std::uint64_t>(failure.missing);
    }
    if (f.request.on_failure == failure_policy::stop)
        finish(self, code, diag, true);
}

// One organization's unfinished windows become one request series: the server returns the
// same jobs whatever the window, so each window would cost as much as all of them.
void merge_windows(fetch_state& f) {
    f.windows_merged = true;
    if (f.plan->window_count() < 2)
        return;
    std::uint64_t merged = 0;
    for (std::size_t org = 0; org < f.org_in_flight.size(); ++org) {
        f.plan->merge_from(org);
        for (std::size_t w = 0; w < f.plan->window_count(); ++w) {
            const std::size_t segment = f.plan->segment_of({org, w});
            const std::size_t into = f.plan->delegate(segment);
            if (into == segment)
                continue;
            ++merged;
            if (auto it = f.seen.find(segment); it != f.seen.end()) {
                const policy::dedupe_set delivered = std::move(it->second);
                f.seen.erase(it);
                f.seen_by(into).absorb(delivered);
            }
        }
    }
    std::lock_guard lock(f.mutex);
    f.stats.windows_merged = merged;
}

// Learns from a page's jobs what the server's time filter does; acts on a new conclusion.
void learn_time_filter(fetch_state& f, const policy::page_ref& ref, const jobs_page& page) {
    const auto [from, to] = f.query_range(ref.segment);
    const bool contradicted_before = f.inference.contradicted();
    bool changed = false;
    for (const auto& j : page.jobs)
        changed |= f.inference.observe(from, to, j);
    if (!changed)
        return;
    const time_filter now = f.inference.conclusion();
    {
        std::lock_guard lock(f.mutex);
        f.stats.server_time_filter = now;
        f.stats.time_filter_contradicted = f.inference.contradicted();
    }
    if (f.inference.contradicted() && !contradicted_before)
        emit(f, fetch_event_kind::time_filter_contradicted, ref.segment,
             "the server's time filter is not '" + std::string(to_string(f.inference.stated())) +
                 "' as stated: " + f.inference.evidence() + "; going on as '" +
                 std::string(to_string(now)) + "'");
    else
        emit(f, fetch_event_kind::time_filter_inferred, ref.segment,
             "the server's time filter selects by " + std::string(to_string(now)) + ": " +
                 f.inference.evidence());
    if (now == time_filter::ignored && !f.windows_merged) {
        merge_windows(f);
        emit(f, fetch_event_kind::windows_merged, ref.segment,
             "the server ignores startTime/finishTime: each organization's remaining windows are "
             "fetched as one");
    }
}

// The batches to send after an event on `segment`: `jobs` (when it has jobs or completes its
// segment) and one empty batch for every other segment the event completed.
std::vector<job_batch> settle(fetch_state& f, std::size_t segment, job_batch jobs) {
    std::vector<job_batch> completed;
    for (const std::size_t s : f.plan->take_settled(segment)) {
        const std::size_t into = f.plan->delegate(s);
        if (f.plan->group_settled(into))
            f.seen.erase(into);
        if (!f.plan->complete(s))
            continue;
        const auto key = f.plan->key(s);
        if (key.org_slot == jobs.organization_slot && key.window == jobs.window) {
            jobs.segment_complete = true;
            continue;
        }
        job_batch done;
        done.organization_slot = key.org_slot;
        done.window = key.window;
        done.segment_complete = true;
        completed.push_back(std::move(done));
    }
    if (!jobs.jobs.empty() || jobs.segment_complete)
        completed.insert(completed.begin(), std::move(jobs));
    return completed;
}

// Backpressure: this waits while the channel is full, holding the page's slot.
asio::awaitable<void> send(std::shared_ptr<fetch_state> self, std::vector<job_batch> batches) {
    for (auto& batch : batches)
        co_await self->channel.async_send(error_code{}, std::move(batch),
                                          asio::as_tuple(asio::use_awaitable));
}

// After a page was abandoned or failed: the segments it settled, if any, are reported.
asio::awaitable<void> settle_without_page(std::shared_ptr<fetch_state> self,
                                          const policy::page_ref& ref) {
    if (self->finishing)
        co_return; // the end is on its way to the consumer; nothing may follow it
    job_batch none;
    const auto key = self->plan->key(self->plan->delegate(ref.segment));
    none.organization_slot = key.org_slot;
    none.window = key.window;
    none.page_index = ref.page_index;
    auto batches = settle(*self, ref.segment, std::move(none));
    if (!batches.empty())
        co_await send(self, std::move(batches));
}

// Puts a page's new jobs into the stream, each job by the window that owns it.
asio::awaitable<void> deliver(std::shared_ptr<fetch_state> self, const policy::page_ref& ref,
                              jobs_page& page) {
    fetch_state& f = *self;
    learn_time_filter(f, ref, page);
    const auto verdict = f.plan->on_page(ref, page);
    const std::size_t into = f.plan->delegate(ref.segment);
    const auto key = f.plan->key(into);
    const time_filter belief = f.inference.conclusion();

    job_batch batch;
    batch.organization_slot = key.org_slot;
    batch.window = key.window;
    batch.page_index = ref.page_index;
    batch.total_count = page.total_count;
    batch.jobs.reserve(page.jobs.size());
    std::uint64_t duplicates = 0;
    std::uint64_t elsewhere = 0;
    std::uint64_t out_of_range = 0;
    auto& seen = f.seen_by(into);
    auto& crossers = f.crossers[key.org_slot];
    if (page.total_count && *page.total_count > 0)
        seen.expect(static_cast<std::size_t>(*page.total_count));
    const std::size_t spilled_before = seen.spilled() + crossers.spilled();
    for (auto& j : page.jobs) {
        const auto owner = f.owner_window(belief, j);
        if (!owner) {
            ++out_of_range;
            continue;
        }
        if (f.plan->delegate(f.plan->segment_of({key.org_slot, *owner})) != into) {
            ++elsewhere;
            continue;
        }
        const bool crosses =
            j.finish_time && f.window_of(*j.finish_time) != f.window_of(j.start_time);
        // A job can change sides while its window is open: seen running (no finishTime, so
        // within its window), then paged again after it finished in a later window. It is a
        // repeat if either set has it.
        auto& home = crosses ? crossers : seen;
        const auto& other = crosses ? seen : crossers;
        if (other.contains(j.job_id) || !home.insert(j.job_id)) {
            ++duplicates;
            continue;
        }
        batch.jobs.push_back(std::move(j));
    }
    const std::size_t spilled = seen.spilled() + crossers.spilled() - spilled_before;
    const std::error_code spill_error =
        seen.spill_error() ? seen.spill_error() : crossers.spill_error();
    if (spill_error && !f.spill_failure_reported) {
        f.spill_failure_reported = true;
        emit(f, fetch_event_kind::dedupe_kept_in_memory, ref.segment,
             "the jobIds of " + f.describe(ref.segment) + " could not be moved to " +
                 f.spill.directory + " (" + spill_error.message() + "): they stay in memory");
    }
    if (verdict == policy::page_verdict::refetch_incomplete)
        emit(f, fetch_event_kind::window_refetched_for_completeness, ref.segment,
             f.describe(ref.segment) +
                 ": fewer distinct jobs than totalCount came; paging it again");
    {
        std::lock_guard lock(f.mutex);
        ++f.stats.pages_done;
        f.stats.pages_planned = f.plan->pages_planned();
        f.stats.drift_refetches = f.plan->drift_refetches();
        f.stats.completeness_refetches = f.plan->completeness_refetches();
        f.stats.duplicates_dropped += duplicates;
        f.stats.jobs_owned_elsewhere += elsewhere;
        f.stats.jobs_out_of_range += out_of_range;
        f.stats.jobs_delivered += batch.jobs.size();
        f.stats.job_ids_spilled += spilled;
    }
    if (verdict == policy::page_verdict::failed)
        segment_failed(self, ref);
    auto batches = settle(f, ref.segment, std::move(batch));
    if (!batches.empty())
        co_await send(self, std::move(batches));
}

// Fetches one page: admission, token, exchange, decode, retries; then delivers it.
asio::awaitable<void> page_task(std::shared_ptr<fetch_state> self, policy::page_ref ref) {
    // Cancellation is an expected outcome here: see it as operation_aborted, not an exception.
    co_await asio::this_coro::throw_if_cancelled(false);
    fetch_state& f = *self;
    client_state& c = *f.client;
    const std::string target = page_target(f, ref);
    const std::string url = c.where.api.to_string() + target;
    const auto key = f.plan->key(ref.segment);

    unsigned attempt = 1;
    bool replayed_401 = false;
    std::uint64_t accepted_at_first_401 = 0;
    policy::retry_cause last_cause = policy::retry_cause::none;
    unsigned streak = 0;
    jobs_page page;
    page_decoder decoder;
    for (;;) {
        if (auto ec = co_await c.admit())
            co_return; // cancelled
        if (!f.plan->is_current(ref)) {
            // Its window is being fetched again (or ended) since: sending it would only cost.
            c.release(host_gate::outcome::failed);
            f.plan->abandon(ref);
            co_await settle_without_page(self, ref);
            co_return;
        }
        std::string token;
        diagnostics token_diag;
        if (auto ec = co_await c.tokens->async_get(token, token_diag)) {
            c.release(host_gate::outcome::failed);
            if (ec != asio::error::operation_aborted)
                finish(self, ec, token_diag, false); // no token, no page: the fetch cannot go on
            co_return;
        }

        net::http_request request;
        request.target = target;
        request.authorization = "Bearer " + token;
        request.user_agent = c.config.user_agent;
        request.accept = "application/json";
        if (c.config.compression)
            request.accept_encoding = "gzip, deflate";
        net::http_response response;
        diagnostics decode_diag;
        error_code decode_error;
        decoder.reset(page);
        std::uint64_t body_bytes = 0;
        std::string head; // the body's first bytes, for the report of a body that fails
        const net::body_sink sink = [&](std::string_view chunk) {
            if (head.size() < body_excerpt_bytes)
                head.append(chunk.substr(0, body_excerpt_bytes - head.size()));
            if (body_bytes == 0 && !is_json_media_type(response.content_type)) {
                // A gateway's sign-in page or error page: never fed to the JSON decoder.
                decode_diag.message = "Content-Type is '" + response.content_type + "', not JSON";
                decode_diag.body_excerpt = sanitized_excerpt(head);
                decode_error = errc::unexpected_content_type;
                return decode_error;
            }
            body_bytes += chunk.size();
            decode_error = decoder.write(chunk, decode_diag);
            if (decode_error)
                decode_diag.body_excerpt = sanitized_excerpt(head);
            return decode_error;
        };
        const auto sent = clock_type::now();
        error_code ec = co_await c.api_pool->async_exchange(request, response, &sink);
        const auto now = clock_type::now();
        if (!ec && response.status == 200 && !decode_error) {
            decode_error = decoder.finish(decode_diag);
            if (decode_error)
                decode_diag.body_excerpt = sanitized_excerpt(head);
        }
        if (decode_error && (ec == decode_error || !ec))
            ec = decode_error;

        const bool cancelled = ec == asio::error::operation_aborted;
        const bool throttled =
            response.status == 429 || (response.status == 503 && !response.retry_after.empty());
        c.release(cancelled || ec || response.status != 200
                      ? (throttled ? host_gate::outcome::throttled : host_gate::outcome::failed)
                      : host_gate::outcome::success);
        if (cancelled || f.finishing)
            co_return;

        request_event event;
        event.url = url;
        event.status = response.status;
        event.error = ec;
        event.duration = std::chrono::duration_cast<std::chrono::microseconds>(now - sent);
        event.attempt = attempt;
        event.organization_slot = key.org_slot;
        event.window = key.window;
        event.page_index = ref.page_index;
        {
            std::lock_guard lock(f.mutex);
            ++f.stats.requests;
            f.stats.bytes_received += response.body_bytes;
            f.stats.bytes_decoded += response.decoded_bytes;
            if (response.status != 0)
                f.latency.record(event.duration);
            f.stats.throttled += response.status == 429;
            f.stats.unauthorized += response.status == 401;
        }
        refresh_shared_counters(f);

        if (ec == errc::proxy_auth_required) {
            // Configuration, not chance: every request through this proxy would be refused the
            // same way, so the fetch ends here and sends nothing more.
            if (c.config.on_request)
                c.config.on_request(event);
            diagnostics diag;
            const auto& proxy = *c.api_pool->via();
            diag.message =
                net::describe_tunnel_failure(proxy, c.where.api, ec, response.proxy_status);
            diag.url = proxy.to_string();
            diag.http_status = static_cast<int>(response.proxy_status);
            finish(self, ec, std::move(diag), false);
            co_return;
        }
        if (!ec && response.status == 200) {
            ++c.pages_accepted;
            c.retry.on_success();
            if (c.config.on_request)
                c.config.on_request(event);
            co_await deliver(self, ref, page);
            co_return;
        }
        if (!ec && response.status == 401) {
            // The token was refused (revoked or expired early): renew it and replay at once;
            // a refusal after that waits and retries like any other failure.
            c.tokens->invalidate(token);
            if (!replayed_401) {
                replayed_401 = true;
                accepted_at_first_401 = c.pages_accepted;
                if (c.config.on_request)
                    c.config.on_request(event);
                continue;
            }
            // Pages accepted since this one first met a 401 prove the credentials still good:
            // its tokens were revoked under it (churn), which is no verdict, and only
            // max_attempts bounds it. Refused with nothing accepted meanwhile, it counts towards
            // max_unauthorized_attempts (wrong scope, consent withdrawn mid-run).
            if (c.pages_accepted != accepted_at_first_401)
                last_cause = policy::retry_cause::none;
        }

        policy::attempt_result result;
        result.http_status = ec ? 0 : response.status;
        result.transport_error = ec;
        result.timed_out = is_timeout(ec);
        if (!response.retry_after.empty())
            result.retry_after =
                policy::parse_retry_after(response.retry_after, std::chrono::system_clock::now());
        result.unauthorized_retryable = replayed_401;
        const auto cause = policy::classify(result);
        streak = cause == last_cause ? streak + 1 : 1;
        last_cause = cause;
        result.same_cause_streak = streak;
        const auto decision = c.retry.on_failure(result, attempt, now, f.deadline);
        event.retry = decision.retry ? decision.cause : policy::retry_cause::none;
        event.retry_wait = decision.wait;
        if (c.config.on_request)
            c.config.on_request(event);

        if (!ec && response.status == 400 && names_page_size(response.body)) {
            // A server with a smaller maximum than asked for, refusing instead of capping.
            if (f.plan->halve_page_size(ref)) {
                {
                    std::lock_guard lock(f.mutex);
                    ++f.stats.page_size_reductions;
                }
                if (!f.page_size_reduction_reported) {
                    f.page_size_reduction_reported = true;
                    emit(f, fetch_event_kind::page_size_reduced, ref.segment,
                         "the server refused pageSize " + std::to_string(ref.page_size) +
                             "; asking for " + std::to_string(ref.page_size / 2) +
                             " instead (and less if refused again)");
                }
                co_await settle_without_page(self, ref);
                co_return;
            }
        }
        if (!decision.retry) {
            const error_code final_ec =
                !ec && response.status == 403 ? errc::forbidden : decision.error;
            auto diag = page_diagnostics(f, ref, final_ec, ec, attempt, url, response, decode_diag);
            // An attempt answered with a status has no error of its own: say it was a status.
            const error_code last_ec = ec ? ec : error_code(errc::http_status);
            f.plan->on_failure(ref);
            if (final_ec == errc::forbidden || final_ec == errc::unauthorized) {
                // The credentials or their scope are wrong: every other page would be refused
                // the same way, so the whole fetch stops here, whatever on_failure says.
                diag.oauth_error = challenge_param(response.www_authenticate, "error");
                diag.oauth_error_description =
                    challenge_param(response.www_authenticate, "error_description");
                diag.message +=
                    final_ec == errc::forbidden
                        ? "; the app's token may not do this (scope '" + c.config.scope + "')"
                        : "; the API refused a freshly issued token (scope '" + c.config.scope +
                              "')";
                if (!diag.oauth_error.empty())
                    diag.message += " (" + diag.oauth_error +
                                    (diag.oauth_error_description.empty()
                                         ? std::string()
                                         : ": " + diag.oauth_error_description) +
                                    ")";
                record_failure(f, ref, final_ec, diag, last_ec, attempt);
                finish(self, final_ec, diag, false);
                co_return;
            }
            record_failure(f, ref, final_ec, diag, last_ec, attempt);
            if (f.request.on_failure == failure_policy::stop)
                finish(self, final_ec, diag, true);
            co_await settle_without_page(self, ref);
            co_return;
        }
        {
            std::lock_guard lock(f.mutex);
            ++f.stats.retries;
            ++f.stats.retries_by_cause[static_cast<std::size_t>(decision.cause)];
        }
        if (decision.pause_host)
            c.gate.on_retry_after(now + decision.wait);
        asio::steady_timer backoff(c.strand, decision.wait);
        co_await backoff.async_wait(asio::as_tuple(asio::use_awaitable));
        const asio::cancellation_state state = co_await asio::this_coro::cancellation_state;
        if (state.cancelled() != asio::cancellation_type::none || f.finishing)
            co_return;
        ++attempt;
    }
}

void launch(const std::shared_ptr<fetch_state>& self, policy::page_ref ref) {
    fetch_state& f = *self;
    const auto org = f.plan->key(ref.segment).org_slot;
    ++f.pages_in_flight;
    ++f.org_in_flight[org];
    const auto id = f.next_task_id++;
    auto& signal = f.tasks[id];
    asio::co_spawn(
        f.client->strand, page_task(self, ref),
        asio::bind_cancellation_slot(signal.slot(), [self, id, org, ref](std::exception_ptr error) {
            fetch_state& f = *self;
            f.tasks.erase(id);
            --f.pages_in_flight;
            --f.org_in_flight[org];
            if (error && !f.finishing) {
                // Only a bug or exhausted memory gets here; never lose it quietly.
                diagnostics diag;
                try {
                    std::rethrow_exception(error);
                } catch (const std::exception& e) {
                    diag.message = e.what();
                }
                f.plan->on_failure(ref);
                finish(self, make_error_code(std::errc::state_not_recoverable), diag, false);
            }
            f.wake.cancel(); // let the scheduler look again
        }));
}

} // namespace

std::size_t fetch_state::window_of(timestamp t) const noexcept {
    if (windows.size() <= 1 || t <= request.start)
        return 0;
    const auto index = static_cast<std::size_t>((t - request.start) / *request.window);
    return std::min(index, windows.size() - 1);
}

std::optional<std::size_t> fetch_state::owner_window(time_filter belief,
                                                     const job& j) const noexcept {
    switch (belief) {
    case time_filter::finish:
        return window_of(j.finish_time ? *j.finish_time : j.start_time);
    case time_filter::ignored:
        // The server applied no filter, so the fetch applies its own: by start time.
        if (j.start_time < request.start || j.start_time > request.finish)
            return std::nullopt;
        return window_of(j.start_time);
    default:
        return window_of(j.start_time);
    }
}

std::pair<timestamp, timestamp> fetch_state::query_range(std::size_t segment) const noexcept {
    const auto key = plan->key(segment);
    return {windows[key.window].first, windows[plan->last_window(segment)].second};
}

policy::dedupe_set& fetch_state::seen_by(std::size_t delegate) {
    return seen.try_emplace(delegate, spill).first->second;
}

std::string fetch_state::describe(std::size_t segment) const {
    const auto [from, to] = query_range(segment);
    std::string where = "window " + format_iso8601(from) + ".." + format_iso8601(to);
    if (!request.organizations.empty())
        where = "organization " + request.organizations[plan->key(segment).org_slot].to_string() +
                ", " + where;
    return where;
}

void finish(const std::shared_ptr<fetch_state>& self, error_code ec, diagnostics diag,
            bool through_channel) {
    fetch_state& f = *self;
    if (f.finishing)
        return;
    f.finishing = true;
    {
        std::lock_guard lock(f.mutex);
        f.final_error = ec;
        f.final_diag = std::move(diag);
        f.stats.elapsed =
            std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - f.started);
        f.stats.latency = f.latency.summary();
    }
    for (auto& [id, signal] : f.tasks)
        signal.emit(asio::cancellation_type::terminal);
    f.wake.cancel();
    f.deadline_timer.cancel();
    if (through_channel) {
        asio::co_spawn(
            f.client->strand,
            [self]() -> asio::awaitable<void> {
                co_await self->channel.async_send(self->final_error, std::nullopt,
                                                  asio::as_tuple(asio::use_awaitable));
            },
            asio::detached);
    } else {
        f.final_delivered = true;
        f.channel.cancel(); // a pending async_next completes now, with final_error
    }
}

void cancel_fetch(const std::shared_ptr<fetch_state>& self) {
    fetch_state& f = *self;
    if (!f.finishing) {
        diagnostics diag;
        diag.message = "the fetch was cancelled";
        finish(self, asio::error::operation_aborted, std::move(diag), false);
        return;
    }
    // Already ending: the end may be queued behind batches nobody will read now. Deliver it
    // directly, which also frees the queued sender.
    f.final_delivered = true;
    f.channel.cancel();
}

asio::awaitable<void> run_fetch(std::shared_ptr<fetch_state> self) {
    co_await asio::this_coro::throw_if_cancelled(false);
    fetch_state& f = *self;
    diagnostics diag;
    if (auto ec = f.client->prepare(diag)) {
        finish(self, ec, diag, true);
        co_return;
    }
    if (auto ec = f.request.validate(diag)) {
        finish(self, ec, diag, true);
        co_return;
    }
    f.windows = f.request.windows();
    const std::size_t org_slots = std::max<std::size_t>(1, f.request.organizations.size());
    policy::page_plan_limits limits;
    limits.max_drift_refetches = f.request.max_drift_refetches;
    limits.max_completeness_refetches = f.request.max_completeness_refetches;
    limits.max_pages_per_window = f.request.max_pages_per_window;
    f.spill = policy::spill_of(f.client->config.dedupe);
    f.plan.emplace(org_slots, f.windows.size(), f.request.page_size, limits, f.spill);
    for (const auto& key : f.request.skip)
        f.plan->skip(f.plan->segment_of(key));
    f.org_in_flight.assign(org_slots, 0);
    for (std::size_t org = 0; org < org_slots; ++org)
        f.crossers.emplace_back(f.spill);
    {
        std::lock_guard lock(f.mutex);
        f.stats.server_time_filter = f.inference.conclusion();
    }
    if (f.inference.conclusion() == time_filter::ignored)
        merge_windows(f); // stated: one request series per organization from the start
    if (f.request.deadline) {
        f.deadline = f.started + *f.request.deadline;
        f.deadline_timer.expires_at(*f.deadline);
        f.deadline_timer.async_wait([weak = std::weak_ptr(self)](error_code ec) {
            auto s = weak.lock();
            if (ec || !s)
                return;
            diagnostics diag;
            diag.message = "the fetch's deadline passed before every page was fetched";
            // Say what held it up when the identity service is the reason.
            if (auto token_trouble = s->client->tokens->failing()) {
                diag.message += "; the token endpoint keeps failing: " + token_trouble->message;
                diag.url = token_trouble->url;
                diag.http_status = token_trouble->http_status;
                diag.body_excerpt = token_trouble->body_excerpt;
            }
            finish(s, errc::deadline_exceeded, diag, false);
        });
    }

    const bool per_org_limit = !f.request.organizations.empty();
    const auto org_has_room = [&](std::size_t org) {
        return !per_org_limit ||
               f.org_in_flight[org] < f.client->config.max_in_flight_per_organization;
    };
    const std::size_t global_limit = f.client->config.rate.max_in_flight;
    for (;;) {
        if (f.finishing)
            co_return;
        while (f.pages_in_flight < global_limit) {
            auto ref = f.plan->next(org_has_room);
            if (!ref)
                break;
            launch(self, std::move(*ref));
        }
        if (f.plan->done() && f.pages_in_flight == 0) {
            std::size_t failed;
            {
                std::lock_guard lock(f.mutex);
                failed = f.failures.size();
            }
            diagnostics end;
            if (failed != 0)
                end.message =
                    std::to_string(failed) + " page(s) could not be fetched; see failures()";
            finish(self, failed ? error_code(errc::pages_failed) : error_code{}, end, true);
            co_return;
        }
        f.wake.expires_at(asio::steady_timer::time_point::max());
        co_await f.wake.async_wait(asio::as_tuple(asio::use_awaitable));
    }
}

} // namespace dynjobs::detail
