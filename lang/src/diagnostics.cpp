// SPDX-License-Identifier: MIT
#include "chainrule/lang/diagnostics.hpp"

#include <fmt/format.h>
#include <algorithm>
#include <iterator>
#include <tuple>

namespace chainrule::lang {
namespace {

// Beyond this many code points a source line is shown as a window around the column, so a
// diagnostic in a huge single-line data file stays readable.
constexpr std::size_t max_shown_columns = 160;
constexpr std::size_t window_before = 60;

std::string location_prefix(const source_location& where) {
  if (where.file.empty() && !where.known()) return {};
  if (!where.known()) return where.file + ": ";
  return fmt::format("{}:{}:{}: ", where.file, where.line, where.column);
}

// Byte offset of each code point of a valid UTF-8 string, plus the end.
std::vector<std::size_t> code_point_offsets(std::string_view s) {
  std::vector<std::size_t> offsets;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0u) != 0x80u) offsets.push_back(i);
  }
  offsets.push_back(s.size());
  return offsets;
}

void append_source_and_caret(std::string& out, std::string_view line,
                             const source_location& where) {
  // Diagnostics made without the source at hand (e.g. while lowering) have no line to show.
  if (!where.known() || line.empty()) return;
  const auto offsets = code_point_offsets(line);
  const std::size_t count = offsets.size() - 1;
  std::size_t first = 0;  // first code point shown
  std::size_t last = count;
  const std::size_t column = where.column == 0 ? 0 : where.column - 1;
  if (count > max_shown_columns) {
    first = column > window_before ? column - window_before : 0;
    last = std::min(count, first + max_shown_columns);
  }
  std::string prefix = first > 0 ? "..." : "";
  out += prefix;
  out.append(line.substr(offsets[first], offsets[last] - offsets[first]));
  if (last < count) out += "...";
  out += '\n';
  std::string caret(prefix.size(), ' ');
  for (std::size_t i = first; i < std::min(column, last); ++i) {
    caret += line[offsets[i]] == '\t' ? '\t' : ' ';
  }
  caret += '^';
  const std::size_t available = column < count ? count - column : 0;
  const std::size_t tildes = std::min<std::size_t>(where.length > 0 ? where.length - 1 : 0,
                                                   available > 0 ? available - 1 : 0);
  caret.append(tildes, '~');
  out += caret;
  out += '\n';
}

}  // namespace

const char* to_string(severity s) noexcept {
  switch (s) {
    case severity::error:
      return "error";
    case severity::warning:
      return "warning";
    case severity::note:
      return "note";
  }
  return "error";
}

std::string format(const diagnostic& d) {
  std::string out = location_prefix(d.location);
  out += to_string(d.severity);
  out += ": ";
  out += d.message;
  out += '\n';
  append_source_and_caret(out, d.source_line, d.location);
  if (!d.expected.empty()) {
    out += "note: expected ";
    out += d.expected;
    out += '\n';
  }
  for (const auto& n : d.notes) {
    out += location_prefix(n.location);
    out += "note: ";
    out += n.message;
    out += '\n';
    append_source_and_caret(out, n.source_line, n.location);
  }
  return out;
}

std::string format(const std::vector<diagnostic>& diagnostics) {
  std::string out;
  for (const auto& d : diagnostics)
    out += format(d);
  return out;
}

namespace {

std::vector<diagnostic> sorted(std::vector<diagnostic> diagnostics) {
  std::stable_sort(diagnostics.begin(), diagnostics.end(),
                   [](const diagnostic& a, const diagnostic& b) {
                     return std::tie(a.location.file, a.location.line, a.location.column) <
                            std::tie(b.location.file, b.location.line, b.location.column);
                   });
  return diagnostics;
}

}  // namespace

model_error::model_error(std::vector<diagnostic> diagnostics)
    : std::runtime_error(format(sorted(diagnostics))),
      diagnostics_(sorted(std::move(diagnostics))) {}

std::vector<diagnostic> model_error::errors() const {
  std::vector<diagnostic> out;
  std::copy_if(diagnostics_.begin(), diagnostics_.end(), std::back_inserter(out),
               [](const diagnostic& d) { return d.severity == severity::error; });
  return out;
}

}  // namespace chainrule::lang
