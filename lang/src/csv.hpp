// SPDX-License-Identifier: MIT
// Reading data sets from CSV files.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "chainrule/lang/diagnostics.hpp"

namespace chainrule::lang::detail {

/// A CSV file as text cells. The first non-comment line is a header when every cell in it is an
/// identifier; other cells must be decimal numbers (an optional sign, no thousands separators).
struct csv_table {
  std::vector<std::string> header;
  std::vector<source_location> header_locations;
  std::size_t width = 0;
  std::vector<std::string> values;  ///< row-major
  std::vector<source_location> row_locations;
};

/// Reads `path`. Problems are appended to `errors` (at most a few per file, so a broken large
/// file does not flood the output); `requested_at` is where the file was named, for "cannot
/// open" errors.
[[nodiscard]] csv_table read_csv(const std::filesystem::path& path,
                                 const source_location& requested_at,
                                 std::vector<diagnostic>& errors);

}  // namespace chainrule::lang::detail
