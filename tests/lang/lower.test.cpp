// SPDX-License-Identifier: MIT
// Lowering checked models to engine graphs, checked against the published worked examples.
#include <catch2/catch.hpp>
#include <chainrule/engine/engine.hpp>
#include <chainrule/lang/lower.hpp>
#include <string>

#include "lang_test_support.hpp"

using namespace chainrule::lang;
using namespace chainrule::lang::testing;
using chainrule::mp_real;
using chainrule::number_format;
using chainrule::op;

namespace {

template <class Real>
std::string shown(const lowered_model<Real>& m, std::string_view name, int decimals) {
  return m.graph->format(m.value(name), number_format::decimals(decimals));
}

template <class Real>
std::string gradient(const lowered_model<Real>& m, std::string_view name, int decimals) {
  return m.graph->format(m.graph->adjoint(m.node(name)), number_format::decimals(decimals));
}

}  // namespace

TEMPLATE_TEST_CASE("Mazur's network reproduces the published numbers", "[lang][lower]", double,
                   mp_real) {
  for (const char* file : {"mazur.chain", "mazur_layers.chain"}) {
    INFO(file);
    const checked_model model = load_model(example_path(file));
    auto m = lower<TestType>(model);
    const bool layers = std::string(file) == "mazur_layers.chain";
    CHECK(m.format(m.value("E_total")) == "0.298371109");
    CHECK(shown(m, "E_total", 9) == "0.298371109");
    CHECK(shown(m, layers ? "o_1" : "out_o1", 8) == "0.75136507");
    CHECK(shown(m, layers ? "o_2" : "out_o2", 9) == "0.772928465");
    CHECK(shown(m, layers ? "net_h_1" : "net_h1", 4) == "0.3775");
    m.graph->backward(m.objective);
    // Mazur's backward pass: dE/dw5 = 0.082167041 and dE/dw1 = 0.000438568.
    CHECK(gradient(m, layers ? "W_o_1_1" : "w5", 9) == "0.082167041");
    CHECK(gradient(m, layers ? "W_h_1_1" : "w1", 9) == "0.000438568");
    CHECK(m.params.size() == 8);
    CHECK(m.inputs.size() == 2);
    CHECK(m.targets.size() == 2);
    CHECK(m.constants.size() == 2);
    REQUIRE(m.train.has_value());
    CHECK(m.train->optimizer.argument("lr") == "0.5");
  }
}

TEST_CASE("lowering keeps names, kinds, literals and precision", "[lang][lower]") {
  const checked_model model = load_model(example_path("mazur.chain"));
  const auto m = lower<mp_real>(model);
  const auto& g = *m.graph;
  CHECK(g.digits() == 50);
  CHECK(g.op_of(m.node("w1")) == op::parameter);
  CHECK(g.op_of(m.node("i1")) == op::input);
  CHECK(g.op_of(m.node("t1")) == op::input);  // targets are inputs of the graph
  CHECK(g.op_of(m.node("b1")) == op::constant);
  CHECK(g.op_of(m.node("out_h1")) == op::sigmoid);
  CHECK(g.name(m.node("net_o2")) == "net_o2");
  CHECK(g.decimal_source(m.node("w5")) == "0.40");
  // E_o1 = 1/2*(t1 - out_o1)^2: 1/2 from two exact constants, ^2 as the integer power.
  const auto e = m.node("E_o1");
  CHECK(g.op_of(e) == op::mul);
  const auto half = g.inputs(e)[0];
  CHECK(g.op_of(half) == op::div);
  CHECK(g.decimal_source(g.inputs(half)[0]) == "1");
  CHECK(g.decimal_source(g.inputs(half)[1]) == "2");
  CHECK(g.format(g.value(half),
                 number_format::significant(50, chainrule::rounding::half_even, false)) ==
        "0.50000000000000000000000000000000000000000000000000");
  const auto square = g.inputs(e)[1];
  CHECK(g.op_of(square) == op::powi);
  CHECK(g.decimal_source(g.inputs(square)[1]) == "2");
  CHECK(m.objective == m.node("E_total"));
  CHECK(m.display_format().count == 9);
}

TEST_CASE("the CS231n circuit and micrograd's neuron", "[lang][lower]") {
  SECTION("f = (x + y)*z") {
    auto m = lower<mp_real>(load_model(example_path("expression.chain")));
    CHECK(shown(m, "f", 9) == "-12");
    m.graph->backward(m.objective);
    CHECK(gradient(m, "x", 9) == "-4");
    CHECK(gradient(m, "y", 9) == "-4");
    CHECK(gradient(m, "z", 9) == "3");
    REQUIRE(m.differentiate.has_value());
  }
  SECTION("o = tanh(x1*w1 + x2*w2 + b)") {
    auto m = lower<double>(load_model(example_path("tanh_neuron.chain")));
    CHECK(shown(m, "n", 4) == "0.8814");
    CHECK(shown(m, "o", 4) == "0.7071");
    m.graph->backward(m.objective);
    CHECK(gradient(m, "n", 4) == "0.5");
    CHECK(gradient(m, "x1", 4) == "-1.5");
    CHECK(gradient(m, "w1", 4) == "1");
    CHECK(gradient(m, "x2", 4) == "0.5");
    CHECK(gradient(m, "w2", 4) == "0");
  }
}

TEST_CASE("lowering details", "[lang][lower]") {
  SECTION("an equation that renames another quantity gets its own node") {
    auto m = lower<double>(
        check_text("input x = 3\ny = x\nz = y\nc = -2.5\nE = z*c\ndifferentiate E\n"));
    CHECK(m.node("y") != m.node("x"));
    CHECK(m.graph->op_of(m.node("y")) == op::sum);
    CHECK(m.graph->op_of(m.node("c")) == op::constant);
    CHECK(shown(m, "E", 2) == "-7.5");
  }
  SECTION("negative and non-integer exponents, pow and leaky_relu") {
    auto m =
        lower<mp_real>(check_text("input x = 4\na = x^-1\nb = x^0.5\nc = pow(x, 3)\nd = "
                                  "leaky_relu(-x, alpha = 0.25)\nE = a + b + c + d\n"
                                  "differentiate E\n"));
    CHECK(m.graph->op_of(m.node("a")) == op::powi);
    CHECK(m.graph->decimal_source(m.graph->inputs(m.node("a"))[1]) == "-1");
    CHECK(m.graph->op_of(m.node("b")) == op::pow);
    CHECK(m.graph->op_of(m.node("c")) == op::powi);
    CHECK(m.graph->op_of(m.node("d")) == op::leaky_relu);
    CHECK(shown(m, "E", 6) == "65.25");  // 0.25 + 2 + 64 - 1
  }
  SECTION("softmax components share one group") {
    auto m = lower<mp_real>(
        check_text("input z[3] = [1, 2, 3]\np = softmax(z)\nE = -log(p[3])\ndifferentiate E\n"));
    const auto& g = *m.graph;
    const auto p1 = m.node("p_1");
    const auto p3 = m.node("p_3");
    CHECK(g.op_of(p1) == op::softmax);
    CHECK(g.inputs(p1)[1] == g.inputs(p3)[1]);  // the shared logsumexp node
    CHECK(g.op_of(g.inputs(p1)[1]) == op::logsumexp);
    CHECK(shown(m, "p_3", 9) == "0.665240956");
  }
  SECTION("symbols reach the graph") {
    auto m =
        lower<double>(check_text("input x = 1\nsymbol x = \"x_{0}\"\ny = 2*x\ndifferentiate y\n"));
    CHECK(m.graph->symbol(m.node("x")) == "x_{0}");
  }
  SECTION("values that cannot be computed are reported at the equation") {
    try {
      (void)lower<double>(check_text("input x = -1\ny = log(x)\ndifferentiate y\n"));
      FAIL("no error");
    } catch (const model_error& e) {
      REQUIRE(e.diagnostics().size() == 1);
      CHECK(e.diagnostics()[0].location.line == 2);
      CHECK(e.diagnostics()[0].message.rfind("cannot compute 'y': ", 0) == 0);
    }
  }
}
