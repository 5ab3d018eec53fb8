// Reads a table of the README between `<!-- NAME:begin -->` and `<!-- NAME:end -->`: the bad
// input tables are documentation and test data at once, so they cannot drift apart.
#pragma once

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace dynjobs::test {

/// The cells of each body row (header and separator rows skipped), backticks and surrounding
/// spaces removed.
inline std::vector<std::vector<std::string>> readme_table(const std::string& name) {
    std::ifstream in(DYNJOBS_README);
    std::stringstream text;
    text << in.rdbuf();
    const std::string all = text.str();
    const std::string begin = "<!-- " + name + ":begin -->";
    const std::string end = "<!-- " + name + ":end -->";
    const auto from = all.find(begin);
    const auto to = all.find(end);
    if (from == std::string::npos || to == std::string::npos)
        throw std::runtime_error("README has no table " + name);
    std::istringstream lines(all.substr(from + begin.size(), to - from - begin.size()));
    std::vector<std::vector<std::string>> rows;
    std::string line;
    bool header = true;
    while (std::getline(lines, line)) {
        if (!line.starts_with("|"))
            continue;
        if (header || line.starts_with("|---")) {
            header = false;
            continue;
        }
        std::vector<std::string> cells;
        std::size_t at = 1;
        for (auto bar = line.find(" |", at); bar != std::string::npos; bar = line.find(" |", at)) {
            std::string cell = line.substr(at, bar - at);
            const auto first = cell.find_first_not_of(" `");
            const auto last = cell.find_last_not_of(" `");
            cells.push_back(first == std::string::npos ? "" : cell.substr(first, last - first + 1));
            at = bar + 2;
        }
        rows.push_back(std::move(cells));
    }
    return rows;
}

} // namespace dynjobs::test
