// SPDX-License-Identifier: MIT
#include "certify.hpp"

#include <mpfr.h>

#include <algorithm>
#include <cctype>
#include <limits>
#include <string_view>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "chainrule/engine/decimal.hpp"
#include "chainrule/exporters/json.hpp"

namespace chainrule::cli {
namespace {

using json = nlohmann::ordered_json;

constexpr std::string_view ellipsis = "\xE2\x80\xA6";  // U+2026

// Fields that differ between two runs by design: which precision each used, and this mode's own
// description.
bool differs_by_design(std::string_view pointer) {
  return pointer == "/settings/precision" || pointer == "/settings/digits" ||
         pointer == "/settings/certification";
}

// A trace::number as written by exporters::to_json: {"exact": ..., "shown": ...}.
bool is_number(const json& j) {
  return j.is_object() && j.size() == 2 && j.contains("exact") && j.contains("shown") &&
         j["exact"].is_string() && j["shown"].is_string();
}

std::string pointer_token(std::string_view key) {
  std::string out;
  for (const char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

std::string brief(const json& j) {
  std::string text = j.dump();
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  return text;
}

// An mpfr variable that cleans up after itself.
class big {
 public:
  explicit big(mpfr_prec_t bits) { mpfr_init2(value_, bits); }
  ~big() { mpfr_clear(value_); }
  big(const big&) = delete;
  big& operator=(const big&) = delete;
  mpfr_ptr get() { return value_; }

 private:
  mpfr_t value_;
};

bool is_finite_decimal(std::string_view text) {
  return !text.empty() && text != "nan" && text != "inf" && text != "-inf";
}

bool certified(const std::string& lower_exact, const std::string& lower_shown,
               const std::string& higher_exact, const std::string& higher_shown,
               const trace::display_format& display) {
  if (lower_shown != higher_shown) return false;
  if (lower_exact == higher_exact) return true;
  if (!is_finite_decimal(lower_exact) || !is_finite_decimal(higher_exact)) return false;

  // Enough bits that reading either text is exact to far below the difference between them.
  const auto bits =
      static_cast<mpfr_prec_t>(4 * std::max(lower_exact.size(), higher_exact.size()) + 64);
  big lower(bits), higher(bits), difference(bits), unit(bits), scaled(bits), whole(bits);
  try {
    parse_mpfr(lower.get(), lower_exact);
    parse_mpfr(higher.get(), higher_exact);
  } catch (const decimal_error&) {
    return false;
  }
  if (mpfr_equal_p(lower.get(), higher.get()) != 0) return true;
  mpfr_sub(difference.get(), higher.get(), lower.get(), MPFR_RNDN);
  mpfr_abs(difference.get(), difference.get(), MPFR_RNDN);
  mpfr_abs(higher.get(), higher.get(), MPFR_RNDN);

  // The place value of the last digit shown: `count` decimals, or the last of the significant
  // digits shown (`count` of them, or max_significant for a number too large for its decimals).
  long exponent = -static_cast<long>(display.count);
  if (display.significant || display.max_significant > 0) {
    if (mpfr_zero_p(higher.get()) != 0) {
      if (display.significant) return false;
    } else {
      big magnitude(bits);
      mpfr_log10(magnitude.get(), higher.get(), MPFR_RNDN);
      mpfr_floor(magnitude.get(), magnitude.get());
      const long order = mpfr_get_si(magnitude.get(), MPFR_RNDN);
      const long cap = display.max_significant > 0 ? display.max_significant : display.count;
      if (display.significant) {
        exponent = order - std::min<long>(display.count, cap) + 1;
      } else if (order + 1 + display.count > cap) {
        exponent = order - cap + 1;
      }
    }
  }
  mpfr_set_ui(unit.get(), 10, MPFR_RNDN);
  mpfr_pow_si(unit.get(), unit.get(), exponent, MPFR_RNDN);

  // Distance from the nearest value where the rounding changes: halfway between two shown
  // values for the half-way rules, the shown values themselves for truncation.
  mpfr_div(scaled.get(), higher.get(), unit.get(), MPFR_RNDN);
  mpfr_floor(whole.get(), scaled.get());
  mpfr_sub(scaled.get(), scaled.get(), whole.get(), MPFR_RNDN);  // fraction in [0, 1)
  if (display.rounding == "toward_zero") {
    mpfr_ui_sub(whole.get(), 1, scaled.get(), MPFR_RNDN);
    mpfr_min(scaled.get(), scaled.get(), whole.get(), MPFR_RNDN);
  } else {
    mpfr_set_d(whole.get(), 0.5, MPFR_RNDN);
    mpfr_sub(scaled.get(), scaled.get(), whole.get(), MPFR_RNDN);
    mpfr_abs(scaled.get(), scaled.get(), MPFR_RNDN);
  }
  mpfr_mul(scaled.get(), scaled.get(), unit.get(), MPFR_RNDN);
  // Twice the difference: a margin for the rounding of the exact texts themselves.
  mpfr_mul_ui(difference.get(), difference.get(), 2, MPFR_RNDN);
  return mpfr_greater_p(scaled.get(), difference.get()) != 0;
}

struct pending {
  json* higher;
  const json* lower;
  std::string pointer;
};

enum class rule : std::uint8_t { certify, same_text };

precision_comparison walk(json& higher, const json& lower, const trace::display_format& display,
                          rule compare, bool mark) {
  precision_comparison result;
  const auto shape_differs = [&](const std::string& pointer, const json& a, const json& b) {
    result.same_shape = false;
    result.shape_difference =
        fmt::format("{}: {} and {}", pointer.empty() ? "/" : pointer, brief(a), brief(b));
  };
  // Depth-first with an explicit stack: a trace of a large model nests deep enough that
  // recursion would depend on its size.
  std::vector<pending> stack{{&higher, &lower, ""}};
  while (!stack.empty() && result.same_shape) {
    pending at = std::move(stack.back());
    stack.pop_back();
    json& h = *at.higher;
    const json& l = *at.lower;
    if (is_number(h) && is_number(l)) {
      ++result.numbers;
      const std::string& lower_exact = l["exact"].get_ref<const std::string&>();
      const std::string& lower_shown = l["shown"].get_ref<const std::string&>();
      const std::string& higher_exact = h["exact"].get_ref<const std::string&>();
      const std::string& higher_shown = h["shown"].get_ref<const std::string&>();
      const bool ok = compare == rule::same_text ? lower_shown == higher_shown
                                                 : certified(lower_exact, lower_shown, higher_exact,
                                                             higher_shown, display);
      if (ok) continue;
      ++result.uncertified;
      if (result.examples.size() < comparison_examples) {
        result.examples.push_back(
            fmt::format("{}: {} and {}", at.pointer, higher_shown, lower_shown));
      }
      if (mark) h["shown"] = shared_digits(higher_exact, lower_exact, display);
      continue;
    }
    if (h.type() != l.type()) {
      shape_differs(at.pointer, h, l);
      break;
    }
    if (h.is_object()) {
      // Pushed in reverse so that the first difference found is the first in document order.
      std::vector<pending> children;
      std::size_t compared_keys = 0;
      for (auto item = h.begin(); item != h.end(); ++item) {
        const std::string pointer = at.pointer + "/" + pointer_token(item.key());
        if (differs_by_design(pointer)) continue;
        ++compared_keys;
        const auto other = l.find(item.key());
        if (other == l.end()) {
          shape_differs(pointer, item.value(), json());
          break;
        }
        children.push_back({&item.value(), &*other, pointer});
      }
      if (!result.same_shape) break;
      std::size_t lower_keys = 0;
      for (auto item = l.begin(); item != l.end(); ++item)
        lower_keys += differs_by_design(at.pointer + "/" + pointer_token(item.key())) ? 0 : 1;
      if (lower_keys != compared_keys) {
        shape_differs(at.pointer, h, l);
        break;
      }
      stack.insert(stack.end(), std::make_move_iterator(children.rbegin()),
                   std::make_move_iterator(children.rend()));
    } else if (h.is_array()) {
      if (h.size() != l.size()) {
        shape_differs(at.pointer, h, l);
        break;
      }
      for (std::size_t k = h.size(); k-- > 0;)
        stack.push_back({&h[k], &l[k], fmt::format("{}/{}", at.pointer, k)});
    } else if (h != l) {
      shape_differs(at.pointer, h, l);
    }
  }
  return result;
}

json as_json(const trace::document& doc) {
  return json::parse(exporters::to_json(doc, {.indent = -1}));
}

}  // namespace

std::string shared_digits(const std::string& a, const std::string& b,
                          const trace::display_format& display) {
  const auto split = [](const std::string& text) {
    const std::size_t e = text.find_first_of("eE");
    return e == std::string::npos ? std::pair{std::string_view(text), std::string_view()}
                                  : std::pair{std::string_view(text).substr(0, e),
                                              std::string_view(text).substr(e + 1)};
  };
  const auto [mantissa_a, exponent_a] = split(a);
  const auto [mantissa_b, exponent_b] = split(b);
  if (exponent_a != exponent_b) return std::string(ellipsis);

  std::size_t common = 0;
  while (common < mantissa_a.size() && common < mantissa_b.size() &&
         mantissa_a[common] == mantissa_b[common])
    ++common;
  std::string_view prefix = mantissa_a.substr(0, common);

  // No more digits than the display setting shows: `count` decimals or significant digits, and
  // never more significant digits than max_significant (a number shown in the capped form, such
  // as every one with an exponent in decimals mode, is limited by that alone).
  constexpr std::size_t unlimited = std::numeric_limits<std::size_t>::max();
  const auto count = static_cast<std::size_t>(display.count);
  const std::size_t cap =
      display.max_significant > 0 ? static_cast<std::size_t>(display.max_significant) : unlimited;
  const std::size_t significant_limit = display.significant ? std::min(count, cap) : cap;
  const std::size_t decimals_limit = display.significant || !exponent_a.empty() ? unlimited : count;
  std::size_t kept = 0;
  std::size_t significant_seen = 0;
  std::size_t decimals_seen = 0;
  bool after_point = false;
  for (; kept < prefix.size(); ++kept) {
    const char c = prefix[kept];
    if (c == '.') {
      after_point = true;
      continue;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) == 0) continue;
    const bool significant = significant_seen > 0 || c != '0';
    if (significant && significant_seen == significant_limit) break;
    if (after_point && decimals_seen == decimals_limit) break;
    if (significant) ++significant_seen;
    if (after_point) ++decimals_seen;
  }
  prefix = prefix.substr(0, kept);
  if (prefix.ends_with('.')) prefix.remove_suffix(1);
  const bool has_digit =
      std::any_of(prefix.begin(), prefix.end(), [](char c) { return c >= '0' && c <= '9'; });
  std::string out = has_digit ? std::string(prefix) : std::string();
  out += ellipsis;
  if (has_digit && !exponent_a.empty()) out += "e" + std::string(exponent_a);
  return out;
}

precision_comparison compare_runs(trace::document& higher, const trace::document& lower,
                                  bool mark) {
  json h = as_json(higher);
  const json l = as_json(lower);
  precision_comparison result = walk(h, l, higher.config.display, rule::certify, mark);
  if (mark && result.same_shape && result.uncertified > 0) higher = exporters::from_json(h.dump());
  return result;
}

precision_comparison shown_differences(const trace::document& first,
                                       const trace::document& second) {
  json a = as_json(first);
  const json b = as_json(second);
  return walk(a, b, first.config.display, rule::same_text, false);
}

}  // namespace chainrule::cli
