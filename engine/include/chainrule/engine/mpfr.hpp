// SPDX-License-Identifier: MIT
// chainrule::mp_real: Boost.Multiprecision's MPFR float, precision chosen at run time.
//
// Requires Boost >= 1.81 for its per-thread default precision (1.74 shares one precision across
// threads and lets assignment silently lower a variable's precision; see docs/dependencies.md).
#pragma once

#include <boost/multiprecision/mpfr.hpp>
#include <boost/version.hpp>

#include "chainrule/engine/scalar.hpp"

static_assert(BOOST_VERSION >= 108100, "chainrule needs Boost >= 1.81 (libboost1.81-dev)");

namespace chainrule {

/// Multiprecision real: MPFR with the number of significant decimal digits set per graph.
using mp_real = boost::multiprecision::mpfr_float;

template <>
struct scalar_traits<mp_real> {
  static constexpr bool has_runtime_precision = true;
  static constexpr unsigned min_digits = 2;
  static constexpr unsigned max_digits = 100000;

  static mp_real from_decimal(std::string_view text, unsigned digits) {
    mp_real x(0, digits);
    parse_mpfr(x.backend().data(), text);
    return x;
  }
  static std::string format(const mp_real& x, const number_format& fmt) {
    return format_decimal(x.backend().data(), fmt);
  }
  // mpfr_nan_p and mpfr_inf_p are macros; mpfr_number_p is a library call (the sweeps test
  // every value and adjoint).
  static bool is_finite(const mp_real& x) {
    return !mpfr_nan_p(x.backend().data()) && !mpfr_inf_p(x.backend().data());
  }
  static std::string exact(const mp_real& x) { return exact_decimal(x.backend().data()); }
  static mp_real zero(unsigned digits) { return mp_real(0, digits); }
  static bool is_zero(const mp_real& x) { return mpfr_zero_p(x.backend().data()) != 0; }
  static unsigned digits(unsigned requested) { return requested; }
  /// acc += a * b in two MPFR calls (Boost's `scratch = a; scratch *= b` makes it three); every
  /// operand has the working precision, so the roundings are the same.
  static void add_product(mp_real& acc, const mp_real& a, const mp_real& b, mp_real& scratch) {
    mpfr_mul(scratch.backend().data(), a.backend().data(), b.backend().data(), MPFR_RNDN);
    mpfr_add(acc.backend().data(), acc.backend().data(), scratch.backend().data(), MPFR_RNDN);
  }
  static long to_long(const mp_real& x) { return mpfr_get_si(x.backend().data(), MPFR_RNDN); }

  /// While alive, numbers created on this thread get `digits` significant decimal digits.
  class precision_scope {
   public:
    explicit precision_scope(unsigned digits) : saved_(mp_real::thread_default_precision()) {
      mp_real::thread_default_precision(digits);
    }
    ~precision_scope() { mp_real::thread_default_precision(saved_); }
    precision_scope(const precision_scope&) = delete;
    precision_scope& operator=(const precision_scope&) = delete;

   private:
    unsigned saved_;
  };
};

}  // namespace chainrule
