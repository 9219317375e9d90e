// SPDX-License-Identifier: MIT
#include "numbers.hpp"

#include <charconv>
#include <string>

namespace chainrule::check {
namespace {

struct decimal_parts {
  bool negative = false;
  std::string digits;  // mantissa digits as typed, point removed
  long exponent = 0;   // value = digits * 10^exponent
};

decimal_parts split(std::string_view text) {
  decimal_parts p;
  std::size_t i = 0;
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) p.negative = text[i++] == '-';
  long fraction = 0;
  bool after_point = false;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '.') {
      after_point = true;
    } else if (is_digit_char(c)) {
      p.digits += c;
      if (after_point) ++fraction;
    } else {
      break;
    }
  }
  long exponent = 0;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && text[i] == '+') ++i;
    std::from_chars(text.data() + i, text.data() + text.size(), exponent);
  }
  p.exponent = exponent - fraction;
  return p;
}

}  // namespace

std::string canonical_decimal(std::string_view text) {
  decimal_parts p = split(text);
  const std::size_t first = p.digits.find_first_not_of('0');
  if (first == std::string::npos) return "0";
  std::string d = p.digits.substr(first);
  while (d.back() == '0') {
    d.pop_back();
    ++p.exponent;
  }
  return (p.negative ? "-" : "") + d + "e" + std::to_string(p.exponent);
}

std::string significant_digits(std::string_view text) {
  const std::string c = canonical_decimal(text);
  if (c == "0") return "0";
  const std::size_t start = c.front() == '-' ? 1 : 0;
  return c.substr(start, c.find('e') - start);
}

typed_number::typed_number(std::string text) : text_(std::move(text)) {
  const decimal_parts p = split(text_);
  plain_ = text_.find_first_of("eE") == std::string::npos;
  decimals_ = static_cast<int>(-p.exponent);
  const std::size_t first = p.digits.find_first_not_of('0');
  significant_ = first == std::string::npos ? 1 : static_cast<int>(p.digits.size() - first);
  normal_ = text_;
  if (normal_.starts_with('.')) normal_.insert(0, "0");
  if (normal_.starts_with("-.")) normal_.insert(1, "0");
  if (normal_.starts_with('+')) normal_.erase(0, 1);
}

number_format typed_number::format(rounding r) const {
  if (decimals_ >= 0) return number_format::decimals(decimals_, r, false);
  return number_format::significant(significant_, r, false);
}

std::string typed_number::unit() const {
  return "1e" + std::to_string(-decimals_);
}

}  // namespace chainrule::check
