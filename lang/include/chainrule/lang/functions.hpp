// SPDX-License-Identifier: MIT
// The built-in functions and optimizers the language knows, with their argument forms. This is
// the front end's own table (no engine dependency); lowering maps each name to an engine op.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace chainrule::lang {

/// How a function's result shape follows from its arguments.
enum class function_shape : std::uint8_t {
  elementwise,  ///< scalar function applied to each element (arguments broadcast together)
  reduction,    ///< all arguments flattened into one list, scalar result (sum, logsumexp)
  vector,       ///< all arguments flattened, one result per element (softmax, log_softmax)
  loss,         ///< a loss or penalty: expands to a scalar formula over its arguments' elements
};

struct parameter_info {
  std::string_view name;
  /// Empty when the argument is required. Parameters with a default may also be passed as
  /// `name = value` (the only keyword arguments the language has).
  std::string_view default_value;
  /// The argument must be a number literal (possibly negated), e.g. leaky_relu's alpha, which
  /// the engine takes as a fixed coefficient rather than a graph node.
  bool literal_only = false;
};

struct function_info {
  std::string_view name;
  function_shape shape = function_shape::elementwise;
  std::span<const parameter_info> parameters;  ///< empty for variadic functions
  bool variadic = false;                       ///< one or more arguments of any shape
  std::string_view form;                       ///< how to call it, for "expected" notes
};

/// The built-in functions, in documentation order.
[[nodiscard]] std::span<const function_info> functions() noexcept;
[[nodiscard]] const function_info* find_function(std::string_view name) noexcept;

/// Constraint on an optimizer argument's value, checked on the decimal text.
enum class value_range : std::uint8_t {
  positive,       ///< > 0
  unit_interval,  ///< >= 0 and < 1
};

struct optimizer_parameter {
  std::string_view name;
  std::string_view default_value;
  value_range range = value_range::positive;
};

struct optimizer_info {
  std::string_view name;
  std::span<const optimizer_parameter> parameters;
  std::string_view form;  ///< e.g. "adam(lr = 0.001, beta1 = 0.9, beta2 = 0.999, eps = 1e-8)"
};

[[nodiscard]] std::span<const optimizer_info> optimizers() noexcept;
[[nodiscard]] const optimizer_info* find_optimizer(std::string_view name) noexcept;

/// Activations a `dense` layer accepts besides the elementwise one-argument functions.
inline constexpr std::string_view linear_activation = "linear";

}  // namespace chainrule::lang
