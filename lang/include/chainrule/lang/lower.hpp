// SPDX-License-Identifier: MIT
// Lowering a checked model to an engine graph.
#pragma once

#include <chainrule/engine/engine.hpp>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chainrule/lang/model.hpp"

namespace chainrule::lang {

/// The engine graph of a model, every named quantity findable by name, plus the settings the
/// file asked for.
template <class Real>
struct lowered_model {
  /// Owned through a pointer because graphs are neither copyable nor movable (vars point at
  /// them).
  std::unique_ptr<chainrule::graph<Real>> graph;
  /// Every scalar declaration and equation of the model, by name (targets are graph inputs).
  std::map<std::string, chainrule::node_id, std::less<>> nodes;
  /// Leaves by kind, in declaration order.
  std::vector<chainrule::node_id> inputs;
  std::vector<chainrule::node_id> targets;
  std::vector<chainrule::node_id> params;
  std::vector<chainrule::node_id> constants;
  /// The quantity to minimise or differentiate.
  chainrule::node_id objective{};

  precision_setting precision;
  display_setting display;
  std::optional<train_setting> train;
  std::optional<differentiate_setting> differentiate;
  std::vector<data_set> data_sets;

  /// The node named `name`; throws std::out_of_range if the model has no such quantity.
  [[nodiscard]] chainrule::node_id node(std::string_view name) const;
  [[nodiscard]] const Real& value(std::string_view name) const { return graph->value(node(name)); }
  /// A value printed the way the file's `display` directive asks.
  [[nodiscard]] std::string format(const Real& x) const {
    return graph->format(x, display_format());
  }
  /// The `display` directive as an engine number format.
  [[nodiscard]] chainrule::number_format display_format() const;
};

/// Builds the graph of `model`: inputs and targets become engine inputs, params parameters,
/// consts named constants, and each equation a named node (an equation that merely renames
/// another quantity, `y = x`, becomes a one-input sum so that both names exist). Literals become
/// constants from their exact decimal text, so `1/2` is exactly one half at any precision; `x^n`
/// with an integer literal n becomes the integer-power op; `softmax(...)[k]` equations with the
/// same arguments share one softmax group. Values are computed as the graph is built.
///
/// Real is double or chainrule::mp_real; mp_real graphs get model.precision.digits digits.
/// Throws model_error (at the equation's location) when a value cannot be computed, e.g. log of
/// a negative number.
template <class Real>
[[nodiscard]] lowered_model<Real> lower(const checked_model& model);

extern template struct lowered_model<double>;
extern template struct lowered_model<chainrule::mp_real>;
extern template lowered_model<double> lower<double>(const checked_model&);
extern template lowered_model<chainrule::mp_real> lower<chainrule::mp_real>(const checked_model&);

}  // namespace chainrule::lang
