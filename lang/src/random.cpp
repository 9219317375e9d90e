// SPDX-License-Identifier: MIT
#include "random.hpp"

#include <mpfr.h>

#include <boost/multiprecision/cpp_int.hpp>
#include <stdexcept>
#include <utility>

#include "chainrule/engine/decimal.hpp"

namespace chainrule::lang::detail {
namespace {

// 256 bits leave the 4 printed digits of every weight far from the rounding error of the few
// operations that make it.
constexpr mpfr_prec_t working_bits = 256;

class mpfr_number {
 public:
  mpfr_number() { mpfr_init2(x_, working_bits); }
  ~mpfr_number() { mpfr_clear(x_); }
  mpfr_number(const mpfr_number&) = delete;
  mpfr_number& operator=(const mpfr_number&) = delete;
  mpfr_ptr get() noexcept { return x_; }

 private:
  mpfr_t x_;
};

// u = (x >> 11) / 2^53: the 53 high bits of the draw, exact in MPFR.
void unit_draw(mpfr_ptr out, std::uint64_t draw) {
  const std::uint64_t top = draw >> 11;
  // mpfr_set_uj would need <stdint.h> macros before <mpfr.h>; two 32-bit halves avoid that.
  mpfr_set_ui(out, static_cast<unsigned long>(top >> 32), MPFR_RNDN);
  mpfr_mul_2ui(out, out, 32, MPFR_RNDN);
  mpfr_add_ui(out, out, static_cast<unsigned long>(top & 0xFFFFFFFFu), MPFR_RNDN);
  mpfr_div_2ui(out, out, 53, MPFR_RNDN);
}

}  // namespace

std::vector<std::string> initial_weights(init_scheme scheme, std::string_view scale,
                                         std::size_t units, std::size_t fan_in,
                                         std::uint64_t seed) {
  std::mt19937_64 generator(seed);
  mpfr_number bound;  // a of uniform(a), s of normal(s)
  switch (scheme) {
    case init_scheme::xavier:
      mpfr_set_ui(bound.get(), 6, MPFR_RNDN);
      mpfr_div_ui(bound.get(), bound.get(), static_cast<unsigned long>(fan_in + units), MPFR_RNDN);
      mpfr_sqrt(bound.get(), bound.get(), MPFR_RNDN);
      break;
    case init_scheme::he:
      mpfr_set_ui(bound.get(), 2, MPFR_RNDN);
      mpfr_div_ui(bound.get(), bound.get(), static_cast<unsigned long>(fan_in), MPFR_RNDN);
      mpfr_sqrt(bound.get(), bound.get(), MPFR_RNDN);
      break;
    case init_scheme::uniform:
    case init_scheme::normal:
      parse_mpfr(bound.get(), scale);
      break;
  }
  const bool gaussian = scheme == init_scheme::he || scheme == init_scheme::normal;
  const number_format rounded = number_format::significant(init_digits);
  mpfr_number u;
  mpfr_number v;
  mpfr_number w;
  std::vector<std::string> out;
  out.reserve(units * fan_in);
  for (std::size_t k = 0; k < units * fan_in; ++k) {
    unit_draw(u.get(), generator());
    if (gaussian) {
      unit_draw(v.get(), generator());
      // sqrt(-2 ln(1 - u1)): 1 - u1 is in (0, 1], so the logarithm is finite.
      mpfr_ui_sub(w.get(), 1, u.get(), MPFR_RNDN);
      mpfr_log(w.get(), w.get(), MPFR_RNDN);
      mpfr_mul_si(w.get(), w.get(), -2, MPFR_RNDN);
      mpfr_sqrt(w.get(), w.get(), MPFR_RNDN);
      mpfr_const_pi(u.get(), MPFR_RNDN);
      mpfr_mul(v.get(), v.get(), u.get(), MPFR_RNDN);
      mpfr_mul_2ui(v.get(), v.get(), 1, MPFR_RNDN);
      mpfr_cos(v.get(), v.get(), MPFR_RNDN);
      mpfr_mul(w.get(), w.get(), v.get(), MPFR_RNDN);
    } else {
      // 2u - 1
      mpfr_mul_2ui(w.get(), u.get(), 1, MPFR_RNDN);
      mpfr_sub_ui(w.get(), w.get(), 1, MPFR_RNDN);
    }
    mpfr_mul(w.get(), w.get(), bound.get(), MPFR_RNDN);
    out.push_back(format_decimal(w.get(), rounded));
  }
  return out;
}

std::vector<std::size_t> shuffled_rows(std::size_t rows, std::uint64_t seed) {
  std::vector<std::size_t> order(rows);
  for (std::size_t r = 0; r < rows; ++r)
    order[r] = r;
  std::mt19937_64 generator(seed);
  for (std::size_t i = rows; i-- > 1;) {
    const auto bound = static_cast<std::uint64_t>(i) + 1;
    // 2^64 mod bound, computed in 64 bits: (2^64 - bound) mod bound.
    const std::uint64_t rest = (0 - bound) % bound;
    std::uint64_t x = generator();
    while (rest != 0 && x >= 0 - rest)
      x = generator();
    std::swap(order[i], order[static_cast<std::size_t>(x % bound)]);
  }
  return order;
}

dropout_mask_stream::dropout_mask_stream(std::uint64_t seed, std::size_t units,
                                         std::string_view rate)
    : seed_(seed), units_(units), generator_(seed), mask_(units, 1) {
  // rate = digits / 10^scale exactly; the threshold is ceil(digits * 2^53 / 10^scale).
  using boost::multiprecision::cpp_int;
  cpp_int digits = 0;
  long long scale = 0;
  bool fraction = false;
  std::size_t i = 0;
  for (; i < rate.size() && rate[i] != 'e' && rate[i] != 'E'; ++i) {
    if (rate[i] == '.') {
      fraction = true;
      continue;
    }
    if (rate[i] < '0' || rate[i] > '9')
      throw std::invalid_argument("dropout rate is not a decimal");
    digits = digits * 10 + (rate[i] - '0');
    if (fraction) ++scale;
  }
  if (i < rate.size()) scale -= std::stoll(std::string(rate.substr(i + 1)));
  cpp_int numerator = digits << 53;
  cpp_int denominator = 1;
  for (long long k = 0; k < scale; ++k)
    denominator *= 10;
  for (long long k = 0; k > scale; --k)
    numerator *= 10;
  const cpp_int threshold = (numerator + denominator - 1) / denominator;
  if (threshold > (cpp_int(1) << 53)) throw std::invalid_argument("dropout rate is not below 1");
  keep_threshold_ = threshold.convert_to<std::uint64_t>();
}

const std::vector<int>& dropout_mask_stream::mask(std::uint64_t step) {
  if (step != next_step_) {
    generator_.seed(seed_);
    generator_.discard((step - 1) * units_);
  }
  for (std::size_t i = 0; i < units_; ++i)
    mask_[i] = (generator_() >> 11) >= keep_threshold_ ? 1 : 0;
  next_step_ = step + 1;
  return mask_;
}

}  // namespace chainrule::lang::detail
