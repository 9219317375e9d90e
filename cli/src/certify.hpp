// SPDX-License-Identifier: MIT
// Certified digits (`chainrule run --certify`): the same model run at rising precision, and every
// number shown compared between consecutive runs. docs/certify.md says why this and not
// interval arithmetic, and what the guarantee is.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "chainrule/trace/document.hpp"

namespace chainrule::cli {

/// Two runs of one model compared number by number: `lower` computed with fewer digits than
/// `higher`.
struct precision_comparison {
  /// False when something other than a number differs (another number of recorded updates,
  /// another predicted class): then the runs took different courses and `numbers` and
  /// `uncertified` are not meaningful.
  bool same_shape = true;
  /// When !same_shape: where the documents first differ, as a JSON pointer with both values.
  std::string shape_difference;
  std::uint64_t numbers = 0;      ///< numbers compared (values that exist in both runs)
  std::uint64_t uncertified = 0;  ///< of them, those this pair of runs does not certify
  /// The first few uncertified numbers: "/iterations/0/gradients/3: 0.13 and 0.12".
  std::vector<std::string> examples;
};

/// How many examples precision_comparison keeps.
inline constexpr std::size_t comparison_examples = 5;

/// Compares every number of `higher` with the same number of `lower`. A number is certified when
/// both runs show the same text and either their exact texts are equal (the result did not move
/// when the precision grew: it is exact) or `higher`'s value is further from the nearest rounding
/// boundary of the display setting than twice the distance between the two values (that distance
/// bounds the error of the less precise run; the more precise run's error is far smaller). The
/// exact texts must carry digits beyond each run's precision (record_options::exact_digits), or
/// a rounding error would hide behind their last digit. With `mark`, every number of `higher` that
/// is not certified is replaced by the digits both runs share, followed by "…" (U+2026).
precision_comparison compare_runs(trace::document& higher, const trace::document& lower, bool mark);

/// Numbers whose shown text differs between two runs (for example what double precision prints
/// against the certified digits), with `first` the run named first in the examples.
precision_comparison shown_differences(const trace::document& first, const trace::document& second);

/// The digits `a` and `b` (exact decimal texts of one number from two runs) share, cut to what
/// `display` would show, followed by "…"; "…" alone when they share no digit.
std::string shared_digits(const std::string& a, const std::string& b,
                          const trace::display_format& display);

}  // namespace chainrule::cli
