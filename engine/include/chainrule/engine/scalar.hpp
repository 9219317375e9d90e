// SPDX-License-Identifier: MIT
// Everything the engine needs to know about a number type, in one place.
//
// A number type `Real` is usable by chainrule::graph when scalar_traits<Real> is specialised. This
// header gives `double`; <chainrule/engine/mpfr.hpp> gives chainrule::mp_real (MPFR, precision
// chosen at run time). Kernels use ordinary arithmetic on Real plus functions found by ADL, and are
// written one operation per statement into storage that already exists, so an expression-template
// type such as Boost's mpfr_float evaluates in place without heap temporaries.
#pragma once

#include <cmath>
#include <concepts>
#include <string>
#include <string_view>

#include "chainrule/engine/decimal.hpp"

namespace chainrule {

template <class Real>
struct scalar_traits;  // specialised per number type

/// A type the engine can compute with.
template <class Real>
concept real_number = requires(Real a, const Real& b, std::string_view text, unsigned digits,
                               const number_format& fmt) {
  { scalar_traits<Real>::from_decimal(text, digits) } -> std::convertible_to<Real>;
  { scalar_traits<Real>::format(b, fmt) } -> std::convertible_to<std::string>;
  { scalar_traits<Real>::is_finite(b) } -> std::convertible_to<bool>;
  { scalar_traits<Real>::zero(digits) } -> std::convertible_to<Real>;
  a = b;
  a += b;
  a *= b;
};

template <>
struct scalar_traits<double> {
  static constexpr bool has_runtime_precision = false;
  /// Decimal digits that always survive a round trip through double.
  static constexpr unsigned max_digits = 17;

  static double from_decimal(std::string_view text, unsigned /*digits*/) {
    return parse_double(text);
  }
  static std::string format(double x, const number_format& fmt) { return format_decimal(x, fmt); }
  static bool is_finite(double x) { return std::isfinite(x); }
  /// The exact decimal expansion of x (for converting to a wider type without loss).
  static std::string exact(double x) {
    mpfr_t wide;
    mpfr_init2(wide, 53);
    mpfr_set_d(wide, x, MPFR_RNDN);
    std::string s = exact_decimal(wide);
    mpfr_clear(wide);
    return s;
  }
  static double zero(unsigned /*digits*/) { return 0.0; }
  static bool is_zero(double x) { return x == 0.0; }
  static unsigned digits(unsigned /*requested*/) { return max_digits; }
  /// `acc += a * b` (the reverse sweep's only operation).
  static void add_product(double& acc, double a, double b, double& /*scratch*/) { acc += a * b; }
  /// Exact integer value of a number known to be integral (exponents of integer powers).
  static long to_long(double x) { return static_cast<long>(x); }

  /// Scoped working precision: nothing to do for a fixed-precision type.
  class precision_scope {
   public:
    explicit precision_scope(unsigned /*digits*/) {}
  };
};

}  // namespace chainrule
