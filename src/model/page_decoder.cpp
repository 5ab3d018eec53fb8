// The jobs page decoder: a SAX handler for boost::json::basic_parser that writes each value
// straight into its jobs_page / job member as the bytes arrive.
//
// Why it is built this way:
// - No DOM: a tree costs one allocation per value and a second pass; writing into the typed
//   structs while parsing is what makes the decoder 2.7x as fast as parse + walk (bench/README.md).
// - basic_parser is instantiated here, in one translation unit, with a concrete handler, so every
//   callback is a direct (inlinable) call: no std::function, no virtuals on the hot path.
// - The handler is a small state machine (where we are: top object, jobs array, job object) plus
//   a counter for skipping unknown subtrees, so unknown fields at any depth cost nothing but the
//   parse. Keys are matched first against the field that usually comes next (the API writes its
//   fields in a fixed order), then by a switch on the length and one comparison.
// - Strings are assigned into the job's own members (no temporaries); only a value split across
//   chunks is gathered in a scratch buffer, whose length is checked against the limits first so
//   that no input can make the decoder allocate without bound.
// - Numbers come from basic_parser as int64/uint64/double. Two cases re-read the number's text:
//   durationHours (basic_parser 1.81 converts decimals with a fast but not always correctly
//   rounded method; std::from_chars is exact, which decode(encode(x)) == x needs), and a double
//   written for an integer field ("1.0", "2e3"), which is converted exactly from its digits.
// - Every job carries a GUID and two timestamps: wire_values.hpp parses their usual forms with
//   fixed offsets and tables, falling back to the model's parsers for anything else.
// - Errors carry the JSON path, built only when something fails.
// - Comments (the published sample has `//` ones) are cut out here, not by Boost.JSON: Boost
//   1.81's parser misreads a body whose chunk boundary falls inside a comment (boostorg/json#933,
//   fixed after 1.81): it reads past the chunk or decodes wrongly. The cutting only tracks
//   strings and comments and hands the bytes between comments to the parser as they are, so a
//   body without comments costs no copy, and one vectorised scan: for the next '/' or '\\',
//   counting the quotes before it (a string is entered or left at each one).
//
// Decisions where the API docs are silent:
// - counters and totalCount/pageIndex/pageSize are non-negative int64 (a negative one is
//   value_out_of_range); type and status take any int32, documented or not;
// - "jobs" absent or null is an empty list; any other non-array is unexpected_type; but a body
//   with neither "jobs" nor "totalCount" is missing_field (it is not a jobs page at all);
// - a number sent as a string ("180832") is taken when the whole string is a plain decimal
//   number (an integer for counters, type and status); any other string is unexpected_type;
// - a required field (jobId, type, status, startTime, organizationId) sent as null is
//   unexpected_type; an empty jobId or organizationId is invalid_value;
// - a key repeated in one object: the last value wins (a repeated "jobs" replaces the list);
// - invalid UTF-8 is json_syntax (boost's default), so decoded strings are always valid UTF-8.
#include <dynjobs/page_decoder.hpp>

#include <dynjobs/error.hpp>

#include "wire_values.hpp"

#include <boost/json/basic_parser_impl.hpp>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <utility>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace dynjobs {
namespace {

namespace json = boost::json;
using boost::system::error_code;
using wire_values::exact_integer;
using wire_values::int_text;
using wire_values::organization_from_wire;
using wire_values::parse_time;

// The bytes from p up to the first '/' or '\\' (n when none): how many, and how many '"' are
// among them. One pass for the comment cutting: with SSE2, 16 bytes a step, the quotes summed
// in byte lanes (at most 255 steps before they are added up, so that no lane overflows).
struct plain_run {
    std::size_t length = 0;
    std::size_t quotes = 0;
};

plain_run scan_plain_run(const char* p, std::size_t n) noexcept {
    plain_run run;
    std::size_t i = 0;
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i slash = _mm_set1_epi8('/');
    const __m128i backslash = _mm_set1_epi8('\\');
    const __m128i zero = _mm_setzero_si128();
    const auto add_lanes = [&](__m128i lanes) {
        const __m128i sums = _mm_sad_epu8(lanes, zero);
        run.quotes += static_cast<std::size_t>(_mm_cvtsi128_si32(sums)) +
                      static_cast<std::size_t>(_mm_extract_epi16(sums, 4));
    };
    while (i + 16 <= n) {
        __m128i lanes = zero;
        for (int step = 0; step < 255 && i + 16 <= n; ++step, i += 16) {
            const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
            const __m128i quotes = _mm_cmpeq_epi8(bytes, quote);
            const auto stops = static_cast<unsigned>(_mm_movemask_epi8(
                _mm_or_si128(_mm_cmpeq_epi8(bytes, slash), _mm_cmpeq_epi8(bytes, backslash))));
            if (stops != 0) {
                add_lanes(lanes);
                const int at = std::countr_zero(stops);
                const auto before =
                    static_cast<unsigned>(_mm_movemask_epi8(quotes)) & ((1u << at) - 1);
                run.quotes += static_cast<std::size_t>(std::popcount(before));
                run.length = i + static_cast<std::size_t>(at);
                return run;
            }
            lanes = _mm_sub_epi8(lanes, quotes); // a match is -1
        }
        add_lanes(lanes);
    }
#endif
    for (; i < n && p[i] != '/' && p[i] != '\\'; ++i)
        run.quotes += p[i] == '"' ? 1 : 0;
    run.length = i;
    return run;
}

// Every value the decoder can be waiting for. The first 20 are the job's fields in the API's
// order: the key prediction relies on that order.
enum class fid : std::uint8_t {
    module,
    type,
    job_id,
    start_time,
    finish_time,
    duration_hours,
    status,
    successful_entity,
    failed_entity,
    skipped_entity,
    warning_entity,
    total_entity,
    successful_record,
    failed_record,
    skipped_record,
    warning_record,
    total_record,
    backup_size,
    organization_id,
    organization_name,
    // top-level fields
    total_count,
    next_link,
    jobs,
    page_index,
    page_size,
    // pseudo targets
    unknown,     ///< the value of an unknown key: skipped
    root,        ///< the document itself
    job_element, ///< an element of the jobs array
    none,        ///< between a value and the next key
};

constexpr int job_field_count = 20;

constexpr std::string_view field_names[] = {
    "module",           "type",          "jobId",          "startTime",
    "finishTime",       "durationHours", "status",         "successfulEntity",
    "failedEntity",     "skippedEntity", "warningEntity",  "totalEntity",
    "successfulRecord", "failedRecord",  "skippedRecord",  "warningRecord",
    "totalRecord",      "backupSize",    "organizationId", "organizationName",
    "totalCount",       "nextLink",      "jobs",           "pageIndex",
    "pageSize",
};

constexpr std::uint32_t bit(fid f) {
    return 1u << static_cast<unsigned>(f);
}

// Fields a job must carry (job.hpp), in the order a missing one is reported.
constexpr fid required_fields[] = {fid::type, fid::job_id, fid::start_time, fid::status,
                                   fid::organization_id};
constexpr std::uint32_t required_mask = bit(fid::type) | bit(fid::job_id) | bit(fid::start_time) |
                                        bit(fid::status) | bit(fid::organization_id);

// The job's counters, indexed by fid - successful_entity.
constexpr std::int64_t job::*count_members[] = {
    &job::successful_entity, &job::failed_entity,     &job::skipped_entity, &job::warning_entity,
    &job::total_entity,      &job::successful_record, &job::failed_record,  &job::skipped_record,
    &job::warning_record,    &job::total_record,      &job::backup_size,
};

// Key equality without a call to memcmp: every name is 4 to 16 bytes, so two overlapping 8-byte
// (or 4-byte) loads from each end cover it. This comparison runs for every key of every job.
inline std::uint64_t load8(const char* p) noexcept {
    std::uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
}
inline std::uint32_t load4(const char* p) noexcept {
    std::uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
}
inline bool same_key(std::string_view k, std::string_view name) noexcept {
    const std::size_t n = name.size();
    if (k.size() != n)
        return false;
    if (n >= 8 && n <= 16)
        return load8(k.data()) == load8(name.data()) &&
               load8(k.data() + n - 8) == load8(name.data() + n - 8);
    if (n >= 4 && n < 8)
        return load4(k.data()) == load4(name.data()) &&
               load4(k.data() + n - 4) == load4(name.data() + n - 4);
    return k == name;
}

fid lookup_job_key(std::string_view k) noexcept {
    auto is = [&](fid f) { return same_key(k, field_names[static_cast<int>(f)]); };
    switch (k.size()) {
    case 4:
        return is(fid::type) ? fid::type : fid::unknown;
    case 5:
        return is(fid::job_id) ? fid::job_id : fid::unknown;
    case 6:
        return is(fid::module) ? fid::module : is(fid::status) ? fid::status : fid::unknown;
    case 9:
        return is(fid::start_time) ? fid::start_time : fid::unknown;
    case 10:
        return is(fid::finish_time)   ? fid::finish_time
               : is(fid::backup_size) ? fid::backup_size
                                      : fid::unknown;
    case 11:
        return is(fid::total_entity)   ? fid::total_entity
               : is(fid::total_record) ? fid::total_record
                                       : fid::unknown;
    case 12:
        return is(fid::failed_entity)   ? fid::failed_entity
               : is(fid::failed_record) ? fid::failed_record
                                        : fid::unknown;
    case 13:
        for (fid f : {fid::duration_hours, fid::skipped_entity, fid::warning_entity,
                      fid::skipped_record, fid::warning_record})
            if (is(f))
                return f;
        return fid::unknown;
    case 14:
        return is(fid::organization_id) ? fid::organization_id : fid::unknown;
    case 16:
        return is(fid::successful_entity)   ? fid::successful_entity
               : is(fid::successful_record) ? fid::successful_record
               : is(fid::organization_name) ? fid::organization_name
                                            : fid::unknown;
    default:
        return fid::unknown;
    }
}

fid lookup_top_key(std::string_view k) noexcept {
    for (fid f : {fid::jobs, fid::total_count, fid::next_link, fid::page_index, fid::page_size})
        if (same_key(k, field_names[static_cast<int>(f)]))
            return f;
    return fid::unknown;
}

// What a target expects, for "expected X" messages.
std::string_view expected_kind(fid f) noexcept {
    switch (f) {
    case fid::type:
    case fid::status:
    case fid::total_count:
    case fid::page_index:
    case fid::page_size:
        return "an integer";
    case fid::duration_hours:
        return "a number";
    case fid::jobs:
        return "an array";
    case fid::root:
    case fid::job_element:
        return "an object";
    default:
        if (f >= fid::successful_entity && f <= fid::backup_size)
            return "an integer";
        return "a string";
    }
}

bool is_integer(fid f) noexcept {
    return expected_kind(f) == "an integer";
}

// At most 100 bytes of `v`, not cutting a UTF-8 sequence in two.
std::string_view cut(std::string_view v) noexcept {
    constexpr std::size_t max = 100;
    if (v.size() <= max)
        return v;
    std::size_t n = max;
    while (n > 0 && (static_cast<unsigned char>(v[n]) & 0xC0) == 0x80)
        --n;
    return v.substr(0, n);
}

enum class where : std::uint8_t { start, top, jobs, job, end };

struct handler {
    // basic_parser's own size limits: ours are runtime values, checked in the callbacks.
    static constexpr std::size_t max_array_size = static_cast<std::size_t>(-1);
    static constexpr std::size_t max_object_size = static_cast<std::size_t>(-1);
    static constexpr std::size_t max_string_size = static_cast<std::size_t>(-1);
    static constexpr std::size_t max_key_size = static_cast<std::size_t>(-1);

    decoder_limits limits;
    jobs_page* page = nullptr;
    job* cur = nullptr;      // the job being decoded
    diagnostics diag;        // filled when a callback fails
    std::string key_buf;     // a key split across chunks
    std::string str_buf;     // a timestamp/GUID/mistyped string split across chunks
    std::string num_buf;     // the leading parts of a number split across chunks
    std::string unknown_key; // the key being skipped, for error paths
    std::size_t skip = 0;    // depth inside a skipped container
    std::uint32_t seen = 0;  // bits of the current job's fields seen
    // "jobs" or "totalCount" was a top-level key: without either the body is not a jobs page.
    bool page_member_seen = false;
    where at = where::start;
    fid target = fid::root;
    int guess = 0; // the job field expected next

    void start(jobs_page& out) {
        page = &out;
        out.clear();
        cur = nullptr;
        diag.clear();
        key_buf.clear();
        str_buf.clear();
        num_buf.clear();
        skip = 0;
        seen = 0;
        page_member_seen = false;
        at = where::start;
        target = fid::root;
        guess = 0;
    }

    // ---- error reporting (cold) ----

    std::string job_path() const {
        std::string p = "jobs[";
        p += std::to_string(page->jobs.size() - 1);
        p += ']';
        return p;
    }

    // The JSON path of the value `f` in the current context.
    std::string path(fid f) const {
        if (f == fid::root)
            return {};
        if (f == fid::job_element)
            return "jobs[" + std::to_string(page->jobs.size()) + "]";
        if (at == where::job) {
            std::string p = job_path();
            if (f == fid::none)
                return p;
            p += '.';
            p += f == fid::unknown ? std::string_view(unknown_key)
                                   : field_names[static_cast<int>(f)];
            return p;
        }
        if (f == fid::unknown)
            return unknown_key;
        if (f == fid::none)
            return at == where::jobs ? "jobs" : "";
        return std::string(field_names[static_cast<int>(f)]);
    }

    // The current position for syntax and truncation errors.
    std::string location() const {
        if (at == where::jobs)
            return path(fid::job_element);
        return path(target);
    }

    [[gnu::cold]] bool fail(error_code& ec, errc e, std::string field, std::string_view detail,
                            std::string_view value) {
        diag.message = field.empty() ? std::string("response body") : field;
        diag.message += ": ";
        diag.message += detail;
        diag.field = std::move(field);
        diag.value.assign(cut(value));
        ec = e;
        return false;
    }

    [[gnu::cold]] bool type_error(error_code& ec, std::string_view got, std::string_view value) {
        std::string detail = "expected ";
        detail += expected_kind(target);
        detail += ", got ";
        detail += got;
        return fail(ec, errc::unexpected_type, path(target), detail, value);
    }

    [[gnu::cold]] bool range_error(error_code& ec, std::string_view text, std::string_view range) {
        std::string detail(cut(text));
        detail += " is out of range (";
        detail += range;
        detail += ')';
        return fail(ec, errc::value_out_of_range, path(target), detail, text);
    }

    [[gnu::cold]] bool invalid(error_code& ec, std::string_view what, std::string_view text) {
        std::string detail = "\"";
        detail += cut(text);
        detail += "\" ";
        detail += what;
        return fail(ec, errc::invalid_value, path(target), detail, text);
    }

    [[gnu::cold]] bool string_limit(error_code& ec, fid f) {
        return fail(ec, errc::limit_exceeded, path(f),
                    "string longer than the limit of " + std::to_string(limits.max_string_bytes) +
                        " bytes",
                    {});
    }

    // ---- structure ----

    bool on_document_begin(error_code&) { return true; }
    bool on_document_end(error_code&) { return true; }

    bool on_object_begin(error_code& ec) {
        if (skip) {
            ++skip;
            return true;
        }
        switch (target) {
        case fid::root:
            at = where::top;
            target = fid::none;
            return true;
        case fid::job_element:
            if (page->jobs.size() >= limits.max_jobs)
                return fail(ec, errc::limit_exceeded, path(fid::job_element),
                            "more than " + std::to_string(limits.max_jobs) + " jobs", {});
            cur = &page->jobs.emplace_back();
            seen = 0;
            guess = 0;
            at = where::job;
            target = fid::none;
            return true;
        case fid::unknown:
            skip = 1;
            return true;
        default:
            return type_error(ec, "an object", {});
        }
    }

    bool on_object_end(std::size_t, error_code& ec) {
        if (skip) {
            --skip;
            return true;
        }
        if (at == where::job) {
            if ((seen & required_mask) != required_mask) [[unlikely]] {
                for (fid f : required_fields)
                    if (!(seen & bit(f)))
                        return fail(ec, errc::missing_field, path(f), "required field is missing",
                                    {});
            }
            at = where::jobs;
            target = fid::job_element;
            return true;
        }
        at = where::end; // the top-level object
        target = fid::none;
        return true;
    }

    bool on_array_begin(error_code& ec) {
        if (skip) {
            ++skip;
            return true;
        }
        switch (target) {
        case fid::jobs:
            page->jobs.clear(); // a repeated "jobs" key: the last one wins
            at = where::jobs;
            target = fid::job_element;
            return true;
        case fid::unknown:
            skip = 1;
            return true;
        default:
            return type_error(ec, "an array", {});
        }
    }

    bool on_array_end(std::size_t, error_code&) {
        if (skip) {
            --skip;
            return true;
        }
        at = where::top; // only the jobs array is entered without skipping
        target = fid::none;
        return true;
    }

    // ---- keys ----

    bool on_key_part(json::string_view s, std::size_t n, error_code& ec) {
        if (n > limits.max_string_bytes)
            return string_limit(ec, at == where::job ? fid::none : fid::root);
        if (skip)
            return true;
        if (n == s.size())
            key_buf.assign(s.data(), s.size());
        else
            key_buf.append(s.data(), s.size());
        return true;
    }

    bool on_key(json::string_view s, std::size_t n, error_code& ec) {
        if (n > limits.max_string_bytes)
            return string_limit(ec, at == where::job ? fid::none : fid::root);
        if (skip)
            return true;
        std::string_view k(s.data(), s.size());
        if (n != s.size()) {
            key_buf.append(s.data(), s.size());
            k = key_buf;
        }
        if (at == where::job) {
            if (same_key(k, field_names[guess])) [[likely]] {
                target = static_cast<fid>(guess);
            } else {
                target = lookup_job_key(k);
                if (target == fid::unknown) {
                    unknown_key.assign(k);
                    return true;
                }
            }
            guess =
                static_cast<int>(target) + 1 < job_field_count ? static_cast<int>(target) + 1 : 0;
            return true;
        }
        target = lookup_top_key(k);
        if (target == fid::unknown)
            unknown_key.assign(k);
        page_member_seen |= target == fid::jobs || target == fid::total_count;
        return true;
    }

    // ---- strings ----

    // The member a plain text field is written into, or nullptr.
    std::string* text_member() noexcept {
        switch (target) {
        case fid::module:
            return &cur->module;
        case fid::job_id:
            return &cur->job_id;
        case fid::organization_name:
            return &cur->organization_name;
        default:
            return nullptr;
        }
    }

    bool on_string_part(json::string_view s, std::size_t n, error_code& ec) {
        if (n > limits.max_string_bytes)
            return string_limit(ec, target);
        if (skip || target == fid::unknown)
            return true;
        const bool first = n == s.size();
        if (std::string* m = text_member()) {
            first ? m->assign(s.data(), s.size()) : m->append(s.data(), s.size());
        } else if (target == fid::next_link) {
            if (first)
                page->next_link.emplace(s.data(), s.size());
            else
                page->next_link->append(s.data(), s.size());
        } else {
            first ? str_buf.assign(s.data(), s.size()) : str_buf.append(s.data(), s.size());
        }
        return true;
    }

    bool on_string(json::string_view s, std::size_t n, error_code& ec) {
        if (n > limits.max_string_bytes)
            return string_limit(ec, target);
        if (skip)
            return true;
        const bool first = n == s.size();
        std::string_view v(s.data(), s.size());
        switch (target) {
        case fid::module:
        case fid::organization_name:
            first ? text_member()->assign(v) : text_member()->append(v);
            return true;
        case fid::job_id:
            first ? cur->job_id.assign(v) : cur->job_id.append(v);
            if (cur->job_id.empty())
                return invalid(ec, "is not a job id: it must not be empty", {});
            seen |= bit(fid::job_id);
            return true;
        case fid::next_link:
            if (first)
                page->next_link.emplace(v);
            else
                page->next_link->append(v);
            return true;
        case fid::unknown:
            return true;
        default:
            break;
        }
        if (!first) {
            str_buf.append(v);
            v = str_buf;
        }
        switch (target) {
        case fid::start_time:
        case fid::finish_time: {
            const auto t = parse_time(v);
            if (!t)
                return invalid(ec, "is not an ISO 8601 date-time", v);
            if (target == fid::start_time) {
                cur->start_time = *t;
                seen |= bit(fid::start_time);
            } else {
                cur->finish_time = *t;
            }
            return true;
        }
        case fid::organization_id:
            if (v.empty())
                return invalid(ec, "is not an organization id: it must not be empty", v);
            cur->organization = organization_from_wire(v);
            seen |= bit(fid::organization_id);
            return true;
        default:
            return number_in_a_string(v, ec);
        }
    }

    // Some gateways serialise numbers as strings ("backupSize":"180832"). Taken when the whole
    // string is a plain decimal number (an integer for counters); anything else is the type
    // error it always was.
    bool number_in_a_string(std::string_view v, error_code& ec) {
        const char* end = v.data() + v.size();
        if (target == fid::duration_hours) {
            double d = 0;
            const auto r = std::from_chars(v.data(), end, d, std::chars_format::fixed);
            if (!v.empty() && r.ec == std::errc{} && r.ptr == end && std::isfinite(d)) {
                cur->duration_hours = d;
                return true;
            }
            return type_error(ec, "a string", v);
        }
        if (is_integer(target)) {
            std::int64_t i = 0;
            const auto r = std::from_chars(v.data(), end, i);
            if (!v.empty() && r.ec == std::errc{} && r.ptr == end)
                return set_integer(i, v, ec);
            if (r.ec == std::errc::result_out_of_range && r.ptr == end)
                return range_error(ec, v,
                                   target == fid::type || target == fid::status
                                       ? "a 32-bit integer"
                                       : "0 to 9223372036854775807");
        }
        return type_error(ec, "a string", v);
    }

    // ---- numbers ----

    bool on_number_part(json::string_view s, error_code& ec) {
        if (skip)
            return true;
        if (num_buf.size() + s.size() > limits.max_string_bytes)
            return fail(ec, errc::limit_exceeded, path(target),
                        "number longer than the limit of " +
                            std::to_string(limits.max_string_bytes) + " bytes",
                        {});
        num_buf.append(s.data(), s.size());
        return true;
    }

    // The whole text of the number that just ended (consumes num_buf's content).
    std::string_view number_text(json::string_view s) {
        if (num_buf.empty())
            return {s.data(), s.size()};
        num_buf.append(s.data(), s.size());
        return num_buf;
    }

    bool set_integer(std::int64_t v, std::string_view text, error_code& ec) {
        switch (target) {
        case fid::type:
        case fid::status:
            if (v < std::numeric_limits<std::int32_t>::min() ||
                v > std::numeric_limits<std::int32_t>::max())
                return range_error(ec, text, "a 32-bit integer");
            if (target == fid::type)
                cur->type = static_cast<job_type>(v);
            else
                cur->status = static_cast<job_status>(v);
            seen |= bit(target);
            return true;
        case fid::duration_hours:
            cur->duration_hours = static_cast<double>(v);
            return true;
        case fid::total_count:
        case fid::page_index:
        case fid::page_size:
            if (v < 0)
                return range_error(ec, text, "0 to 9223372036854775807");
            (target == fid::total_count  ? page->total_count
             : target == fid::page_index ? page->page_index
                                         : page->page_size) = v;
            return true;
        case fid::unknown:
            return true;
        default:
            if (target >= fid::successful_entity && target <= fid::backup_size) {
                if (v < 0)
                    return range_error(ec, text, "0 to 9223372036854775807");
                cur->*count_members[static_cast<int>(target) -
                                    static_cast<int>(fid::successful_entity)] = v;
                return true;
            }
            return type_error(ec, "an integer", text);
        }
    }

    bool on_int64(std::int64_t v, json::string_view s, error_code& ec) {
        if (skip)
            return true;
        const std::string_view text = number_text(s);
        const bool ok = set_integer(v, text, ec);
        num_buf.clear();
        return ok;
    }

    bool on_uint64(std::uint64_t v, json::string_view s, error_code& ec) {
        if (skip)
            return true;
        const std::string_view text = number_text(s);
        bool ok = true;
        if (target == fid::duration_hours)
            cur->duration_hours = static_cast<double>(v);
        else if (target == fid::unknown)
            ;
        else if (is_integer(target))
            ok = range_error(ec, text,
                             target == fid::type || target == fid::status
                                 ? "a 32-bit integer"
                                 : "0 to 9223372036854775807");
        else
            ok = type_error(ec, "an integer", text);
        num_buf.clear();
        return ok;
    }

    bool on_double(double d, json::string_view s, error_code& ec) {
        if (skip)
            return true;
        const std::string_view text = number_text(s);
        bool ok = true;
        if (target == fid::duration_hours) {
            double exact = d;
            const auto r = std::from_chars(text.data(), text.data() + text.size(), exact);
            if (r.ec == std::errc::result_out_of_range)
                exact = d; // underflow: basic_parser's 0 or denormal is as good as any
            if (!std::isfinite(exact))
                ok = range_error(ec, text, "a finite double");
            else
                cur->duration_hours = exact;
        } else if (target == fid::unknown) {
        } else if (is_integer(target)) {
            std::int64_t v = 0;
            switch (exact_integer(text, v)) {
            case int_text::ok:
                ok = set_integer(v, text, ec);
                break;
            case int_text::fractional:
                ok = fail(ec, errc::value_out_of_range, path(target),
                          "expected an integer, got " + std::string(cut(text)), text);
                break;
            case int_text::too_large:
                ok = range_error(ec, text,
                                 target == fid::type || target == fid::status
                                     ? "a 32-bit integer"
                                     : "0 to 9223372036854775807");
                break;
            }
        } else {
            ok = type_error(ec, "a number", text);
        }
        num_buf.clear();
        return ok;
    }

    // ---- the rest ----

    bool on_bool(bool b, error_code& ec) {
        if (skip || target == fid::unknown)
            return true;
        return type_error(ec, "a boolean", b ? "true" : "false");
    }

    bool on_null(error_code& ec) {
        if (skip)
            return true;
        switch (target) {
        case fid::unknown:
            return true;
        case fid::module:
            cur->module.clear();
            return true;
        case fid::organization_name:
            cur->organization_name.clear();
            return true;
        case fid::finish_time:
            cur->finish_time.reset();
            return true;
        case fid::duration_hours:
            cur->duration_hours.reset();
            return true;
        case fid::total_count:
            page->total_count.reset();
            return true;
        case fid::page_index:
            page->page_index.reset();
            return true;
        case fid::page_size:
            page->page_size.reset();
            return true;
        case fid::next_link:
            page->next_link.reset();
            return true;
        case fid::jobs: // null jobs = no jobs, like an absent key
            page->jobs.clear();
            return true;
        default:
            if (target >= fid::successful_entity && target <= fid::backup_size) {
                cur->*count_members[static_cast<int>(target) -
                                    static_cast<int>(fid::successful_entity)] = 0;
                return true;
            }
            return type_error(ec, "null", "null"); // a required field or a structural slot
        }
    }

    bool on_comment_part(json::string_view, error_code&) { return true; }
    bool on_comment(json::string_view, error_code&) { return true; }
};

json::parse_options parser_options(const decoder_limits& limits) {
    json::parse_options opt;
    opt.max_depth = limits.max_depth;
    opt.allow_comments = false;       // cut out before the parser sees them (see above)
    opt.allow_trailing_commas = true; // the published sample has one after the last job
    return opt;
}

} // namespace

struct page_decoder::impl {
    explicit impl(const decoder_limits& l)
        : parser(parser_options(l)) {
        parser.handler().limits = l;
    }

    json::basic_parser<handler> parser;
    std::size_t consumed = 0; // bytes of the body before the current chunk

    // Where the byte stream is, for cutting comments out across chunk boundaries.
    enum class lexer : std::uint8_t {
        code,          // outside strings and comments
        string,        // inside "..."
        string_escape, // right after a backslash in a string
        slash,         // a '/' in code, held back: a comment may start
        line_comment,  // after //, until the line ends
        block_comment, // after /*
        block_star,    // a '*' in a block comment: "/" next ends it
    };
    lexer state = lexer::code;
    bool started = false;  // reset() was called
    bool finished = false; // finish() succeeded
    error_code error;      // sticky until reset()
    diagnostics error_diag;

    handler& h() { return parser.handler(); }

    // Hands the parser bytes that are not comments; `at` is where they start in the body.
    error_code feed(std::string_view bytes, std::size_t at, diagnostics& diag) {
        if (bytes.empty())
            return {};
        error_code ec;
        const std::size_t n = parser.write_some(true, bytes.data(), bytes.size(), ec);
        if (ec)
            return parser_failed(ec, at + n, diag);
        if (n < bytes.size()) // the document ended and something other than whitespace follows
            return fail(errc::json_syntax, {},
                        "malformed JSON at byte " + std::to_string(at + n) +
                            ": unexpected data after the JSON document",
                        diag);
        return {};
    }

    // Feeds `chunk` minus its comments, keeping the lexer state for the next chunk. Outside
    // comments only '/' (a comment may start) and '\\' (the next byte is escaped) need a look;
    // in between, each '"' enters or leaves a string, so the parity of their count is the state.
    // One pass finds the next of those two bytes and counts the quotes before it: a body
    // without them costs one scan per chunk.
    error_code feed_without_comments(std::string_view chunk, diagnostics& diag) {
        const char* const data = chunk.data();
        const std::size_t size = chunk.size();
        std::size_t from = 0; // start of the bytes not fed yet
        std::size_t i = 0;
        while (i < size) {
            switch (state) {
            case lexer::code:
            case lexer::string: {
                const plain_run run = scan_plain_run(data + i, size - i);
                const std::size_t next = i + run.length;
                if (run.quotes % 2 != 0)
                    state = state == lexer::code ? lexer::string : lexer::code;
                i = next;
                if (i == size)
                    break;
                if (state == lexer::string) {
                    if (data[i] == '\\')
                        state = lexer::string_escape;
                    ++i; // a '/' in a string is text
                    break;
                }
                if (data[i] == '/') {
                    if (auto ec = feed(chunk.substr(from, i - from), consumed + from, diag))
                        return ec;
                    from = i + 1;
                    state = lexer::slash;
                }
                ++i; // a '\\' outside a string goes to the parser, which reports it
                break;
            }
            case lexer::string_escape:
                state = lexer::string;
                ++i;
                break;
            case lexer::slash:
                if (data[i] == '/' || data[i] == '*') {
                    state = data[i] == '/' ? lexer::line_comment : lexer::block_comment;
                    from = ++i;
                    break;
                }
                // A lone '/': the parser gets it, and reports it. This byte is looked at again.
                if (auto ec = feed("/", consumed + i - 1, diag))
                    return ec;
                state = lexer::code;
                from = i;
                break;
            case lexer::line_comment: {
                const void* end = std::memchr(data + i, '\n', size - i);
                if (!end) {
                    i = from = size;
                    break;
                }
                state = lexer::code;
                i = from = static_cast<std::size_t>(static_cast<const char*>(end) - data);
                break; // the line end stays: it separates tokens
            }
            case lexer::block_comment:
            case lexer::block_star: {
                const char c = data[i++];
                from = i;
                if (state == lexer::block_star && c == '/') {
                    state = lexer::code;
                    // A space where the comment was, so that "1/**/2" stays two tokens.
                    if (auto ec = feed(" ", consumed + i - 1, diag))
                        return ec;
                } else {
                    state = c == '*' ? lexer::block_star : lexer::block_comment;
                }
                break;
            }
            }
        }
        if (state == lexer::code || state == lexer::string || state == lexer::string_escape)
            return feed(chunk.substr(from), consumed + from, diag);
        return {};
    }

    error_code fail(errc e, std::string field, std::string message, diagnostics& diag) {
        error = e;
        error_diag.clear();
        error_diag.field = std::move(field);
        error_diag.message = std::move(message);
        diag = error_diag;
        return error;
    }

    // Turns a failure of write_some into our error; `offset` is where the parser stopped.
    error_code parser_failed(const error_code& ec, std::size_t offset, diagnostics& diag) {
        if (ec.category() == error_category()) { // a handler callback failed; it filled h().diag
            error = ec;
            error_diag = h().diag;
            diag = error_diag;
            return error;
        }
        std::string where = h().location();
        std::string near = where.empty() ? std::string() : " (in " + where + ")";
        if (ec == json::error::incomplete)
            return fail(errc::truncated_body, where,
                        "body ended at byte " + std::to_string(offset) +
                            " before the JSON document was complete" + near,
                        diag);
        if (ec == json::error::too_deep)
            return fail(errc::limit_exceeded, where,
                        "nesting deeper than the limit of " + std::to_string(h().limits.max_depth) +
                            " at byte " + std::to_string(offset) + near,
                        diag);
        return fail(errc::json_syntax, where,
                    "malformed JSON at byte " + std::to_string(offset) + near + ": " + ec.message(),
                    diag);
    }
};

page_decoder::page_decoder(decoder_limits limits)
    : impl_(std::make_unique<impl>(limits)) {}
page_decoder::~page_decoder() = default;
page_decoder::page_decoder(page_decoder&&) noexcept = default;
page_decoder& page_decoder::operator=(page_decoder&&) noexcept = default;

void page_decoder::reset(jobs_page& out) {
    if (!impl_) // moved from: start again with the default limits
        impl_ = std::make_unique<impl>(decoder_limits{});
    impl_->parser.reset();
    impl_->h().start(out);
    impl_->consumed = 0;
    impl_->state = impl::lexer::code;
    impl_->started = true;
    impl_->finished = false;
    impl_->error = {};
    impl_->error_diag.clear();
}

boost::system::error_code page_decoder::write(std::string_view chunk, diagnostics& diag) {
    diag.clear();
    if (!impl_ || !impl_->started)
        return errc::invalid_argument;
    impl& d = *impl_;
    if (d.error) {
        diag = d.error_diag;
        return d.error;
    }
    if (d.finished) {
        if (chunk.empty())
            return {};
        return d.fail(errc::invalid_argument, {}, "page_decoder::write called after finish()",
                      diag);
    }
    if (chunk.size() > d.h().limits.max_body_bytes - d.consumed)
        return d.fail(errc::limit_exceeded, {},
                      "body larger than the limit of " +
                          std::to_string(d.h().limits.max_body_bytes) + " bytes",
                      diag);
    if (auto ec = d.feed_without_comments(chunk, diag))
        return ec;
    d.consumed += chunk.size();
    return {};
}

boost::system::error_code page_decoder::finish(diagnostics& diag) {
    diag.clear();
    if (!impl_ || !impl_->started)
        return errc::invalid_argument;
    impl& d = *impl_;
    if (d.error) {
        diag = d.error_diag;
        return d.error;
    }
    if (d.finished)
        return {};
    if (d.state == impl::lexer::slash) { // a lone '/' at the very end
        if (auto ec = d.feed("/", d.consumed - 1, diag))
            return ec;
    } else if (d.state == impl::lexer::block_comment || d.state == impl::lexer::block_star) {
        return d.fail(errc::truncated_body, {},
                      "body ended at byte " + std::to_string(d.consumed) + " inside a /* comment",
                      diag);
    }
    error_code ec;
    static constexpr char nothing[1] = {};
    d.parser.write_some(false, nothing, 0, ec);
    if (ec)
        return d.parser_failed(ec, d.consumed, diag);
    // A gateway's or a proxy's own JSON ({"message":"ok"}) must not pass for an empty last page.
    if (!d.h().page_member_seen)
        return d.fail(errc::missing_field, "jobs",
                      "the body has neither jobs nor totalCount: it is not a jobs page", diag);
    d.finished = true;
    return {};
}

bool page_decoder::done() const noexcept {
    return impl_ && impl_->started && !impl_->error && impl_->parser.done();
}

boost::system::error_code decode_page(std::string_view body, jobs_page& out, diagnostics& diag,
                                      const decoder_limits& limits) {
    page_decoder decoder(limits);
    decoder.reset(out);
    if (auto ec = decoder.write(body, diag))
        return ec;
    return decoder.finish(diag);
}

} // namespace dynjobs
