// SPDX-License-Identifier: MIT
// The operations a node can hold, and what each one means for display.
//
// This header is the source of truth for names, arities and symbolic forms; the matching value and
// partial-derivative kernels sit beside each entry's definition in ops.hpp. Exporters read only
// this table (no templates), so adding an op means one enum entry plus one struct in ops.hpp.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

namespace chainrule {

/// Index of a node in its graph: nodes are numbered in the order they were made, which is a
/// topological order (inputs always have smaller ids).
enum class node_id : std::uint32_t {};

enum class op : std::uint8_t {
  // leaves
  input,      ///< data fed in (features, targets); never updated by training
  parameter,  ///< trainable: an optimizer updates it
  constant,   ///< fixed number (biases held fixed, literals such as the 1/2 in 1/2*(t - y)^2)
  // arithmetic
  add,
  sub,
  mul,
  div,
  neg,
  pow,   ///< x^y with a real exponent: base must be positive
  powi,  ///< x^n with an integer constant exponent: any base
  // elementary functions
  exp,
  log,
  sqrt,
  abs,
  sin,
  cos,
  tanh,
  // activations
  sigmoid,
  relu,
  leaky_relu,  ///< (x, alpha)
  softplus,
  step,  ///< Heaviside, for perceptrons
  max,
  min,
  // groups
  sum,          ///< any number of inputs
  logsumexp,    ///< log(sum_j e^{x_j}), any number of inputs
  softmax,      ///< (x_i, logsumexp of the group): e^{x_i - lse}
  log_softmax,  ///< (x_i, logsumexp of the group): x_i - lse
};

inline constexpr std::size_t op_count = static_cast<std::size_t>(op::log_softmax) + 1;

/// How tightly an op binds when shown in a formula (higher binds tighter).
enum class precedence : std::uint8_t { additive = 1, multiplicative, unary, power, atom };

/// How the symbolic forms are laid out.
enum class notation : std::uint8_t { leaf, prefix, infix, function };

/// Everything about an op that does not depend on the number type.
///
/// Templates use placeholders: `#0` is the node itself, `#1` and `#2` its first and second input,
/// `#k` the input a partial belongs to (for ops with any number of inputs), `#*` all inputs
/// separated by commas.
struct op_info {
  std::string_view name;  ///< as in the language and in error messages
  int arity;              ///< number of inputs; -1 means one or more
  notation layout;
  precedence binding;
  std::string_view text;   ///< plain-text form of the value, e.g. "sigmoid(#1)"
  std::string_view latex;  ///< LaTeX form of the value, e.g. "\\sigma\\left(#1\\right)"
  std::array<std::string_view, 2> partial_text;   ///< d#0/d(input k), plain text
  std::array<std::string_view, 2> partial_latex;  ///< d#0/d(input k), LaTeX
  std::string_view convention;  ///< the choice made at non-differentiable points, if any
};

/// The table entry of an op.
const op_info& info(op o) noexcept;

/// Every op, in enum order.
std::span<const op_info> all_op_infos() noexcept;

/// Leaves have no inputs and are never recomputed.
constexpr bool is_leaf(op o) noexcept {
  return o == op::input || o == op::parameter || o == op::constant;
}

}  // namespace chainrule
