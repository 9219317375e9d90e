// SPDX-License-Identifier: MIT
#include "chainrule/trace/show.hpp"

#include <map>
#include <string_view>
#include <utility>

#include "chainrule/engine/derive.hpp"
#include "chainrule/engine/symbolic.hpp"

namespace chainrule::trace {

template <real_number Real>
shown_derivative show_derivative(graph<Real>& g, std::size_t quantities, node_id of,
                                 std::span<const node_id> wrt, std::string written,
                                 const number_format& display, unsigned exact_digits,
                                 std::uint64_t max_size) {
  shown_derivative out;
  out.written = std::move(written);
  out.of = static_cast<quantity_index>(of);
  var<Real> d(&g, of);
  for (node_id x : wrt) {
    out.wrt.push_back(static_cast<quantity_index>(x));
    d = derive(g, d, var<Real>(&g, x));
  }
  // expand_named_root = false: a derivative that is an existing node (d net_o1/d w5 is out_h1)
  // reads as its name, as in `chainrule derive`.
  symbolic::expression e = symbolic::simplify(symbolic::expression_of(g, d.id(), false));
  if (const std::uint64_t size = symbolic::printed_size(e); size > max_size) {
    throw shown_too_large("written out, its simplified form has " + std::to_string(size) +
                          " numbers, names and operations, more than the " +
                          std::to_string(max_size) + " allowed");
  }
  out.text = symbolic::to_text(e);

  std::map<std::string, quantity_index, std::less<>> by_name;
  const std::size_t known = std::min(quantities, g.size());
  for (std::size_t i = 0; i < known; ++i) {
    const std::string_view name = g.name(static_cast<node_id>(i));
    if (!name.empty()) by_name.emplace(std::string(name), static_cast<quantity_index>(i));
  }
  std::map<quantity_index, std::size_t> placeholder;
  for (symbolic::node& n : e.nodes) {
    if (n.type != symbolic::kind::symbol) continue;
    const auto found = by_name.find(n.name);
    if (found == by_name.end()) continue;  // not a document quantity: keep its own LaTeX name
    auto [at, added] = placeholder.emplace(found->second, out.symbols.size() + 1);
    if (added) out.symbols.push_back(found->second);
    n.latex_name = "#" + std::to_string(at->second);
  }
  out.latex = symbolic::to_latex(e);
  const unsigned digits = exact_digits == 0 ? g.digits() : exact_digits;
  out.value = {g.format(d.value(), number_format::significant(static_cast<int>(digits))),
               g.format(d.value(), display)};
  return out;
}

template shown_derivative show_derivative<double>(graph<double>&, std::size_t, node_id,
                                                  std::span<const node_id>, std::string,
                                                  const number_format&, unsigned, std::uint64_t);
template shown_derivative show_derivative<mp_real>(graph<mp_real>&, std::size_t, node_id,
                                                   std::span<const node_id>, std::string,
                                                   const number_format&, unsigned, std::uint64_t);

}  // namespace chainrule::trace
