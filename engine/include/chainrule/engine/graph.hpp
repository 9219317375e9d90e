// SPDX-License-Identifier: MIT
// The tape: an append-only list of nodes whose order is a topological order.
//
// Each node keeps its op, its inputs, its value, the local partial derivative of its value with
// respect to each input (recorded whenever the node is evaluated), and after backward() its
// adjoint. Storage is one array per field (struct of arrays) so that the sweeps are linear scans
// and a node costs a few dozen bytes at double precision. No recursion anywhere: forward() walks
// the tape front to back, backward() back to front.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "chainrule/engine/decimal.hpp"
#include "chainrule/engine/errors.hpp"
#include "chainrule/engine/op.hpp"
#include "chainrule/engine/ops.hpp"
#include "chainrule/engine/scalar.hpp"

namespace chainrule {

template <real_number Real>
class graph;

/// A cheap handle to one node of one graph, with the operators that grow the graph.
template <real_number Real>
class var {
 public:
  var() = default;
  var(graph<Real>* owner, node_id id) : graph_(owner), id_(id) {}

  /// The graph this node lives in; usage_error for a default-constructed handle.
  graph<Real>& owner() const {
    if (graph_ == nullptr)
      throw usage_error("this chainrule::var refers to no graph (default-constructed)");
    return *graph_;
  }
  node_id id() const { return id_; }
  bool valid() const { return graph_ != nullptr; }

  const Real& value() const { return owner().value(id_); }
  /// d(output)/d(this node) after owner().backward(output).
  const Real& adjoint() const { return owner().adjoint(id_); }
  const Real& grad() const { return adjoint(); }
  std::string_view name() const { return owner().name(id_); }

  /// Names the node (e.g. "net_h1"), for traces and error messages; returns *this.
  var& named(std::string_view name) {
    owner().set_name(id_, name);
    return *this;
  }
  /// Sets the LaTeX symbol shown for this node (e.g. "net_{h1}"); returns *this.
  var& symbol(std::string_view latex) {
    owner().set_symbol(id_, latex);
    return *this;
  }

  friend bool operator==(const var& a, const var& b) {
    return a.graph_ == b.graph_ && a.id_ == b.id_;
  }

 private:
  graph<Real>* graph_ = nullptr;
  node_id id_{};
};

template <real_number Real>
class graph {
 public:
  using value_type = Real;
  static constexpr unsigned default_digits = 50;

  /// `digits`: significant decimal digits of the working precision (ignored by fixed types).
  explicit graph(unsigned digits = default_digits);
  graph(const graph&) = delete;
  graph& operator=(const graph&) = delete;

  // ---- building ----

  var<Real> input(std::string_view name, std::string_view decimal) {
    return leaf(op::input, name, decimal);
  }
  var<Real> parameter(std::string_view name, std::string_view decimal) {
    return leaf(op::parameter, name, decimal);
  }
  var<Real> constant(std::string_view decimal) { return leaf(op::constant, {}, decimal); }
  var<Real> constant(std::string_view name, std::string_view decimal) {
    return leaf(op::constant, name, decimal);
  }
  /// A constant holding a value already in the working type (exact, no decimal text involved).
  var<Real> constant_value(const Real& value) { return leaf_value(op::constant, {}, value); }

  /// A leaf of kind op::input, op::parameter or op::constant from exact decimal text;
  /// `name` may be empty.
  var<Real> leaf(op kind, std::string_view name, std::string_view decimal);
  var<Real> leaf_value(op kind, std::string_view name, const Real& value);

  /// Appends a node computing `o` of `inputs` and evaluates it at once.
  var<Real> apply(op o, std::span<const node_id> inputs);
  var<Real> apply(op o, std::initializer_list<var<Real>> inputs);
  var<Real> apply(op o, std::span<const var<Real>> inputs);

  /// Makes room for `nodes` more nodes with `edges` more inputs between them, so that building a
  /// large graph neither copies its arrays as they grow nor ends with up to twice the memory it
  /// uses (the arrays grow geometrically otherwise).
  void reserve(std::size_t nodes, std::size_t edges);

  // ---- names ----

  void set_name(node_id id, std::string_view name);
  std::string_view name(node_id id) const;
  void set_symbol(node_id id, std::string_view latex);
  std::string_view symbol(node_id id) const;
  std::optional<node_id> find(std::string_view name) const;
  /// The node called `name`; usage_error if there is none.
  var<Real> operator[](std::string_view name);

  // ---- leaves ----

  void set_value(node_id leaf, std::string_view decimal);
  void set_value(node_id leaf, const Real& value);
  /// The decimal text a leaf was last set from; empty when it was set from a binary value.
  std::string_view decimal_source(node_id leaf) const;

  // ---- evaluation ----

  /// Recomputes every value and local partial from the leaves, in place.
  void forward();
  /// Adjoints of every node with respect to `output`, by one reverse sweep.
  void backward(node_id output);
  void backward(const var<Real>& output) { backward(checked(output)); }

  // ---- reading: the public view that the trace and tests use ----

  std::size_t size() const { return ops_.size(); }
  op op_of(node_id id) const { return ops_[at(id)]; }
  std::span<const node_id> inputs(node_id id) const {
    const auto i = at(id);
    return {args_.data() + arg_begin_[i], args_.data() + arg_begin_[i + 1]};
  }
  /// partials(id)[k] = d value(id) / d value(inputs(id)[k]), as of the last evaluation.
  std::span<const Real> partials(node_id id) const {
    const auto i = at(id);
    return {partials_.data() + arg_begin_[i], partials_.data() + arg_begin_[i + 1]};
  }
  const Real& value(node_id id) const { return values_[at(id)]; }
  /// d(output)/d(node) from the last backward(output); usage_error before any backward.
  const Real& adjoint(node_id id) const;
  /// The output of the last backward(), if any.
  std::optional<node_id> gradient_root() const { return gradient_root_; }
  /// Working precision in significant decimal digits.
  unsigned digits() const { return digits_; }
  /// A value as text by `format`, without passing through double.
  std::string format(const Real& x, const number_format& f) const {
    return scalar_traits<Real>::format(x, f);
  }
  /// "'net_h1' (node 7, add)" or "node 7 (add)": how messages refer to a node.
  std::string describe(node_id id) const;

  /// Checks that `v` is a handle of this graph and returns its id.
  node_id checked(const var<Real>& v) const;

 private:
  std::size_t at(node_id id) const {
    const auto i = static_cast<std::size_t>(id);
    if (i >= ops_.size()) [[unlikely]]
      no_such_node(i);
    return i;
  }
  // Out of line so that at() stays small enough to be inlined into every accessor.
  [[noreturn, gnu::noinline, gnu::cold]] void no_such_node(std::size_t i) const {
    throw usage_error("node " + std::to_string(i) + " does not exist in this graph");
  }
  void evaluate(std::size_t i);
  [[noreturn]] void fail(std::size_t i, std::string_view problem) const;
  void set_source(std::size_t i, std::string_view decimal);

  unsigned digits_;
  std::vector<op> ops_;
  std::vector<std::uint32_t>
      arg_begin_;  // node i's inputs are args_[arg_begin_[i] .. arg_begin_[i+1])
  std::vector<node_id> args_;
  std::vector<Real> partials_;  // parallel to args_
  std::vector<Real> values_;
  std::vector<Real> adjoints_;  // sized on the first backward(), then reused
  std::vector<Real> scratch_;   // kernel registers and the reverse sweep's product
  std::vector<Real> units_;     // 0, 1 and -1 at the working precision (kernel_io::units)
  // Multiprecision backward(): whether node i's adjoint has had a contribution in this sweep.
  std::vector<std::uint8_t> touched_;
  std::optional<node_id> gradient_root_;
  std::unordered_map<std::uint32_t, std::string> names_;
  std::unordered_map<std::uint32_t, std::string> symbols_;
  std::unordered_map<std::uint32_t, std::string> decimal_sources_;
  // has_source_[i]: decimal_sources_ holds node i. Setting a leaf from a binary value tests this
  // bit instead of searching the map, which cost a training loop a third of its time at double.
  std::vector<std::uint8_t> has_source_;
  std::map<std::string, node_id, std::less<>> by_name_;
};

// ---------------------------------------------------------------------------------------------
// Operators and functions on var: each appends one node.

namespace detail {
template <class T, class Real>
concept exact_operand = std::integral<T> || std::same_as<T, Real>;

template <real_number Real, class T>
var<Real> lift(graph<Real>& g, const T& x) {
  if constexpr (std::integral<T>) {
    return g.constant(std::to_string(x));
  } else {
    return g.constant_value(x);
  }
}

template <real_number Real>
graph<Real>& common_graph(const var<Real>& a, const var<Real>& b) {
  if (&a.owner() != &b.owner()) throw usage_error("the two operands belong to different graphs");
  return a.owner();
}
}  // namespace detail

#define CHAINRULE_BINARY_OPERATOR(symbol, code)                       \
  template <real_number Real>                                         \
  var<Real> operator symbol(const var<Real>& a, const var<Real>& b) { \
    return detail::common_graph(a, b).apply(code, {a, b});            \
  }                                                                   \
  template <real_number Real, detail::exact_operand<Real> T>          \
  var<Real> operator symbol(const var<Real>& a, const T& b) {         \
    return a.owner().apply(code, {a, detail::lift(a.owner(), b)});    \
  }                                                                   \
  template <real_number Real, detail::exact_operand<Real> T>          \
  var<Real> operator symbol(const T& a, const var<Real>& b) {         \
    return b.owner().apply(code, {detail::lift(b.owner(), a), b});    \
  }                                                                   \
  template <real_number Real, class T>                                \
  var<Real>& operator symbol##=(var<Real>& a, const T& b) {           \
    return a = a symbol b;                                            \
  }

CHAINRULE_BINARY_OPERATOR(+, op::add)
CHAINRULE_BINARY_OPERATOR(-, op::sub)
CHAINRULE_BINARY_OPERATOR(*, op::mul)
CHAINRULE_BINARY_OPERATOR(/, op::div)
#undef CHAINRULE_BINARY_OPERATOR

template <real_number Real>
var<Real> operator-(const var<Real>& a) {
  return a.owner().apply(op::neg, {a});
}
template <real_number Real>
var<Real> operator+(const var<Real>& a) {
  return a;
}

#define CHAINRULE_UNARY_FUNCTION(fn)     \
  template <real_number Real>            \
  var<Real> fn(const var<Real>& x) {     \
    return x.owner().apply(op::fn, {x}); \
  }
CHAINRULE_UNARY_FUNCTION(exp)
CHAINRULE_UNARY_FUNCTION(log)
CHAINRULE_UNARY_FUNCTION(sqrt)
CHAINRULE_UNARY_FUNCTION(abs)
CHAINRULE_UNARY_FUNCTION(sin)
CHAINRULE_UNARY_FUNCTION(cos)
CHAINRULE_UNARY_FUNCTION(tanh)
CHAINRULE_UNARY_FUNCTION(sigmoid)
CHAINRULE_UNARY_FUNCTION(relu)
CHAINRULE_UNARY_FUNCTION(softplus)
CHAINRULE_UNARY_FUNCTION(step)
#undef CHAINRULE_UNARY_FUNCTION

/// x^y with a real exponent (x must be positive).
template <real_number Real>
var<Real> pow(const var<Real>& x, const var<Real>& y) {
  return detail::common_graph(x, y).apply(op::pow, {x, y});
}
/// x^n with an integer exponent (any x; n < 0 needs x != 0).
template <real_number Real>
var<Real> pow(const var<Real>& x, long n) {
  return x.owner().apply(op::powi, {x, x.owner().constant(std::to_string(n))});
}
/// leaky_relu(x, alpha): alpha may be a node (e.g. a trainable slope) or a number.
template <real_number Real>
var<Real> leaky_relu(const var<Real>& x, const var<Real>& alpha) {
  return detail::common_graph(x, alpha).apply(op::leaky_relu, {x, alpha});
}
template <real_number Real>
var<Real> leaky_relu(const var<Real>& x, std::string_view alpha_decimal) {
  return x.owner().apply(op::leaky_relu, {x, x.owner().constant(alpha_decimal)});
}
template <real_number Real>
var<Real> max(const var<Real>& a, const var<Real>& b) {
  return detail::common_graph(a, b).apply(op::max, {a, b});
}
template <real_number Real>
var<Real> min(const var<Real>& a, const var<Real>& b) {
  return detail::common_graph(a, b).apply(op::min, {a, b});
}

/// One node summing all of `xs` (at least one).
template <real_number Real>
var<Real> sum(std::span<const var<Real>> xs);
/// log(sum_j exp(x_j)), computed without overflow.
template <real_number Real>
var<Real> logsumexp(std::span<const var<Real>> xs);
/// softmax_i = exp(x_i - logsumexp(x)): one logsumexp node shared by the group, one node per i.
template <real_number Real>
std::vector<var<Real>> softmax(std::span<const var<Real>> xs);
/// log_softmax_i = x_i - logsumexp(x).
template <real_number Real>
std::vector<var<Real>> log_softmax(std::span<const var<Real>> xs);

template <real_number Real>
var<Real> sum(const std::vector<var<Real>>& xs) {
  return sum(std::span<const var<Real>>(xs));
}
template <real_number Real>
var<Real> logsumexp(const std::vector<var<Real>>& xs) {
  return logsumexp(std::span<const var<Real>>(xs));
}
template <real_number Real>
std::vector<var<Real>> softmax(const std::vector<var<Real>>& xs) {
  return softmax(std::span<const var<Real>>(xs));
}
template <real_number Real>
std::vector<var<Real>> log_softmax(const std::vector<var<Real>>& xs) {
  return log_softmax(std::span<const var<Real>>(xs));
}

}  // namespace chainrule

#include "chainrule/engine/graph_impl.hpp"
