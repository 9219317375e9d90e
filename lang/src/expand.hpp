// SPDX-License-Identifier: MIT
// Shape inference and expansion of vector/matrix expressions into scalar expressions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "chainrule/lang/ast.hpp"
#include "chainrule/lang/diagnostics.hpp"
#include "source_text.hpp"

namespace chainrule::lang::detail {

/// A vector or matrix may have at most this many elements; expanding it creates one scalar per
/// element, so this bounds the model's size.
inline constexpr std::size_t max_elements = 1'000'000;

/// What a name in an expression refers to: the declared or computed quantity `base` with its
/// full shape, and the indices already fixed by the name itself (`x_2` fixes {2} of `x`).
struct resolved_name {
  std::string base;
  std::vector<std::size_t> shape;
  std::vector<std::uint32_t> fixed;
};

/// Returns nullopt for names that do not resolve; the resolver reports that itself (or knows it
/// has been reported), using the location of the name's node.
using name_resolver =
    std::function<std::optional<resolved_name>(std::string_view, const source_location&)>;

/// `W_1_2` for base W and indices {1, 2}; the base itself for no indices.
[[nodiscard]] std::string element_name(std::string_view base,
                                       std::span<const std::uint32_t> indices);

/// Row-major multi-indices (1-based) of every element of a shape; one empty index for a scalar.
[[nodiscard]] std::vector<std::vector<std::uint32_t>> all_indices(
    std::span<const std::size_t> shape);

[[nodiscard]] std::size_t element_count(std::span<const std::size_t> shape) noexcept;

/// "a scalar", "a vector of 2 elements", "a 2x3 matrix"
[[nodiscard]] std::string describe_shape(std::span<const std::size_t> shape);

struct expansion {
  std::vector<std::size_t> shape;  ///< empty for a scalar
  std::vector<expr_id> elements;   ///< one scalar expression per element, row-major, in `out`
};

/// Expands the expression at `root` of `in` into scalar expressions appended to `out`. Function
/// calls come out in canonical form: positional arguments only, defaults filled in. Shape errors
/// are appended to `errors`; then the result is nullopt.
[[nodiscard]] std::optional<expansion> expand(const expression_arena& in, expr_id root,
                                              expression_arena& out, const name_resolver& resolve,
                                              const source_text& src,
                                              std::vector<diagnostic>& errors);

}  // namespace chainrule::lang::detail
