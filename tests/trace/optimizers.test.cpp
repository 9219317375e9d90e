// SPDX-License-Identifier: MIT
// Optimizer steps traced on a two-weight least-squares problem, and the perceptron rule learning
// AND. Expected values: tests/reference/optimizers.ref (mpmath at 80 digits, each rule written
// out from its published form; the engine is not used there).
#include <catch2/catch.hpp>

#include "chainrule/engine/engine.hpp"
#include "chainrule/engine/optimizer.hpp"
#include "chainrule/trace/train.hpp"
#include "support.hpp"

using namespace chainrule;
using namespace chainrule::trace;
using trace_test::agrees;
using trace_test::read_reference;
using trace_test::ref_value;
using trace_test::render;

namespace {

struct least_squares {
  least_squares() : g(50) {
    auto x = g.input("x", "1.5");
    auto t = g.input("t", "0.5");
    auto w1 = g.parameter("w1", "0.3");
    auto w2 = g.parameter("w2", "-0.2");
    loss = pow(w1 * x + w2 - t, 2).named("E").id();
  }
  graph<mp_real> g;
  node_id loss{};
};

const assignment& line(const iteration& it, const document& doc, const std::string& parameter,
                       const std::string& lhs) {
  for (const auto& u : it.updates) {
    if (doc.quantities[u.parameter].name != parameter) continue;
    for (const auto& a : u.lines) {
      if (a.lhs_text == lhs) return a;
    }
  }
  FAIL("no update line " << lhs << " for " << parameter);
  return it.updates.front().lines.front();
}

}  // namespace

TEST_CASE("Optimizers: two traced steps against closed forms", "[trace][optimizer]") {
  const auto ref = read_reference("optimizers.ref");
  const auto [name, arguments, states] =
      GENERATE(table<std::string, std::vector<std::pair<std::string, std::string>>,
                     std::vector<std::string>>(
          {{"sgd", {{"lr", "0.1"}}, {}},
           {"momentum", {{"lr", "0.1"}, {"beta", "0.9"}}, {"v"}},
           {"rmsprop", {{"lr", "0.01"}, {"rho", "0.9"}, {"eps", "1e-8"}}, {"s"}},
           {"adagrad", {{"lr", "0.1"}, {"eps", "1e-8"}}, {"s"}},
           {"adam",
            {{"lr", "0.1"}, {"beta1", "0.9"}, {"beta2", "0.999"}, {"eps", "1e-8"}},
            {"m", "v", "m_hat", "v_hat"}}}));
  INFO(name);
  least_squares p;
  run_options o;
  o.optimizer = {name, arguments};
  o.steps = 2;
  o.trace.all = true;
  const document doc = run(p.g, p.loss, o);
  REQUIRE(doc.iterations.size() == 2);
  CHECK(agrees(doc.loss_history[0].loss.exact, ref_value(ref, name + ".0.E"), 45));
  for (int step = 1; step <= 2; ++step) {
    const iteration& it = doc.iterations[static_cast<std::size_t>(step - 1)];
    const std::string at = name + "." + std::to_string(step) + ".";
    for (const std::string w : {"w1", "w2"}) {
      INFO("step " << step << ", " << w);
      for (const auto& u : it.updates) {
        // After one Adam step r = w1 x + w2 - t is about 4e-9 from terms about 0.6: the
        // subtraction leaves some 41 of the 50 digits, so gradients are compared to 38.
        if (doc.quantities[u.parameter].name == w)
          CHECK(agrees(u.gradient.exact, ref_value(ref, at + "g." + w), 38));
      }
      for (const auto& s : states)
        CHECK(agrees(line(it, doc, w, s + "_" + w).value.exact, ref_value(ref, at + s + "." + w),
                     45));
      CHECK(agrees(line(it, doc, w, w + "+").value.exact, ref_value(ref, at + w), 45));
    }
    // E = r^2 with r down to 6e-17 after two Adagrad steps: the 50-digit subtraction that makes r
    // keeps about 33 significant digits of it.
    CHECK(agrees(doc.loss_history[static_cast<std::size_t>(step)].loss.exact,
                 ref_value(ref, at + "E"), 30));
  }
  // State carried over: the second step's previous state is the first step's new state.
  for (const auto& s : states) {
    if (s == "m_hat" || s == "v_hat") continue;
    CHECK(line(doc.iterations[1], doc, "w1", s + "_w1").before ==
          line(doc.iterations[0], doc, "w1", s + "_w1").value);
  }
}

TEST_CASE("Optimizers: the rule as written in the trace", "[trace][optimizer]") {
  least_squares p;
  run_options o;
  o.optimizer = {"adam", {{"lr", "0.1"}}};
  o.steps = 1;
  const document doc = run(p.g, p.loss, o);
  const settings& s = doc.config;
  REQUIRE(s.optimizer.hyper.size() == 4);
  CHECK(s.optimizer.hyper[0].source == "0.1");
  CHECK(s.optimizer.hyper[1].source == "0.9");  // default
  CHECK(s.optimizer.hyper[1].latex == "\\beta_1");
  REQUIRE(s.optimizer.rule.size() == 5);
  CHECK(render(doc, s.optimizer.rule[0].rhs) == "beta1*m + (1 - beta1)*g");
  CHECK(render(doc, s.optimizer.rule[2].rhs) == "m/(1 - beta1^t)");
  CHECK(render(doc, s.optimizer.rule[4].rhs) == "w - eta*m_hat/(sqrt(v_hat) + eps)");
  const iteration& it = doc.iterations.at(0);
  const assignment& m_hat = line(it, doc, "w1", "m_hat_w1");
  CHECK(m_hat.lhs_latex == "\\hat{m}_{w1}");
  CHECK(render(doc, m_hat.rhs) == "m_w1/(1 - beta1^t)");
  CHECK(render(doc, m_hat.rhs, true) == "-0.075/(1 - 0.9^1)");
  CHECK(m_hat.before.empty());
  const assignment& m = line(it, doc, "w1", "m_w1");
  CHECK(render(doc, m.rhs, true) == "0.9*0 + (1 - 0.9)*(-0.75)");
  CHECK(m.before.shown == "0");
  const assignment& w = line(it, doc, "w1", "w1+");
  CHECK(render(doc, w.rhs) == "w1 - eta*m_hat_w1/(sqrt(v_hat_w1) + eps)");
  CHECK(w.before.shown == "0.3");
}

TEST_CASE("Optimizers: bad settings are clear errors", "[trace][optimizer]") {
  least_squares p;
  run_options o;
  o.optimizer = {"adamw", {}};
  CHECK_THROWS_WITH(run(p.g, p.loss, o), Catch::Contains("unknown optimizer 'adamw'"));
  o.optimizer = {"sgd", {{"beta", "0.9"}}};
  CHECK_THROWS_WITH(run(p.g, p.loss, o),
                    Catch::Contains("sgd has no hyper-parameter 'beta' (it has: lr)"));
  o.optimizer = {"sgd", {{"lr", "fast"}}};
  CHECK_THROWS_AS(run(p.g, p.loss, o), decimal_error);
  o.optimizer = {"perceptron", {}};
  CHECK_THROWS_WITH(run(p.g, p.loss, o), Catch::Contains("needs a step() output"));
  o.optimizer = {"sgd", {}};
  trainer<mp_real> once(p.g, p.loss, o);
  once.run();
  CHECK_THROWS_WITH(once.run(), Catch::Contains("a trainer runs once"));
}

TEST_CASE("Optimizer class: state and step counter", "[trace][optimizer]") {
  optimizer<double> adam({"adam", {{"lr", "0.1"}}}, 1, 17);
  CHECK(adam.hyper("beta2") == 0.999);
  double w = 0.3;
  adam.begin_step();
  adam.update(0, w, -0.75);
  CHECK(adam.steps() == 1);
  CHECK(adam.line_value(0, 2) == Approx(-0.75));  // m_hat = g at t = 1
  CHECK(adam.line_value(0, 4) == w);
  CHECK_THROWS_AS(adam.update(1, w, 0.1), usage_error);
  CHECK_THROWS_AS(adam.update_perceptron(0, w, 1.0, 1.0), usage_error);
  adam.reset();
  CHECK(adam.steps() == 0);
  CHECK(adam.line_value(0, 0) == 0);
}

TEST_CASE("Perceptron learning AND", "[trace][optimizer][perceptron]") {
  const auto ref = read_reference("optimizers.ref");
  graph<mp_real> g(50);
  auto x1 = g.input("x1", "0");
  auto x2 = g.input("x2", "0");
  auto d = g.input("d", "0");
  auto w1 = g.parameter("w1", "0");
  auto w2 = g.parameter("w2", "0");
  auto b = g.parameter("b", "0");
  auto y = step(w1 * x1 + w2 * x2 + b).named("y");
  const node_id loss = (g.constant("0.5") * pow(d - y, 2)).named("E").id();

  run_options o;
  o.record.targets = {d.id()};
  o.optimizer = {"perceptron", {{"lr", "1"}}};
  o.data.columns = {x1.id(), x2.id(), d.id()};
  o.data.values = {"0", "0", "0", "0", "1", "0", "1", "0", "0", "1", "1", "1"};
  const int epochs = 6;
  o.steps = 4 * epochs;
  o.trace.every = 4;
  o.trace.first = true;
  const document doc = run(g, loss, o);
  REQUIRE(doc.iterations.size() == static_cast<std::size_t>(epochs) + 1);

  // The last update of iteration 4k leaves the weights after epoch k.
  for (int k = 1; k <= epochs; ++k) {
    const iteration& it = doc.iterations[static_cast<std::size_t>(k)];
    REQUIRE(it.index == static_cast<std::uint64_t>(4 * k));
    for (const std::string name : {"w1", "w2", "b"}) {
      INFO("epoch " << k << ", " << name);
      CHECK(agrees(line(it, doc, name, name + "+").value.exact,
                   ref_value(ref, "perceptron.epoch" + std::to_string(k) + "." + name), 50));
    }
    CHECK(it.backward.empty());
  }
  // Row (1,1,1) in the first epoch's 4th step: y = step(0) = 1 = d, so nothing changes; the
  // traced first step (row (0,0,0)): y = step(0) = 1, d = 0, so w <- w + 1*(0 - 1)*x.
  const iteration& first = doc.iterations[0];
  const assignment& b_line = line(first, doc, "b", "b+");
  CHECK(render(doc, b_line.rhs) == "b + eta*(d - y)*1");
  CHECK(render(doc, b_line.rhs, true) == "0 + 1*(0 - 1)*1");
  CHECK(b_line.value.shown == "-1");
  CHECK(render(doc, line(first, doc, "w1", "w1+").rhs) == "w1 + eta*(d - y)*x1");

  // Converged: every row classified right with the final weights.
  const int converged = std::stoi(ref_value(ref, "perceptron.converged_epoch"));
  CHECK(converged <= epochs);
  const std::vector<std::array<const char*, 3>> rows{
      {"0", "0", "0"}, {"0", "1", "0"}, {"1", "0", "0"}, {"1", "1", "1"}};
  for (const auto& row : rows) {
    g.set_value(x1.id(), row[0]);
    g.set_value(x2.id(), row[1]);
    g.forward();
    CHECK(g.format(y.value(), number_format::decimals(0)) == row[2]);
  }
}
