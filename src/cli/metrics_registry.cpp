#include "cli/metrics_registry.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace dynjobs::cli {

namespace {

bool is_metric_name(std::string_view name) {
    auto first = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    };
    auto rest = [&](char c) { return first(c) || (c >= '0' && c <= '9'); };
    return !name.empty() && first(name.front()) && std::all_of(name.begin() + 1, name.end(), rest);
}

std::string_view type_name(metric_type type) {
    switch (type) {
    case metric_type::counter:
        return "counter";
    case metric_type::gauge:
        return "gauge";
    case metric_type::histogram:
        return "histogram";
    }
    return "untyped";
}

// The shortest text that reads back as the same double; Prometheus' spellings for the
// non-finite values.
void append_number(std::string& out, double v) {
    if (std::isnan(v)) {
        out += "NaN";
        return;
    }
    if (std::isinf(v)) {
        out += v > 0 ? "+Inf" : "-Inf";
        return;
    }
    char text[32];
    auto [end, ec] = std::to_chars(text, text + sizeof text, v);
    out.append(text, end);
}

// Backslash, double quote and line feed are the only escapes the format has; HELP text escapes
// backslash and line feed only.
void append_escaped(std::string& out, std::string_view text, bool in_label) {
    for (char c : text) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '\n')
            out += "\\n";
        else if (c == '"' && in_label)
            out += "\\\"";
        else
            out += c;
    }
}

void append_series(std::string& out, std::string_view name, const metric_labels& labels,
                   const std::pair<std::string, std::string>* extra, double v) {
    out += name;
    if (!labels.empty() || extra) {
        out += '{';
        bool comma = false;
        auto one = [&](const std::pair<std::string, std::string>& l) {
            if (comma)
                out += ',';
            comma = true;
            out += l.first;
            out += "=\"";
            append_escaped(out, l.second, true);
            out += '"';
        };
        for (const auto& l : labels)
            one(l);
        if (extra)
            one(*extra);
        out += '}';
    }
    out += ' ';
    append_number(out, v);
    out += '\n';
}

} // namespace

void metrics_registry::declare(std::string name, metric_type type, std::string help,
                               std::vector<double> buckets) {
    if (!is_metric_name(name))
        throw std::invalid_argument("metric name '" + name + "' is not a Prometheus name");
    if (type == metric_type::counter && !name.ends_with("_total"))
        throw std::invalid_argument("counter '" + name + "' must end in _total");
    if (type == metric_type::histogram) {
        const bool increasing = std::adjacent_find(buckets.begin(), buckets.end(),
                                                   std::greater_equal<>()) == buckets.end();
        const bool finite =
            std::all_of(buckets.begin(), buckets.end(), [](double b) { return std::isfinite(b); });
        if (buckets.empty() || !increasing || !finite)
            throw std::invalid_argument("histogram '" + name +
                                        "' needs strictly increasing finite buckets");
    } else if (!buckets.empty()) {
        throw std::invalid_argument("only a histogram has buckets ('" + name + "')");
    }
    family f;
    f.type = type;
    f.help = std::move(help);
    f.buckets = std::move(buckets);
    if (!families_.emplace(name, std::move(f)).second)
        throw std::invalid_argument("metric '" + name + "' declared twice");
}

metrics_registry::family& metrics_registry::find(std::string_view name, metric_type type) {
    auto it = families_.find(name);
    if (it == families_.end() || it->second.type != type)
        throw std::invalid_argument("no " + std::string(type_name(type)) + " named '" +
                                    std::string(name) + "'");
    return it->second;
}

void metrics_registry::add(std::string_view name, double amount, const metric_labels& labels) {
    if (!(amount >= 0))
        throw std::invalid_argument("counter '" + std::string(name) + "' cannot go down");
    find(name, metric_type::counter).values[labels] += amount;
}

void metrics_registry::set(std::string_view name, double value, const metric_labels& labels) {
    find(name, metric_type::gauge).values[labels] = value;
}

void metrics_registry::observe(std::string_view name, double value, const metric_labels& labels) {
    auto& f = find(name, metric_type::histogram);
    auto& h = f.histograms[labels];
    h.counts.resize(f.buckets.size() + 1);
    // Le is an upper bound: a value equal to a bucket's bound belongs in it.
    const auto bucket = std::lower_bound(f.buckets.begin(), f.buckets.end(), value);
    ++h.counts[static_cast<std::size_t>(bucket - f.buckets.begin())];
    h.sum += value;
    ++h.count;
}

void metrics_registry::clear(std::string_view name) {
    find(name, metric_type::gauge).values.clear();
}

double metrics_registry::value(std::string_view name, const metric_labels& labels) const {
    auto it = families_.find(name);
    if (it == families_.end())
        return 0;
    auto v = it->second.values.find(labels);
    return v == it->second.values.end() ? 0 : v->second;
}

std::string metrics_registry::render() const {
    std::string out;
    for (const auto& [name, f] : families_) {
        out += "# HELP ";
        out += name;
        out += ' ';
        append_escaped(out, f.help, false);
        out += "\n# TYPE ";
        out += name;
        out += ' ';
        out += type_name(f.type);
        out += '\n';
        for (const auto& [labels, v] : f.values)
            append_series(out, name, labels, nullptr, v);
        for (const auto& [labels, h] : f.histograms) {
            std::uint64_t cumulative = 0;
            for (std::size_t i = 0; i <= f.buckets.size(); ++i) {
                cumulative += h.counts[i];
                std::pair<std::string, std::string> le{"le", ""};
                if (i < f.buckets.size())
                    append_number(le.second, f.buckets[i]);
                else
                    le.second = "+Inf";
                append_series(out, name + "_bucket", labels, &le, static_cast<double>(cumulative));
            }
            append_series(out, name + "_sum", labels, nullptr, h.sum);
            append_series(out, name + "_count", labels, nullptr, static_cast<double>(h.count));
        }
    }
    return out;
}

} // namespace dynjobs::cli
