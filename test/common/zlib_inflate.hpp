// zlib_inflate.hpp - inflates a whole body with zlib directly, so that tests check compressed
// bodies with zlib itself, not with the client's inflater under test. Header-only: used by the
// simulator's unit tests (which do not link the testkit) and by the integration tests.
#pragma once

#include <boost/test/unit_test.hpp>

#include <zlib.h>

#include <array>
#include <string>
#include <string_view>

namespace dynjobs::testkit {

/// What zlib's inflate makes of `in`: the output it produced, and its last return code
/// (Z_STREAM_END for a complete, valid stream).
struct inflated {
    std::string out;
    int rc = Z_OK;
};

/// `window_bits` as for inflateInit2: 15 + 16 gzip only, 15 zlib only, -15 raw deflate only.
inline inflated inflate_all(std::string_view in, int window_bits) {
    z_stream z{};
    BOOST_TEST_REQUIRE(inflateInit2(&z, window_bits) == Z_OK);
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z.avail_in = static_cast<uInt>(in.size());
    inflated result;
    std::array<char, 16384> buffer{};
    do {
        z.next_out = reinterpret_cast<Bytef*>(buffer.data());
        z.avail_out = static_cast<uInt>(buffer.size());
        result.rc = inflate(&z, Z_NO_FLUSH);
        result.out.append(buffer.data(), buffer.size() - z.avail_out);
    } while (result.rc == Z_OK && (z.avail_in > 0 || z.avail_out == 0));
    inflateEnd(&z);
    return result;
}

} // namespace dynjobs::testkit
