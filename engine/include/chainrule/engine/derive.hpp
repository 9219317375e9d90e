// SPDX-License-Identifier: MIT
// Symbolic differentiation: the derivative of a node as new nodes of the same graph.
//
// derive() runs reverse mode over the graph itself. Where backward() multiplies numbers, derive()
// appends nodes: every adjoint is a node, and every local partial of an op is written with the
// ops of the table (sigmoid' as s*(1 - s), tanh' as 1 - t^2, ...). The result is an ordinary node,
// recomputed by forward() with the rest of the tape and differentiable again, so second and higher
// derivatives, Hessians and Hessian-vector products come from repeated calls.
//
// Kinks keep the conventions of the numeric partials in ops.hpp exactly, written with step
// (step(x) = [x >= 0], step(-0) = 1):
//   abs'(x)            = step(x) - step(-x)          (0 at 0)
//   relu'(x)           = 1 - step(-x)                ([x > 0], 0 at 0)
//   leaky_relu(x, a)   d/dx = 1 + step(-x)*(a - 1),  d/da = step(-x)*x   (slope a at 0)
//   max(a, b)          d/da = step(a - b),           d/db = 1 - step(a - b)   (ties to a)
//   min(a, b)          d/da = step(b - a),           d/db = 1 - step(b - a)   (ties to a)
//   step'              = 0
// For finite numbers a - b >= 0 exactly when a >= b (subtraction of distinct finite numbers
// never rounds to zero, with gradual underflow in IEEE double and none at all in MPFR), so these
// agree with the comparisons in the kernels bit for bit.
//
// Both sweeps are loops over node ids (the tape is topologically ordered): no recursion.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "chainrule/engine/errors.hpp"
#include "chainrule/engine/graph.hpp"

namespace chainrule {

namespace detail {

/// Builds the adjoint nodes of one reverse sweep.
template <real_number Real>
class symbolic_sweep {
 public:
  explicit symbolic_sweep(graph<Real>& g) : g_(g) {}

  /// d(output)/d(each of `wrt`) as nodes; a node `output` does not depend on gets the constant 0.
  std::vector<var<Real>> run(node_id output, std::span<const node_id> wrt) {
    const auto top = static_cast<std::size_t>(output);
    std::size_t bottom = top;
    for (node_id x : wrt)
      bottom = std::min(bottom, static_cast<std::size_t>(x));

    // on_path[i]: node i lies on a path from some x in `wrt` up to `output`. First every node
    // in [bottom, top] that depends on an x (forward scan), then only those `output` reaches
    // (backward scan).
    std::vector<std::uint8_t> depends(top + 1, 0);
    for (node_id x : wrt) {
      if (static_cast<std::size_t>(x) <= top) depends[static_cast<std::size_t>(x)] = 1;
    }
    for (std::size_t i = bottom; i <= top; ++i) {
      if (depends[i]) continue;
      for (node_id in : g_.inputs(static_cast<node_id>(i))) {
        if (depends[static_cast<std::size_t>(in)]) {
          depends[i] = 1;
          break;
        }
      }
    }
    std::vector<std::uint8_t> on_path(top + 1, 0);
    on_path[top] = depends[top];
    for (std::size_t i = top + 1; i-- > bottom;) {
      if (!on_path[i]) continue;
      for (node_id in : g_.inputs(static_cast<node_id>(i))) {
        if (depends[static_cast<std::size_t>(in)]) on_path[static_cast<std::size_t>(in)] = 1;
      }
    }

    adjoint_.assign(top + 1, term{});
    adjoint_[top] = term{term::unit_one, {}};
    std::vector<node_id> inputs;
    for (std::size_t i = top + 1; i-- > bottom;) {
      if (!on_path[i] || adjoint_[i].kind == term::zero) continue;
      const node_id id = static_cast<node_id>(i);
      if (is_leaf(g_.op_of(id))) continue;
      // Appending nodes below reallocates the graph's arrays: copy the inputs first.
      const auto span = g_.inputs(id);
      inputs.assign(span.begin(), span.end());
      kink_cache_ = {};
      for (std::size_t k = 0; k < inputs.size(); ++k) {
        if (!on_path[static_cast<std::size_t>(inputs[k])]) continue;
        const term partial = local_partial(id, inputs, k);
        accumulate(inputs[k], times(adjoint_[i], partial));
      }
    }

    std::vector<var<Real>> result;
    result.reserve(wrt.size());
    for (node_id x : wrt) {
      const auto j = static_cast<std::size_t>(x);
      result.push_back(materialize(j <= top ? adjoint_[j] : term{}));
    }
    return result;
  }

 private:
  /// A factor or an adjoint: 0, 1 and -1 stay symbolic so that no node is made for them.
  struct term {
    enum kind_t : std::uint8_t { zero, unit_one, unit_minus_one, node } kind = zero;
    node_id id{};
  };

  static term of(const var<Real>& v) { return term{term::node, v.id()}; }

  var<Real> constant(long n) {
    auto found = constants_.find(n);
    if (found != constants_.end()) return var<Real>(&g_, found->second);
    const var<Real> c = g_.constant(std::to_string(n));
    constants_.emplace(n, c.id());
    return c;
  }

  var<Real> node(node_id id) { return var<Real>(&g_, id); }

  var<Real> materialize(const term& t) {
    switch (t.kind) {
      case term::zero:
        return constant(0);
      case term::unit_one:
        return constant(1);
      case term::unit_minus_one:
        return constant(-1);
      case term::node:
        break;
    }
    return node(t.id);
  }

  term negate(const term& t) {
    switch (t.kind) {
      case term::zero:
        return t;
      case term::unit_one:
        return term{term::unit_minus_one, {}};
      case term::unit_minus_one:
        return term{term::unit_one, {}};
      case term::node:
        break;
    }
    return of(g_.apply(op::neg, {node(t.id)}));
  }

  /// adjoint * partial, the adjoint written first (it is the part nearer the output).
  term times(const term& adjoint, const term& partial) {
    if (adjoint.kind == term::zero || partial.kind == term::zero) return term{};
    if (adjoint.kind == term::unit_one) return partial;
    if (partial.kind == term::unit_one) return adjoint;
    if (adjoint.kind == term::unit_minus_one) return negate(partial);
    if (partial.kind == term::unit_minus_one) return negate(adjoint);
    return of(g_.apply(op::mul, {node(adjoint.id), node(partial.id)}));
  }

  void accumulate(node_id target, const term& contribution) {
    term& sum = adjoint_[static_cast<std::size_t>(target)];
    if (contribution.kind == term::zero) return;
    if (sum.kind == term::zero) {
      sum = contribution;
      return;
    }
    if (contribution.kind == term::unit_minus_one) {
      sum = of(g_.apply(op::sub, {materialize(sum), constant(1)}));
    } else if (contribution.kind == term::node && sum.kind != term::node) {
      // Keep the node first: 1 + x reads worse than x + 1 and both are exact.
      sum = sum.kind == term::unit_one
                ? of(g_.apply(op::add, {node(contribution.id), constant(1)}))
                : of(g_.apply(op::sub, {node(contribution.id), constant(1)}));
    } else {
      sum = of(g_.apply(op::add, {materialize(sum), materialize(contribution)}));
    }
  }

  // step(-x) is shared by the two partials of leaky_relu; step(a - b) by those of max and min.
  struct kink_cache {
    std::optional<node_id> step_of_negated;
    std::optional<node_id> step_of_difference;
  };

  var<Real> step_of_negated(node_id x) {
    if (!kink_cache_.step_of_negated) {
      kink_cache_.step_of_negated = g_.apply(op::step, {g_.apply(op::neg, {node(x)})}).id();
    }
    return node(*kink_cache_.step_of_negated);
  }

  var<Real> step_of_difference(node_id a, node_id b) {
    if (!kink_cache_.step_of_difference) {
      kink_cache_.step_of_difference = g_.apply(op::step, {node(a) - node(b)}).id();
    }
    return node(*kink_cache_.step_of_difference);
  }

  /// d(node id)/d(its input k) as a term, built from the ops of the table.
  term local_partial(node_id id, const std::vector<node_id>& in, std::size_t k) {
    const var<Real> self = node(id);
    const var<Real> a = node(in[0]);
    switch (g_.op_of(id)) {
      case op::input:
      case op::parameter:
      case op::constant:
        return term{};
      case op::add:
      case op::sum:
        return term{term::unit_one, {}};
      case op::sub:
      case op::log_softmax:
        return term{k == 0 ? term::unit_one : term::unit_minus_one, {}};
      case op::neg:
        return term{term::unit_minus_one, {}};
      case op::mul:
        return of(node(in[1 - k]));
      case op::div: {
        const var<Real> b = node(in[1]);
        if (k == 0) return of(constant(1) / b);
        return of(-(a / g_.apply(op::powi, {b, constant(2)})));
      }
      case op::pow: {
        const var<Real> y = node(in[1]);
        if (k == 0) return of(y * g_.apply(op::pow, {a, y - constant(1)}));
        return of(self * log(a));
      }
      case op::powi: {
        if (k == 1) return term{};
        const long n = scalar_traits<Real>::to_long(g_.value(in[1]));
        if (n == 0) return term{};
        if (n == 1) return term{term::unit_one, {}};
        if (n == 2) return of(constant(2) * a);
        return of(constant(n) * g_.apply(op::powi, {a, constant(n - 1)}));
      }
      case op::exp:
        return of(self);
      case op::log:
        return of(constant(1) / a);
      case op::sqrt:
        return of(constant(1) / (constant(2) * self));
      case op::abs:
        return of(step(a) - step_of_negated(in[0]));
      case op::sin:
        return of(cos(a));
      case op::cos:
        return of(-sin(a));
      case op::tanh:
        return of(constant(1) - g_.apply(op::powi, {self, constant(2)}));
      case op::sigmoid:
        return of(self * (constant(1) - self));
      case op::relu:
        return of(constant(1) - step_of_negated(in[0]));
      case op::leaky_relu: {
        const var<Real> alpha = node(in[1]);
        if (k == 0) return of(constant(1) + step_of_negated(in[0]) * (alpha - constant(1)));
        return of(step_of_negated(in[0]) * a);
      }
      case op::softplus:
        return of(sigmoid(a));
      case op::step:
        return term{};
      case op::max:
        if (k == 0) return of(step_of_difference(in[0], in[1]));
        return of(constant(1) - step_of_difference(in[0], in[1]));
      case op::min:
        if (k == 0) return of(step_of_difference(in[1], in[0]));
        return of(constant(1) - step_of_difference(in[1], in[0]));
      case op::logsumexp:
        return of(g_.apply(op::softmax, {node(in[k]), self}));
      case op::softmax:
        return k == 0 ? of(self) : of(-self);
    }
    throw usage_error("derive: no symbolic partial for op " + std::string(info(g_.op_of(id)).name));
  }

  graph<Real>& g_;
  std::vector<term> adjoint_;
  std::map<long, node_id> constants_;
  kink_cache kink_cache_;
};

}  // namespace detail

/// d(output)/d(x) for each x in `wrt`, as nodes appended to `g` by one reverse sweep over the
/// graph. `x` may be any node: for an intermediate node it is the partial derivative with the
/// nodes `x` depends on held fixed (the adjoint of backward()). A node `output` does not depend
/// on gives the constant 0.
template <real_number Real>
std::vector<var<Real>> derive(graph<Real>& g, const var<Real>& output,
                              std::span<const var<Real>> wrt) {
  const node_id top = g.checked(output);
  std::vector<node_id> ids;
  ids.reserve(wrt.size());
  for (const auto& x : wrt)
    ids.push_back(g.checked(x));
  typename scalar_traits<Real>::precision_scope scope(g.digits());
  return detail::symbolic_sweep<Real>(g).run(top, ids);
}

template <real_number Real>
std::vector<var<Real>> derive(graph<Real>& g, const var<Real>& output,
                              const std::vector<var<Real>>& wrt) {
  return derive(g, output, std::span<const var<Real>>(wrt));
}

/// d(output)/d(x) as a node of `g`.
template <real_number Real>
var<Real> derive(graph<Real>& g, const var<Real>& output, const var<Real>& x) {
  return derive(g, output, std::span<const var<Real>>(&x, 1)).front();
}

/// The Hessian-vector product H v of `output` with respect to `wrt`, as nodes: the gradient by
/// one sweep, then the derivative of gradient . v by a second one.
template <real_number Real>
std::vector<var<Real>> hessian_vector_product(graph<Real>& g, const var<Real>& output,
                                              std::span<const var<Real>> wrt,
                                              std::span<const var<Real>> direction) {
  if (wrt.size() != direction.size() || wrt.empty()) {
    throw usage_error("hessian_vector_product: the direction needs one entry per variable (" +
                      std::to_string(wrt.size()) + "), not " + std::to_string(direction.size()));
  }
  const std::vector<var<Real>> gradient = derive(g, output, wrt);
  std::vector<var<Real>> products;
  products.reserve(gradient.size());
  for (std::size_t i = 0; i < gradient.size(); ++i)
    products.push_back(gradient[i] * direction[i]);
  return derive(g, sum(products), wrt);
}

}  // namespace chainrule
