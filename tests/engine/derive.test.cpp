// SPDX-License-Identifier: MIT
// derive(): derivatives as nodes. Second (and third) derivatives of every op against the closed
// forms in derive.ref (mpmath), the kink conventions against the numeric partials of ops.hpp, a
// Hessian of the Mazur net against central differences of backward()'s gradient at 50 digits,
// and derived nodes following forward() after a leaf changes.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "chainrule/engine/derive.hpp"
#include "chainrule/engine/engine.hpp"
#include "support/reference.hpp"

using namespace chainrule;
using chainrule::testing::agrees_to;
using chainrule::testing::is_exactly;
using chainrule::testing::reference;
using chainrule::testing::test_precision;

namespace {

std::vector<std::string> fields_of(std::string_view key) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= key.size(); ++i) {
    if (i == key.size() || key[i] == ':') {
      parts.emplace_back(key.substr(start, i - start));
      start = i + 1;
    }
  }
  return parts;
}

/// The op called `name` in the table (powi shares the name "pow" with pow, so it is asked for
/// by its enum directly).
op op_named(std::string_view name) {
  for (std::size_t i = 0; i < op_count; ++i) {
    if (all_op_infos()[i].name == name) return static_cast<op>(i);
  }
  FAIL("no op named " << name);
  return op::input;
}

}  // namespace

TEMPLATE_TEST_CASE("derive: second derivatives of every scalar op match derive.ref", "[derive]",
                   double, mp_real) {
  const auto& ref = reference("derive.ref");
  constexpr int agree = test_precision<TestType>::agree - 1;
  int unary_checked = 0;
  int binary_checked = 0;
  for (const auto& key : ref.keys()) {
    const auto f = fields_of(key);
    if (f[0] == "logsumexp" || f[0] == "softmax" || f[0] == "log_softmax") continue;
    INFO(key);
    graph<TestType> g(test_precision<TestType>::digits);
    if (f.size() == 3) {
      const auto x = g.parameter("x", f[1]);
      const auto y = g.apply(op_named(f[0]), {x});
      const auto d1 = derive(g, y, x);
      const auto d2 = derive(g, d1, x);
      if (f[2] == "d2/dxdx") {
        CHECK_THAT(d2.value(), agrees_to(ref[key], agree));
      } else {
        REQUIRE(f[2] == "d3/dxdxdx");
        CHECK_THAT(derive(g, d2, x).value(), agrees_to(ref[key], agree - 1));
      }
      ++unary_checked;
    } else {
      REQUIRE(f.size() == 4);
      if (f[0] == "powi") {
        const auto x = g.parameter("x", f[1]);
        const auto y = g.apply(op::powi, {x, g.constant(f[2])});
        CHECK_THAT(derive(g, derive(g, y, x), x).value(), agrees_to(ref[key], agree));
        ++binary_checked;
        continue;
      }
      const auto x = g.parameter("x", f[1]);
      const auto y = g.parameter("y", f[2]);
      const auto z = g.apply(op_named(f[0]), {x, y});
      const auto dx = derive(g, z, x);
      const auto dy = derive(g, z, y);
      if (f[3] == "d2/dxdx") {
        CHECK_THAT(derive(g, dx, x).value(), agrees_to(ref[key], agree));
      } else if (f[3] == "d2/dxdy") {
        // Both orders: the two sweeps build different nodes for the same mixed partial.
        CHECK_THAT(derive(g, dx, y).value(), agrees_to(ref[key], agree));
        CHECK_THAT(derive(g, dy, x).value(), agrees_to(ref[key], agree));
      } else {
        REQUIRE(f[3] == "d2/dydy");
        CHECK_THAT(derive(g, dy, y).value(), agrees_to(ref[key], agree));
      }
      ++binary_checked;
    }
  }
  // 12 unary ops at two points plus four third derivatives; 11 binary points with 3 keys each
  // and 3 integer powers.
  CHECK(unary_checked == 28);
  CHECK(binary_checked == 36);
}

TEMPLATE_TEST_CASE("derive: Hessians of logsumexp, softmax and log_softmax match derive.ref",
                   "[derive]", double, mp_real) {
  const auto& ref = reference("derive.ref");
  constexpr int agree = test_precision<TestType>::agree - 1;
  const std::string tag = "0.5,-1.25,2";
  graph<TestType> g(test_precision<TestType>::digits);
  const std::vector<var<TestType>> xs{g.parameter("x0", "0.5"), g.parameter("x1", "-1.25"),
                                      g.parameter("x2", "2")};
  const auto lse = logsumexp(xs);
  const auto gradient = derive(g, lse, xs);
  for (std::size_t j = 0; j < 3; ++j) {
    const auto row = derive(g, gradient[j], xs);
    for (std::size_t k = 0; k < 3; ++k) {
      const std::string key =
          "logsumexp:" + tag + ":d2/dx[" + std::to_string(j) + "]dx[" + std::to_string(k) + "]";
      INFO(key);
      CHECK_THAT(row[k].value(), agrees_to(ref[key], agree));
    }
  }
  for (const std::string kind : {"softmax", "log_softmax"}) {
    const auto outputs = kind == "softmax" ? softmax(xs) : log_softmax(xs);
    for (std::size_t i = 0; i < 3; ++i) {
      const auto jacobian_row = derive(g, outputs[i], xs);
      for (std::size_t j = 0; j < 3; ++j) {
        const auto second = derive(g, jacobian_row[j], xs);
        for (std::size_t k = 0; k < 3; ++k) {
          const std::string key = kind + ":" + tag + ":d2[" + std::to_string(i) + "]/dx[" +
                                  std::to_string(j) + "]dx[" + std::to_string(k) + "]";
          INFO(key);
          CHECK_THAT(second[k].value(), agrees_to(ref[key], agree));
        }
      }
    }
  }
}

TEST_CASE("derive: at kinks the symbolic partial equals the numeric partial of ops.hpp",
          "[derive]") {
  // The documented conventions (op table `convention`): abs'(0) = 0, relu'(0) = 0, leaky_relu has
  // slope alpha at 0, max and min give a tie to their first input, step' = 0. The engine's own
  // recorded partials are the reference here: derive() must make the same choices.
  graph<double> g(17);
  const auto zero = g.parameter("zero", "0");
  const auto other = g.parameter("other", "0");
  const auto alpha = g.parameter("alpha", "0.25");
  const std::vector<var<double>> nodes{abs(zero),        relu(zero),
                                       step(zero),       leaky_relu(zero, alpha),
                                       max(zero, other), min(zero, other)};
  for (const auto& node : nodes) {
    INFO(info(g.op_of(node.id())).name);
    // Copies: derive() appends nodes, which moves the graph's arrays under any span.
    const std::vector<node_id> inputs(g.inputs(node.id()).begin(), g.inputs(node.id()).end());
    const auto numeric =
        std::vector<double>(g.partials(node.id()).begin(), g.partials(node.id()).end());
    for (std::size_t k = 0; k < inputs.size(); ++k) {
      const var<double> input(&g, inputs[k]);
      CHECK(derive(g, node, input).value() == numeric[k]);
    }
  }
  // The values themselves, from the conventions above.
  CHECK(derive(g, abs(zero), zero).value() == 0.0);
  CHECK(derive(g, relu(zero), zero).value() == 0.0);
  CHECK(derive(g, leaky_relu(zero, alpha), zero).value() == 0.25);
  CHECK(derive(g, max(zero, other), zero).value() == 1.0);
  CHECK(derive(g, max(zero, other), other).value() == 0.0);
  CHECK(derive(g, min(zero, other), zero).value() == 1.0);
  // Just off the kink the other branch is taken: a ulp of difference flips max's choice.
  g.set_value(other.id(), "1e-300");
  g.forward();
  const auto m = max(zero, other);
  CHECK(derive(g, m, zero).value() == 0.0);
  CHECK(derive(g, m, other).value() == 1.0);
}

TEST_CASE("derive: derived nodes are recomputed by forward() after a leaf changes", "[derive]") {
  graph<mp_real> g(50);
  const auto x = g.parameter("x", "0.7");
  const auto y = sigmoid(x * x);
  const auto d1 = derive(g, y, x);
  const auto d2 = derive(g, d1, x);
  g.set_value(x.id(), "-1.3");
  g.forward();
  // Closed forms at x = -1.3 with u = x^2 = 1.69, s = sigmoid(u): d1 = 2x s(1-s),
  // d2 = 2 s(1-s) + 4x^2 s(1-s)(1-2s). mpmath at mp.dps = 80 (both closed forms agree with
  // mp.diff(lambda t: 1/(1 + exp(-t*t)), x, n) for n = 1, 2 to all 50 digits printed):
  //   from mpmath import mp, mpf, exp, nstr; mp.dps = 80; x = mpf('-1.3'); s = 1/(1 + exp(-x*x))
  //   nstr(2*x*s*(1-s), 50); nstr(2*s*(1-s) + 4*x*x*s*(1-s)*(1-2*s), 50)
  CHECK_THAT(d1.value(), agrees_to("-0.34192529216946903151416274523083086010195724357208", 45));
  CHECK_THAT(d2.value(), agrees_to("-0.3490150659599078068151479687814726008674007995941", 45));
}

TEST_CASE("derive: a node the output does not depend on gets 0; the output itself gets 1",
          "[derive]") {
  graph<double> g(17);
  const auto x = g.parameter("x", "2");
  const auto unrelated = g.parameter("u", "3");
  const auto y = x * x;
  CHECK(derive(g, y, unrelated).value() == 0.0);
  CHECK(derive(g, y, y).value() == 1.0);
  CHECK(derive(g, y, x).value() == 4.0);
  graph<double> other(17);
  const auto z = other.parameter("z", "1");
  CHECK_THROWS_AS(derive(g, y, z), usage_error);
}

namespace {

struct mazur_net {
  graph<mp_real> g{50};
  std::vector<var<mp_real>> weights;
  var<mp_real> error;

  mazur_net() {
    const auto i1 = g.input("i1", "0.05");
    const auto i2 = g.input("i2", "0.10");
    const auto t1 = g.input("t1", "0.01");
    const auto t2 = g.input("t2", "0.99");
    const char* initial[] = {"0.15", "0.20", "0.25", "0.30", "0.40", "0.45", "0.50", "0.55"};
    for (int k = 0; k < 8; ++k)
      weights.push_back(g.parameter("w" + std::to_string(k + 1), initial[k]));
    const auto b1 = g.constant("b1", "0.35");
    const auto b2 = g.constant("b2", "0.60");
    const auto& w = weights;
    const auto out_h1 = sigmoid(w[0] * i1 + w[1] * i2 + b1);
    const auto out_h2 = sigmoid(w[2] * i1 + w[3] * i2 + b1);
    const auto out_o1 = sigmoid(w[4] * out_h1 + w[5] * out_h2 + b2);
    const auto out_o2 = sigmoid(w[6] * out_h1 + w[7] * out_h2 + b2);
    error = g.constant("0.5") * pow(t1 - out_o1, 2) + g.constant("0.5") * pow(t2 - out_o2, 2);
  }
};

}  // namespace

TEST_CASE(
    "derive: the Hessian of the Mazur net matches central differences of the gradient at 50 digits",
    "[derive][hessian]") {
  mazur_net net;
  auto& g = net.g;
  const auto gradient = derive(g, net.error, net.weights);
  std::vector<std::vector<var<mp_real>>> hessian;
  for (const auto& component : gradient)
    hessian.push_back(derive(g, component, net.weights));
  const std::vector<var<mp_real>> direction{g.constant("1"), g.constant("-2"),   g.constant("0.5"),
                                            g.constant("3"), g.constant("-1"),   g.constant("0.25"),
                                            g.constant("2"), g.constant("-0.75")};
  const auto product =
      hessian_vector_product(g, net.error, std::span<const var<mp_real>>(net.weights),
                             std::span<const var<mp_real>>(direction));

  // The independent reference: backward()'s numeric gradient at w_j +- h, (g+ - g-)/(2h). With
  // h = 1e-17 at 50 digits the truncation error is about h^2 |E''''| < 1e-33 and the rounding
  // error about 1e-50/h = 1e-33: 28 digits after the decimal point are safe.
  mp_real::thread_default_precision(50);
  const mp_real h("1e-17");
  const mp_real tolerance("1e-28");
  std::vector<std::vector<mp_real>> numeric(8, std::vector<mp_real>(8));
  for (std::size_t j = 0; j < 8; ++j) {
    const mp_real w0 = net.weights[j].value();
    std::vector<mp_real> plus(8);
    g.set_value(net.weights[j].id(), mp_real(w0 + h));
    g.forward();
    g.backward(net.error);
    for (std::size_t i = 0; i < 8; ++i)
      plus[i] = net.weights[i].adjoint();
    g.set_value(net.weights[j].id(), mp_real(w0 - h));
    g.forward();
    g.backward(net.error);
    for (std::size_t i = 0; i < 8; ++i)
      numeric[i][j] = (plus[i] - net.weights[i].adjoint()) / (2 * h);
    g.set_value(net.weights[j].id(), w0);
  }
  g.forward();
  mp_real largest = 0;
  for (std::size_t i = 0; i < 8; ++i) {
    mp_real expected_product = 0;
    for (std::size_t j = 0; j < 8; ++j) {
      INFO("H[" << i + 1 << "][" << j + 1 << "] = " << hessian[i][j].value() << ", numeric "
                << numeric[i][j]);
      CHECK(abs(hessian[i][j].value() - numeric[i][j]) < tolerance);
      // Symmetric as a matrix, though built by different sweeps.
      CHECK(abs(hessian[i][j].value() - hessian[j][i].value()) < mp_real("1e-45"));
      expected_product += numeric[i][j] * direction[j].value();
      if (abs(numeric[i][j]) > largest) largest = abs(numeric[i][j]);
    }
    CHECK(abs(product[i].value() - expected_product) < tolerance * 10);
  }
  // Not a vacuous comparison: the Hessian has entries of a useful size.
  CHECK(largest > mp_real("0.01"));
}
