// SPDX-License-Identifier: MIT
// Source locations, compiler-style diagnostics and the exception that carries them.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace chainrule::lang {

/// Where something was written. `line` and `column` are 1-based; `column` counts Unicode code
/// points, not bytes, so carets line up under non-ASCII text. `length` is the extent of the
/// construct on its first line (in code points), used to draw `^~~`. A location with `line == 0`
/// means "no location" (for example a note that is not about a particular place).
struct source_location {
  std::string file;
  std::uint32_t line = 0;
  std::uint32_t column = 0;
  std::uint32_t length = 1;

  [[nodiscard]] bool known() const noexcept { return line != 0; }
  friend bool operator==(const source_location&, const source_location&) = default;
};

enum class severity : std::uint8_t { error, warning, note };

[[nodiscard]] const char* to_string(severity s) noexcept;

/// A secondary message attached to a diagnostic: "did you mean 'w1'?" (no location) or
/// "first defined here" (with a location and its source line).
struct diagnostic_note {
  source_location location;
  std::string message;
  std::string source_line;
};

struct diagnostic {
  lang::severity severity = lang::severity::error;
  source_location location;
  std::string message;
  /// What would have been valid at `location`, printed as "note: expected ...". May be empty.
  std::string expected;
  std::vector<diagnostic_note> notes;
  /// The text of the source line at `location` (without its line break), captured when the
  /// diagnostic is made so that formatting never needs the file again.
  std::string source_line;
};

/// Formats one diagnostic like a compiler:
///
///     mazur.chain:12:10: error: unknown name 'w9'
///     net_h1 = w9*i1 + w2*i2 + b1
///              ^~
///     note: did you mean 'w1'?
///
/// The result ends with a newline.
[[nodiscard]] std::string format(const diagnostic& d);
[[nodiscard]] std::string format(const std::vector<diagnostic>& diagnostics);

/// Thrown by parse(), parse_file() and check() when the model has at least one error. It carries
/// every diagnostic found (errors and the warnings seen so far), sorted by location; what() is
/// their formatted text.
class model_error : public std::runtime_error {
 public:
  explicit model_error(std::vector<diagnostic> diagnostics);

  [[nodiscard]] const std::vector<diagnostic>& diagnostics() const noexcept { return diagnostics_; }
  /// Only the diagnostics whose severity is error.
  [[nodiscard]] std::vector<diagnostic> errors() const;

 private:
  std::vector<diagnostic> diagnostics_;
};

}  // namespace chainrule::lang
