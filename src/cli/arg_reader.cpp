#include "cli/arg_reader.hpp"

#include <cmath>

namespace dynjobs::cli {

usage_error::usage_error(std::string text) {
    static constexpr char hex[] = "0123456789abcdef";
    message.reserve(text.size());
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte < 0x20 || byte == 0x7f) {
            message += "\\x";
            message += hex[byte >> 4];
            message += hex[byte & 0xf];
        } else {
            message += c;
        }
    }
}

void bad_value(std::string_view option, std::string_view value, std::string_view expected) {
    throw usage_error{"invalid value '" + std::string(value) + "' for " + std::string(option) +
                      ": expected " + std::string(expected)};
}

bool arg_reader::next() {
    if (index_ >= args_.size())
        return false;
    std::string_view arg = args_[index_++];
    if (!arg.starts_with("-") || arg == "-")
        throw usage_error{"unexpected argument '" + std::string(arg) + "' (see --help)"};
    inline_value_.reset();
    if (const auto eq = arg.find('='); arg.starts_with("--") && eq != arg.npos) {
        inline_value_ = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
    }
    option_ = arg;
    return true;
}

std::string_view arg_reader::value() {
    if (inline_value_)
        return *inline_value_;
    if (index_ >= args_.size())
        throw usage_error{"option " + std::string(option_) + " needs a value (see --help)"};
    return args_[index_++];
}

void arg_reader::no_value() const {
    if (inline_value_)
        throw usage_error{"option " + std::string(option_) + " takes no value, got '" +
                          std::string(*inline_value_) + "'"};
}

void arg_reader::unknown() const {
    throw usage_error{"unknown option '" + std::string(option_) + "' (see --help)"};
}

namespace {
std::string shortest(double v) {
    char buffer[32];
    const auto r = std::to_chars(buffer, buffer + sizeof buffer, v, std::chars_format::fixed);
    return std::string(buffer, r.ptr);
}
} // namespace

double parse_real(std::string_view option, std::string_view text, double min, double max) {
    double value = 0;
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value, std::chars_format::fixed);
    if (text.empty() || ec != std::errc{} || ptr != end || !std::isfinite(value) || value < min ||
        value > max)
        bad_value(option, text, "a number from " + shortest(min) + " to " + shortest(max));
    return value;
}

} // namespace dynjobs::cli
