// SPDX-License-Identifier: MIT
// Matt Mazur's "A Step by Step Backpropagation Example" traced end to end. Every expected number
// comes from tests/reference/mazur.ref (mpmath, independent of the engine) or is printed in the
// tutorial itself (the 9-decimal figures quoted in the checks).
#include <catch2/catch.hpp>

#include "chainrule/engine/engine.hpp"
#include "chainrule/trace/record.hpp"
#include "chainrule/trace/train.hpp"
#include "support.hpp"

using namespace chainrule;
using namespace chainrule::trace;
using trace_test::agrees;
using trace_test::read_reference;
using trace_test::ref_value;
using trace_test::render;

namespace {

template <class Real>
struct mazur_net {
  explicit mazur_net(unsigned digits) : g(digits) {
    auto i1 = g.input("i1", "0.05");
    auto i2 = g.input("i2", "0.10");
    auto t1 = g.input("t1", "0.01");
    auto t2 = g.input("t2", "0.99");
    auto w1 = g.parameter("w1", "0.15");
    auto w2 = g.parameter("w2", "0.20");
    auto w3 = g.parameter("w3", "0.25");
    auto w4 = g.parameter("w4", "0.30");
    auto w5 = g.parameter("w5", "0.40");
    auto w6 = g.parameter("w6", "0.45");
    auto w7 = g.parameter("w7", "0.50");
    auto w8 = g.parameter("w8", "0.55");
    auto b1 = g.constant("b1", "0.35");
    auto b2 = g.constant("b2", "0.60");
    auto net_h1 = (w1 * i1 + w2 * i2 + b1).named("net_h1");
    auto net_h2 = (w3 * i1 + w4 * i2 + b1).named("net_h2");
    auto out_h1 = sigmoid(net_h1).named("out_h1");
    auto out_h2 = sigmoid(net_h2).named("out_h2");
    auto net_o1 = (w5 * out_h1 + w6 * out_h2 + b2).named("net_o1");
    auto net_o2 = (w7 * out_h1 + w8 * out_h2 + b2).named("net_o2");
    auto out_o1 = sigmoid(net_o1).named("out_o1");
    auto out_o2 = sigmoid(net_o2).named("out_o2");
    auto e_o1 = (g.constant("0.5") * pow(t1 - out_o1, 2)).named("E_o1");
    auto e_o2 = (g.constant("0.5") * pow(t2 - out_o2, 2)).named("E_o2");
    loss = (e_o1 + e_o2).named("E_total").id();
    options.title = "A step by step backpropagation example";
    options.targets = {t1.id(), t2.id()};
  }
  node_id id(std::string_view name) { return g[name].id(); }
  quantity_index q(std::string_view name) { return static_cast<quantity_index>(id(name)); }

  graph<Real> g;
  node_id loss{};
  record_options options;
};

const gradient_step& step_for(const iteration& it, quantity_index parameter) {
  for (const auto& s : it.backward) {
    if (s.parameter == parameter) return s;
  }
  FAIL("no chain-rule step for the parameter");
  return it.backward.front();
}

const gradient_step& sum_step_for(const iteration& it, quantity_index wrt) {
  for (const auto& s : it.backward) {
    if (s.combine == gradient_step::kind::sum && s.d.wrt == wrt) return s;
  }
  FAIL("no grouped sum step");
  return it.backward.front();
}

std::string factor_values(const gradient_step& s) {
  std::string out;
  for (const auto& f : s.factors) {
    out += (out.empty()                             ? ""
            : s.combine == gradient_step::kind::sum ? " + "
                                                    : " * ") +
           f.value.shown;
  }
  return out + " = " + s.value.shown;
}

}  // namespace

TEST_CASE("Mazur: the trace of one forward and backward pass", "[trace][mazur]") {
  const auto ref = read_reference("mazur.ref");
  mazur_net<mp_real> m(50);
  m.g.forward();
  m.g.backward(m.loss);
  const document doc = record(m.g, m.loss, m.options);
  REQUIRE(doc.iterations.size() == 1);
  const iteration& it = doc.iterations[0];

  SECTION("model: kinds, folding, ranks drawn as 2-2-2") {
    CHECK(doc.schema == schema_version);
    CHECK(doc.config.precision == "50 digits");
    CHECK(doc.config.digits == 50);
    CHECK(doc.config.display.description == "9 decimals");
    CHECK(doc.quantities[m.q("t1")].kind == quantity_kind::target);
    CHECK(doc.quantities[m.q("i1")].kind == quantity_kind::input);
    CHECK(doc.quantities[m.q("w5")].kind == quantity_kind::parameter);
    CHECK(doc.quantities[m.q("b1")].kind == quantity_kind::constant);
    CHECK(doc.quantities[m.q("E_total")].kind == quantity_kind::loss);
    CHECK(doc.quantities[m.q("w1")].source == "0.15");
    CHECK(doc.loss == m.q("E_total"));
    // given: 4 data, 8 weights, 2 biases; the literals 0.5 and 2 are folded into E_o1/E_o2.
    CHECK(doc.given.size() == 14);
    CHECK(doc.computed.size() == 11);
    for (std::size_t i = 0; i < doc.quantities.size(); ++i) {
      const quantity& q = doc.quantities[i];
      if (q.name.empty()) {
        REQUIRE(q.folded_into.has_value());
        CHECK(!doc.quantities[*q.folded_into].name.empty());
      }
    }
    const std::vector<std::pair<const char*, std::uint32_t>> ranks{
        {"i1", 0},     {"w1", 0},     {"net_h1", 1}, {"out_h1", 2}, {"w5", 2},
        {"net_o1", 3}, {"out_o1", 4}, {"t1", 4},     {"E_o1", 5},   {"E_total", 6}};
    for (const auto& [name, rank] : ranks) {
      INFO(name);
      CHECK(doc.quantities[m.q(name)].rank == rank);
    }
    // Parameters in update order: output layer first.
    std::vector<std::string> order;
    for (auto p : doc.parameters)
      order.push_back(doc.quantities[p].name);
    CHECK(order == std::vector<std::string>{"w5", "w6", "w7", "w8", "w1", "w2", "w3", "w4"});
    // Named-level edges: 6 into each net (3 inputs... w, out/i pairs and bias), 1 into each out,
    // ...
    std::size_t into_net_o1 = 0;
    for (const auto& e : doc.edges)
      into_net_o1 += e.to == m.q("net_o1") ? 1 : 0;
    CHECK(into_net_o1 == 5);
  }

  SECTION("forward pass: formula, numbers substituted, result") {
    std::map<std::string, const forward_step*> by_name;
    for (const auto& s : it.forward_steps)
      by_name[doc.quantities[s.quantity].name] = &s;
    REQUIRE(by_name.size() == 11);
    CHECK(render(doc, by_name["net_h1"]->formula) == "w1*i1 + w2*i2 + b1");
    CHECK(render(doc, by_name["net_h1"]->formula, true) == "0.15*0.05 + 0.2*0.1 + 0.35");
    CHECK(by_name["net_h1"]->value.shown == "0.3775");
    CHECK(render(doc, by_name["out_h1"]->formula) == "sigmoid(net_h1)");
    CHECK(by_name["out_h1"]->value.shown == "0.593269992");
    CHECK(render(doc, by_name["E_o1"]->formula) == "0.5*(t1 - out_o1)^2");
    CHECK(by_name["E_o1"]->value.shown == "0.274811083");
    CHECK(render(doc, by_name["E_total"]->formula) == "E_o1 + E_o2");
    CHECK(by_name["E_total"]->value.shown == "0.298371109");  // published: 0.298371109
    for (const char* key : {"net_h1", "out_h1", "net_h2", "out_h2", "net_o1", "out_o1", "net_o2",
                            "out_o2", "E_o1", "E_o2", "E_total"}) {
      INFO(key);
      CHECK(agrees(by_name[key]->value.exact, ref_value(ref, key), 48));
    }
    CHECK(it.forward.loss == by_name["E_total"]->value);
  }

  SECTION("chain rule for w5: three factors, symbolic and numeric (published figures)") {
    const gradient_step& s = step_for(it, m.q("w5"));
    CHECK(s.combine == gradient_step::kind::product);
    CHECK(render(doc, s.d) == "dE_total/dw5");
    REQUIRE(s.factors.size() == 3);
    CHECK(render(doc, s.factors[0].d) == "dE_total/dout_o1");
    CHECK(render(doc, s.factors[0].form) == "-(t1 - out_o1)");
    CHECK(render(doc, s.factors[1].d) == "dout_o1/dnet_o1");
    CHECK(render(doc, s.factors[1].form) == "out_o1*(1 - out_o1)");
    CHECK(render(doc, s.factors[2].d) == "dnet_o1/dw5");
    CHECK(render(doc, s.factors[2].form) == "out_h1");
    CHECK(factor_values(s) == "0.74136507 * 0.186815602 * 0.593269992 = 0.082167041");
    CHECK(agrees(s.factors[0].value.exact, ref_value(ref, "dE_total/dout_o1"), 48));
    CHECK(agrees(s.factors[1].value.exact, ref_value(ref, "dout_o1/dnet_o1"), 48));
    CHECK(agrees(s.value.exact, ref_value(ref, "dE_total/dw5"), 48));
    CHECK(render(doc, s.factors[0].form, true) == "-(0.01 - 0.75136507)");
  }

  SECTION("hidden layer: the grouped sum for out_h1 and the chain for w1") {
    const gradient_step& sum = sum_step_for(it, m.q("out_h1"));
    CHECK(render(doc, sum.d) == "dE_total/dout_h1");
    REQUIRE(sum.factors.size() == 2);
    CHECK(render(doc, sum.factors[0].d) == "dE_o1/dout_h1");
    CHECK(render(doc, sum.factors[1].d) == "dE_o2/dout_h1");
    CHECK_FALSE(sum.factors[0].d.via_needed);
    // The tutorial prints -0.019049119 (from rounded intermediates, -0.038098236 * 0.5); the
    // exact value is -0.01904911825827... (mazur.ref), which rounds to -0.019049118.
    CHECK(factor_values(sum) == "0.055399425 + -0.019049118 = 0.036350306");
    CHECK(agrees(sum.factors[0].value.exact, ref_value(ref, "dE_o1/dout_h1"), 48));
    CHECK(agrees(sum.factors[1].value.exact, ref_value(ref, "dE_o2/dout_h1"), 48));
    CHECK(agrees(sum.value.exact, ref_value(ref, "dE_total/dout_h1"), 48));

    // dE_o1/dout_h1 = dE_o1/dnet_o1 * dnet_o1/dout_h1, with dE_o1/dnet_o1 derived before it.
    REQUIRE(sum.factors[0].defined_by.has_value());
    const gradient_step& term = it.backward[*sum.factors[0].defined_by];
    REQUIRE(term.factors.size() == 2);
    CHECK(render(doc, term.factors[0].d) == "dE_o1/dnet_o1");
    CHECK(render(doc, term.factors[1].d) == "dnet_o1/dout_h1");
    CHECK(render(doc, term.factors[1].form) == "w5");
    CHECK(factor_values(term) == "0.138498562 * 0.4 = 0.055399425");
    REQUIRE(term.factors[0].defined_by.has_value());
    const gradient_step& delta = it.backward[*term.factors[0].defined_by];
    CHECK(factor_values(delta) == "0.74136507 * 0.186815602 = 0.138498562");
    CHECK(agrees(delta.value.exact, ref_value(ref, "dE_total/dnet_o1"), 48));
    CHECK(*term.factors[0].defined_by < *sum.factors[0].defined_by);

    const gradient_step& w1 = step_for(it, m.q("w1"));
    REQUIRE(w1.factors.size() == 3);
    CHECK(render(doc, w1.factors[0].d) == "dE_total/dout_h1");
    CHECK(w1.factors[0].form.empty());
    CHECK(w1.factors[0].defined_by ==
          std::optional<std::uint32_t>(static_cast<std::uint32_t>(&sum - it.backward.data())));
    CHECK(render(doc, w1.factors[1].form) == "out_h1*(1 - out_h1)");
    CHECK(render(doc, w1.factors[2].form) == "i1");
    CHECK(factor_values(w1) == "0.036350306 * 0.241300709 * 0.05 = 0.000438568");
    CHECK(agrees(w1.factors[1].value.exact, ref_value(ref, "dout_h1/dnet_h1"), 48));

    // The sum for out_h1 is derived once, before the first parameter that needs it.
    std::size_t sums = 0;
    for (const auto& s : it.backward)
      sums += s.combine == gradient_step::kind::sum && s.d.wrt == m.q("out_h1");
    CHECK(sums == 1);
  }

  SECTION("every gradient against the reference") {
    for (int k = 1; k <= 8; ++k) {
      const std::string w = "w" + std::to_string(k);
      INFO(w);
      CHECK(agrees(step_for(it, m.q(w)).value.exact, ref_value(ref, "dE_total/d" + w), 48));
      CHECK(it.gradients[m.q(w)] == step_for(it, m.q(w)).value);
    }
  }

  SECTION("edges carry named-level partials") {
    bool seen = false;
    for (std::size_t e = 0; e < doc.edges.size(); ++e) {
      if (doc.edges[e].from == m.q("out_h1") && doc.edges[e].to == m.q("net_o1")) {
        CHECK(render(doc, doc.edges[e].partial) == "w5");
        CHECK(it.edge_partials[e].shown == "0.4");
        seen = true;
      }
      if (doc.edges[e].from == m.q("out_o1") && doc.edges[e].to == m.q("E_o1")) {
        CHECK(render(doc, doc.edges[e].partial) == "-(t1 - out_o1)");
      }
    }
    CHECK(seen);
    CHECK(doc.engine_edges.size() == it.engine_edge_partials.size());
  }
}

TEST_CASE("Mazur: one SGD step in both update orders", "[trace][mazur][train]") {
  const auto ref = read_reference("mazur.ref");
  mazur_net<mp_real> m(50);
  run_options o;
  o.record = m.options;
  o.optimizer = {"sgd", {{"lr", "0.5"}}};
  o.steps = 1;

  SECTION("simultaneous: the published weights, E_total 0.291027774") {
    const document doc = run(m.g, m.loss, o);
    CHECK(doc.config.optimizer.name == "sgd");
    CHECK(doc.config.update_order == "simultaneous");
    REQUIRE(doc.config.optimizer.rule.size() == 1);
    CHECK(render(doc, doc.config.optimizer.rule[0].rhs) == "w - eta*g");
    REQUIRE(doc.iterations.size() == 1);
    const iteration& it = doc.iterations[0];
    REQUIRE(it.updates.size() == 8);
    CHECK(doc.quantities[it.updates[0].parameter].name == "w5");
    const assignment& line = it.updates[0].lines.at(0);
    CHECK(line.lhs_text == "w5+");
    CHECK(line.is_parameter);
    CHECK(render(doc, line.rhs) == "w5 - eta*dE_total/dw5");
    CHECK(render(doc, line.rhs, true) == "0.4 - 0.5*0.082167041");
    CHECK(line.value.shown == "0.35891648");  // published: 0.35891648
    for (const auto& u : it.updates) {
      const std::string name = doc.quantities[u.parameter].name;
      INFO(name);
      CHECK(agrees(u.lines.back().value.exact, ref_value(ref, name + "+"), 48));
      CHECK(agrees(doc.final_state.values[u.parameter].exact, ref_value(ref, name + "+"), 48));
    }
    REQUIRE(doc.loss_history.size() == 2);
    CHECK(agrees(doc.loss_history[0].loss.exact, ref_value(ref, "E_total"), 48));
    CHECK(doc.final_state.loss.shown == "0.291027774");
    CHECK(agrees(doc.final_state.loss.exact, ref_value(ref, "E_total_after_simultaneous"), 48));
    CHECK(doc.loss_history[1].loss == doc.final_state.loss);
    REQUIRE(!doc.final_steps.empty());
    CHECK(doc.final_steps.back().value == doc.final_state.loss);
    CHECK(it.recomputed.empty());
  }

  SECTION("sequential: last layer first, E_total 0.291027924 as the tutorial quotes") {
    o.order = update_order::sequential;
    const document doc = run(m.g, m.loss, o);
    CHECK(doc.config.update_order == "sequential");
    const iteration& it = doc.iterations.at(0);
    for (const auto& u : it.updates) {
      const std::string name = doc.quantities[u.parameter].name;
      const bool hidden = name <= "w4";
      INFO(name);
      CHECK(agrees(u.lines.back().value.exact,
                   ref_value(ref, (hidden ? "sequential." : "") + name + "+"), 48));
    }
    CHECK(doc.final_state.loss.shown == "0.291027924");  // published: 0.291027924
    CHECK(agrees(doc.final_state.loss.exact, ref_value(ref, "E_total_after_sequential"), 48));
    // The recomputed sum for out_h1 uses w5+ and w7+.
    const gradient_step* recomputed_sum = nullptr;
    for (const auto& s : it.recomputed) {
      if (s.combine == gradient_step::kind::sum && s.d.wrt == m.q("out_h1")) recomputed_sum = &s;
    }
    REQUIRE(recomputed_sum != nullptr);
    const gradient_step& term = it.recomputed.at(*recomputed_sum->factors.at(0).defined_by);
    CHECK(term.factors.at(1).value.shown == "0.35891648");
    CHECK(render(doc, term.factors.at(1).form, true) == "0.35891648");
  }
}

TEST_CASE("Mazur: 10,000 SGD steps", "[trace][mazur][train][slow]") {
  const auto ref = read_reference("mazur.ref");
  mazur_net<mp_real> m(50);
  run_options o;
  o.record = m.options;
  o.optimizer = {"sgd", {{"lr", "0.5"}}};
  o.steps = 10000;
  o.trace.every = 5000;
  const document doc = run(m.g, m.loss, o);
  CHECK(doc.config.traced == std::vector<std::uint64_t>{1, 5000, 10000});
  CHECK(doc.config.traced_description == "first, last, every 5000");
  REQUIRE(doc.loss_history.size() == 10001);
  CHECK(doc.loss_history[10000].updates == 10000);
  CHECK(agrees(doc.final_state.loss.exact, ref_value(ref, "E_total_after_10000_steps.dps80"), 45));
  CHECK(agrees(doc.loss_history[9999].loss.exact, ref_value(ref, "E_total_after_9999_steps.dps80"),
               45));
  CHECK(agrees(doc.loss_history[1].loss.exact, ref_value(ref, "E_total_after_simultaneous"), 48));
  CHECK(doc.iterations.back().index == 10000);
  CHECK(doc.iterations.back().forward.loss == doc.loss_history[9999].loss);
}

TEST_CASE("Mazur in double precision", "[trace][mazur]") {
  const auto ref = read_reference("mazur.ref");
  mazur_net<double> m(17);
  run_options o;
  o.record = m.options;
  o.optimizer = {"sgd", {{"lr", "0.5"}}};
  const document doc = run(m.g, m.loss, o);
  CHECK(doc.config.precision == "double");
  CHECK(doc.config.digits == 17);
  CHECK(agrees(doc.final_state.loss.exact, ref_value(ref, "E_total_after_simultaneous"), 14));
  CHECK(doc.final_state.loss.shown == "0.291027774");
}

TEST_CASE("Recording is deterministic", "[trace]") {
  const auto make = [] {
    mazur_net<mp_real> m(50);
    run_options o;
    o.record = m.options;
    o.optimizer = {"adam", {{"lr", "0.1"}}};
    o.steps = 3;
    o.order = update_order::sequential;
    o.trace.all = true;
    return run(m.g, m.loss, o);
  };
  const document a = make();
  const document b = make();
  CHECK(a.iterations.size() == 3);
  CHECK(a == b);
}
