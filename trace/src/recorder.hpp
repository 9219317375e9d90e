// SPDX-License-Identifier: MIT
// The recorder behind record_*() and run(): analyses a graph once (which nodes are shown, which
// fold into which, named-level edges and their symbolic partials) and then records iterations from
// a view of the graph's numbers. The view lets the training run substitute local partials and
// adjoints (the sequential update order recomputes them with already updated weights).
// Internal to the trace library.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "builder.hpp"
#include "chainrule/engine/graph.hpp"
#include "chainrule/trace/document.hpp"
#include "chainrule/trace/record.hpp"

namespace chainrule::trace::detail {

inline constexpr std::uint32_t none = UINT32_MAX;
/// Beyond this many internal paths between two named quantities the symbolic partial is left out
/// (its value is still there): a sum of more terms is no help in a worked example.
inline constexpr std::size_t max_symbolic_terms = 64;

/// Where the recorder reads local partials and adjoints.
template <real_number Real>
struct view {
  const graph<Real>* g = nullptr;
  /// Per node, a replacement for graph::partials(node), or nullptr; empty: none replaced.
  std::span<const Real* const> partial_override;
  /// Adjoints indexed by node instead of graph::adjoint; nullptr: the graph's.
  const Real* adjoints = nullptr;
  bool has_gradients = false;

  const Real& partial(std::size_t node, std::size_t k) const {
    if (!partial_override.empty() && partial_override[node] != nullptr)
      return partial_override[node][k];
    return g->partials(static_cast<node_id>(node))[k];
  }
  const Real& adjoint(std::size_t node) const {
    if (adjoints != nullptr) return adjoints[node];
    return g->adjoint(static_cast<node_id>(node));
  }
};

/// The view of a graph as it stands: its own partials, and its adjoints if its last backward()
/// was from `loss`.
template <real_number Real>
view<Real> graph_view(const graph<Real>& g, std::uint32_t loss) {
  view<Real> v;
  v.g = &g;
  const auto root = g.gradient_root();
  v.has_gradients = root.has_value() && static_cast<std::uint32_t>(*root) == loss;
  return v;
}

/// An expression with the engine node behind each of its nodes.
struct sourced_expression {
  expression expr;
  std::vector<std::int64_t> sources;
};

template <real_number Real>
class recorder {
 public:
  recorder(const graph<Real>& g, node_id loss, const std::vector<node_id>& targets,
           const std::vector<node_id>& parameters, const number_format& display,
           unsigned exact_digits = 0);

  const graph<Real>& source_graph() const { return *g_; }
  std::uint32_t loss() const { return loss_; }
  /// Trained parameters, output layer first.
  const std::vector<std::uint32_t>& parameters() const { return parameters_; }
  std::uint32_t rank(std::uint32_t node) const { return rank_[node]; }
  const number_format& display() const { return display_; }
  bool is_relevant(std::uint32_t node) const { return relevant_[node] != 0; }
  bool is_target(std::uint32_t node) const { return target_[node] != 0; }
  /// Forward-pass lines for the graph's current values.
  std::vector<forward_step> forward_steps() const;

  number num(const Real& x) const;
  /// The document without iterations.
  document model(const record_options& options) const;
  snapshot take_snapshot() const;
  /// Everything but the updates.
  iteration record(const view<Real>& v, std::uint64_t index);
  /// Chain-rule steps (helpers first) giving d loss / d p for each p of `params`.
  std::vector<gradient_step> chain_steps(const view<Real>& v,
                                         std::span<const std::uint32_t> params);
  /// d top / d wrt in symbols, with values, through the unnamed nodes below `top` (which may itself
  /// be unnamed); empty if wrt is not reached or the form is too large.
  expression local_partial_form(std::uint32_t top, std::uint32_t wrt);
  /// Fills node values of an expression from the graph as it is now.
  expression with_values(const sourced_expression& e) const;

 private:
  struct local_forms {
    sourced_expression formula;
    std::vector<std::pair<std::uint32_t, sourced_expression>>
        partials;  // by boundary node, ascending
  };
  struct edge_ref {
    std::uint32_t from;
    std::uint32_t to;
  };

  bool is_shown(std::uint32_t i) const { return shown_[i] != 0; }
  bool is_literal(std::uint32_t i) const { return literal_[i] != 0; }
  std::string literal_text(std::uint32_t i) const;
  Real literal_value(const expression_builder& b, std::uint32_t node) const;

  void collect_subtree(std::uint32_t top, std::vector<std::uint32_t>& nodes,
                       std::vector<std::uint32_t>& boundary);
  local_forms build_local(std::uint32_t top);
  /// Named-level local partial values of every edge, by the view's partials.
  void edge_values(const view<Real>& v, std::vector<Real>& out);
  std::uint32_t edge_index(std::uint32_t from, std::uint32_t to) const;
  bool is_unit(std::uint32_t edge) const;
  std::vector<std::uint32_t> relevant_out(std::uint32_t node) const;

  // chain building
  struct chain_context;
  factor link_factor(const chain_context& c, std::uint32_t edge, std::uint32_t of) const;
  std::vector<factor> link_factors(const chain_context& c,
                                   const std::vector<std::uint32_t>& top_down) const;
  std::uint32_t ensure_sum_step(chain_context& c, std::uint32_t m);
  bool reaches(std::uint32_t from, std::uint32_t target, std::uint32_t except_edge) const;

  const graph<Real>* g_;
  std::uint32_t loss_;
  std::size_t n_;
  number_format display_;
  number_format exact_format_;
  std::vector<char> shown_, literal_, relevant_, target_;
  std::vector<std::uint32_t> owner_, rank_;
  std::vector<std::uint32_t> computed_;  // shown computed nodes, ascending
  std::vector<std::uint32_t>
      sub_begin_;  // CSR over computed_: subtree nodes, descending, top first
  std::vector<std::uint32_t> sub_nodes_;
  std::vector<edge_ref> edges_;  // named level, by (to, from)
  std::vector<sourced_expression> edge_forms_;
  std::vector<sourced_expression> formulas_;           // parallel to computed_
  std::vector<std::vector<std::uint32_t>> out_edges_;  // per node, named-level edges leaving it
  std::vector<std::uint32_t> parameters_;
  std::vector<std::uint32_t> stamp_;
  std::uint32_t stamp_value_ = 0;
  std::vector<Real> work_;
  Real scratch_;
  /// While record() runs: every node's value, formatted once (the graph does not change meanwhile).
  const std::vector<number>* formatted_ = nullptr;
};

extern template class recorder<double>;
extern template class recorder<mp_real>;

/// A LaTeX symbol for a quantity: the model's symbol, or the name with its first underscore made a
/// subscript ("out_h1" -> "out_{h1}") and any further underscores escaped.
std::string latex_symbol(const quantity& q, quantity_index index);

}  // namespace chainrule::trace::detail
