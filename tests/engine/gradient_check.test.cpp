// SPDX-License-Identifier: MIT
// check_gradients: it must confirm correct gradients to nearly the working precision, and it must
// report disagreement where reverse mode and a central difference legitimately differ (kinks).
#include <set>
#include <string>

#include "chainrule/engine/engine.hpp"
#include "support/mazur.hpp"
#include "support/reference.hpp"

using namespace chainrule;
using chainrule::testing::build_mazur;

TEST_CASE("check_gradients on Mazur 2-2-2 confirms every leaf", "[gradient_check][mazur]") {
  SECTION("at 50 digits, at least 45 agreeing digits per leaf") {
    graph<mp_real> g(50);
    const auto n = build_mazur(g);
    const auto report = check_gradients(g, n.E_total.id());
    std::set<std::string> names;
    for (const auto& entry : report) {
      INFO(entry.name << ": analytic " << entry.analytic << ", numeric " << entry.numeric);
      CHECK(entry.agreeing_digits >= 45);
      CHECK(is_leaf(g.op_of(entry.leaf)));
      names.insert(entry.name);
    }
    // 4 inputs, 2 biases, 8 weights and the two 0.5 constants; the integer exponents 2 of the
    // squares are not differentiable quantities and are left out.
    CHECK(report.size() == 16);
    for (const char* leaf :
         {"i1", "i2", "t1", "t2", "b1", "b2", "w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8"}) {
      CHECK(names.count(leaf) == 1);
    }
    // The analytic column is the adjoint itself, shown to 20 digits.
    for (const auto& entry : report) {
      if (entry.name == "w5")
        CHECK(entry.analytic == g.format(n.w[4].adjoint(), number_format::significant(20)));
    }
  }
  SECTION("at double, the digits a double can hold") {
    graph<double> g;
    const auto n = build_mazur(g);
    for (const auto& entry : check_gradients(g, n.E_total.id())) {
      INFO(entry.name << ": analytic " << entry.analytic << ", numeric " << entry.numeric);
      CHECK(entry.agreeing_digits >= 14);
    }
  }
  SECTION("options: a higher reference precision and fewer digits shown") {
    graph<mp_real> g(50);
    const auto n = build_mazur(g);
    gradient_check_options options;
    options.reference_digits = 200;
    options.shown_digits = 8;
    for (const auto& entry : check_gradients(g, n.E_total.id(), options)) {
      CHECK(entry.agreeing_digits >= 45);
      // 8 significant digits: "0.082167041" has 8 digits after its leading zeros.
      std::size_t digits = 0;
      bool leading = true;
      for (char c : entry.numeric) {
        if (c == 'e') break;
        if (c >= '1' && c <= '9') leading = false;
        if (c >= '0' && c <= '9' && !leading) ++digits;
      }
      CHECK(digits <= 8);
    }
  }
  SECTION("the checked graph keeps its values") {
    graph<mp_real> g(50);
    const auto n = build_mazur(g);
    const std::string before = scalar_traits<mp_real>::exact(n.E_total.value());
    check_gradients(g, n.E_total.id());
    CHECK(scalar_traits<mp_real>::exact(n.E_total.value()) == before);
    CHECK(g.gradient_root() == n.E_total.id());
  }
}

TEST_CASE(
    "check_gradients reports the kinks where the conventions differ from a difference quotient",
    "[gradient_check][kinks]") {
  graph<mp_real> g(50);
  const auto x = g.parameter("x", "0");

  SECTION("relu at 0: the convention says 0, the central difference (h - 0)/2h says 1/2") {
    const auto report = check_gradients(g, relu(x).id());
    REQUIRE(report.size() == 1);
    CHECK(report[0].analytic == "0");
    CHECK(report[0].numeric == "0.5");
    // -log10(1/2) = 0.30...: the report flags it as disagreeing.
    CHECK(report[0].agreeing_digits < 1);
  }
  SECTION("step at 0: the difference quotient measures the jump, 1/2h, not a derivative") {
    const auto report = check_gradients(g, step(x).id());
    REQUIRE(report.size() == 1);
    CHECK(report[0].analytic == "0");
    CHECK(report[0].agreeing_digits < 1);
  }
  SECTION("abs at 0: the convention abs'(0) = 0 is also the symmetric difference (h - h)/2h") {
    const auto report = check_gradients(g, abs(x).id());
    REQUIRE(report.size() == 1);
    CHECK(report[0].agreeing_digits >= 45);
  }
  SECTION("max with a tie: the first argument's partial 1 against the symmetric 1/2") {
    const auto y = g.parameter("y", "0");
    const auto report = check_gradients(g, max(x, y).id());
    REQUIRE(report.size() == 2);
    for (const auto& entry : report) {
      INFO(entry.name);
      CHECK(entry.numeric == "0.5");
      CHECK(entry.agreeing_digits < 1);
    }
  }
}
