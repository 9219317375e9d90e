// SPDX-License-Identifier: MIT
// `show d(E_total)/d(w5)`: a symbolic derivative made by derive() and simplify(), written into the
// document as plain text, as LaTeX with placeholders for the quantities, and as a number.
#pragma once

#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>

#include "chainrule/engine/decimal.hpp"
#include "chainrule/engine/graph.hpp"
#include "chainrule/engine/mpfr.hpp"
#include "chainrule/trace/document.hpp"

namespace chainrule::trace {

/// About 2 MB of text and 400 pages of LaTeX: a 64-32-10 net's d2(E)/d(W1_1_1)^2 is 93 pages, its
/// fourth derivative would be 400 MB.
inline constexpr std::uint64_t default_max_shown_size = 250'000;

/// A derivative too large to show; what() says how large and the limit.
class shown_too_large : public std::length_error {
 public:
  using std::length_error::length_error;
};

/// d^n(of)/d(wrt[0])...d(wrt[n-1]) of `g` at its current values (forward() must be current).
///
/// derive() appends nodes to `g`, so `g` must not be the graph the document was recorded from:
/// pass a second lowering of the same model, whose nodes below `quantities` are the document's
/// quantities with the same ids. Named nodes among them become quantity references in
/// shown_derivative::latex; `written` is stored as given. `exact_digits` is as
/// record_options::exact_digits (0: the graph's precision).
///
/// Throws shown_too_large, before anything is printed, when the simplified derivative written
/// out would have more than `max_size` numbers, names and operations (symbolic::printed_size).
template <real_number Real>
shown_derivative show_derivative(graph<Real>& g, std::size_t quantities, node_id of,
                                 std::span<const node_id> wrt, std::string written,
                                 const number_format& display, unsigned exact_digits = 0,
                                 std::uint64_t max_size = default_max_shown_size);

extern template shown_derivative show_derivative<double>(graph<double>&, std::size_t, node_id,
                                                         std::span<const node_id>, std::string,
                                                         const number_format&, unsigned,
                                                         std::uint64_t);
extern template shown_derivative show_derivative<mp_real>(graph<mp_real>&, std::size_t, node_id,
                                                          std::span<const node_id>, std::string,
                                                          const number_format&, unsigned,
                                                          std::uint64_t);

}  // namespace chainrule::trace
