#include "cli/resume_scan.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <functional>
#include <vector>

namespace dynjobs::cli {
namespace {

// Calls on_job(jobId, line) for every line of `text` (the line without its end).
template <class OnJob>
bool for_each_jsonl_job(std::string_view text, std::string& error, OnJob on_job) {
    std::size_t line_number = 0;
    while (!text.empty()) {
        ++line_number;
        const auto end = text.find('\n');
        if (end == text.npos) {
            error = "line " + std::to_string(line_number) + " has no line end";
            return false;
        }
        const auto line = text.substr(0, end);
        text.remove_prefix(end + 1);
        boost::system::error_code ec;
        const auto value = boost::json::parse(line, ec);
        const auto* obj = value.if_object();
        const auto* id = obj ? obj->if_contains("jobId") : nullptr;
        if (ec || !id || !id->is_string()) {
            error = "line " + std::to_string(line_number) + " is not a job with a jobId";
            return false;
        }
        on_job(std::string_view(id->get_string()), line);
    }
    return true;
}

bool collect_jsonl(std::string_view text, std::unordered_set<std::string>& ids,
                   std::string& error) {
    return for_each_jsonl_job(text, error,
                              [&](std::string_view id, std::string_view) { ids.emplace(id); });
}

bool collect_csv(std::string_view text, std::unordered_set<std::string>& ids, std::string& error) {
    std::vector<std::vector<std::string>> records;
    std::size_t consumed = 0;
    if (!parse_csv_records(text, records, consumed) || consumed != text.size()) {
        error = "malformed CSV after record " + std::to_string(records.size());
        return false;
    }
    const auto& columns = csv_columns();
    constexpr std::size_t job_id_column = 2;
    for (std::size_t i = 0; i < records.size(); ++i) {
        const auto& r = records[i];
        if (r.size() != columns.size()) {
            error = "record " + std::to_string(i + 1) + " has " + std::to_string(r.size()) +
                    " fields, not " + std::to_string(columns.size());
            return false;
        }
        if (r[job_id_column] == columns[job_id_column])
            continue; // the header row
        ids.insert(r[job_id_column]);
    }
    return true;
}

} // namespace

bool collect_job_ids(output_format format, std::string_view text,
                     std::unordered_set<std::string>& ids, std::string& error) {
    return format == output_format::csv ? collect_csv(text, ids, error)
                                        : collect_jsonl(text, ids, error);
}

std::uint64_t line_fingerprint(std::string_view line) noexcept {
    return std::hash<std::string_view>{}(line);
}

bool collect_job_fingerprints(std::string_view text,
                              std::unordered_map<std::string, std::uint64_t>& fingerprints,
                              std::string& error) {
    return for_each_jsonl_job(text, error, [&](std::string_view id, std::string_view line) {
        fingerprints.insert_or_assign(std::string(id), line_fingerprint(line));
    });
}

} // namespace dynjobs::cli
