// Fuzzes GUID parsing: the strict parse of user input and the lenient one of server values.
//
// Invariants:
// - parse(x).to_string() is the canonical form (36 characters, lower-case hex, dashes at
//   8-13-18-23) and parses back to the same id;
// - from_wire agrees with parse on GUIDs, and keeps anything else verbatim;
// - 16 bytes survive to_string then parse.
#include "fuzz_check.hpp"

#include <dynjobs/organization_id.hpp>

#include <fuzzer/FuzzedDataProvider.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

using namespace dynjobs;

namespace {

bool canonical(const std::string& text) {
    if (text.size() != 36)
        return false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash != (c == '-'))
            return false;
        if (!dash && !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider in(data, size);
    std::array<std::uint8_t, 16> bytes{};
    in.ConsumeData(bytes.data(), bytes.size());
    const std::string text = in.ConsumeRemainingBytesAsString();

    const organization_id from_bytes(bytes);
    FUZZ_CHECK(canonical(from_bytes.to_string()));
    FUZZ_CHECK(organization_id::parse(from_bytes.to_string()) == from_bytes);
    FUZZ_CHECK(organization_id::parse("{" + from_bytes.to_string() + "}") == from_bytes);

    const auto strict = organization_id::parse(text);
    const organization_id wire = organization_id::from_wire(text);
    if (strict) {
        FUZZ_CHECK(strict->is_guid());
        FUZZ_CHECK(wire == *strict);
        const std::string formatted = strict->to_string();
        FUZZ_CHECK(canonical(formatted));
        FUZZ_CHECK(organization_id::parse(formatted) == strict);
        FUZZ_CHECK(std::hash<organization_id>{}(*strict) == std::hash<organization_id>{}(wire));
    } else if (!text.empty()) {
        FUZZ_CHECK(!wire.is_guid());
        FUZZ_CHECK(wire.to_string() == text);
        FUZZ_CHECK(organization_id::from_wire(wire.to_string()) == wire);
    }
    std::string appended = "x";
    wire.append_to(appended);
    FUZZ_CHECK(appended == "x" + wire.to_string());
    return 0;
}
