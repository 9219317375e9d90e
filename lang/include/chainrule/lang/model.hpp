// SPDX-License-Identifier: MIT
// The checked model: what check() makes of a program. Vectors, matrices and layers are expanded
// into named scalars here, so consumers only ever see scalar declarations and equations.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chainrule/lang/ast.hpp"
#include "chainrule/lang/diagnostics.hpp"

namespace chainrule::lang {

/// Working precision. Defaults to 50 significant decimal digits when the file says nothing.
struct precision_setting {
  bool binary_double = false;
  unsigned digits = 50;  ///< significant decimal digits; 17 when binary_double
  source_location location;
};

inline constexpr unsigned min_precision_digits = 10;
inline constexpr unsigned max_precision_digits = 10000;

/// How numbers are printed. Defaults to 9 decimals, half-even, trailing zeros stripped.
struct display_setting {
  display_unit unit = display_unit::decimals;
  unsigned count = 9;
  rounding_mode rounding = rounding_mode::half_even;
  bool keep_zeros = false;
  /// The most significant digits a number is shown with (number_format::max_significant); 0: the
  /// working precision's digits. A --certify run sets the model's own while it raises the
  /// precision, so that every level shows the same digits.
  unsigned max_significant = 0;
  source_location location;
};

/// One scalar input, target, param or const. Elements of a vector or matrix declaration are
/// separate scalars named `x_1`, `W_1_2`; `group` and `indices` say where they came from.
struct scalar_declaration {
  declaration_kind kind = declaration_kind::input;
  std::string name;
  std::string value;  ///< exact decimal text, possibly with a leading '-'
  source_location location;
  std::string group;                   ///< the name as declared ("W" for W_1_2)
  std::vector<std::uint32_t> indices;  ///< 1-based; empty for a scalar declaration
};

/// One scalar equation `name = value`, its expression in checked_model::expressions.
struct scalar_equation {
  std::string name;
  expr_id value = 0;
  source_location location;
  std::string group;  ///< the name on the left as written ("h" for h_2)
  std::vector<std::uint32_t> indices;
};

struct named_decimal {
  std::string name;
  std::string value;
};

/// An optimizer with every argument filled in (defaults included), in documented order.
struct optimizer_setting {
  std::string name;
  std::vector<named_decimal> arguments;
  source_location location;

  /// The argument's decimal text; empty if the optimizer has no such argument.
  [[nodiscard]] std::string_view argument(std::string_view argument_name) const noexcept;
};

/// Which training steps get a full trace (steps are 1-based). Without a `trace` clause the
/// first and the last step are traced.
struct trace_setting {
  bool first = true;
  bool last = true;
  bool all = false;
  std::uint64_t every = 0;           ///< 0: not used
  std::vector<std::uint64_t> steps;  ///< explicit step numbers, ascending, no duplicates

  [[nodiscard]] bool selects(std::uint64_t step, std::uint64_t total_steps) const noexcept;
};

inline constexpr std::uint64_t max_training_steps = 1'000'000'000;

/// `validate on DATA [every K steps|epochs] [patience P] [restore best]` on the train line.
struct validation_setting {
  std::string data_set;
  /// Updates between validations, as written: `every_count` steps or epochs; 0 when not written
  /// (every epoch with a training data set, every step without one).
  std::uint64_t every_count = 0;
  step_unit every_unit = step_unit::steps;
  std::uint64_t patience = 0;  ///< 0: record the curve only, never stop early
  bool restore_best = false;
  source_location location;  ///< the data set's name on the train line
};

struct train_setting {
  std::string objective;  ///< a scalar equation's name
  optimizer_setting optimizer;
  std::uint64_t count = 1;  ///< number of steps or epochs, see unit
  step_unit unit = step_unit::steps;
  std::optional<std::string> data_set;  ///< with a data set, each step uses the next row
  update_order order = update_order::simultaneous;
  trace_setting trace;
  /// Rows per update (1: per sample); 0 for `batch full`, every row of the data set.
  std::uint64_t batch_size = 1;
  batch_reduction reduction = batch_reduction::sum;
  std::optional<validation_setting> validation;
  source_location location;
};

/// `evaluate NAME on DATA`, run after training with the trained parameters.
struct evaluate_setting {
  std::string quantity;              ///< NAME as written
  std::vector<std::string> outputs;  ///< its scalar equations (elements in index order)
  std::string data_set;
  source_location location;
};

/// The most `d` factors one shown derivative may have (`d4(f)/d(x)^4`).
inline constexpr std::size_t max_show_order = 4;

/// One derivative of a `show` directive: d^n(of)/d(wrt[0])...d(wrt[n-1]), every name a scalar
/// (elements written out: `h_1`).
struct show_setting {
  std::string text;              ///< normalised: "d(E_total)/d(w5)", "d2(E_total)/d(w1)d(w2)"
  std::string of;                ///< a scalar equation
  std::vector<std::string> wrt;  ///< scalar declarations or equations, in the order written
  source_location location;
};

struct differentiate_setting {
  std::string objective;
  source_location location;
};

/// `d = dropout(h, rate = p, mask = [...])` or `dropout(h, rate = p, seed = N)`, which checks to
/// the consts `rate_d` and `mask_d...` and the equation `d = mask_d*h/(1 - rate_d)`. These are
/// the leaves a training run sets per update (dropout_control in dropout.hpp).
struct dropout_setting {
  std::string name;  ///< d
  source_location location;
  std::string rate;                      ///< p as written
  std::string rate_constant;             ///< "rate_d"
  std::vector<std::string> mask;         ///< the mask's scalar consts, row-major
  std::vector<std::string> mask_values;  ///< "1" or "0" each: as written, or update 1's draw
  std::optional<std::uint64_t> seed;     ///< set for a drawn mask, redrawn every update
};

/// A data set: rows of decimal strings, one column per scalar input or target.
struct data_set {
  std::string name;
  std::vector<std::string> columns;  ///< scalar input/target names
  std::vector<std::string> values;   ///< row-major, rows() * columns.size() entries
  std::vector<source_location> row_locations;
  std::string file;  ///< the resolved CSV path, empty for inline data
  source_location location;
  /// For a part of `split`: the data set it was cut from and, for a shuffled split, the seed;
  /// `source_rows` are its rows' 1-based numbers in that data set, in this set's order.
  std::string split_from;
  std::optional<std::uint64_t> split_seed;
  std::vector<std::uint64_t> source_rows;

  [[nodiscard]] std::size_t rows() const noexcept {
    return columns.empty() ? 0 : values.size() / columns.size();
  }
  [[nodiscard]] std::string_view value(std::size_t row, std::size_t column) const {
    return values[row * columns.size() + column];
  }
};

struct checked_model {
  std::string file_name;
  precision_setting precision;
  display_setting display;
  /// Scalar declarations in source order (elements row-major).
  std::vector<scalar_declaration> declarations;
  expression_arena expressions;
  /// Scalar equations in a valid evaluation order: each only uses declarations and equations
  /// before it. Independent equations keep their source order, so the order is deterministic.
  std::vector<scalar_equation> equations;
  /// LaTeX symbol per scalar name (raw text from `symbol` lines; a vector's symbol S gives its
  /// elements `{S}_{i}` / `{S}_{i,j}`).
  std::map<std::string, std::string, std::less<>> symbols;
  std::vector<data_set> data_sets;
  /// In source order.
  std::vector<dropout_setting> dropouts;
  /// Exactly one of these is set.
  std::optional<train_setting> train;
  std::optional<differentiate_setting> differentiate;
  std::vector<evaluate_setting> evaluations;  ///< in source order
  std::vector<show_setting> shows;            ///< every item of every `show`, in source order
  std::vector<diagnostic> warnings;

  [[nodiscard]] const std::string& objective() const;
  [[nodiscard]] const scalar_declaration* find_declaration(std::string_view name) const;
  [[nodiscard]] const scalar_equation* find_equation(std::string_view name) const;
  [[nodiscard]] const data_set* find_data_set(std::string_view name) const;
};

/// Checks a parsed program and expands it into a checked_model. Throws model_error with every
/// error found (several at once where the errors are independent); warnings that do not stop
/// the model end up in checked_model::warnings.
///
/// CSV files named by `data ... from "file.csv"` are read here, relative to the folder of
/// program::file_name.
[[nodiscard]] checked_model check(const program& p);

}  // namespace chainrule::lang
