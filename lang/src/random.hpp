// SPDX-License-Identifier: MIT
// Seeded random numbers for layer initialisation and dropout masks, specified down to the bit so
// that every platform draws the same weights and masks (docs/language.md, "Seeded
// initialisation" and "Dropout"). Nothing here uses the standard distributions, whose output the
// standard leaves to the implementation; only std::mt19937_64, whose sequence it fixes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace chainrule::lang::detail {

enum class init_scheme : std::uint8_t { xavier, he, uniform, normal };

/// Significant decimal digits of a drawn initial weight.
inline constexpr int init_digits = 4;

/// The initial weights of a dense layer with `units` rows and `fan_in` columns, row-major, each
/// the decimal text of the drawn value rounded to init_digits significant digits (half-even).
/// `scale` is the bound a of uniform(a) or the standard deviation s of normal(s), a positive
/// decimal literal; xavier and he ignore it.
///
/// The generator is std::mt19937_64 seeded with `seed`; a draw x becomes u = (x >> 11) / 2^53 in
/// [0, 1). uniform(a): w = a*(2u - 1), one draw per weight. normal(s): w = s*z with
/// z = sqrt(-2 ln(1 - u1)) * cos(2 pi u2), two draws (u1 first) per weight. xavier is
/// uniform(sqrt(6/(fan_in + units))), he is normal(sqrt(2/fan_in)). Computed with MPFR at 256
/// bits, then rounded once to decimal.
[[nodiscard]] std::vector<std::string> initial_weights(init_scheme scheme, std::string_view scale,
                                                       std::size_t units, std::size_t fan_in,
                                                       std::uint64_t seed);

/// The row order of `split ... shuffle seed S`: a Fisher-Yates shuffle of 0, 1, ..., rows - 1
/// driven by std::mt19937_64(seed). For i = rows - 1 down to 1 it draws j uniformly from
/// [0, i] and swaps entries i and j. The draw is portable and unbiased: with b = i + 1 and
/// r = 2^64 mod b, draws x >= 2^64 - r are rejected (the next draw is taken), and j = x mod b.
/// (std::shuffle and std::uniform_int_distribution leave this mapping to the implementation.)
[[nodiscard]] std::vector<std::size_t> shuffled_rows(std::size_t rows, std::uint64_t seed);

/// The seeded dropout masks of one dropout: for training update k (1-based) the generator
/// std::mt19937_64(seed) skips (k - 1)*n draws and draws n more; unit i is kept (mask 1) when
/// u_i = (x_i >> 11) / 2^53 >= rate, compared exactly, and dropped (mask 0) otherwise.
class dropout_mask_stream {
 public:
  /// `rate` is a decimal literal with 0 <= rate < 1.
  dropout_mask_stream(std::uint64_t seed, std::size_t units, std::string_view rate);

  /// The mask of update `step` (>= 1). Consecutive steps continue the stream; any other step
  /// restarts it from the seed, so the mask depends only on (seed, step).
  const std::vector<int>& mask(std::uint64_t step);

 private:
  std::uint64_t seed_;
  std::size_t units_;
  /// A draw is kept when (x >> 11) >= keep_threshold_ = ceil(rate * 2^53), the exact integer
  /// form of u >= rate.
  std::uint64_t keep_threshold_ = 0;
  std::mt19937_64 generator_;
  std::uint64_t next_step_ = 1;
  std::vector<int> mask_;
};

}  // namespace chainrule::lang::detail
