// SPDX-License-Identifier: MIT
// Building trace expressions: a flat node list that children are appended to before their parents,
// with the engine node each expression node stands for, so values can be filled in afterwards.
// Internal to the trace library.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "chainrule/engine/op.hpp"
#include "chainrule/trace/document.hpp"

namespace chainrule::trace::detail {

inline constexpr std::int64_t no_source = -1;

/// An expression under construction. Nodes may be shared by several parents (a quantity used
/// twice is one node), which keeps formulas of graphs with shared intermediates linear in size.
class expression_builder {
 public:
  std::uint32_t quantity(quantity_index q);
  /// `source`: the engine constant the literal stands for, or no_source for a number written in a
  /// template ("2" in "#2*#1^(#2 - 1)").
  std::uint32_t literal(std::string text, std::int64_t source = no_source);
  std::uint32_t symbol(std::string text, std::string latex, number value);
  std::uint32_t derivative(quantity_index of, quantity_index wrt, number value);
  /// An op application with the op's own templates.
  std::uint32_t apply(op o, std::vector<std::uint32_t> args, std::int64_t source = no_source);
  /// An op application with explicit templates (derivative templates that are not themselves ops).
  std::uint32_t apply_template(std::string name, std::string text, std::string latex,
                               layout notation, int precedence, std::vector<std::uint32_t> args,
                               std::optional<std::uint32_t> self,
                               std::optional<std::uint32_t> selected);

  /// Copies a finished expression in (values included) and returns its root here.
  std::uint32_t append(const expression& e);

  const expr_node& at(std::uint32_t i) const { return nodes_[i]; }
  std::int64_t source(std::uint32_t i) const { return sources_[i]; }
  std::size_t size() const { return nodes_.size(); }

  /// True if node i is a literal whose text is exactly `text`.
  bool is_literal(std::uint32_t i, std::string_view text) const;

  /// The part of the builder reachable from `root`, compacted (root last), with the engine node
  /// of every kept node in `sources` (parallel to the result's nodes).
  expression extract(std::uint32_t root, std::vector<std::int64_t>* sources = nullptr) const;

 private:
  std::uint32_t push(expr_node node, std::int64_t source);

  std::vector<expr_node> nodes_;
  std::vector<std::int64_t> sources_;
};

/// A parsed derivative template (partial_text of an op), ready to instantiate. Parsing handles the
/// arithmetic the op table uses (+ - * / ^, unary minus, parentheses, numbers, #0 #1 #2 #k, and
/// one-argument functions that are ops); anything else (comparisons, cases, sign) is kept whole as
/// one template node.
struct parsed_template {
  struct node {
    enum class kind : std::uint8_t { placeholder, number, apply } what = kind::number;
    char placeholder = '0';  ///< '0', '1', '2' or 'k'
    std::string text;        ///< number
    op operation = op::add;  ///< apply (op::pow stands for either power)
    std::vector<std::uint32_t> children;
  };
  bool ok = false;
  std::vector<node> nodes;  ///< children before parents; root last
};

parsed_template parse_template(std::string_view text);

/// Instantiates a partial-derivative template of op `o` for input `k` into `b`. `self` is what #0
/// stands for, `inputs` what #1, #2, ... stand for. Integer arithmetic on literals is folded
/// (2 - 1 -> 1), x^1 -> x and factors of 1 are dropped.
std::uint32_t instantiate_partial(expression_builder& b, op o, std::size_t k, std::uint32_t self,
                                  std::span<const std::uint32_t> inputs);

/// A signed product of expression nodes: sign * factors[0] * factors[1] * ...
struct product {
  int sign = 1;
  std::vector<std::uint32_t> factors;
};

/// Splits node `root` into its top-level factors: multiplications and negations are taken apart,
/// literals 1 dropped and -1 folded into the sign. Only nodes made at or after `first` are taken
/// apart: a substituted subexpression (an expanded intermediate) stays one factor, which keeps the
/// work per template independent of how deep the graph below it is.
product split_factors(const expression_builder& b, std::uint32_t root, std::uint32_t first = 0);

/// Builds `terms[0] + terms[1] - ...` (a negative term is subtracted, a lone negative one negated).
/// An empty sum is the literal 0, an empty product the literal 1.
std::uint32_t emit_sum(expression_builder& b, std::span<const product> terms);

}  // namespace chainrule::trace::detail
