// SPDX-License-Identifier: MIT
// A node of a graph as a symbolic expression: simplified for display and printed as plain text,
// LaTeX or a C expression.
//
// expression_of() reads the graph from a node down to the named nodes and the leaves, which stay
// symbols: a derivative made by derive() reads -(t1 - out_o1)*out_o1*(1 - out_o1)*out_h1, not an
// expanded tree of exponentials. simplify() folds constants, drops neutral elements, applies
// absorbing ones and collects equal terms and equal factors. It never changes the value where the
// expression was defined, but it may cancel x/x (to 1), so the simplified form can be defined
// at points where the original was not.
//
// Every pass is a loop over the node array, which is ordered children first like the tape: no
// recursion, whatever the depth of the expression.
#pragma once

#include <boost/multiprecision/gmp.hpp>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "chainrule/engine/graph.hpp"

namespace chainrule::symbolic {

using rational = boost::multiprecision::mpq_rational;

enum class kind : std::uint8_t {
  number,    ///< an exact rational
  symbol,    ///< a named node or leaf
  sum,       ///< sum of coefficient * child, in the order written
  product,   ///< coefficient * product of child^exponent
  function,  ///< an op of the table applied to its arguments (exp, sigmoid, max, x^y, ...)
};

struct term {
  rational coefficient;
  std::uint32_t child;
};

struct factor {
  std::uint32_t base;
  long exponent;
};

struct node {
  kind type = kind::number;
  rational value;          ///< number: the number; product: the coefficient
  std::string name;        ///< symbol: as written in the model
  std::string latex_name;  ///< symbol: LaTeX form (empty: derived from name)
  op function = op::constant;
  std::vector<term> terms;
  std::vector<factor> factors;
  std::vector<std::uint32_t> arguments;
};

/// Nodes ordered children first; `root` is the whole expression.
struct expression {
  std::vector<node> nodes;
  std::uint32_t root = 0;
};

/// Appends nodes to an expression (children must already be in it).
class builder {
 public:
  std::uint32_t number(const rational& value);
  /// A number from exact decimal text ("0.05", "-1.5e-3").
  std::uint32_t decimal(std::string_view text);
  std::uint32_t symbol(std::string_view name, std::string_view latex_name);
  std::uint32_t sum(std::vector<term> terms);
  std::uint32_t product(rational coefficient, std::vector<factor> factors);
  std::uint32_t function(op o, std::vector<std::uint32_t> arguments);
  expression finish(std::uint32_t root) &&;

 private:
  expression e_;
};

/// The expression of node `root` of `g`: named nodes and every leaf are symbols (unnamed
/// constants are numbers, exact from the text they were made from). A named root is expanded one
/// level when `expand_named_root` (E_total as E_o1 + E_o2); a derivative that is an existing
/// node (d net_o1/d w5 is out_h1) wants its name, so derivatives pass false.
template <real_number Real>
expression expression_of(const graph<Real>& g, node_id root, bool expand_named_root = true);

/// Constant folding, neutral and absorbing elements, flattening of nested sums and products,
/// collection of equal terms (x + x = 2*x) and equal factors (x*x = x^2, x/x = 1).
expression simplify(const expression& e);

/// How many numbers, symbols, sums, products and function calls the expression has once written
/// out: a subexpression is counted every time it is written, so this is the size of what to_text()
/// and to_latex() print, which can be exponentially larger than `e.nodes` (a fourth derivative of
/// a small net prints hundreds of megabytes). Saturates at UINT64_MAX. Printing costs about this
/// many steps times the expression's depth, so check it before printing an expression of
/// unknown size.
std::uint64_t printed_size(const expression& e);

/// -(t1 - out_o1)*out_o1*(1 - out_o1)*out_h1
std::string to_text(const expression& e);
/// -\left(t_{1} - out_{o1}\right) \cdot out_{o1} \cdot ...
std::string to_latex(const expression& e);
/// A C expression using <math.h> (every number a double literal, so no integer division).
std::string to_c(const expression& e);

/// How a name is written in LaTeX when the model gives no symbol: out_o1 -> out_{o1},
/// t1 -> t_{1}, E_total -> E_{total}.
std::string latex_name_of(std::string_view name);

/// The value at double precision, given the value of each symbol.
double evaluate(const expression& e, const std::function<double(std::string_view)>& value_of);

// ---------------------------------------------------------------------------------------------

template <real_number Real>
expression expression_of(const graph<Real>& g, node_id root, bool expand_named_root) {
  const auto top = static_cast<std::size_t>(root);
  if (top >= g.size())
    throw usage_error("expression_of: node " + std::to_string(top) + " does not exist");
  auto is_atom = [&](std::size_t i) {
    return is_leaf(g.op_of(static_cast<node_id>(i))) ||
           ((i != top || !expand_named_root) && !g.name(static_cast<node_id>(i)).empty());
  };
  std::vector<std::uint8_t> needed(top + 1, 0);
  needed[top] = 1;
  for (std::size_t i = top + 1; i-- > 0;) {
    if (!needed[i] || is_atom(i)) continue;
    for (node_id in : g.inputs(static_cast<node_id>(i)))
      needed[static_cast<std::size_t>(in)] = 1;
  }
  builder b;
  std::vector<std::uint32_t> index(top + 1, 0);
  for (std::size_t i = 0; i <= top; ++i) {
    if (!needed[i]) continue;
    const auto id = static_cast<node_id>(i);
    const op o = g.op_of(id);
    if (is_atom(i)) {
      if (o == op::constant && g.name(id).empty()) {
        const auto source = g.decimal_source(id);
        const std::string text =
            source.empty() ? scalar_traits<Real>::exact(g.value(id)) : std::string(source);
        index[i] = b.decimal(text);
      } else {
        index[i] = b.symbol(g.name(id).empty() ? g.describe(id) : g.name(id), g.symbol(id));
      }
      continue;
    }
    std::vector<std::uint32_t> a;
    for (node_id in : g.inputs(id))
      a.push_back(index[static_cast<std::size_t>(in)]);
    switch (o) {
      case op::add:
      case op::sum: {
        std::vector<term> terms;
        for (auto x : a)
          terms.push_back({1, x});
        index[i] = b.sum(std::move(terms));
        break;
      }
      case op::sub:
      case op::log_softmax:
        index[i] = b.sum({{1, a[0]}, {-1, a[1]}});
        break;
      case op::neg:
        index[i] = b.sum({{-1, a[0]}});
        break;
      case op::mul:
        index[i] = b.product(1, {{a[0], 1}, {a[1], 1}});
        break;
      case op::div:
        index[i] = b.product(1, {{a[0], 1}, {a[1], -1}});
        break;
      case op::powi:
        index[i] = b.product(1, {{a[0], scalar_traits<Real>::to_long(g.value(g.inputs(id)[1]))}});
        break;
      case op::softmax:
        index[i] = b.function(op::exp, {b.sum({{1, a[0]}, {-1, a[1]}})});
        break;
      default:
        index[i] = b.function(o, std::move(a));
        break;
    }
  }
  return std::move(b).finish(index[top]);
}

}  // namespace chainrule::symbolic
