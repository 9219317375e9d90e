// SPDX-License-Identifier: MIT
#include "decimal.hpp"

#include <algorithm>
#include <cctype>

#include <boost/multiprecision/cpp_int.hpp>

namespace chainrule::lang::detail {
namespace {

bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

std::size_t count_digits(std::string_view s, std::size_t from) noexcept {
  std::size_t i = from;
  while (i < s.size() && is_digit(s[i]))
    ++i;
  return i - from;
}

// A decimal as sign, significant digits (no leading or trailing zeros) and the position of the
// decimal point relative to the first digit: value = 0.DIGITS * 10^point.
struct normalized {
  bool negative = false;
  std::string digits;
  std::int64_t point = 0;
};

normalized normalize(std::string_view text) {
  normalized n;
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
    n.negative = text[0] == '-';
    text.remove_prefix(1);
  }
  std::int64_t exponent = 0;
  const auto e = text.find_first_of("eE");
  if (e != std::string_view::npos) {
    std::string_view exp_text = text.substr(e + 1);
    bool exp_negative = false;
    if (!exp_text.empty() && (exp_text[0] == '-' || exp_text[0] == '+')) {
      exp_negative = exp_text[0] == '-';
      exp_text.remove_prefix(1);
    }
    for (char c : exp_text)
      exponent = exponent * 10 + (c - '0');
    if (exp_negative) exponent = -exponent;
    text = text.substr(0, e);
  }
  const auto dot = text.find('.');
  const std::string_view int_part = text.substr(0, dot);
  const std::string_view frac_part =
      dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
  n.digits.reserve(int_part.size() + frac_part.size());
  n.digits.append(int_part);
  n.digits.append(frac_part);
  n.point = static_cast<std::int64_t>(int_part.size()) + exponent;
  const auto first = n.digits.find_first_not_of('0');
  if (first == std::string::npos) {
    n.digits.clear();
    n.negative = false;
    n.point = 0;
    return n;
  }
  n.digits.erase(0, first);
  n.point -= static_cast<std::int64_t>(first);
  n.digits.erase(n.digits.find_last_not_of('0') + 1);
  return n;
}

int compare_magnitudes(const normalized& a, const normalized& b) {
  if (a.digits.empty() || b.digits.empty()) {
    return static_cast<int>(!a.digits.empty()) - static_cast<int>(!b.digits.empty());
  }
  if (a.point != b.point) return a.point < b.point ? -1 : 1;
  const int c = a.digits.compare(b.digits);
  return (c > 0) - (c < 0);
}

}  // namespace

std::optional<std::string> decimal_problem(std::string_view text) {
  if (text.empty()) return "empty number";
  std::size_t i = 0;
  const std::size_t int_digits = count_digits(text, i);
  i += int_digits;
  std::size_t frac_digits = 0;
  if (i < text.size() && text[i] == '.') {
    ++i;
    frac_digits = count_digits(text, i);
    i += frac_digits;
  }
  if (int_digits == 0 && frac_digits == 0) return "no digits";
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
    const std::size_t exp_digits = count_digits(text, i);
    if (exp_digits == 0) return "no digits after the exponent";
    if (exp_digits > max_exponent_digits) return "the exponent has more than 9 digits";
    i += exp_digits;
  }
  if (i < text.size()) {
    if (text[i] == '.') return "more than one decimal point";
    return "unexpected character in number";
  }
  return std::nullopt;
}

std::optional<std::string> signed_decimal_problem(std::string_view text) {
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) text.remove_prefix(1);
  return decimal_problem(text);
}

std::optional<std::uint64_t> whole_number(std::string_view text) noexcept {
  if (text.empty() || text.size() > 18) return std::nullopt;
  std::uint64_t value = 0;
  for (char c : text) {
    if (!is_digit(c)) return std::nullopt;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return value;
}

std::optional<std::int64_t> integer_value(std::string_view text) {
  const normalized n = normalize(text);
  if (n.digits.empty()) return 0;
  if (n.point < static_cast<std::int64_t>(n.digits.size()) || n.point > 18) return std::nullopt;
  std::int64_t value = 0;
  for (std::int64_t k = 0; k < n.point; ++k) {
    const auto idx = static_cast<std::size_t>(k);
    value = value * 10 + (idx < n.digits.size() ? n.digits[idx] - '0' : 0);
  }
  return n.negative ? -value : value;
}

int compare_decimals(std::string_view a, std::string_view b) {
  const normalized x = normalize(a);
  const normalized y = normalize(b);
  const bool x_negative = x.negative && !x.digits.empty();
  const bool y_negative = y.negative && !y.digits.empty();
  if (x_negative != y_negative) return x_negative ? -1 : 1;
  const int m = compare_magnitudes(x, y);
  return x_negative ? -m : m;
}

std::uint64_t floor_times(std::string_view fraction, std::uint64_t n) {
  // fraction = 0.DIGITS * 10^point = DIGITS / 10^(size - point), with point <= 0 here.
  using boost::multiprecision::cpp_int;
  const normalized x = normalize(fraction);
  // Below 10^-20 the product with any 64-bit n is below 1 (and a huge exponent is not looped).
  if (x.digits.empty() || x.point < -20) return 0;
  cpp_int numerator(x.digits);
  numerator *= n;
  cpp_int denominator = 1;
  for (std::int64_t k = 0; k < static_cast<std::int64_t>(x.digits.size()) - x.point; ++k)
    denominator *= 10;
  return static_cast<std::uint64_t>(numerator / denominator);
}

}  // namespace chainrule::lang::detail
