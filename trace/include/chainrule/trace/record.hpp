// SPDX-License-Identifier: MIT
// Filling a trace document from an engine graph.
//
// The recorder reads the graph only through its public read API (values, local partials, adjoints,
// names) after the caller's forward() and backward(loss). Unnamed intermediates fold into the named
// quantity that consumes them, so a worked example talks about net_h1, out_h1, E_o1 and not about
// engine nodes; the engine nodes stay in the document for exporters that draw every one.
//
// Implemented for graph<double> and graph<mp_real> (explicitly instantiated in the library).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "chainrule/engine/decimal.hpp"
#include "chainrule/engine/graph.hpp"
#include "chainrule/engine/mpfr.hpp"
#include "chainrule/trace/document.hpp"

namespace chainrule::trace {

/// What the graph alone cannot say.
struct record_options {
  std::string title;
  std::string source = "C++ API";
  /// How `number::shown` is rounded; `number::exact` has the graph's full precision (or
  /// exact_digits).
  number_format display = number_format::decimals(9);
  /// Inputs that are targets (t1, t2): shown as such and used by the perceptron rule.
  std::vector<node_id> targets;
  /// Parameters that are trained, in any order; empty means every op::parameter leaf.
  std::vector<node_id> parameters;
  /// Significant digits of `number::exact` (settings::digits); 0: the graph's precision. More
  /// digits than the graph computes with show its binary rounding error, which certification
  /// (cli/src/certify.hpp) needs to see.
  unsigned exact_digits = 0;
};

/// The part of a document that does not change with the values: title, precision and display
/// settings, quantities (names, kinds, formulas, ranks, folding), edges with their symbolic
/// partials, given/computed/parameter lists. No iterations, an empty history.
template <real_number Real>
document record_model(const graph<Real>& g, node_id loss, const record_options& options);

/// Every value of the graph as it is now.
template <real_number Real>
snapshot record_snapshot(const graph<Real>& g, const document& model);

/// One iteration as the graph is now: values, forward steps, and, if the graph's last backward()
/// was from the model's loss, the gradients, the named-level edge partials and the chain-rule steps
/// for every trained parameter. `index` is stored as iteration::index. Updates are left empty (the
/// training run fills them).
template <real_number Real>
iteration record_iteration(const graph<Real>& g, const document& model, std::uint64_t index);

/// record_model + record_iteration(1) + a one-entry loss history and final_state = the current
/// values: the worked example of one forward and backward pass without training.
template <real_number Real>
document record(const graph<Real>& g, node_id loss, const record_options& options);

/// `number_format` as stored in settings::display.
display_format describe_display(const number_format& f);

#define CHAINRULE_TRACE_RECORD_EXTERN(Real)                                                        \
  extern template document record_model<Real>(const graph<Real>&, node_id, const record_options&); \
  extern template snapshot record_snapshot<Real>(const graph<Real>&, const document&);             \
  extern template iteration record_iteration<Real>(const graph<Real>&, const document&,            \
                                                   std::uint64_t);                                 \
  extern template document record<Real>(const graph<Real>&, node_id, const record_options&);
CHAINRULE_TRACE_RECORD_EXTERN(double)
CHAINRULE_TRACE_RECORD_EXTERN(mp_real)
#undef CHAINRULE_TRACE_RECORD_EXTERN

}  // namespace chainrule::trace
