// SPDX-License-Identifier: MIT
// A hand-written trace document of one sigmoid neuron, independent of the recorder, so the DOT and
// JSON exporters can be tested on every field (including unnamed intermediates and literals).
//
//   net = w*x + b,  y = sigmoid(net),  E = 0.5*(t - y)*(t - y)
//   x = 1.5, w = 0.8, b = 0.1, t = 1 (values from Python's decimal module at 30 digits)
// Only iteration 1 is computed; the final state is a stand-in with the right shape.
#pragma once

#include <string>
#include <utility>

#include "chainrule/trace/document.hpp"

namespace chainrule::test {

inline trace::number num(std::string exact, std::string shown) {
  return {std::move(exact), std::move(shown)};
}

namespace tiny {
// Quantity indices (engine node ids).
inline constexpr trace::quantity_index x = 0, w = 1, b = 2, m = 3, net = 4, y = 5, t = 6, d = 7,
                                       s = 8, half = 9, e = 10;
}  // namespace tiny

inline trace::document tiny_document() {
  using trace::expr_kind;
  using trace::expr_node;
  using trace::layout;
  using trace::quantity_kind;
  namespace q = tiny;

  const auto leaf = [](std::string name, quantity_kind kind, std::string op, std::uint32_t rank,
                       std::string source) {
    trace::quantity out;
    out.name = std::move(name);
    out.kind = kind;
    out.op = std::move(op);
    out.rank = rank;
    out.source = std::move(source);
    return out;
  };
  const auto quantity_node = [](trace::quantity_index index) {
    expr_node n;
    n.kind = expr_kind::quantity;
    n.quantity = index;
    return n;
  };
  const auto literal_node = [](std::string text) {
    expr_node n;
    n.kind = expr_kind::literal;
    n.text = std::move(text);
    return n;
  };
  const auto apply_node = [](std::string op, std::string text, std::string latex, int precedence,
                             std::vector<std::uint32_t> args) {
    expr_node n;
    n.kind = expr_kind::apply;
    n.op = std::move(op);
    n.text = std::move(text);
    n.latex = std::move(latex);
    n.notation = op == "sigmoid" ? layout::function : layout::infix;
    n.precedence = precedence;
    n.args = std::move(args);
    return n;
  };

  trace::document doc;
  doc.title = "One sigmoid neuron";
  doc.source = "tests/graphviz/tiny_document.hpp";
  doc.config.precision = "30 digits";
  doc.config.digits = 30;
  doc.config.display.description = "9 decimals";
  doc.config.optimizer.name = "sgd";
  {
    trace::hyper_parameter lr;
    lr.name = "lr";
    lr.text = "eta";
    lr.latex = "\\eta";
    lr.value = num("0.5", "0.5");
    lr.source = "0.5";
    doc.config.optimizer.hyper.push_back(lr);
    trace::rule_line rule;
    rule.lhs_text = "w";
    rule.lhs_latex = "w";
    expr_node sym_w;
    sym_w.kind = expr_kind::symbol;
    sym_w.text = "w";
    sym_w.latex = "w";
    expr_node eta;
    eta.kind = expr_kind::symbol;
    eta.text = "eta";
    eta.latex = "\\eta";
    expr_node grad;
    grad.kind = expr_kind::derivative;
    grad.of = q::e;
    grad.quantity = q::e;
    grad.text = "g";
    rule.rhs.nodes = {sym_w, eta, grad, apply_node("mul", "#1*#2", "#1 #2", 2, {1, 2}),
                      apply_node("sub", "#1 - #2", "#1 - #2", 1, {0, 3})};
    doc.config.optimizer.rule.push_back(rule);
  }
  doc.config.steps = 1;
  doc.config.traced_description = "first";
  doc.config.traced = {1};

  doc.quantities.resize(11);
  doc.quantities[q::x] = leaf("x", quantity_kind::input, "input", 0, "1.5");
  doc.quantities[q::w] = leaf("w", quantity_kind::parameter, "param", 0, "0.8");
  doc.quantities[q::b] = leaf("b", quantity_kind::constant, "const", 0, "0.1");
  doc.quantities[q::m] = leaf("", quantity_kind::computed, "mul", 1, "");
  doc.quantities[q::m].folded_into = q::net;
  doc.quantities[q::net] = leaf("net", quantity_kind::computed, "add", 1, "");
  doc.quantities[q::net].symbol = "\\mathrm{net}";
  doc.quantities[q::net].formula.nodes = {quantity_node(q::w), quantity_node(q::x),
                                          apply_node("mul", "#1*#2", "#1 \\cdot #2", 2, {0, 1}),
                                          quantity_node(q::b),
                                          apply_node("add", "#1 + #2", "#1 + #2", 1, {2, 3})};
  doc.quantities[q::y] = leaf("y", quantity_kind::computed, "sigmoid", 2, "");
  doc.quantities[q::y].formula.nodes = {
      quantity_node(q::net),
      apply_node("sigmoid", "sigmoid(#1)", "\\sigma\\left(#1\\right)", 5, {0})};
  doc.quantities[q::t] = leaf("t", quantity_kind::target, "input", 2, "1");
  doc.quantities[q::d] = leaf("", quantity_kind::computed, "sub", 3, "");
  doc.quantities[q::d].folded_into = q::e;
  doc.quantities[q::s] = leaf("", quantity_kind::computed, "mul", 3, "");
  doc.quantities[q::s].folded_into = q::e;
  doc.quantities[q::half] = leaf("", quantity_kind::constant, "const", 2, "0.5");
  doc.quantities[q::half].folded_into = q::e;
  doc.quantities[q::e] = leaf("E", quantity_kind::loss, "mul", 3, "");
  doc.quantities[q::e].formula.nodes = {literal_node("0.5"),
                                        quantity_node(q::t),
                                        quantity_node(q::y),
                                        apply_node("sub", "#1 - #2", "#1 - #2", 1, {1, 2}),
                                        apply_node("mul", "#1*#2", "#1 \\cdot #2", 2, {3, 3}),
                                        apply_node("mul", "#1*#2", "#1 \\cdot #2", 2, {0, 4})};
  doc.given = {q::x, q::w, q::b, q::t};
  doc.computed = {q::net, q::y, q::e};
  doc.parameters = {q::w};
  doc.loss = q::e;

  const auto edge = [](trace::quantity_index from, trace::quantity_index to) {
    trace::edge out;
    out.from = from;
    out.to = to;
    return out;
  };
  doc.edges = {edge(q::x, q::net), edge(q::w, q::net), edge(q::b, q::net),
               edge(q::net, q::y), edge(q::y, q::e),   edge(q::t, q::e)};
  doc.edges[0].partial.nodes = {quantity_node(q::w)};
  doc.edges[1].partial.nodes = {quantity_node(q::x)};
  doc.edges[2].partial.nodes = {literal_node("1")};
  doc.engine_edges = {edge(q::w, q::m),    edge(q::x, q::m),   edge(q::m, q::net),
                      edge(q::b, q::net),  edge(q::net, q::y), edge(q::t, q::d),
                      edge(q::y, q::d),    edge(q::d, q::s),   edge(q::d, q::s),
                      edge(q::half, q::e), edge(q::s, q::e)};

  const trace::number y_value = num("0.785834983042558612602088472260", "0.785834983");
  const trace::number d_value = num("0.214165016957441387397911527740", "0.214165017");
  const trace::number minus_d = num("-0.214165016957441387397911527740", "-0.214165017");
  const trace::number dy_dnet = num("0.168298362469060230378945676028", "0.168298362");
  const trace::number s_value = num("0.0458666544883811570189658517125", "0.045866654");
  const trace::number e_value = num("0.0229333272441905785094829258562", "0.022933327");
  const trace::number g_net = num("-0.0360436216520959014032442168564", "-0.036043622");
  const trace::number g_w = num("-0.0540654324781438521048663252846", "-0.054065432");

  trace::iteration it;
  it.index = 1;
  it.forward.values = {num("1.5", "1.5"),
                       num("0.8", "0.8"),
                       num("0.1", "0.1"),
                       num("1.2", "1.2"),
                       num("1.3", "1.3"),
                       y_value,
                       num("1", "1"),
                       d_value,
                       s_value,
                       num("0.5", "0.5"),
                       e_value};
  it.forward.loss = e_value;
  {
    trace::forward_step step;
    step.quantity = q::y;
    step.formula = doc.quantities[q::y].formula;
    step.formula.nodes[0].value = num("1.3", "1.3");
    step.formula.nodes[1].value = y_value;
    step.value = y_value;
    it.forward_steps.push_back(step);
  }
  it.gradients = {num("-0.0288348973216767211225953734851", "-0.028834897"),
                  g_w,
                  g_net,
                  g_net,
                  g_net,
                  minus_d,
                  d_value,
                  d_value,
                  num("0.5", "0.5"),
                  s_value,
                  num("1", "1")};
  it.edge_partials = {num("0.8", "0.8"), num("1.5", "1.5"), num("1", "1"),
                      dy_dnet,           minus_d,           d_value};
  it.engine_edge_partials = {num("1.5", "1.5"), num("0.8", "0.8"), num("1", "1"),    num("1", "1"),
                             dy_dnet,           num("1", "1"),     num("-1", "-1"),  d_value,
                             d_value,           s_value,           num("0.5", "0.5")};
  {
    const auto factor = [](trace::quantity_index of, trace::quantity_index wrt,
                           trace::number value) {
      trace::factor f;
      f.d.of = of;
      f.d.wrt = wrt;
      f.value = std::move(value);
      return f;
    };
    trace::gradient_step step;
    step.combine = trace::gradient_step::kind::product;
    step.d.of = q::e;
    step.d.wrt = q::w;
    step.factors = {factor(q::e, q::y, minus_d), factor(q::y, q::net, dy_dnet),
                    factor(q::net, q::w, num("1.5", "1.5"))};
    step.factors[1].form.nodes = {quantity_node(q::y), literal_node("1"), quantity_node(q::y),
                                  apply_node("sub", "#1 - #2", "#1 - #2", 1, {1, 2}),
                                  apply_node("mul", "#1*#2", "#1 #2", 2, {0, 3})};
    step.value = g_w;
    step.parameter = q::w;
    it.backward.push_back(step);
  }
  {
    trace::parameter_update update;
    update.parameter = q::w;
    update.gradient = g_w;
    trace::assignment line;
    line.lhs_text = "w+";
    line.lhs_latex = "w^{+}";
    line.is_parameter = true;
    line.rhs = doc.config.optimizer.rule[0].rhs;
    line.before = num("0.8", "0.8");
    line.value = num("0.8270327162390719260524331626423", "0.827032716");
    update.lines.push_back(line);
    it.updates.push_back(update);
  }
  doc.iterations.push_back(it);
  doc.loss_history = {{0, e_value}, {1, num("0.0213", "0.0213")}};
  doc.final_state.values = it.forward.values;
  doc.final_state.values[q::w] = num("0.8270327162390719260524331626423", "0.827032716");
  doc.final_state.loss = num("0.0213", "0.0213");
  doc.final_steps = it.forward_steps;
  return doc;
}

}  // namespace chainrule::test
