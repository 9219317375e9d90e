// SPDX-License-Identifier: MIT
// A deliberately heap-allocating number type (after CppAD's test_more/base_alloc.hpp).
//
// Every alloc_scalar owns its double through a unique_ptr: copies allocate, assignments free the
// old block and allocate a new one, moves leave the source empty. Run under AddressSanitizer, any
// leak, double free, read of a freed value or of a moved-from value in the engine's generic code
// becomes a report instead of a silent wrong number, which a plain double could never show.
#pragma once

#include <cmath>
#include <concepts>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "chainrule/engine/decimal.hpp"
#include "chainrule/engine/scalar.hpp"

#include <catch2/catch.hpp>

namespace chainrule::testing {

class alloc_scalar {
 public:
  alloc_scalar() : value_(std::make_unique<double>(0.0)) {}
  // Implicit like double itself: the kernels write `partial = 1` and `1 / x`.
  alloc_scalar(double v)
      : value_(std::make_unique<double>(v)) {}  // NOLINT(google-explicit-constructor)
  template <std::integral T>
  alloc_scalar(T v) : value_(std::make_unique<double>(static_cast<double>(v))) {}  // NOLINT
  alloc_scalar(const alloc_scalar& other) : value_(std::make_unique<double>(other.get())) {}
  alloc_scalar(alloc_scalar&& other) noexcept = default;
  alloc_scalar& operator=(const alloc_scalar& other) {
    // A fresh block every time, so that anything still pointing into the old one is caught.
    value_ = std::make_unique<double>(other.get());
    return *this;
  }
  alloc_scalar& operator=(alloc_scalar&& other) noexcept = default;
  ~alloc_scalar() = default;

  /// The value; reading a moved-from alloc_scalar is a bug in the code under test.
  double get() const {
    if (!value_) {
      std::fputs("alloc_scalar: read of a moved-from value\n", stderr);
      std::abort();
    }
    return *value_;
  }

  alloc_scalar& operator+=(const alloc_scalar& b) { return *this = alloc_scalar(get() + b.get()); }
  alloc_scalar& operator-=(const alloc_scalar& b) { return *this = alloc_scalar(get() - b.get()); }
  alloc_scalar& operator*=(const alloc_scalar& b) { return *this = alloc_scalar(get() * b.get()); }
  alloc_scalar& operator/=(const alloc_scalar& b) { return *this = alloc_scalar(get() / b.get()); }

  friend alloc_scalar operator+(const alloc_scalar& a, const alloc_scalar& b) {
    return a.get() + b.get();
  }
  friend alloc_scalar operator-(const alloc_scalar& a, const alloc_scalar& b) {
    return a.get() - b.get();
  }
  friend alloc_scalar operator*(const alloc_scalar& a, const alloc_scalar& b) {
    return a.get() * b.get();
  }
  friend alloc_scalar operator/(const alloc_scalar& a, const alloc_scalar& b) {
    return a.get() / b.get();
  }
  friend alloc_scalar operator-(const alloc_scalar& a) { return -a.get(); }

  friend bool operator==(const alloc_scalar& a, const alloc_scalar& b) {
    return a.get() == b.get();
  }
  friend bool operator<(const alloc_scalar& a, const alloc_scalar& b) { return a.get() < b.get(); }
  friend bool operator>(const alloc_scalar& a, const alloc_scalar& b) { return a.get() > b.get(); }
  friend bool operator<=(const alloc_scalar& a, const alloc_scalar& b) {
    return a.get() <= b.get();
  }
  friend bool operator>=(const alloc_scalar& a, const alloc_scalar& b) {
    return a.get() >= b.get();
  }

  // The elementary functions the kernels call unqualified, found by argument-dependent lookup.
  friend alloc_scalar exp(const alloc_scalar& x) { return std::exp(x.get()); }
  friend alloc_scalar log(const alloc_scalar& x) { return std::log(x.get()); }
  friend alloc_scalar log1p(const alloc_scalar& x) { return std::log1p(x.get()); }
  friend alloc_scalar sqrt(const alloc_scalar& x) { return std::sqrt(x.get()); }
  friend alloc_scalar abs(const alloc_scalar& x) { return std::abs(x.get()); }
  friend alloc_scalar sin(const alloc_scalar& x) { return std::sin(x.get()); }
  friend alloc_scalar cos(const alloc_scalar& x) { return std::cos(x.get()); }
  friend alloc_scalar tanh(const alloc_scalar& x) { return std::tanh(x.get()); }
  friend alloc_scalar pow(const alloc_scalar& x, const alloc_scalar& y) {
    return std::pow(x.get(), y.get());
  }

 private:
  std::unique_ptr<double> value_;
};

}  // namespace chainrule::testing

namespace chainrule {

template <>
struct scalar_traits<testing::alloc_scalar> {
  using real = testing::alloc_scalar;
  static constexpr bool has_runtime_precision = false;
  static constexpr unsigned max_digits = scalar_traits<double>::max_digits;

  static real from_decimal(std::string_view text, unsigned /*digits*/) {
    return parse_double(text);
  }
  static std::string format(const real& x, const number_format& fmt) {
    return format_decimal(x.get(), fmt);
  }
  static bool is_finite(const real& x) { return std::isfinite(x.get()); }
  static std::string exact(const real& x) { return scalar_traits<double>::exact(x.get()); }
  static real zero(unsigned /*digits*/) { return 0.0; }
  static bool is_zero(const real& x) { return x.get() == 0.0; }
  static unsigned digits(unsigned /*requested*/) { return max_digits; }
  static void add_product(real& acc, const real& a, const real& b, real& scratch) {
    scratch = a;
    scratch *= b;
    acc += scratch;
  }
  static long to_long(const real& x) { return static_cast<long>(x.get()); }

  class precision_scope {
   public:
    explicit precision_scope(unsigned /*digits*/) {}
  };
};

static_assert(real_number<testing::alloc_scalar>);

}  // namespace chainrule

template <>
struct Catch::StringMaker<chainrule::testing::alloc_scalar> {
  static std::string convert(const chainrule::testing::alloc_scalar& x) {
    return chainrule::format_decimal(x.get(), chainrule::number_format::significant(17));
  }
};
