#include "cli/sync_metrics.hpp"

#include <string>

namespace dynjobs::cli {

namespace {

double seconds_since_epoch(timestamp t) {
    return std::chrono::duration<double>(t.time_since_epoch()).count();
}

std::string status_label(job_status s) {
    const auto name = to_string(s);
    return name.empty() ? std::to_string(static_cast<std::int32_t>(s)) : std::string(name);
}

} // namespace

sync_metrics::sync_metrics() {
    auto& m = registry_;
    m.declare("dynjobs_jobs_upserted_total", metric_type::counter,
              "Jobs written to the output: new rows and changed ones.");
    m.declare("dynjobs_jobs_changed_total", metric_type::counter,
              "Jobs already stored whose fields changed (a running job that finished).");
    m.declare("dynjobs_cycle_jobs", metric_type::gauge,
              "Jobs the last cycle fetched, by job status.");
    m.declare("dynjobs_pages_total", metric_type::counter, "Job pages received and decoded.");
    m.declare("dynjobs_pages_failed_total", metric_type::counter,
              "Job pages given up after their retries.");
    m.declare("dynjobs_http_requests_total", metric_type::counter,
              "Job page request attempts by HTTP status (code 0: no response).");
    m.declare("dynjobs_throttled_total", metric_type::counter,
              "Requests answered 429 Too Many Requests.");
    m.declare("dynjobs_retries_total", metric_type::counter, "Request retries by cause.");
    m.declare("dynjobs_token_renewals_total", metric_type::counter,
              "Access tokens fetched from the identity service.");
    m.declare("dynjobs_received_bytes_total", metric_type::counter,
              "Job page bytes as received (compressed or not).");
    m.declare("dynjobs_cycles_total", metric_type::counter, "Cycles by result.");
    m.declare("dynjobs_cycle_duration_seconds", metric_type::histogram,
              "Wall time of a cycle, from its first request to its commit.",
              {0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600});
    m.declare("dynjobs_last_success_timestamp_seconds", metric_type::gauge,
              "Unix time when the last successful cycle ended (0: none yet).");
    m.declare("dynjobs_high_water_mark_lag_seconds", metric_type::gauge,
              "How far behind now the stored data is complete (the last successful cycle's "
              "range end); -1 before the first success.");
    // Counters without labels are listed at zero from the start, as Prometheus expects.
    for (const char* name :
         {"dynjobs_jobs_upserted_total", "dynjobs_jobs_changed_total", "dynjobs_pages_total",
          "dynjobs_pages_failed_total", "dynjobs_throttled_total", "dynjobs_token_renewals_total",
          "dynjobs_received_bytes_total"})
        m.add(name, 0);
    m.set("dynjobs_last_success_timestamp_seconds", 0);
}

void sync_metrics::record_request(unsigned status) {
    registry_.add("dynjobs_http_requests_total", 1, {{"code", std::to_string(status)}});
    if (status == 429)
        registry_.add("dynjobs_throttled_total", 1);
}

void sync_metrics::record_cycle(const cycle_report& cycle) {
    auto& m = registry_;
    const auto& s = cycle.stats;
    m.add("dynjobs_jobs_upserted_total", static_cast<double>(cycle.jobs_upserted));
    m.add("dynjobs_jobs_changed_total", static_cast<double>(cycle.jobs_changed));
    m.add("dynjobs_pages_total", static_cast<double>(s.pages_done));
    m.add("dynjobs_pages_failed_total", static_cast<double>(s.pages_failed));
    m.add("dynjobs_token_renewals_total", static_cast<double>(cycle.token_renewals));
    m.add("dynjobs_received_bytes_total", static_cast<double>(s.bytes_received));
    for (std::size_t i = 0; i < s.retries_by_cause.size(); ++i) {
        if (s.retries_by_cause[i] == 0)
            continue;
        const auto cause = to_string(static_cast<policy::retry_cause>(i));
        m.add("dynjobs_retries_total", static_cast<double>(s.retries_by_cause[i]),
              {{"cause", std::string(cause)}});
    }
    m.clear("dynjobs_cycle_jobs");
    for (const auto& [status, n] : cycle.jobs_by_status)
        m.set("dynjobs_cycle_jobs", static_cast<double>(n), {{"status", status_label(status)}});
    m.add("dynjobs_cycles_total", 1, {{"result", cycle.succeeded ? "success" : "failure"}});
    m.observe("dynjobs_cycle_duration_seconds", cycle.duration.count());
    if (cycle.succeeded)
        m.set("dynjobs_last_success_timestamp_seconds", seconds_since_epoch(cycle.finished_at));
}

void sync_metrics::set_high_water_mark(timestamp hwm) {
    high_water_mark_ = hwm;
}

std::string sync_metrics::render(timestamp now) {
    registry_.set("dynjobs_high_water_mark_lag_seconds",
                  high_water_mark_ ? std::chrono::duration<double>(now - *high_water_mark_).count()
                                   : -1.0);
    return registry_.render();
}

} // namespace dynjobs::cli
