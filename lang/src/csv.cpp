// SPDX-License-Identifier: MIT
#include "csv.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <optional>
#include <sstream>

#include "chainrule/lang/parser.hpp"
#include "decimal.hpp"
#include "source_text.hpp"

namespace chainrule::lang::detail {
namespace {

constexpr std::size_t max_errors_per_file = 10;

bool is_identifier(std::string_view s) noexcept {
  if (s.empty()) return false;
  const auto first = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  };
  if (!first(s[0])) return false;
  for (char c : s) {
    if (!first(c) && !(c >= '0' && c <= '9')) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

struct cell {
  std::string_view text;
  std::size_t offset = 0;
};

std::vector<cell> split(std::string_view line, std::size_t line_offset) {
  std::vector<cell> cells;
  std::size_t start = 0;
  for (;;) {
    const auto comma = line.find(',', start);
    const std::string_view raw = line.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    const std::string_view text = trim(raw);
    const std::size_t lead = text.empty() ? 0 : static_cast<std::size_t>(text.data() - raw.data());
    cells.push_back(cell{text, line_offset + start + lead});
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return cells;
}

}  // namespace

csv_table read_csv(const std::filesystem::path& path, const source_location& requested_at,
                   std::vector<diagnostic>& errors) {
  csv_table table;
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    diagnostic d;
    d.location = requested_at;
    d.message = fmt::format("cannot open data file '{}'", path.string());
    d.expected = "a CSV file; its path is relative to the folder of the .chain file";
    errors.push_back(std::move(d));
    return table;
  }
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (!ec && size > max_file_bytes) {
    const model_error too_large = file_too_large(path.string(), "data file", size, max_file_bytes);
    errors.insert(errors.end(), too_large.diagnostics().begin(), too_large.diagnostics().end());
    return table;
  }
  std::ostringstream buffer;
  buffer << file.rdbuf();
  const std::string text = buffer.str();
  std::optional<source_text> src;
  try {
    src.emplace(path.string(), text, "data file", max_file_bytes);
  } catch (const model_error& e) {
    errors.insert(errors.end(), e.diagnostics().begin(), e.diagnostics().end());
    return table;
  }
  std::size_t error_count = 0;
  const auto error = [&](std::size_t offset, std::size_t length, std::string message,
                         std::string expected) {
    if (++error_count > max_errors_per_file) return;
    errors.push_back(src->make(severity::error, src->location(offset, length), std::move(message),
                               std::move(expected)));
  };
  bool first_line = true;
  std::size_t line_start = 0;
  while (line_start < text.size()) {
    auto line_end = text.find('\n', line_start);
    if (line_end == std::string::npos) line_end = text.size();
    const std::string_view line = std::string_view(text).substr(line_start, line_end - line_start);
    const std::size_t offset = line_start;
    line_start = line_end + 1;
    const std::string_view content = trim(line);
    if (content.empty() || content.front() == '#') continue;
    const auto cells = split(line, offset);
    if (first_line) {
      first_line = false;
      table.width = cells.size();
      const bool header = std::all_of(cells.begin(), cells.end(),
                                      [](const cell& c) { return is_identifier(c.text); });
      if (header) {
        for (const auto& c : cells) {
          table.header.emplace_back(c.text);
          table.header_locations.push_back(src->location(c.offset, c.text.size()));
        }
        continue;
      }
    }
    if (cells.size() != table.width) {
      error(offset, line.size(),
            fmt::format("this row has {} value{} but the first row has {}", cells.size(),
                        cells.size() == 1 ? "" : "s", table.width),
            "the same number of comma-separated values in every row");
      continue;
    }
    table.row_locations.push_back(src->location(offset, trim(line).size()));
    for (const auto& c : cells) {
      if (auto problem = signed_decimal_problem(c.text)) {
        error(c.offset, c.text.size(),
              c.text.empty() ? std::string("empty value")
                             : fmt::format("bad number '{}': {}", c.text, *problem),
              std::string(decimal_expectation));
      }
      std::string value(c.text.size() > 0 && c.text.front() == '+' ? c.text.substr(1) : c.text);
      table.values.push_back(std::move(value));
    }
  }
  if (error_count > max_errors_per_file) {
    errors.push_back(diagnostic{severity::note,
                                source_location{path.string(), 0, 0, 1},
                                fmt::format("{} more problems in this file are not shown",
                                            error_count - max_errors_per_file),
                                {},
                                {},
                                {}});
  }
  return table;
}

}  // namespace chainrule::lang::detail
