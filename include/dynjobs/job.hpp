// dynjobs/job.hpp - one job report, as GET /dynamicsbackup/jobs returns it.
#pragma once

#include <dynjobs/job_status.hpp>
#include <dynjobs/job_type.hpp>
#include <dynjobs/organization_id.hpp>
#include <dynjobs/timestamp.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace dynjobs {

/// The 20 fields of a job, typed. Member comments give the API's JSON name.
///
/// Required on the wire (a job without them is rejected): jobId, type, status, startTime,
/// organizationId. The others may be absent or `null`: strings then stay empty, counters 0, and
/// the two that are genuinely unknown while a job runs (finishTime, durationHours) stay nullopt.
struct job {
    std::string module;                   ///< "module": service, e.g. "Customer Engagement"
    job_type type{};                      ///< "type"
    std::string job_id;                   ///< "jobId": unique, e.g. "DCIB2022081903124382222110"
    timestamp start_time{};               ///< "startTime"
    std::optional<timestamp> finish_time; ///< "finishTime": nullopt while in progress
    std::optional<double> duration_hours; ///< "durationHours"
    job_status status{};                  ///< "status"
    std::int64_t successful_entity = 0;   ///< "successfulEntity"
    std::int64_t failed_entity = 0;       ///< "failedEntity"
    std::int64_t skipped_entity = 0;      ///< "skippedEntity"
    std::int64_t warning_entity = 0;      ///< "warningEntity"
    std::int64_t total_entity = 0;        ///< "totalEntity"
    std::int64_t successful_record = 0;   ///< "successfulRecord"
    std::int64_t failed_record = 0;       ///< "failedRecord"
    std::int64_t skipped_record = 0;      ///< "skippedRecord"
    std::int64_t warning_record = 0;      ///< "warningRecord"
    std::int64_t total_record = 0;        ///< "totalRecord"
    std::int64_t backup_size = 0;         ///< "backupSize": bytes
    organization_id organization;         ///< "organizationId"
    std::string organization_name;        ///< "organizationName"

    /// Every field equal.
    friend bool operator==(const job&, const job&) = default;
};

} // namespace dynjobs
