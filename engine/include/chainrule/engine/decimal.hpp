// SPDX-License-Identifier: MIT
// Exact decimal text <-> binary floating point.
//
// Every number that enters chainrule as text is rounded once, correctly, to the working precision;
// every number that leaves as text is the exact binary value rounded once, in decimal, by the
// chosen rule. Nothing passes through `double` on its way (unless `double` is the working type).
#pragma once

#include <mpfr.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace chainrule {

/// How a value is rounded to the digits that are printed.
enum class rounding : std::uint8_t {
  half_even,    ///< ties to the even digit (IEEE default, and ours)
  half_up,      ///< ties away from zero: the rule taught in school (2.5 -> 3, -2.5 -> -3)
  toward_zero,  ///< truncation: drop the digits that are not printed
};

/// What to print: a number of decimals (after the point) or of significant digits.
struct number_format {
  enum class mode : std::uint8_t { decimals, significant };

  mode kind = mode::decimals;
  int count = 9;
  rounding round = rounding::half_even;
  bool strip_trailing_zeros = true;
  /// In significant mode, a decimal exponent outside [min_fixed_exponent, max_fixed_exponent]
  /// switches to scientific notation (1.234e-12) instead of a long run of zeros.
  int min_fixed_exponent = -6;
  int max_fixed_exponent = 20;
  /// At most this many significant digits (0: no limit), in either mode: a number that `count`
  /// decimals (or `count` significant digits) would show with more is shown with this many
  /// significant digits instead, in scientific notation outside the fixed exponents above. The
  /// working precision's digits: beyond them a computed number's digits are its rounding error,
  /// and exp(2e6) at 9 decimals would print 868,589 digits of which 50 are right.
  int max_significant = 0;

  static number_format decimals(int n, rounding r = rounding::half_even, bool strip = true) {
    return {mode::decimals, n, r, strip};
  }
  static number_format significant(int n, rounding r = rounding::half_even, bool strip = true) {
    return {mode::significant, n, r, strip};
  }
};

/// Thrown for text that is not a decimal number, or one out of the working type's range.
class decimal_error : public std::invalid_argument {
 public:
  decimal_error(std::string message, std::size_t position)
      : std::invalid_argument(std::move(message)), position_(position) {}
  /// 0-based offset in the text where the problem is.
  std::size_t position() const noexcept { return position_; }

 private:
  std::size_t position_;
};

/// Checks `[+-]? (digits [. digits*] | . digits) ([eE] [+-]? digits)?` and throws decimal_error
/// saying what was expected where; returns normally for well-formed text.
void validate_decimal(std::string_view text);

/// The double nearest to the decimal `text` (round-half-even), or decimal_error
/// (also when the magnitude overflows: 1e999 is an error, not infinity).
double parse_double(std::string_view text);

/// Sets `out` to the value of `text` correctly rounded to out's precision; decimal_error as above.
void parse_mpfr(mpfr_ptr out, std::string_view text);

/// `x` rounded by `format`; "nan", "inf", "-inf" for the non-finite; never "-0".
std::string format_decimal(double x, const number_format& format);
std::string format_decimal(mpfr_srcptr x, const number_format& format);

/// The exact decimal expansion of a binary value (every binary fraction has a finite one).
std::string exact_decimal(mpfr_srcptr x);

}  // namespace chainrule
