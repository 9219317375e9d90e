// SPDX-License-Identifier: MIT
#include "chainrule/engine/decimal.hpp"

#include <gmp.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <memory>
#include <string>

namespace chainrule {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// RAII for GMP integers: the rounding below is exact rational arithmetic on them.
struct big_int {
  mpz_t v;
  big_int() { mpz_init(v); }
  ~big_int() { mpz_clear(v); }
  big_int(const big_int&) = delete;
  big_int& operator=(const big_int&) = delete;
};

std::string to_decimal_digits(const mpz_t n) {
  std::string s(mpz_sizeinbase(n, 10) + 2, '\0');
  mpz_get_str(s.data(), 10, n);
  s.resize(std::char_traits<char>::length(s.c_str()));
  return s;
}

// round(|x| * 10^decimals) as an integer, where |x| = m * 2^e exactly, by the rounding rule.
void scaled_round(mpz_t result, const mpz_t m, long e, long decimals, rounding rule) {
  big_int num, den, rem;
  mpz_set(num.v, m);
  mpz_set_ui(den.v, 1);
  if (e >= 0) {
    mpz_mul_2exp(num.v, num.v, static_cast<mp_bitcnt_t>(e));
  } else {
    mpz_mul_2exp(den.v, den.v, static_cast<mp_bitcnt_t>(-e));
  }
  big_int p10;
  mpz_ui_pow_ui(p10.v, 10, static_cast<unsigned long>(decimals >= 0 ? decimals : -decimals));
  if (decimals >= 0) {
    mpz_mul(num.v, num.v, p10.v);
  } else {
    mpz_mul(den.v, den.v, p10.v);
  }
  mpz_tdiv_qr(result, rem.v, num.v, den.v);
  if (mpz_sgn(rem.v) == 0 || rule == rounding::toward_zero) return;
  mpz_mul_2exp(rem.v, rem.v, 1);
  const int cmp = mpz_cmp(rem.v, den.v);
  const bool round_up = cmp > 0 || (cmp == 0 && (rule == rounding::half_up || mpz_odd_p(result)));
  if (round_up) mpz_add_ui(result, result, 1);
}

// floor(log10(m * 2^e)) for m > 0, exactly.
long decimal_exponent(const mpz_t m, long e) {
  const double approx =
      (static_cast<double>(mpz_sizeinbase(m, 2)) - 1.0 + static_cast<double>(e)) * std::log10(2.0);
  long guess = static_cast<long>(std::floor(approx));
  // |x| >= 10^k  <=>  m * 2^e * 10^-k >= 1: compare integers num >= den.
  auto at_least_pow10 = [&](long k) {
    big_int num, den, p10;
    mpz_set(num.v, m);
    mpz_set_ui(den.v, 1);
    if (e >= 0) {
      mpz_mul_2exp(num.v, num.v, static_cast<mp_bitcnt_t>(e));
    } else {
      mpz_mul_2exp(den.v, den.v, static_cast<mp_bitcnt_t>(-e));
    }
    mpz_ui_pow_ui(p10.v, 10, static_cast<unsigned long>(k >= 0 ? k : -k));
    if (k >= 0) {
      mpz_mul(den.v, den.v, p10.v);
    } else {
      mpz_mul(num.v, num.v, p10.v);
    }
    return mpz_cmp(num.v, den.v) >= 0;
  };
  while (!at_least_pow10(guess))
    --guess;
  while (at_least_pow10(guess + 1))
    ++guess;
  return guess;
}

// Places a decimal point `decimals` digits from the right of the integer `digits`.
std::string place_point(std::string digits, long decimals, bool strip) {
  if (decimals <= 0) {
    if (digits != "0") digits.append(static_cast<std::size_t>(-decimals), '0');
    return digits;
  }
  const auto d = static_cast<std::size_t>(decimals);
  if (digits.size() <= d) digits.insert(0, d - digits.size() + 1, '0');
  digits.insert(digits.size() - d, 1, '.');
  if (strip) {
    while (digits.back() == '0')
      digits.pop_back();
    if (digits.back() == '.') digits.pop_back();
  }
  return digits;
}

std::string format_exact(bool negative, const mpz_t m, long e, const number_format& f) {
  std::string body;
  if (f.max_significant > 0 && mpz_sgn(m) != 0) {
    // Significant digits the requested form would show; a carry in the rounding (9.99 -> 10.0)
    // can add one, which only moves the switch to the capped form by one digit.
    const long exponent = decimal_exponent(m, e);
    const long shown = f.kind == number_format::mode::decimals
                           ? exponent + 1 + f.count
                           : static_cast<long>(std::max(1, f.count));
    if (shown > f.max_significant) {
      number_format capped = f;
      capped.kind = number_format::mode::significant;
      capped.count = f.max_significant;
      capped.max_significant = 0;
      return format_exact(negative, m, e, capped);
    }
  }
  if (f.kind == number_format::mode::decimals) {
    big_int q;
    scaled_round(q.v, m, e, f.count, f.round);
    body = place_point(to_decimal_digits(q.v), f.count, f.strip_trailing_zeros);
    negative = negative && mpz_sgn(q.v) != 0;
  } else {
    const long n = std::max(1, f.count);
    long exponent = mpz_sgn(m) == 0 ? 0 : decimal_exponent(m, e);
    long decimals = n - 1 - exponent;
    big_int q;
    scaled_round(q.v, m, e, decimals, f.round);
    if (to_decimal_digits(q.v).size() > static_cast<std::size_t>(n)) {
      // A carry made it 10^n (9.9996 -> 10.000): one digit fewer after the point.
      mpz_tdiv_q_ui(q.v, q.v, 10);
      ++exponent;
      --decimals;
    }
    negative = negative && mpz_sgn(q.v) != 0;
    if (mpz_sgn(q.v) != 0 && (exponent < f.min_fixed_exponent || exponent > f.max_fixed_exponent)) {
      std::string digits = to_decimal_digits(q.v);
      std::string mantissa =
          place_point(digits, static_cast<long>(digits.size()) - 1, f.strip_trailing_zeros);
      body = mantissa + "e" + (exponent < 0 ? "-" : "+") + std::to_string(std::labs(exponent));
    } else {
      body = place_point(to_decimal_digits(q.v), decimals, f.strip_trailing_zeros);
    }
  }
  return negative ? "-" + body : body;
}

std::string format_non_finite(mpfr_srcptr x) {
  if (mpfr_nan_p(x)) return "nan";
  return mpfr_sgn(x) < 0 ? "-inf" : "inf";
}

}  // namespace

void validate_decimal(std::string_view text) {
  std::size_t i = 0;
  const std::size_t n = text.size();
  if (n == 0) throw decimal_error("empty number: expected digits such as 0.05", 0);
  if (text[i] == '+' || text[i] == '-') ++i;
  const std::size_t int_start = i;
  while (i < n && is_digit(text[i]))
    ++i;
  std::size_t digits = i - int_start;
  if (i < n && text[i] == '.') {
    ++i;
    const std::size_t frac_start = i;
    while (i < n && is_digit(text[i]))
      ++i;
    digits += i - frac_start;
  }
  if (digits == 0) {
    throw decimal_error("expected a digit in the number '" + std::string(text) + "'", i);
  }
  if (i < n && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < n && (text[i] == '+' || text[i] == '-')) ++i;
    const std::size_t exp_start = i;
    while (i < n && is_digit(text[i]))
      ++i;
    if (i == exp_start) {
      throw decimal_error(
          "expected the digits of an exponent after 'e' in '" + std::string(text) + "'", i);
    }
  }
  if (i != n) {
    throw decimal_error("unexpected '" + std::string(1, text[i]) + "' in the number '" +
                            std::string(text) + "': expected digits, '.', or an exponent like e-3",
                        i);
  }
}

double parse_double(std::string_view text) {
  validate_decimal(text);
  // from_chars takes no leading '+', and we accept one.
  std::string_view body = text;
  if (!body.empty() && body.front() == '+') body.remove_prefix(1);
  double value = 0;
  const auto [end, ec] = std::from_chars(body.data(), body.data() + body.size(), value);
  if (ec == std::errc::result_out_of_range) {
    // from_chars reports both overflow and underflow; only overflow is an error (underflow -> 0).
    // A wide-range probe tells them apart (and rejects what is out of range even for MPFR).
    struct probe_value {
      mpfr_t v;
      probe_value() { mpfr_init2(v, 64); }
      ~probe_value() { mpfr_clear(v); }
      probe_value(const probe_value&) = delete;
      probe_value& operator=(const probe_value&) = delete;
    } probe;
    parse_mpfr(probe.v, text);
    if (mpfr_cmpabs_ui(probe.v, 1) > 0) {
      throw decimal_error(
          "the number '" + std::string(text) + "' is too large for double precision", 0);
    }
    return text.front() == '-' ? -0.0 : 0.0;
  }
  if (ec != std::errc() || end != body.data() + body.size()) {
    throw decimal_error("not a number: '" + std::string(text) + "'", 0);
  }
  if (!std::isfinite(value)) {
    throw decimal_error("the number '" + std::string(text) + "' is too large for double precision",
                        0);
  }
  return value;
}

void parse_mpfr(mpfr_ptr out, std::string_view text) {
  validate_decimal(text);
  const std::string owned(text);
  char* end = nullptr;
  mpfr_clear_flags();
  mpfr_strtofr(out, owned.c_str(), &end, 10, MPFR_RNDN);
  if (end != owned.c_str() + owned.size()) {
    throw decimal_error("not a number: '" + owned + "'",
                        static_cast<std::size_t>(end - owned.c_str()));
  }
  if (mpfr_inf_p(out) || mpfr_overflow_p()) {
    throw decimal_error("the number '" + owned + "' is out of range (its exponent is too large)",
                        0);
  }
  if (mpfr_zero_p(out) && mpfr_underflow_p()) {
    throw decimal_error("the number '" + owned + "' is out of range (its exponent is too small)",
                        0);
  }
}

std::string format_decimal(mpfr_srcptr x, const number_format& format) {
  if (!mpfr_number_p(x)) return format_non_finite(x);
  big_int m;
  long e = 0;
  if (!mpfr_zero_p(x)) e = static_cast<long>(mpfr_get_z_2exp(m.v, x));
  const bool negative = mpz_sgn(m.v) < 0;
  mpz_abs(m.v, m.v);
  return format_exact(negative, m.v, e, format);
}

std::string format_decimal(double x, const number_format& format) {
  mpfr_t exact;
  mpfr_init2(exact, 53);
  mpfr_set_d(exact, x, MPFR_RNDN);  // exact: 53 bits hold any double
  std::string s = format_decimal(exact, format);
  mpfr_clear(exact);
  return s;
}

std::string exact_decimal(mpfr_srcptr x) {
  if (!mpfr_number_p(x)) return format_non_finite(x);
  big_int m;
  long e = 0;
  if (!mpfr_zero_p(x)) e = static_cast<long>(mpfr_get_z_2exp(m.v, x));
  const bool negative = mpz_sgn(m.v) < 0;
  mpz_abs(m.v, m.v);
  // m * 2^e has exactly max(0, -e) decimals, so rounding to that many is exact.
  return format_exact(negative, m.v, e, number_format::decimals(e < 0 ? static_cast<int>(-e) : 0));
}

}  // namespace chainrule
