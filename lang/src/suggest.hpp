// SPDX-License-Identifier: MIT
// "did you mean ...?" suggestions.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace chainrule::lang::detail {

/// Optimal-string-alignment distance (Levenshtein plus adjacent transpositions).
[[nodiscard]] std::size_t edit_distance(std::string_view a, std::string_view b);

/// The candidate closest to `word` if it is close enough to be a plausible typo (distance at
/// most a third of the word's length, and at least 1). Ties go to the earliest candidate, so
/// callers pass candidates in a deterministic order.
[[nodiscard]] std::optional<std::string> closest(std::string_view word,
                                                 std::span<const std::string> candidates);
[[nodiscard]] std::optional<std::string> closest(std::string_view word,
                                                 std::span<const std::string_view> candidates);

}  // namespace chainrule::lang::detail
