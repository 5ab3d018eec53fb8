// Reading command-line options: `--name value`, `--name=value` and flags, with one error type.
//
// Every bad option ends in a usage_error whose message names the option and the value, so the
// command can print one clear line and exit 1 before anything is sent.
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace dynjobs::cli {

/// Bad usage or configuration: printed as "dynjobs: <message>", exit status 1.
struct usage_error {
    /// Control characters (an echoed value may hold any) are written as \xNN: the message
    /// stays one line and cannot steer the terminal.
    explicit usage_error(std::string text);
    std::string message;
};

/// "invalid value 'VALUE' for OPTION: expected EXPECTED".
[[noreturn]] void bad_value(std::string_view option, std::string_view value,
                            std::string_view expected);

/// Walks the arguments of one subcommand, one option at a time.
class arg_reader {
public:
    explicit arg_reader(std::span<const std::string_view> args)
        : args_(args) {}

    /// Moves to the next argument; false when none is left. Throws usage_error for an argument
    /// that is not an option (the commands take no positional arguments).
    bool next();

    /// The current option's name, without any `=value` part.
    std::string_view option() const noexcept { return option_; }

    /// The current option's value: the part after `=`, or the next argument. Throws usage_error
    /// when there is none.
    std::string_view value();

    /// For flags: throws usage_error when the flag was given a value with `=`.
    void no_value() const;

    /// Throws usage_error for an option this command does not know.
    [[noreturn]] void unknown() const;

private:
    std::span<const std::string_view> args_;
    std::size_t index_ = 0;
    std::string_view option_;
    std::optional<std::string_view> inline_value_;
};

/// A whole number in [min, max], or usage_error naming the option and the value.
template <class T>
T parse_number(std::string_view option, std::string_view text, T min, T max) {
    T value{};
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc{} || ptr != end || value < min || value > max)
        bad_value(option, text,
                  "a number from " + std::to_string(min) + " to " + std::to_string(max));
    return value;
}

/// A real number in [min, max] (no exponent or hex forms), or usage_error.
double parse_real(std::string_view option, std::string_view text, double min, double max);

} // namespace dynjobs::cli
