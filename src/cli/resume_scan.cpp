#include "cli/resume_scan.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <functional>
#include <vector>

namespace dynjobs::cli {
namespace {

// Calls on_job(jobId, line) for every line of `text` (the line without its end); lines are
// numbered from `first_line`.
template <class OnJob>
bool for_each_jsonl_job(std::string_view text, std::size_t first_line, std::string& error,
                        OnJob on_job) {
    std::size_t line_number = first_line - 1;
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

} // namespace

job_id_scan::job_id_scan(output_format format, std::function<void(std::string_view)> on_id)
    : format_(format)
    , on_id_(std::move(on_id)) {}

bool job_id_scan::feed(std::string_view chunk, std::string& error) {
    pending_.append(chunk);
    std::size_t consumed = 0;
    if (format_ == output_format::jsonl) {
        const auto last_end = pending_.rfind('\n');
        if (last_end == std::string::npos)
            return true; // no line complete yet
        consumed = last_end + 1;
        if (!for_each_jsonl_job(std::string_view(pending_).substr(0, consumed), records_seen_ + 1,
                                error, [&](std::string_view id, std::string_view) {
                                    ++records_seen_;
                                    on_id_(id);
                                }))
            return false;
    } else {
        std::vector<std::vector<std::string>> records;
        if (!parse_csv_records(pending_, records, consumed)) {
            error = "malformed CSV after record " + std::to_string(records_seen_ + records.size());
            return false;
        }
        const auto& columns = csv_columns();
        constexpr std::size_t job_id_column = 2;
        for (const auto& r : records) {
            ++records_seen_;
            if (r.size() != columns.size()) {
                error = "record " + std::to_string(records_seen_) + " has " +
                        std::to_string(r.size()) + " fields, not " + std::to_string(columns.size());
                return false;
            }
            if (r[job_id_column] != columns[job_id_column]) // not the header row
                on_id_(r[job_id_column]);
        }
    }
    pending_.erase(0, consumed);
    return true;
}

bool job_id_scan::finish(std::string& error) {
    if (pending_.empty())
        return true;
    if (format_ == output_format::jsonl)
        error = "line " + std::to_string(records_seen_ + 1) + " has no line end";
    else
        error = "malformed CSV after record " + std::to_string(records_seen_);
    return false;
}

std::uint64_t line_fingerprint(std::string_view line) noexcept {
    return std::hash<std::string_view>{}(line);
}

bool collect_job_fingerprints(std::string_view text,
                              std::unordered_map<std::string, std::uint64_t>& fingerprints,
                              std::string& error) {
    return for_each_jsonl_job(text, 1, error, [&](std::string_view id, std::string_view line) {
        fingerprints.insert_or_assign(std::string(id), line_fingerprint(line));
    });
}

} // namespace dynjobs::cli
