// SPDX-License-Identifier: MIT
// `show d(E_total)/d(w5)`: a symbolic derivative made by derive() and simplify(), written into the
// document as plain text, as LaTeX with placeholders for the quantities, and as a number.
#pragma once

#include <span>
#include <string>

#include "chainrule/engine/decimal.hpp"
#include "chainrule/engine/graph.hpp"
#include "chainrule/engine/mpfr.hpp"
#include "chainrule/trace/document.hpp"

namespace chainrule::trace {

/// d^n(of)/d(wrt[0])...d(wrt[n-1]) of `g` at its current values (forward() must be current).
///
/// derive() appends nodes to `g`, so `g` must not be the graph the document was recorded from:
/// pass a second lowering of the same model, whose nodes below `quantities` are the document's
/// quantities with the same ids. Named nodes among them become quantity references in
/// shown_derivative::latex; `written` is stored as given. `exact_digits` is as
/// record_options::exact_digits (0: the graph's precision).
template <real_number Real>
shown_derivative show_derivative(graph<Real>& g, std::size_t quantities, node_id of,
                                 std::span<const node_id> wrt, std::string written,
                                 const number_format& display, unsigned exact_digits = 0);

extern template shown_derivative show_derivative<double>(graph<double>&, std::size_t, node_id,
                                                         std::span<const node_id>, std::string,
                                                         const number_format&, unsigned);
extern template shown_derivative show_derivative<mp_real>(graph<mp_real>&, std::size_t, node_id,
                                                          std::span<const node_id>, std::string,
                                                          const number_format&, unsigned);

}  // namespace chainrule::trace
