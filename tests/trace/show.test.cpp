// SPDX-License-Identifier: MIT
// trace::show_derivative on a graph small enough to differentiate by hand:
// y = w*x, f = sin(y), at x = 0.5, w = 3 (so y = 1.5). Closed forms, evaluated with mpmath
// (mp.dps = 30) and checked there against mp.diff:
//   df/dw      = cos(y) x              = 0.0353686008338514550440949257171
//   d2f/dw^2   = -sin(y) x^2           = -0.249373746651013607735430842785
//   d2f/dw dx  = cos(y) - sin(y) w x   = -1.42550527823837873632439520528
//   df/dy      = cos(y) (y held as a variable: the adjoint of y) = cos(1.5)
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "chainrule/engine/engine.hpp"
#include "chainrule/trace/show.hpp"
#include "support.hpp"

using namespace chainrule;
using namespace chainrule::trace;
using trace_test::agrees;

namespace {

struct small_graph {
  graph<double> g;
  var<double> x = g.input("x", "0.5");
  var<double> w = g.parameter("w", "3");
  var<double> y = (w * x).named("y");
  var<double> f = sin(y).named("f");
  std::size_t quantities = g.size();
};

}  // namespace

TEST_CASE("show_derivative: first and second derivatives, text, LaTeX and value", "[trace][show]") {
  small_graph s;
  const number_format display = number_format::decimals(6);
  const std::vector<node_id> by_w{s.w.id()};
  const shown_derivative d1 =
      show_derivative(s.g, s.quantities, s.f.id(), by_w, "d(f)/d(w)", display);
  CHECK(d1.written == "d(f)/d(w)");
  CHECK(d1.of == static_cast<quantity_index>(s.f.id()));
  CHECK(d1.wrt == std::vector<quantity_index>{static_cast<quantity_index>(s.w.id())});
  CHECK(agrees(d1.value.exact, "0.0353686008338514550440949257171", 15));
  CHECK(d1.value.shown == "0.035369");
  CHECK(d1.evaluated_at.empty());
  // The quantities stay symbols: y is not expanded into w*x.
  CHECK(d1.text.find("cos(y)") != std::string::npos);
  CHECK(d1.text.find('x') != std::string::npos);
  // Every quantity of the LaTeX is a placeholder for the exporter's own symbol.
  REQUIRE(d1.symbols.size() == 2);
  CHECK(d1.latex.find("#1") != std::string::npos);
  CHECK(d1.latex.find("#2") != std::string::npos);
  CHECK(d1.latex.find('y') == std::string::npos);

  const std::vector<node_id> by_w_w{s.w.id(), s.w.id()};
  const shown_derivative d2 =
      show_derivative(s.g, s.quantities, s.f.id(), by_w_w, "d2(f)/d(w)^2", display);
  CHECK(agrees(d2.value.exact, "-0.249373746651013607735430842785", 15));
  CHECK(d2.wrt.size() == 2);

  const std::vector<node_id> by_w_x{s.w.id(), s.x.id()};
  const shown_derivative mixed =
      show_derivative(s.g, s.quantities, s.f.id(), by_w_x, "d2(f)/d(w)d(x)", display);
  CHECK(agrees(mixed.value.exact, "-1.42550527823837873632439520528", 15));
}

TEST_CASE("show_derivative by a computed quantity holds its inputs fixed", "[trace][show]") {
  small_graph s;
  const std::vector<node_id> by_y{s.y.id()};
  const shown_derivative d =
      show_derivative(s.g, s.quantities, s.f.id(), by_y, "d(f)/d(y)", number_format::decimals(9));
  CHECK(d.text == "cos(y)");
  CHECK(agrees(d.value.exact, "0.0707372016677029100881898514343", 15));  // cos(1.5)
}

TEST_CASE("show_derivative is deterministic", "[trace][show]") {
  small_graph a;
  small_graph b;
  const std::vector<node_id> wa{a.w.id(), a.x.id()};
  const std::vector<node_id> wb{b.w.id(), b.x.id()};
  CHECK(show_derivative(a.g, a.quantities, a.f.id(), wa, "m", number_format::decimals(9)) ==
        show_derivative(b.g, b.quantities, b.f.id(), wb, "m", number_format::decimals(9)));
}
