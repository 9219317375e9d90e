// SPDX-License-Identifier: MIT
// Reference numbers for the tests: the `key = value` files in tests/reference, and Catch2 matchers
// that compare an engine value of any number type with a decimal string.
//
// Nothing here rounds through double. The engine value is turned into its exact decimal expansion
// (scalar_traits<Real>::exact), read back into MPFR with enough bits to hold it exactly, and
// compared there with the reference, which is read at a precision far above anything being
// compared.
#pragma once

#include <mpfr.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chainrule/engine/decimal.hpp"
#include "chainrule/engine/mpfr.hpp"
#include "chainrule/engine/scalar.hpp"

#ifndef CHAINRULE_REFERENCE_DIR
#error "CHAINRULE_REFERENCE_DIR must name tests/reference (set by tests/CMakeLists.txt)"
#endif

namespace chainrule::testing {

/// One .ref file: `key = value` lines; '#' starts a comment line; blank lines are allowed.
class reference_file {
 public:
  explicit reference_file(std::string path) : path_(std::move(path)) {
    std::ifstream in(path_);
    if (!in) throw std::runtime_error("cannot open reference file " + path_);
    std::string line;
    std::size_t number = 0;
    while (std::getline(in, line)) {
      ++number;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty() || line.front() == '#') continue;
      // Keys never contain " = " (make_references.py asserts it), so the first one splits.
      const auto split = line.find(" = ");
      if (split == std::string::npos) {
        throw std::runtime_error(path_ + ":" + std::to_string(number) + ": expected `key = value`");
      }
      std::string key = line.substr(0, split);
      if (!values_.emplace(key, line.substr(split + 3)).second) {
        throw std::runtime_error(path_ + ":" + std::to_string(number) + ": duplicate key " + key);
      }
      order_.push_back(std::move(key));
    }
  }

  /// The decimal text stored under `key`; a missing key is a broken test, so it throws.
  const std::string& operator[](std::string_view key) const {
    const auto found = values_.find(key);
    if (found == values_.end()) {
      throw std::out_of_range("no key '" + std::string(key) + "' in " + path_);
    }
    return found->second;
  }
  bool contains(std::string_view key) const { return values_.find(key) != values_.end(); }
  /// Every key, in the order of the file.
  const std::vector<std::string>& keys() const { return order_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::map<std::string, std::string, std::less<>> values_;
  std::vector<std::string> order_;
};

/// tests/reference/<file_name>, read once per test process (Catch2 runs tests on one thread).
inline const reference_file& reference(std::string_view file_name) {
  static std::map<std::string, reference_file, std::less<>> cache;
  auto found = cache.find(file_name);
  if (found == cache.end()) {
    std::string name(file_name);
    const std::filesystem::path path = std::filesystem::path(CHAINRULE_REFERENCE_DIR) / name;
    reference_file file(path.string());
    found = cache.emplace(std::move(name), std::move(file)).first;
  }
  return found->second;
}

/// Working precision and expected agreement per number type, shared by the engine tests.
template <class Real>
struct test_precision;
template <>
struct test_precision<double> {
  static constexpr unsigned digits = 17;
  /// A handful of correctly rounded operations on inputs that are themselves rounded to 53 bits
  /// keeps 15-16 digits; 14 leaves room for mildly ill-conditioned points (1 - tanh^2 near 1).
  static constexpr int agree = 14;
};
template <>
struct test_precision<mp_real> {
  static constexpr unsigned digits = 50;
  static constexpr int agree = 45;
};

namespace detail {

/// An mpfr_t that frees itself.
class mp_value {
 public:
  explicit mp_value(mpfr_prec_t bits) { mpfr_init2(v_, bits); }
  ~mp_value() { mpfr_clear(v_); }
  mp_value(const mp_value&) = delete;
  mp_value& operator=(const mp_value&) = delete;
  mpfr_ptr get() { return v_; }
  mpfr_srcptr get() const { return v_; }

 private:
  mpfr_t v_;
};

/// Bits that hold a decimal of `length` characters exactly when it is a binary fraction: its odd
/// mantissa divides the digit string read as an integer, which is below 10^length < 2^(4 length).
inline mpfr_prec_t exact_bits(std::size_t length) {
  return static_cast<mpfr_prec_t>(4 * length + 128);
}

inline std::string quoted_format(mpfr_srcptr x, int digits) {
  return format_decimal(x, number_format::significant(digits, rounding::half_even, true));
}

}  // namespace detail

/// Compares a value with a decimal string in one of three ways (see the factory functions below).
class decimal_matcher : public Catch::Matchers::Impl::MatcherUntypedBase {
 public:
  enum class mode {
    relative,   ///< |actual - expected| <= 10^-digits |expected| (absolute when expected is 0)
    rounded,    ///< both rounded half-even to `digits` significant digits print the same
    formatted,  ///< actual printed with `format` is exactly the expected text
    exact,      ///< actual is exactly the number the expected text names
  };

  decimal_matcher(mode m, std::string expected, int digits, number_format format)
      : mode_(m), expected_(std::move(expected)), digits_(digits), format_(format) {}

  template <class Real>
  bool match(const Real& actual) const {
    return match_exact(scalar_traits<Real>::exact(actual));
  }

  /// The same comparison on the exact decimal expansion of a value.
  bool match_exact(const std::string& actual) const {
    if (actual == "nan" || actual == "inf" || actual == "-inf") {
      detail_ = "the value is " + actual;
      return false;
    }
    const mpfr_prec_t bits =
        std::max(detail::exact_bits(actual.size()),
                 detail::exact_bits(expected_.size() + static_cast<std::size_t>(digits_)));
    detail::mp_value a(bits);
    detail::mp_value e(bits);
    parse_mpfr(a.get(), actual);
    parse_mpfr(e.get(), expected_);
    switch (mode_) {
      case mode::relative:
        return match_relative(a, e, bits);
      case mode::rounded: {
        const auto f = number_format::significant(digits_, rounding::half_even, true);
        const std::string got = format_decimal(a.get(), f);
        const std::string want = format_decimal(e.get(), f);
        detail_ = "rounded to " + std::to_string(digits_) + " digits: " + got + " vs " + want;
        return got == want;
      }
      case mode::formatted: {
        const std::string got = format_decimal(a.get(), format_);
        detail_ = "prints as " + got;
        return got == expected_;
      }
      case mode::exact:
        detail_ = "actual " + actual;
        return mpfr_equal_p(a.get(), e.get()) != 0;
    }
    return false;
  }

  std::string describe() const override {
    std::string what;
    switch (mode_) {
      case mode::relative:
        what =
            "agrees with " + expected_ + " to " + std::to_string(digits_) + " significant digits";
        break;
      case mode::rounded:
        what = "equals " + expected_ + " rounded to " + std::to_string(digits_) +
               " significant digits";
        break;
      case mode::formatted:
        what = "prints as " + expected_;
        break;
      case mode::exact:
        what = "is exactly " + expected_;
        break;
    }
    return detail_.empty() ? what : what + " (" + detail_ + ")";
  }

 private:
  bool match_relative(detail::mp_value& a, detail::mp_value& e, mpfr_prec_t bits) const {
    detail::mp_value error(bits);
    detail::mp_value bound(bits);
    mpfr_sub(error.get(), a.get(), e.get(), MPFR_RNDN);
    mpfr_abs(error.get(), error.get(), MPFR_RNDN);
    if (!mpfr_zero_p(e.get())) {
      mpfr_div(error.get(), error.get(), e.get(), MPFR_RNDN);
      mpfr_abs(error.get(), error.get(), MPFR_RNDN);
    }
    mpfr_set_si(bound.get(), -digits_, MPFR_RNDN);
    mpfr_exp10(bound.get(), bound.get(), MPFR_RNDN);
    if (mpfr_zero_p(error.get())) {
      detail_ = "exactly equal";
    } else {
      // Only the message goes through double; the verdict below compares in MPFR.
      detail::mp_value digits(64);
      mpfr_log10(digits.get(), error.get(), MPFR_RNDN);
      mpfr_neg(digits.get(), digits.get(), MPFR_RNDN);
      detail_ = "actual " + detail::quoted_format(a.get(), std::max(digits_ + 5, 20)) + ", " +
                detail::quoted_format(digits.get(), 4) + " digits agree";
    }
    return mpfr_lessequal_p(error.get(), bound.get()) != 0;
  }

  mode mode_;
  std::string expected_;
  int digits_;
  number_format format_;
  mutable std::string detail_;  // filled by match(), shown by describe() on failure
};

/// Relative error at most 10^-digits (absolute error when `expected` is zero).
inline decimal_matcher agrees_to(std::string expected, int digits) {
  return {decimal_matcher::mode::relative, std::move(expected), digits, {}};
}

/// Rounded half-even to `digits` significant digits, the value and `expected` print the same.
/// Use it against a reference printed to at least `digits` digits: it asks for every one of them.
inline decimal_matcher rounds_like(std::string expected, int digits) {
  return {decimal_matcher::mode::rounded, std::move(expected), digits, {}};
}

/// The value printed with `format` is exactly `expected`.
inline decimal_matcher prints_as(std::string expected, number_format format) {
  return {decimal_matcher::mode::formatted, std::move(expected), 0, format};
}

/// Exactly the number `expected` (for values that are exact in every number type: 0, 1, 0.5).
inline decimal_matcher is_exactly(std::string expected) {
  return {decimal_matcher::mode::exact, std::move(expected), 0, {}};
}

/// A figure as printed in a publication: the value rounded half-even to as many decimals as the
/// figure shows, trailing zeros included ("0.511301270" asks for 9 decimals).
inline decimal_matcher published(std::string expected) {
  const auto point = expected.find('.');
  const int decimals =
      point == std::string::npos ? 0 : static_cast<int>(expected.size() - point - 1);
  return prints_as(std::move(expected),
                   number_format::decimals(decimals, rounding::half_even, false));
}

}  // namespace chainrule::testing

// Catch2 would print an mp_real through operator<< with six digits; print all of them instead.
template <>
struct Catch::StringMaker<chainrule::mp_real> {
  static std::string convert(const chainrule::mp_real& x) {
    return chainrule::format_decimal(x.backend().data(), chainrule::number_format::significant(
                                                             static_cast<int>(x.precision()),
                                                             chainrule::rounding::half_even, true));
  }
};
