// SPDX-License-Identifier: MIT
// Matt Mazur's 2-2-2 network ("A Step by Step Backpropagation Example"), built with the C++ API.
//
// The same net, in the same notation, as tests/reference/make_references.py, so every named node
// can be looked up in mazur.ref under its own name.
#pragma once

#include <array>
#include <string>

#include "chainrule/engine/engine.hpp"
#include "support/reference.hpp"

namespace chainrule::testing {

/// How the squared-error terms are written; both are E = 1/2 (t - out)^2.
enum class mazur_loss {
  half_times_square,  ///< 0.5 * pow(t - out, 2)
  square_over_two,    ///< pow(t - out, 2) / 2
};

template <real_number Real>
struct mazur_net {
  var<Real> i1, i2, t1, t2, b1, b2;
  std::array<var<Real>, 8> w;  // w[0] is w1
  var<Real> net_h1, out_h1, net_h2, out_h2, net_o1, out_o1, net_o2, out_o2;
  var<Real> E_o1, E_o2, E_total;  // NOLINT(readability-identifier-naming): Mazur's names
};

/// The nodes of the forward pass in the order mazur.ref lists them.
inline constexpr std::array<const char*, 11> mazur_forward_keys{
    "net_h1", "out_h1", "net_h2", "out_h2", "net_o1", "out_o1",
    "net_o2", "out_o2", "E_o1",   "E_o2",   "E_total"};

template <real_number Real>
mazur_net<Real> build_mazur(graph<Real>& g, mazur_loss loss = mazur_loss::half_times_square) {
  mazur_net<Real> n;
  n.i1 = g.input("i1", "0.05");
  n.i2 = g.input("i2", "0.10");
  n.t1 = g.input("t1", "0.01");
  n.t2 = g.input("t2", "0.99");
  // Mazur holds the biases fixed: constants, so an optimizer never touches them.
  n.b1 = g.constant("b1", "0.35");
  n.b2 = g.constant("b2", "0.60");
  const std::array<const char*, 8> initial{"0.15", "0.20", "0.25", "0.30",
                                           "0.40", "0.45", "0.50", "0.55"};
  for (std::size_t k = 0; k < 8; ++k)
    n.w[k] = g.parameter("w" + std::to_string(k + 1), initial[k]);
  const auto& w = n.w;

  n.net_h1 = (w[0] * n.i1 + w[1] * n.i2 + n.b1).named("net_h1");
  n.out_h1 = sigmoid(n.net_h1).named("out_h1");
  n.net_h2 = (w[2] * n.i1 + w[3] * n.i2 + n.b1).named("net_h2");
  n.out_h2 = sigmoid(n.net_h2).named("out_h2");
  n.net_o1 = (w[4] * n.out_h1 + w[5] * n.out_h2 + n.b2).named("net_o1");
  n.out_o1 = sigmoid(n.net_o1).named("out_o1");
  n.net_o2 = (w[6] * n.out_h1 + w[7] * n.out_h2 + n.b2).named("net_o2");
  n.out_o2 = sigmoid(n.net_o2).named("out_o2");

  auto half_square = [&](const var<Real>& t, const var<Real>& out) {
    if (loss == mazur_loss::half_times_square) return g.constant("0.5") * pow(t - out, 2);
    return pow(t - out, 2) / 2;
  };
  n.E_o1 = half_square(n.t1, n.out_o1).named("E_o1");
  n.E_o2 = half_square(n.t2, n.out_o2).named("E_o2");
  n.E_total = (n.E_o1 + n.E_o2).named("E_total");
  return n;
}

/// One plain gradient-descent step on every parameter leaf: w <- w - rate * dE/dw, all adjoints
/// taken from the last backward() before any weight changes (Mazur's simultaneous update).
/// Does not re-run forward().
template <real_number Real>
void gradient_step(graph<Real>& g, const Real& rate) {
  typename scalar_traits<Real>::precision_scope scope(g.digits());
  Real step = scalar_traits<Real>::zero(g.digits());
  Real updated = scalar_traits<Real>::zero(g.digits());
  for (std::size_t i = 0; i < g.size(); ++i) {
    const auto id = static_cast<node_id>(i);
    if (g.op_of(id) != op::parameter) continue;
    step = g.adjoint(id);
    step *= rate;
    updated = g.value(id);
    updated -= step;
    g.set_value(id, updated);
  }
}

/// Checks every number mazur.ref holds for one step of the example: the forward pass, the eight
/// gradients, the tutorial's chain-rule factors, the simultaneously updated weights and the error
/// after the update. `matches(reference_text)` makes the matcher for the precision under test.
template <class Real, class MakeMatcher>
void check_against_mazur_ref(graph<Real>& g, const mazur_net<Real>& n, MakeMatcher matches) {
  const auto& ref = reference("mazur.ref");
  for (const char* key : mazur_forward_keys) {
    INFO(key);
    CHECK_THAT(g[key].value(), matches(ref[key]));
  }

  g.backward(n.E_total);
  for (std::size_t k = 0; k < 8; ++k) {
    const std::string key = "dE_total/dw" + std::to_string(k + 1);
    INFO(key);
    CHECK_THAT(n.w[k].adjoint(), matches(ref[key]));
  }

  // The tutorial's factors are adjoints of inner nodes and local partials of the sigmoids.
  CHECK_THAT(n.out_o1.adjoint(), matches(ref["dE_total/dout_o1"]));
  CHECK_THAT(g.partials(n.out_o1.id())[0], matches(ref["dout_o1/dnet_o1"]));
  CHECK_THAT(n.net_o1.adjoint(), matches(ref["dE_total/dnet_o1"]));
  CHECK_THAT(n.out_o2.adjoint(), matches(ref["dE_total/dout_o2"]));
  CHECK_THAT(g.partials(n.out_o2.id())[0], matches(ref["dout_o2/dnet_o2"]));
  CHECK_THAT(n.net_o2.adjoint(), matches(ref["dE_total/dnet_o2"]));
  CHECK_THAT(n.out_h1.adjoint(), matches(ref["dE_total/dout_h1"]));
  CHECK_THAT(g.partials(n.out_h1.id())[0], matches(ref["dout_h1/dnet_h1"]));
  CHECK_THAT(n.net_h1.adjoint(), matches(ref["dE_total/dnet_h1"]));
  CHECK_THAT(n.out_h2.adjoint(), matches(ref["dE_total/dout_h2"]));
  CHECK_THAT(g.partials(n.out_h2.id())[0], matches(ref["dout_h2/dnet_h2"]));
  CHECK_THAT(n.net_h2.adjoint(), matches(ref["dE_total/dnet_h2"]));

  // dE_o1/dout_h1 and friends: the share of each error term, one backward() per term.
  g.backward(n.E_o1);
  CHECK_THAT(n.out_h1.adjoint(), matches(ref["dE_o1/dout_h1"]));
  CHECK_THAT(n.out_h2.adjoint(), matches(ref["dE_o1/dout_h2"]));
  g.backward(n.E_o2);
  CHECK_THAT(n.out_h1.adjoint(), matches(ref["dE_o2/dout_h1"]));
  CHECK_THAT(n.out_h2.adjoint(), matches(ref["dE_o2/dout_h2"]));

  g.backward(n.E_total);
  gradient_step(g, scalar_traits<Real>::from_decimal("0.5", g.digits()));
  for (std::size_t k = 0; k < 8; ++k) {
    const std::string key = "w" + std::to_string(k + 1) + "+";
    INFO(key);
    CHECK_THAT(n.w[k].value(), matches(ref[key]));
  }
  g.forward();
  CHECK_THAT(n.E_total.value(), matches(ref["E_total_after_simultaneous"]));
}

}  // namespace chainrule::testing
