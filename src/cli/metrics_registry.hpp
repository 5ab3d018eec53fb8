// The metrics `dynjobs sync` exposes on /metrics, in the Prometheus text exposition format
// (version 0.0.4): counters, gauges and histograms, each a family of series told apart by labels.
//
// A plain value type with no I/O and no clock, so the exposition is unit-tested alone; the
// command updates it after each cycle and the status server renders it per scrape.
//
// Thread safety: none. The sync command updates and renders it on its one io_context thread.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dynjobs::cli {

enum class metric_type { counter, gauge, histogram };

/// Label name/value pairs of one series, in the order they are rendered.
using metric_labels = std::vector<std::pair<std::string, std::string>>;

class metrics_registry {
public:
    /// Declares a family. Throws std::invalid_argument for a name that is not a Prometheus
    /// metric name, a counter whose name does not end in `_total`, a histogram without
    /// strictly increasing finite buckets, or a name declared twice.
    void declare(std::string name, metric_type type, std::string help,
                 std::vector<double> buckets = {});

    /// Adds `amount` (>= 0: counters never go down) to a counter series, creating it at zero.
    void add(std::string_view name, double amount, const metric_labels& labels = {});
    /// Sets a gauge series.
    void set(std::string_view name, double value, const metric_labels& labels = {});
    /// Records one observation in a histogram series.
    void observe(std::string_view name, double value, const metric_labels& labels = {});
    /// Removes every series of a gauge family: for "seen in the last cycle" gauges, whose label
    /// values from an earlier cycle must not linger.
    void clear(std::string_view name);

    /// The current value of a counter or gauge series; 0 when it does not exist yet.
    double value(std::string_view name, const metric_labels& labels = {}) const;

    /// The whole registry in the text format, families in name order.
    std::string render() const;

private:
    struct histogram_value {
        std::vector<std::uint64_t> counts; // per bucket, not cumulative; last is +Inf
        double sum = 0;
        std::uint64_t count = 0;
    };
    struct family {
        metric_type type = metric_type::counter;
        std::string help;
        std::vector<double> buckets;
        std::map<metric_labels, double> values;
        std::map<metric_labels, histogram_value> histograms;
    };

    family& find(std::string_view name, metric_type type);

    std::map<std::string, family, std::less<>> families_;
};

} // namespace dynjobs::cli
