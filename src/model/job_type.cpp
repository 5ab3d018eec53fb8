#include <dynjobs/job_type.hpp>

#include "enum_names.hpp"

namespace dynjobs {
namespace {

constexpr detail::enum_name job_type_names[] = {
    {0, "all"},       {1, "backup"},        {2, "restore"}, {4, "dry_run"},
    {8, "retention"}, {16, "audit_backup"}, {32, "export"},
};

} // namespace

bool is_documented(job_type t) noexcept {
    return !to_string(t).empty();
}

std::string_view to_string(job_type t) noexcept {
    return detail::name_of(job_type_names, static_cast<std::int32_t>(t));
}

std::optional<job_type> parse_job_type(std::string_view text) noexcept {
    const auto value = detail::parse_enum(job_type_names, text);
    return value ? std::optional{static_cast<job_type>(*value)} : std::nullopt;
}

} // namespace dynjobs
