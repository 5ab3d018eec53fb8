#include <dynjobs/job_status.hpp>

#include "enum_names.hpp"

namespace dynjobs {
namespace {

constexpr detail::enum_name job_status_names[] = {
    {2, "in_progress"},
    {3, "finished"},
    {4, "failed"},
    {7, "finished_with_exception"},
};

} // namespace

bool is_documented(job_status s) noexcept {
    return !to_string(s).empty();
}

std::string_view to_string(job_status s) noexcept {
    return detail::name_of(job_status_names, static_cast<std::int32_t>(s));
}

std::optional<job_status> parse_job_status(std::string_view text) noexcept {
    const auto value = detail::parse_enum(job_status_names, text);
    return value ? std::optional{static_cast<job_status>(*value)} : std::nullopt;
}

} // namespace dynjobs
