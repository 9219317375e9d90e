// SPDX-License-Identifier: MIT
// A file's text with a line table: turns byte offsets into line/column locations and hands out
// source lines for diagnostics. Shared by the .chain parser and the CSV reader.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "chainrule/lang/diagnostics.hpp"

namespace chainrule::lang::detail {

/// "16777216 bytes, 16 MiB" (whole mebibytes) or "1000 bytes".
[[nodiscard]] std::string describe_byte_limit(std::size_t bytes);

/// The error for a file of `size` bytes that is over the `max_bytes` limit.
[[nodiscard]] model_error file_too_large(const std::string& file, std::string_view what,
                                         std::uintmax_t size, std::size_t max_bytes);

class source_text {
 public:
  /// Validates `text` (size limit, NUL bytes, UTF-8) and builds the line table. Throws
  /// model_error on the first problem. `what` names the kind of file in messages. The size
  /// limit is for readers of files; text that was already accepted once needs none.
  source_text(std::string file, std::string_view text, std::string_view what,
              std::size_t max_bytes = static_cast<std::size_t>(-1));

  [[nodiscard]] const std::string& file() const noexcept { return file_; }
  [[nodiscard]] std::string_view text() const noexcept { return text_; }

  /// Location of the bytes [offset, offset + length_bytes).
  [[nodiscard]] source_location location(std::size_t offset, std::size_t length_bytes = 1) const;
  /// Location just past the last byte.
  [[nodiscard]] source_location end_location() const;
  /// The text of a 1-based line without its line break.
  [[nodiscard]] std::string_view line_text(std::uint32_t line) const;

  [[nodiscard]] diagnostic make(severity level, const source_location& where, std::string message,
                                std::string expected = {}) const;
  [[nodiscard]] diagnostic_note note(const source_location& where, std::string message) const;

 private:
  std::string file_;
  std::string_view text_;
  std::vector<std::size_t> line_starts_;
  // Locations are mostly requested left to right, so the code-point column is counted on from
  // the previous request; without this a 16 MiB single-line file would cost quadratic time.
  mutable std::size_t cached_offset_ = 0;
  mutable std::uint32_t cached_line_ = 1;
  mutable std::uint32_t cached_column_ = 1;
};

/// Number of code points in a UTF-8 string that is known to be valid.
[[nodiscard]] std::size_t count_code_points(std::string_view s) noexcept;

}  // namespace chainrule::lang::detail
