// GUID parsing and formatting by hand: no allocation on the hot decode path, and a strict
// grammar for user input.
#include <dynjobs/organization_id.hpp>

#include <cstring>

namespace dynjobs {
namespace {

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

// Digits per group of the 8-4-4-4-12 form.
constexpr int group_lengths[] = {8, 4, 4, 4, 12};

bool parse_guid(std::string_view text, std::array<std::uint8_t, 16>& out) noexcept {
    if (text.size() == 38 && text.front() == '{' && text.back() == '}')
        text = text.substr(1, 36);
    if (text.size() != 36)
        return false;
    std::size_t pos = 0;
    std::size_t byte = 0;
    for (int group = 0; group < 5; ++group) {
        if (group > 0 && text[pos++] != '-')
            return false;
        for (int i = 0; i < group_lengths[group]; i += 2) {
            const int hi = hex_value(text[pos]);
            const int lo = hex_value(text[pos + 1]);
            if (hi < 0 || lo < 0)
                return false;
            out[byte++] = static_cast<std::uint8_t>(hi << 4 | lo);
            pos += 2;
        }
    }
    return true;
}

} // namespace

std::optional<organization_id> organization_id::parse(std::string_view text) {
    std::array<std::uint8_t, 16> bytes;
    if (!parse_guid(text, bytes))
        return std::nullopt;
    return organization_id(bytes);
}

organization_id organization_id::from_wire(std::string_view text) {
    organization_id id;
    if (!parse_guid(text, id.bytes_))
        id.opaque_.assign(text.data(), text.size());
    return id;
}

void organization_id::append_to(std::string& out) const {
    if (!opaque_.empty()) {
        out.append(opaque_);
        return;
    }
    static constexpr char digits[] = "0123456789abcdef";
    char buffer[36];
    std::size_t pos = 0;
    std::size_t byte = 0;
    for (int group = 0; group < 5; ++group) {
        if (group > 0)
            buffer[pos++] = '-';
        for (int i = 0; i < group_lengths[group]; i += 2) {
            buffer[pos++] = digits[bytes_[byte] >> 4];
            buffer[pos++] = digits[bytes_[byte] & 0xF];
            ++byte;
        }
    }
    out.append(buffer, sizeof buffer);
}

std::string organization_id::to_string() const {
    std::string out;
    append_to(out);
    return out;
}

std::size_t organization_id::hash() const noexcept {
    if (!opaque_.empty())
        return std::hash<std::string>{}(opaque_);
    // GUIDs are random enough that folding the two halves is a good hash.
    std::uint64_t a;
    std::uint64_t b;
    std::memcpy(&a, bytes_.data(), 8);
    std::memcpy(&b, bytes_.data() + 8, 8);
    return static_cast<std::size_t>(a ^ (b * 0x9E3779B97F4A7C15ull));
}

} // namespace dynjobs
