// dynjobs/organization_id.hpp - the GUID of a Dynamics 365 organization.
#pragma once

#include <dynjobs/export.hpp>

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace dynjobs {

/// A 128-bit GUID identifying an organization, as a value type. A GUID is kept in 16 bytes and
/// never allocates; only an opaque id (below) is kept as text.
///
/// Text form: 32 hex digits in 8-4-4-4-12 groups, optionally in braces; case-insensitive on input,
/// lower case on output (`69cb1ecc-f8e8-439b-8077-a4b7fd45e87f`).
///
/// The API's own samples are not always real GUIDs (the published response carries
/// `"6cccccc-ffff-bbb-88888-aabbccdeee"`). A value decoded from a response that is not a GUID is
/// kept verbatim as an *opaque* id (`is_guid() == false`) rather than rejected, so that a job is
/// never lost over a cosmetic defect; user input (queries, options) must be a real GUID.
class organization_id {
public:
    /// The nil GUID (all zero).
    organization_id() = default;
    /// The GUID with these 16 bytes, in the order of its text form (not Microsoft's mixed-endian
    /// binary layout).
    explicit organization_id(const std::array<std::uint8_t, 16>& bytes)
        : bytes_(bytes) {}

    /// Strict parse of user input: a GUID or nothing.
    DYNJOBS_DECL static std::optional<organization_id> parse(std::string_view text);
    /// Lenient parse of a value the server sent: a GUID when it is one, else an opaque id.
    /// An empty text gives the nil GUID (the decoder rejects an empty organizationId first).
    DYNJOBS_DECL static organization_id from_wire(std::string_view text);

    /// False for an opaque id kept from a response that did not carry a GUID (from_wire()).
    bool is_guid() const noexcept { return opaque_.empty(); }
    /// The GUID's 16 bytes in text order; all zero for an opaque id.
    const std::array<std::uint8_t, 16>& bytes() const noexcept { return bytes_; }

    /// Canonical lower-case 8-4-4-4-12 form, or the opaque text verbatim.
    DYNJOBS_DECL std::string to_string() const;
    /// Appends to_string() to `out` without a temporary.
    DYNJOBS_DECL void append_to(std::string& out) const;

    /// Equal when the same GUID (whatever case or braces it was written with), or the same
    /// opaque text.
    friend bool operator==(const organization_id&, const organization_id&) = default;
    /// A total order (GUIDs by bytes), so that ids can key a std::map or std::set.
    friend auto operator<=>(const organization_id&, const organization_id&) = default;

    /// A hash consistent with operator==; std::hash<organization_id> calls it, so ids can key
    /// unordered containers.
    DYNJOBS_DECL std::size_t hash() const noexcept;

private:
    std::array<std::uint8_t, 16> bytes_{};
    std::string opaque_; // non-empty only for a non-GUID value from the wire
};

} // namespace dynjobs

/// \cond
template <>
struct std::hash<dynjobs::organization_id> {
    std::size_t operator()(const dynjobs::organization_id& id) const noexcept { return id.hash(); }
};
/// \endcond
