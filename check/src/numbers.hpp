// SPDX-License-Identifier: MIT
// Numbers as a student typed them: how many decimals they carry, and exact comparisons of
// decimal text (no binary rounding is involved in deciding whether two texts are one number).
#pragma once

#include <string>
#include <string_view>

#include "chainrule/engine/decimal.hpp"

namespace chainrule::check {

inline bool is_digit_char(char c) {
  return c >= '0' && c <= '9';
}

/// "-1234e-5" style canonical text of a decimal number: sign, digits without leading or trailing
/// zeros, power of ten. "0.50", ".5" and "5e-1" all give "5e-1"; zero gives "0".
std::string canonical_decimal(std::string_view text);

/// Whether two decimal texts denote the same number.
inline bool same_number(std::string_view a, std::string_view b) {
  return canonical_decimal(a) == canonical_decimal(b);
}

/// The significant digits of a decimal text ("0.05540" -> "554").
std::string significant_digits(std::string_view text);

/// A validated answer number ("0.5933", ".5933", "-5.933e-1").
class typed_number {
 public:
  explicit typed_number(std::string text);

  /// As typed.
  const std::string& text() const { return text_; }
  /// Digits after the decimal point once the exponent is applied (5.933e-1: 4; 12e3: -3).
  int decimals() const { return decimals_; }
  /// Digits from the first non-zero one to the last typed (0.05930: 4); at least 1.
  int significant() const { return significant_; }
  /// No exponent was typed.
  bool plain() const { return plain_; }
  /// The text with a leading zero before a bare point (".5" -> "0.5", "-.5" -> "-0.5").
  const std::string& normal() const { return normal_; }
  /// The rounding to the position of the last digit typed, by rule `r`, zeros kept.
  number_format format(rounding r) const;
  /// One unit of the last digit typed, as decimal text ("1e-4").
  std::string unit() const;

 private:
  std::string text_;
  std::string normal_;
  int decimals_ = 0;
  int significant_ = 1;
  bool plain_ = true;
};

}  // namespace chainrule::check
