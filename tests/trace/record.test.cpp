// SPDX-License-Identifier: MIT
// The recorder on graphs other than Mazur's: folding of unnamed intermediates, shared nodes,
// derivative templates it cannot take apart, parameters with several consumers or none, the
// pieces of the API, errors, and graphs of a million nodes. Expected derivatives are closed forms.
#include <catch2/catch.hpp>
#include <cmath>
#include <string>

#include "chainrule/engine/engine.hpp"
#include "chainrule/trace/record.hpp"
#include "chainrule/trace/train.hpp"
#include "support.hpp"

using namespace chainrule;
using namespace chainrule::trace;
using trace_test::agrees;
using trace_test::render;

namespace {

const gradient_step& step_for(const iteration& it, quantity_index parameter) {
  for (const auto& s : it.backward) {
    if (s.parameter == parameter) return s;
  }
  FAIL("no chain-rule step for the parameter");
  return it.backward.front();
}

std::string exact(double x) {
  return scalar_traits<double>::exact(x);
}

}  // namespace

TEST_CASE("Unnamed intermediates fold into the named quantity that uses them", "[trace][record]") {
  graph<double> g;
  auto x = g.input("x", "2");
  auto w = g.parameter("w", "3");
  auto u = x * w;  // unnamed, used three times
  auto y = (u * u + sin(u)).named("y");
  auto loss = (y * 2).named("L");
  g.backward(loss);
  const document doc = record(g, loss.id(), {});
  const auto q = [&](const var<double>& v) { return static_cast<quantity_index>(v.id()); };

  CHECK(doc.quantities[q(u)].folded_into == std::optional<quantity_index>(q(y)));
  CHECK(doc.quantities[q(u)].rank == doc.quantities[q(y)].rank);
  CHECK_FALSE(doc.quantities[q(y)].folded_into.has_value());
  // The literal 2 is folded too, and is not a given value.
  for (auto i : doc.given)
    CHECK(!doc.quantities[i].name.empty());
  CHECK(doc.given.size() == 2);

  const expression& f = doc.quantities[q(y)].formula;
  CHECK(render(doc, f) == "x*w*x*w + sin(x*w)");
  // x*w is one node shared by its three uses.
  std::size_t muls = 0;
  for (const auto& n : f.nodes)
    muls += n.kind == expr_kind::apply && n.op == "mul";
  CHECK(muls == 2);
  CHECK(render(doc, doc.quantities[q(loss)].formula) == "y*2");

  // dy/dw through the three paths: u*x + u*x + cos(u)*x = (2u + cos u) x with u = 6, x = 2.
  const iteration& it = doc.iterations.at(0);
  const std::size_t e = [&] {
    for (std::size_t i = 0; i < doc.edges.size(); ++i) {
      if (doc.edges[i].from == q(w) && doc.edges[i].to == q(y)) return i;
    }
    FAIL("no edge w -> y");
    return std::size_t{0};
  }();
  CHECK(render(doc, doc.edges[e].partial) == "x*w*x + x*w*x + cos(x*w)*x");
  CHECK(agrees(it.edge_partials[e].exact, exact((12 + std::cos(6.0)) * 2), 15));
  const gradient_step& s = step_for(it, q(w));
  REQUIRE(s.factors.size() == 2);
  CHECK(render(doc, s.factors[0].d) == "dL/dy");
  CHECK(render(doc, s.factors[0].form) == "2");
  CHECK(render(doc, s.factors[1].d) == "dy/dw");
  CHECK(agrees(s.value.exact, exact(2 * (12 + std::cos(6.0)) * 2), 15));
  // The expanded formula carries the intermediate's value.
  for (const auto& step : it.forward_steps) {
    if (step.quantity != q(y)) continue;
    CHECK(render(doc, step.formula, true) == "2*3*2*3 + sin(2*3)");
    CHECK(step.formula.nodes[step.formula.nodes.size() - 2].value.empty() == false);
  }
}

TEST_CASE("Derivative templates that are not arithmetic stay whole", "[trace][record]") {
  graph<double> g;
  auto x = g.input("x", "1.5");
  auto w = g.parameter("w", "2");
  auto loss = relu(w * x).named("r");
  g.backward(loss);
  const document doc = record(g, loss.id(), {});
  // edges are ordered by (to, from): x -> r, then w -> r.
  REQUIRE(doc.edges.size() == 2);
  CHECK(render(doc, doc.edges[0].partial) == "[w*x > 0]*w");
  const expression& form = doc.edges[1].partial;
  bool kept = false;
  for (const auto& n : form.nodes)
    kept = kept || n.op == "relu'";
  CHECK(kept);
  CHECK(render(doc, form) == "[w*x > 0]*x");
  CHECK(doc.iterations[0].backward.at(0).value.shown == "1.5");
}

TEST_CASE("Parameters with several consumers, or none", "[trace][record]") {
  graph<double> g;
  auto x = g.input("x", "0.5");
  auto w = g.parameter("w", "3");
  auto unused = g.parameter("unused", "1");
  auto a = (w * x).named("a");
  auto b = (w * w).named("b");
  auto loss = (a + b).named("L");
  auto other = (unused * x).named("other");
  g.backward(loss);
  const document doc = record(g, loss.id(), {});
  const iteration& it = doc.iterations.at(0);
  const auto q = [](const var<double>& v) { return static_cast<quantity_index>(v.id()); };

  // dL/dw = x + 2w = 6.5, as a grouped sum over w's two consumers.
  const gradient_step& sw = step_for(it, q(w));
  CHECK(sw.combine == gradient_step::kind::sum);
  REQUIRE(sw.factors.size() == 2);
  CHECK(render(doc, sw.factors[0].d) == "da/dw");
  CHECK(render(doc, sw.factors[0].form) == "x");
  CHECK(render(doc, sw.factors[1].d) == "db/dw");
  CHECK(render(doc, sw.factors[1].form) == "w + w");
  CHECK(sw.value.shown == "6.5");

  const gradient_step& su = step_for(it, q(unused));
  CHECK(su.factors.empty());
  CHECK(su.value.shown == "0");
  CHECK(doc.quantities[q(other)].kind == quantity_kind::computed);
}

TEST_CASE("A term's label says through which consumer when it has to", "[trace][record]") {
  graph<double> g;
  auto w = g.parameter("w", "2");
  auto h = (w * w).named("h");
  auto p = (h * 3).named("p");
  auto r = (h + p).named("r");  // r depends on h directly and through p
  auto loss = (r + w).named("L");
  g.backward(loss);
  const document doc = record(g, loss.id(), {});
  const iteration& it = doc.iterations.at(0);
  const gradient_step* sum_h = nullptr;
  for (const auto& s : it.backward) {
    if (s.combine == gradient_step::kind::sum && s.d.wrt == static_cast<quantity_index>(h.id()))
      sum_h = &s;
  }
  REQUIRE(sum_h != nullptr);
  REQUIRE(sum_h->factors.size() == 2);
  // dr/dh "via p" is only part of dr/dh, so both labels need their consumer.
  CHECK(render(doc, sum_h->factors[0].d) == "dr/dh");
  CHECK(sum_h->factors[0].d.via ==
        std::optional<quantity_index>(static_cast<quantity_index>(p.id())));
  CHECK(sum_h->factors[0].d.via_needed);
  CHECK(sum_h->factors[1].d.via ==
        std::optional<quantity_index>(static_cast<quantity_index>(r.id())));
  CHECK(sum_h->factors[1].d.via_needed);
  CHECK(sum_h->value.shown == "4");
  CHECK(step_for(it, static_cast<quantity_index>(w.id())).value.shown == "17");  // 4 * 2w + 1
}

TEST_CASE("The pieces of the recorder API agree with record()", "[trace][record]") {
  graph<mp_real> g(30);
  auto x = g.input("x", "0.25");
  auto w = g.parameter("w", "-1.5");
  auto loss = exp(w * x).named("L");
  record_options options;
  options.display = number_format::significant(5);
  const document model = record_model(g, loss.id(), options);
  CHECK(model.iterations.empty());
  CHECK(model.config.display.description == "5 significant digits");

  const iteration before = record_iteration(g, model, 1);
  CHECK(before.backward.empty());
  CHECK(before.gradients.at(0).empty());

  g.backward(loss);
  const document full = record(g, loss.id(), options);
  const iteration after = record_iteration(g, model, 1);
  CHECK(after == full.iterations.at(0));
  CHECK(record_snapshot(g, model) == full.final_state);
  // dL/dw = x e^{wx} = 0.25 e^{-0.375}
  CHECK(after.backward.at(0).value.shown == "0.17182");
  CHECK(after.forward.values[static_cast<std::size_t>(w.id())].exact == "-1.5");
  CHECK(after.forward.values[static_cast<std::size_t>(w.id())].shown == "-1.5");

  graph<mp_real> other(30);
  other.input("x", "1");
  CHECK_THROWS_WITH(record_iteration(other, model, 1),
                    Catch::Contains("record the model from this graph"));
}

TEST_CASE("Recorder errors are clear", "[trace][record]") {
  graph<double> g;
  auto x = g.input("x", "1");
  auto w = g.parameter("w", "2");
  auto loss = (w * x).named("L");
  CHECK_THROWS_WITH(record(g, static_cast<node_id>(99), {}), Catch::Contains("does not exist"));
  record_options bad_target;
  bad_target.targets = {w.id()};
  CHECK_THROWS_WITH(record(g, loss.id(), bad_target),
                    Catch::Contains("a target must be an input node; 'w'"));
  record_options bad_parameter;
  bad_parameter.parameters = {x.id()};
  CHECK_THROWS_WITH(record(g, loss.id(), bad_parameter),
                    Catch::Contains("only a parameter can be trained; 'x'"));
  run_options bad_data;
  bad_data.data.columns = {x.id()};
  bad_data.data.values = {"1", "oops"};
  CHECK_THROWS_AS(run(g, loss.id(), bad_data), decimal_error);
  bad_data.data.columns = {loss.id()};
  CHECK_THROWS_WITH(run(g, loss.id(), bad_data),
                    Catch::Contains("must be an input or target node"));
}

TEST_CASE("A million-node graph records and trains without recursion", "[trace][record][slow]") {
  // y_{k+1} = y_k * c with c = 1 + 2^-20: L = w c^N, dL/dw = c^N = e^{N ln c} (closed form).
  const auto closed_form = [](int n) { return std::exp(n * std::log1p(std::ldexp(1.0, -20))); };
#ifdef CHAINRULE_SANITIZED_BUILD
  constexpr int n = 100000;  // ASan makes the full size take minutes; the normal build runs it
#else
  constexpr int n = 1000000;
#endif
  graph<double> g;
  auto w = g.parameter("w", "0.5");
  auto c = g.constant("c", "1.00000095367431640625");
  var<double> y = w;
  for (int k = 0; k < n; ++k)
    y = y * c;
  y.named("L");

  SECTION("a full trace: one named quantity over a million intermediates") {
    g.backward(y);
    const document doc = record(g, y.id(), {});
    CHECK(doc.quantities.size() == static_cast<std::size_t>(n) + 2);
    CHECK(doc.computed.size() == 1);
    CHECK(doc.quantities[static_cast<std::size_t>(n)].folded_into ==
          std::optional<quantity_index>(static_cast<quantity_index>(y.id())));
    const gradient_step& s = step_for(doc.iterations.at(0), static_cast<quantity_index>(w.id()));
    CHECK(agrees(s.value.exact, exact(closed_form(n)), 11));
  }

  SECTION("training: analysis once, steps without tracing") {
    run_options o;
    o.optimizer = {"sgd", {{"lr", "0.001"}}};
    o.steps = 2;
    o.trace.first = false;
    o.trace.last = false;
    const document doc = run(g, y.id(), o);
    CHECK(doc.iterations.empty());
    // Each step: w <- w - lr c^N, and L = w c^N.
    const double cn = closed_form(n);
    const double w2 = 0.5 - 0.002 * cn;
    CHECK(agrees(doc.final_state.loss.exact, exact(w2 * cn), 11));
  }
}

TEST_CASE("A chain of many named quantities gives one factor per link", "[trace][record][slow]") {
  constexpr int n = 100000;
  graph<double> h;
  auto v = h.parameter("v", "0.5");
  auto d = h.constant("d", "1.00000095367431640625");
  var<double> z = v;
  for (int k = 0; k < n; ++k)
    z = (z * d).named("z" + std::to_string(k));
  h.backward(z);
  const document chain = record(h, z.id(), {});
  const gradient_step& t = step_for(chain.iterations.at(0), static_cast<quantity_index>(v.id()));
  CHECK(t.factors.size() == static_cast<std::size_t>(n));
  CHECK(render(chain, t.factors.front().d) ==
        "dz" + std::to_string(n - 1) + "/dz" + std::to_string(n - 2));
  CHECK(agrees(t.value.exact, exact(std::exp(n * std::log1p(std::ldexp(1.0, -20)))), 12));
}

TEST_CASE("A chain never collapses into the gradient it explains", "[trace][record]") {
  // E = c + 1 with c = v*x: merging the unit link E <- c with the link below would leave the one
  // factor dE/dv, and the step would read dE/dv = dE/dv. dE/dv = 1 * x = 0.5 by hand.
  graph<double> g;
  auto x = g.input("x", "0.5");
  auto v = g.parameter("v", "2");
  auto c = (v * x).named("c");
  auto loss = (c + g.constant("1")).named("E");
  g.backward(loss);
  const document doc = record(g, loss.id(), {});
  const gradient_step& s = step_for(doc.iterations.at(0), static_cast<quantity_index>(v.id()));
  CHECK(s.combine == gradient_step::kind::product);
  REQUIRE(s.factors.size() == 2);
  CHECK(render(doc, s.factors[0].d) == "dE/dc");
  CHECK(render(doc, s.factors[0].form) == "1");
  CHECK(render(doc, s.factors[1].d) == "dc/dv");
  CHECK(render(doc, s.factors[1].form) == "x");
  CHECK(s.value.shown == "0.5");

  // Where the loss is the parameter's own equation the chain has one link: the step's single
  // factor is the gradient, d(w^2 + w*x)/dw = 2w + x = 6.5.
  graph<double> h;
  auto hx = h.input("x", "0.5");
  auto w = h.parameter("w", "3");
  auto direct = (w * w + w * hx).named("E");
  h.backward(direct);
  const document one = record(h, direct.id(), {});
  const gradient_step& d = step_for(one.iterations.at(0), static_cast<quantity_index>(w.id()));
  REQUIRE(d.factors.size() == 1);
  CHECK(d.factors[0].d == d.d);
  CHECK(d.value.shown == "6.5");
}
