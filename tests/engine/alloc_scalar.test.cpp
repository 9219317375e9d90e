// SPDX-License-Identifier: MIT
// The engine's generic code with a number type that allocates for every value (alloc_scalar):
// Mazur's net and a softmax group, forward, backward, convert and gradient check. Under the
// sanitizer build this is where leaks and lifetime bugs in graph<Real> would show.
#include <string>
#include <vector>

#include "chainrule/engine/engine.hpp"
#include "support/alloc_scalar.hpp"
#include "support/mazur.hpp"
#include "support/reference.hpp"

using namespace chainrule;
using chainrule::testing::agrees_to;
using chainrule::testing::alloc_scalar;
using chainrule::testing::build_mazur;
using chainrule::testing::check_against_mazur_ref;
using chainrule::testing::gradient_step;
using chainrule::testing::reference;

namespace {
constexpr int double_agree = chainrule::testing::test_precision<double>::agree;
}

TEST_CASE("alloc_scalar: Mazur 2-2-2 agrees with mazur.ref like double does",
          "[alloc_scalar][mazur]") {
  graph<alloc_scalar> g;
  const auto n = build_mazur(g);
  check_against_mazur_ref(g, n,
                          [](const std::string& text) { return agrees_to(text, double_agree); });
}

TEST_CASE("alloc_scalar: every value and adjoint is bit-identical to graph<double>",
          "[alloc_scalar][mazur]") {
  // alloc_scalar performs the same IEEE operations in the same order as double, so any
  // difference would mean the generic code read a stale or wrong value.
  graph<alloc_scalar> a;
  graph<double> d;
  const auto na = build_mazur(a);
  const auto nd = build_mazur(d);
  REQUIRE(a.size() == d.size());
  for (int step = 0; step < 3; ++step) {
    a.backward(na.E_total);
    d.backward(nd.E_total);
    for (std::size_t i = 0; i < a.size(); ++i) {
      const auto id = static_cast<node_id>(i);
      INFO("step " << step << ", " << d.describe(id));
      CHECK(scalar_traits<alloc_scalar>::exact(a.value(id)) ==
            scalar_traits<double>::exact(d.value(id)));
      CHECK(scalar_traits<alloc_scalar>::exact(a.adjoint(id)) ==
            scalar_traits<double>::exact(d.adjoint(id)));
    }
    gradient_step(a, alloc_scalar(0.5));
    gradient_step(d, 0.5);
    a.forward();
    d.forward();
  }
}

TEST_CASE("alloc_scalar: a softmax group matches ops.ref", "[alloc_scalar][softmax]") {
  const auto& ref = reference("ops.ref");
  graph<alloc_scalar> g;
  const std::vector<var<alloc_scalar>> xs{g.parameter("x0", "0.5"), g.parameter("x1", "-1.25"),
                                          g.parameter("x2", "2")};
  const auto s = softmax(xs);
  const auto ls = log_softmax(xs);
  const std::string tag = "0.5,-1.25,2";
  for (std::size_t i = 0; i < s.size(); ++i) {
    const std::string index = "[" + std::to_string(i) + "]";
    CHECK_THAT(s[i].value(), agrees_to(ref["softmax:" + tag + ":value" + index], double_agree));
    CHECK_THAT(ls[i].value(),
               agrees_to(ref["log_softmax:" + tag + ":value" + index], double_agree));
    g.backward(s[i]);
    for (std::size_t j = 0; j < xs.size(); ++j) {
      const std::string key = "softmax:" + tag + ":d" + index + "/dx[" + std::to_string(j) + "]";
      CHECK_THAT(xs[j].adjoint(), agrees_to(ref[key], double_agree));
    }
  }
  const auto total = sum(s);
  g.backward(total);
  // The softmax sums to 1 whatever x is, so every derivative of the sum vanishes; in double
  // arithmetic the cancellation leaves at most a few units of 2^-53.
  for (const auto& x : xs)
    CHECK_THAT(x.adjoint(), agrees_to("0", 15));
}

TEST_CASE("alloc_scalar: convert_graph to and from mp_real and double", "[alloc_scalar][convert]") {
  const auto& ref = reference("mazur.ref");
  graph<alloc_scalar> a;
  build_mazur(a);

  SECTION("to mp_real: leaves are re-read from their decimal text at 50 digits") {
    auto wide = convert_graph<mp_real>(a, 50);
    REQUIRE(wide->size() == a.size());
    CHECK_THAT((*wide)["E_total"].value(), agrees_to(ref["E_total"], 45));
    wide->backward((*wide)["E_total"]);
    CHECK_THAT((*wide)["w1"].adjoint(), agrees_to(ref["dE_total/dw1"], 45));
  }
  SECTION("from mp_real and from double") {
    graph<mp_real> m(50);
    build_mazur(m);
    auto from_mp = convert_graph<alloc_scalar>(m, 17);
    graph<double> d;
    build_mazur(d);
    auto from_double = convert_graph<alloc_scalar>(d, 17);
    for (auto* g : {from_mp.get(), from_double.get()}) {
      REQUIRE(g->size() == a.size());
      CHECK_THAT((*g)["E_total"].value(), agrees_to(ref["E_total"], double_agree));
      g->backward((*g)["E_total"]);
      CHECK_THAT((*g)["w5"].adjoint(), agrees_to(ref["dE_total/dw5"], double_agree));
      CHECK((*g)["b1"].name() == "b1");
    }
  }
  SECTION("a leaf set from a binary value keeps that exact value") {
    a.set_value(a["w1"].id(), alloc_scalar(0.1));
    auto wide = convert_graph<mp_real>(a, 50);
    CHECK(scalar_traits<mp_real>::exact((*wide)["w1"].value()) ==
          scalar_traits<double>::exact(0.1));
  }
}

TEST_CASE("alloc_scalar: check_gradients on Mazur", "[alloc_scalar][gradient_check]") {
  graph<alloc_scalar> g;
  const auto n = build_mazur(g);
  const auto report = check_gradients(g, n.E_total.id());
  REQUIRE_FALSE(report.empty());
  for (const auto& entry : report) {
    INFO(entry.name << ": analytic " << entry.analytic << ", numeric " << entry.numeric);
    CHECK(entry.agreeing_digits >= double_agree);
  }
}

TEST_CASE("alloc_scalar: failed nodes and errors release everything", "[alloc_scalar][errors]") {
  graph<alloc_scalar> g;
  const auto x = g.parameter("x", "0");
  const std::size_t size = g.size();
  CHECK_THROWS_AS(log(x), evaluation_error);
  CHECK_THROWS_AS(g.apply(op::div, {x, x}), evaluation_error);
  CHECK(g.size() == size);
  const auto y = exp(x);
  g.backward(y);
  CHECK_THAT(x.adjoint(), agrees_to("1", double_agree));
}
