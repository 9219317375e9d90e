// SPDX-License-Identifier: MIT
// Decimal literals as text: validation and comparison without ever going through a double.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace chainrule::lang::detail {

/// Exponents may have at most this many digits (1e999999999 is accepted, 1e9999999999 is not).
inline constexpr std::size_t max_exponent_digits = 9;

/// Why `text` is not an unsigned decimal literal
/// (`[0-9]+(\.[0-9]*)?([eE][+-]?[0-9]+)?` or `\.[0-9]+([eE][+-]?[0-9]+)?`), or nullopt if it is.
[[nodiscard]] std::optional<std::string> decimal_problem(std::string_view text);

/// The same with an optional leading '-' or '+'.
[[nodiscard]] std::optional<std::string> signed_decimal_problem(std::string_view text);

inline constexpr std::string_view decimal_expectation =
    "a decimal number such as 12, 0.5, .25 or 1e-3";

/// Value of a literal made only of digits, if it has at most 18 of them.
[[nodiscard]] std::optional<std::uint64_t> whole_number(std::string_view text) noexcept;

/// The integer value of a valid unsigned decimal literal such as "2", "2.0" or "2e0", if it is
/// an integer of magnitude below 10^18.
[[nodiscard]] std::optional<std::int64_t> integer_value(std::string_view text);

/// Three-way comparison of two valid signed decimal literals by value: -1, 0 or 1.
[[nodiscard]] int compare_decimals(std::string_view a, std::string_view b);

/// floor(fraction * n), exactly, for a valid unsigned decimal 0 <= fraction < 1 (a split ratio).
[[nodiscard]] std::uint64_t floor_times(std::string_view fraction, std::uint64_t n);

}  // namespace chainrule::lang::detail
