// Private helper shared by job_type.cpp and job_status.cpp: the name <-> number tables of the
// API's enums, and the lenient spelling rules user input gets ("DryRun", "dry-run", "dry_run").
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace dynjobs::detail {

struct enum_name {
    std::int32_t value;
    std::string_view name; // canonical: lower case with underscores
};

inline std::string_view name_of(std::span<const enum_name> table, std::int32_t value) noexcept {
    for (const auto& entry : table)
        if (entry.value == value)
            return entry.name;
    return {};
}

// Compares ignoring case and the separators '-', '_' and ' '.
inline bool loosely_equal(std::string_view input, std::string_view canonical) noexcept {
    auto is_separator = [](char c) { return c == '-' || c == '_' || c == ' '; };
    std::size_t i = 0;
    std::size_t j = 0;
    for (;;) {
        while (i < input.size() && is_separator(input[i]))
            ++i;
        while (j < canonical.size() && is_separator(canonical[j]))
            ++j;
        if (i == input.size() || j == canonical.size())
            return i == input.size() && j == canonical.size();
        char c = input[i++];
        if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c - 'A' + 'a');
        if (c != canonical[j++])
            return false;
    }
}

// A name from the table, or any decimal int32 (documented or not).
inline std::optional<std::int32_t> parse_enum(std::span<const enum_name> table,
                                              std::string_view text) noexcept {
    std::int32_t number = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (ec == std::errc{} && end == text.data() + text.size() && !text.empty())
        return number;
    for (const auto& entry : table)
        if (loosely_equal(text, entry.name))
            return entry.value;
    return std::nullopt;
}

} // namespace dynjobs::detail
