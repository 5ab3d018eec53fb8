// scratch_dir.hpp - a fresh folder for a test's files, removed at the end. Header-only: the
// unit tests, which link no test kit, use it too.
#pragma once

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include <stdlib.h>

namespace dynjobs::testkit {

/// A fresh folder under the system temp folder, removed with everything in it at scope end.
class scratch_dir {
public:
    /// `prefix` starts the folder's name, to tell whose it is.
    explicit scratch_dir(const std::string& prefix = "dynjobs-test") {
        std::string templ =
            (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
        BOOST_REQUIRE(::mkdtemp(templ.data()) != nullptr);
        path_ = templ;
    }
    ~scratch_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    scratch_dir(const scratch_dir&) = delete;
    scratch_dir& operator=(const scratch_dir&) = delete;

    const std::filesystem::path& path() const noexcept { return path_; }
    std::filesystem::path operator/(std::string_view name) const { return path_ / name; }

    /// Writes `content` to `name` in the folder; returns the path as a string for options.
    std::string write(std::string_view name, std::string_view content) const {
        const auto p = path_ / name;
        std::ofstream(p, std::ios::binary) << content;
        return p.string();
    }

private:
    std::filesystem::path path_;
};

} // namespace dynjobs::testkit
