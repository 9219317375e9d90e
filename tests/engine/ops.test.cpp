// SPDX-License-Identifier: MIT
// Every op: its value and local partials against the closed forms in ops.ref (mpmath), against
// central finite differences (check_gradients), the documented choices at kinks, domain errors
// that name the failing node, and misuse of handles.
#include <algorithm>
#include <array>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chainrule/engine/engine.hpp"
#include "support/reference.hpp"

using namespace chainrule;
using Catch::Matchers::Contains;
using chainrule::testing::agrees_to;
using chainrule::testing::is_exactly;
using chainrule::testing::reference;
using chainrule::testing::test_precision;

namespace {

std::vector<std::string> split(std::string_view text, char separator) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == separator) {
      parts.emplace_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  return parts;
}

std::string join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += separator;
    out += parts[i];
  }
  return out;
}

/// The argument lists of every `<op_name>:<args...>:value` key in ops.ref, in file order.
std::vector<std::vector<std::string>> points_of(std::string_view op_name) {
  std::vector<std::vector<std::string>> points;
  for (const auto& key : reference("ops.ref").keys()) {
    auto fields = split(key, ':');
    if (fields.size() < 3 || fields.front() != op_name || fields.back() != "value") continue;
    points.emplace_back(fields.begin() + 1, fields.end() - 1);
  }
  return points;
}

/// ops.ref's value and partials of one scalar op at every point it lists, at the working precision
/// of Real: the node's value, its recorded partials, the adjoints after backward(), and a central
/// finite difference at higher precision.
template <class Real>
void check_against_ops_ref(std::string_view op_name, op code) {
  const auto& ref = reference("ops.ref");
  constexpr int agree = test_precision<Real>::agree;
  const auto points = points_of(op_name);
  REQUIRE_FALSE(points.empty());
  for (const auto& args : points) {
    DYNAMIC_SECTION(op_name << "(" << join(args, ", ") << ")") {
      const std::string key = std::string(op_name) + ":" + join(args, ":") + ":";
      graph<Real> g(test_precision<Real>::digits);
      std::vector<var<Real>> in{g.parameter("x", args[0])};
      if (args.size() == 2) {
        // An integer power's exponent must be a constant; every other second operand is a
        // differentiable leaf.
        in.push_back(code == op::powi ? g.constant("n", args[1]) : g.parameter("y", args[1]));
      }
      const var<Real> f = g.apply(code, std::span<const var<Real>>(in));
      CHECK_THAT(f.value(), agrees_to(ref[key + "value"], agree));

      const auto partials = g.partials(f.id());
      REQUIRE(partials.size() == args.size());
      CHECK_THAT(partials[0], agrees_to(ref[key + "d/dx"], agree));
      if (code == op::powi) {
        // The op table's convention: a fixed integer exponent has partial 0.
        CHECK_THAT(partials[1], is_exactly("0"));
      } else if (args.size() == 2) {
        CHECK_THAT(partials[1], agrees_to(ref[key + "d/dy"], agree));
      }

      g.backward(f);
      CHECK_THAT(in[0].adjoint(), agrees_to(ref[key + "d/dx"], agree));
      if (args.size() == 2 && code != op::powi) {
        CHECK_THAT(in[1].adjoint(), agrees_to(ref[key + "d/dy"], agree));
      }

      // step jumps at 0, so a difference quotient there measures the jump, not a derivative.
      if (code != op::step || args[0] != "0") {
        const auto report = check_gradients(g, f.id());
        CHECK(report.size() == (code == op::powi ? 1U : args.size()));
        for (const auto& entry : report) {
          INFO(entry.name << ": analytic " << entry.analytic << ", numeric " << entry.numeric);
          CHECK(entry.agreeing_digits >= agree);
        }
      }
    }
  }
}

/// The three group ops are checked on ops.ref's vector v = (0.5, -1.25, 2).
const std::vector<std::string> group_args{"0.5", "-1.25", "2"};
const std::string group_tag = "0.5,-1.25,2";

template <class Real>
std::vector<var<Real>> group_inputs(graph<Real>& g) {
  std::vector<var<Real>> xs;
  for (std::size_t j = 0; j < group_args.size(); ++j) {
    xs.push_back(g.parameter("x" + std::to_string(j), group_args[j]));
  }
  return xs;
}

std::string negated(const std::string& decimal) {
  return decimal.front() == '-' ? decimal.substr(1) : "-" + decimal;
}

template <class F>
std::optional<evaluation_error> evaluation_error_of(F&& f) {
  try {
    f();
  } catch (const evaluation_error& e) {
    return e;
  }
  return std::nullopt;
}

/// apply(code, inputs) must fail with an evaluation_error naming the node it would have made,
/// saying `problem`, and leave the graph as it was.
template <class Real>
void check_domain_error(graph<Real>& g, op code, std::vector<var<Real>> inputs,
                        const std::string& problem, const std::string& input_text) {
  const std::size_t before = g.size();
  const auto error =
      evaluation_error_of([&] { g.apply(code, std::span<const var<Real>>(inputs)); });
  REQUIRE(error.has_value());
  CHECK(error->node() == before);
  const std::string where =
      "node " + std::to_string(before) + " (" + std::string(info(code).name) + ")";
  CHECK_THAT(error->what(), Contains(problem) && Contains(where) && Contains(input_text));
  CHECK(g.size() == before);
}

}  // namespace

// ---- one test case per op: ops.ref closed forms and finite differences --------------------

#define CHAINRULE_OPS_REF_CASE(name, code)                                             \
  TEMPLATE_TEST_CASE(name ": value and partials match ops.ref and finite differences", \
                     "[ops][" name "]", double, mp_real) {                             \
    check_against_ops_ref<TestType>(name, code);                                       \
  }

CHAINRULE_OPS_REF_CASE("add", op::add)
CHAINRULE_OPS_REF_CASE("sub", op::sub)
CHAINRULE_OPS_REF_CASE("mul", op::mul)
CHAINRULE_OPS_REF_CASE("div", op::div)
CHAINRULE_OPS_REF_CASE("pow", op::pow)
CHAINRULE_OPS_REF_CASE("powi", op::powi)
CHAINRULE_OPS_REF_CASE("neg", op::neg)
CHAINRULE_OPS_REF_CASE("exp", op::exp)
CHAINRULE_OPS_REF_CASE("log", op::log)
CHAINRULE_OPS_REF_CASE("sqrt", op::sqrt)
CHAINRULE_OPS_REF_CASE("abs", op::abs)
CHAINRULE_OPS_REF_CASE("sin", op::sin)
CHAINRULE_OPS_REF_CASE("cos", op::cos)
CHAINRULE_OPS_REF_CASE("tanh", op::tanh)
CHAINRULE_OPS_REF_CASE("sigmoid", op::sigmoid)
CHAINRULE_OPS_REF_CASE("relu", op::relu)
CHAINRULE_OPS_REF_CASE("leaky_relu", op::leaky_relu)
CHAINRULE_OPS_REF_CASE("softplus", op::softplus)
CHAINRULE_OPS_REF_CASE("step", op::step)
CHAINRULE_OPS_REF_CASE("max", op::max)
CHAINRULE_OPS_REF_CASE("min", op::min)
#undef CHAINRULE_OPS_REF_CASE

TEST_CASE("every op in the table is covered by a test in this file", "[ops]") {
  // Leaves are made by every test; the others have a TEST_CASE above or below. An op added to
  // the enum without a test here fails this case.
  const std::array<op, op_count> tested{
      op::input, op::parameter,  op::constant, op::add,        op::sub,  op::mul,
      op::div,   op::neg,        op::pow,      op::powi,       op::exp,  op::log,
      op::sqrt,  op::abs,        op::sin,      op::cos,        op::tanh, op::sigmoid,
      op::relu,  op::leaky_relu, op::softplus, op::step,       op::max,  op::min,
      op::sum,   op::logsumexp,  op::softmax,  op::log_softmax};
  for (std::size_t i = 0; i < op_count; ++i) {
    INFO(all_op_infos()[i].name);
    CHECK(std::find(tested.begin(), tested.end(), static_cast<op>(i)) != tested.end());
  }
}

// ---- group ops ----------------------------------------------------------------------------

TEMPLATE_TEST_CASE("sum: value and partials are the closed forms", "[ops][sum]", double, mp_real) {
  graph<TestType> g(test_precision<TestType>::digits);
  const auto xs = group_inputs(g);
  const var<TestType> s = sum(xs);
  // Closed form: 0.5 - 1.25 + 2 = 1.25, every partial 1; all exact in binary.
  CHECK_THAT(s.value(), is_exactly("1.25"));
  for (const auto& p : g.partials(s.id()))
    CHECK_THAT(p, is_exactly("1"));
  g.backward(s);
  for (const auto& x : xs)
    CHECK_THAT(x.adjoint(), is_exactly("1"));

  SECTION("a single term is allowed and none is a usage error") {
    CHECK_THAT(sum(std::vector<var<TestType>>{xs[1]}).value(), is_exactly("-1.25"));
    CHECK_THROWS_AS(sum(std::vector<var<TestType>>{}), usage_error);
  }
}

TEMPLATE_TEST_CASE("logsumexp: value and partials match ops.ref", "[ops][logsumexp]", double,
                   mp_real) {
  const auto& ref = reference("ops.ref");
  constexpr int agree = test_precision<TestType>::agree;
  graph<TestType> g(test_precision<TestType>::digits);
  const auto xs = group_inputs(g);
  const var<TestType> lse = logsumexp(xs);
  const std::string key = "logsumexp:" + group_tag + ":";
  CHECK_THAT(lse.value(), agrees_to(ref[key + "value"], agree));
  g.backward(lse);
  for (std::size_t j = 0; j < xs.size(); ++j) {
    const std::string partial = ref[key + "d/dx[" + std::to_string(j) + "]"];
    CHECK_THAT(g.partials(lse.id())[j], agrees_to(partial, agree));
    CHECK_THAT(xs[j].adjoint(), agrees_to(partial, agree));
  }

  SECTION("large inputs do not overflow (shifted by the maximum)") {
    // Closed form: logsumexp(1000, 1000) = 1000 + ln 2, partials 1/2 each.
    graph<TestType> big(test_precision<TestType>::digits);
    const std::vector<var<TestType>> same{big.input("a", "1000"), big.input("b", "1000")};
    const var<TestType> l = logsumexp(same);
    CHECK_THAT(
        l.value(),
        agrees_to("1000.69314718055994530941723212145817656807550013436025525412068", agree));
    for (const auto& p : big.partials(l.id()))
      CHECK_THAT(p, agrees_to("0.5", agree));
  }
}

TEMPLATE_TEST_CASE("softmax: values and Jacobian match ops.ref", "[ops][softmax]", double,
                   mp_real) {
  const auto& ref = reference("ops.ref");
  constexpr int agree = test_precision<TestType>::agree;
  graph<TestType> g(test_precision<TestType>::digits);
  const auto xs = group_inputs(g);
  const auto s = softmax(xs);
  REQUIRE(s.size() == xs.size());
  const std::string key = "softmax:" + group_tag + ":";
  for (std::size_t i = 0; i < s.size(); ++i) {
    const std::string value = ref[key + "value[" + std::to_string(i) + "]"];
    CHECK_THAT(s[i].value(), agrees_to(value, agree));
    // Each node is e^(x_i - lse): partial s_i to x_i and -s_i to the shared logsumexp node.
    CHECK_THAT(g.partials(s[i].id())[0], agrees_to(value, agree));
    CHECK_THAT(g.partials(s[i].id())[1], agrees_to(negated(value), agree));
    g.backward(s[i]);
    for (std::size_t j = 0; j < xs.size(); ++j) {
      INFO("d softmax[" << i << "] / dx[" << j << "]");
      CHECK_THAT(xs[j].adjoint(),
                 agrees_to(ref[key + "d[" + std::to_string(i) + "]/dx[" + std::to_string(j) + "]"],
                           agree));
    }
  }
}

TEMPLATE_TEST_CASE("log_softmax: values and Jacobian match ops.ref", "[ops][log_softmax]", double,
                   mp_real) {
  const auto& ref = reference("ops.ref");
  constexpr int agree = test_precision<TestType>::agree;
  graph<TestType> g(test_precision<TestType>::digits);
  const auto xs = group_inputs(g);
  const auto ls = log_softmax(xs);
  const std::string key = "log_softmax:" + group_tag + ":";
  for (std::size_t i = 0; i < ls.size(); ++i) {
    CHECK_THAT(ls[i].value(), agrees_to(ref[key + "value[" + std::to_string(i) + "]"], agree));
    g.backward(ls[i]);
    for (std::size_t j = 0; j < xs.size(); ++j) {
      INFO("d log_softmax[" << i << "] / dx[" << j << "]");
      CHECK_THAT(xs[j].adjoint(),
                 agrees_to(ref[key + "d[" + std::to_string(i) + "]/dx[" + std::to_string(j) + "]"],
                           agree));
    }
  }
}

// ---- kinks --------------------------------------------------------------------------------

TEMPLATE_TEST_CASE("kinks: the documented choices at non-differentiable points", "[ops][kinks]",
                   double, mp_real) {
  graph<TestType> g(test_precision<TestType>::digits);

  SECTION("relu(0) = 0 and relu'(0) = 0") {
    const auto r = relu(g.parameter("x", "0"));
    CHECK_THAT(r.value(), is_exactly("0"));
    CHECK_THAT(g.partials(r.id())[0], is_exactly("0"));
  }
  SECTION("abs(0) = 0 and abs'(0) = 0") {
    const auto a = abs(g.parameter("x", "0"));
    CHECK_THAT(a.value(), is_exactly("0"));
    CHECK_THAT(g.partials(a.id())[0], is_exactly("0"));
  }
  SECTION("step(0) = 1, also for -0, and step' = 0 everywhere") {
    const std::array<std::pair<const char*, const char*>, 4> cases{
        {{"0", "1"}, {"-0", "1"}, {"0.7", "1"}, {"-1.3", "0"}}};
    for (const auto& [x, expected] : cases) {
      INFO("step at " << x);
      graph<TestType> h(test_precision<TestType>::digits);
      const auto s = step(h.parameter("x", x));
      CHECK_THAT(s.value(), is_exactly(expected));
      CHECK_THAT(h.partials(s.id())[0], is_exactly("0"));
    }
  }
  SECTION("max and min ties give the whole partial to the first argument") {
    const auto a = g.parameter("a", "0.5");
    const auto b = g.parameter("b", "0.5");
    for (const auto& m : {max(a, b), min(a, b)}) {
      CHECK_THAT(m.value(), is_exactly("0.5"));
      CHECK_THAT(g.partials(m.id())[0], is_exactly("1"));
      CHECK_THAT(g.partials(m.id())[1], is_exactly("0"));
    }
    // max(a, a) = a, so its derivative is exactly 1 whichever side gets the partial.
    const auto same = max(a, a);
    g.backward(same);
    CHECK_THAT(a.adjoint(), is_exactly("1"));
  }
  SECTION("leaky_relu at 0 has slope alpha, and its partial to alpha is x = 0") {
    const auto alpha = g.parameter("alpha", "0.01");
    const auto l = leaky_relu(g.parameter("x", "0"), alpha);
    CHECK_THAT(l.value(), is_exactly("0"));
    CHECK(g.partials(l.id())[0] == alpha.value());
    CHECK_THAT(g.partials(l.id())[1], is_exactly("0"));
  }
}

// ---- domain errors ------------------------------------------------------------------------

TEMPLATE_TEST_CASE("domain errors name the node and its inputs and leave the graph unchanged",
                   "[ops][errors]", double, mp_real) {
  graph<TestType> g(test_precision<TestType>::digits);
  const auto zero = g.input("zero", "0");
  const auto minus_one = g.input("minus_one", "-1");
  const auto half = g.input("half", "0.5");

  SECTION("log 0") {
    check_domain_error(g, op::log, {zero}, "log of a number that is not positive", "input 0");
  }
  SECTION("log -1") {
    check_domain_error(g, op::log, {minus_one}, "log of a number that is not positive", "input -1");
  }
  SECTION("sqrt -1") {
    check_domain_error(g, op::sqrt, {minus_one}, "sqrt of a negative number", "input -1");
  }
  SECTION("sqrt 0 (infinite derivative)") {
    check_domain_error(g, op::sqrt, {zero}, "sqrt at 0", "input 0");
  }
  SECTION("division by zero") {
    check_domain_error(g, op::div, {half, zero}, "division by zero", "inputs 0.5, 0");
  }
  SECTION("pow of a negative base with a real exponent") {
    check_domain_error(g, op::pow, {minus_one, half}, "needs a positive base", "inputs -1, 0.5");
  }
  SECTION("0^-1 (integer power)") {
    const auto n = g.constant("-1");
    check_domain_error(g, op::powi, {zero, n}, "zero raised to a negative power", "inputs 0, -1");
  }
  SECTION("forward() after set_value names the failing node by its name") {
    const auto x = g.input("x", "2");
    const auto y = log(x).named("y");
    g.set_value(x.id(), "-1");
    const auto error = evaluation_error_of([&] { g.forward(); });
    REQUIRE(error.has_value());
    CHECK(error->node() == static_cast<std::uint32_t>(y.id()));
    CHECK_THAT(
        error->what(),
        Contains("'y' (node " + std::to_string(static_cast<std::uint32_t>(y.id())) + " (log))"));
    g.set_value(x.id(), "2");
    CHECK_NOTHROW(g.forward());
  }
}

TEST_CASE("overflow: non-finite values are caught at the first node that produces them",
          "[ops][errors][overflow]") {
  SECTION("exp(1000) overflows double and names the node") {
    graph<double> g;
    const auto x = g.input("x", "1000");
    const auto error = evaluation_error_of([&] { exp(x); });
    REQUIRE(error.has_value());
    CHECK(error->node() == 1);
    CHECK_THAT(error->what(), Contains("not finite") && Contains("node 1 (exp)"));
    CHECK(g.size() == 1);
  }
  SECTION("exp(1000) is finite at 50 digits (MPFR's exponent range is far wider)") {
    graph<mp_real> g(50);
    const auto e = exp(g.input("x", "1000"));
    CHECK_THAT(e.value(), agrees_to(reference("engine.ref")["exp(1000)"], 45));
  }
  SECTION("forward() stops at the first node that overflows") {
    // ln(DBL_MAX) = 709.78...: exp(exp(6)) = exp(403.4) is finite, exp(exp(7)) = exp(1096.6) is
    // not, and exp(1000) already fails at the inner node.
    graph<double> g;
    const auto x = g.input("x", "1");
    const auto a = exp(x).named("a");
    const auto b = exp(a).named("b");
    g.set_value(x.id(), "1000");
    auto error = evaluation_error_of([&] { g.forward(); });
    REQUIRE(error.has_value());
    CHECK(error->node() == static_cast<std::uint32_t>(a.id()));
    CHECK_THAT(error->what(), Contains("'a'"));
    g.set_value(x.id(), "7");
    error = evaluation_error_of([&] { g.forward(); });
    REQUIRE(error.has_value());
    CHECK(error->node() == static_cast<std::uint32_t>(b.id()));
    CHECK_THAT(error->what(), Contains("'b'"));
    g.set_value(x.id(), "6");
    CHECK_NOTHROW(g.forward());
  }
  SECTION("an adjoint that overflows in backward() names its node") {
    // z = (x c) c with x = 1e-300, c = 1e300: every value is finite (z is about 1e300), but
    // dz/dx = c^2 = 1e600 is not representable in double.
    graph<double> g;
    const auto x = g.parameter("x", "1e-300");
    const auto c = g.parameter("c", "1e300");
    const auto z = (x * c) * c;
    const auto error = evaluation_error_of([&] { g.backward(z); });
    REQUIRE(error.has_value());
    CHECK(error->node() == static_cast<std::uint32_t>(x.id()));
    CHECK_THAT(error->what(), Contains("adjoint of 'x'"));
    CHECK_FALSE(g.gradient_root().has_value());
    CHECK_THROWS_AS(x.adjoint(), usage_error);
  }
}

// ---- misuse -------------------------------------------------------------------------------

TEMPLATE_TEST_CASE("usage errors: foreign and default handles, malformed nodes", "[ops][usage]",
                   double, mp_real) {
  graph<TestType> g(test_precision<TestType>::digits);
  graph<TestType> other(test_precision<TestType>::digits);
  const auto x = g.parameter("x", "0.5");
  const auto foreign = other.parameter("x", "0.5");
  const var<TestType> unset;

  SECTION("a handle from another graph") {
    CHECK_THROWS_AS(x + foreign, usage_error);
    CHECK_THROWS_AS(g.apply(op::neg, {foreign}), usage_error);
    CHECK_THROWS_AS(g.backward(foreign), usage_error);
    CHECK_THROWS_AS(g.checked(foreign), usage_error);
  }
  SECTION("a default-constructed handle") {
    CHECK_FALSE(unset.valid());
    CHECK_THROWS_AS(unset.value(), usage_error);
    CHECK_THROWS_AS(x * unset, usage_error);
    CHECK_THROWS_AS(g.backward(unset), usage_error);
    CHECK_THROWS_AS(exp(unset), usage_error);
  }
  SECTION("malformed nodes") {
    CHECK_THROWS_AS(g.apply(op::add, {x}), usage_error);       // wrong arity
    CHECK_THROWS_AS(g.apply(op::constant, {x}), usage_error);  // leaves are not applied
    CHECK_THROWS_AS(g.apply(op::powi, {x, x}), usage_error);   // exponent must be constant
    CHECK_THROWS_AS(g.apply(op::powi, {x, g.constant("2.5")}), usage_error);  // and an integer
    CHECK_THROWS_AS(g.parameter("x", "1"), usage_error);                      // the name is taken
    CHECK_THROWS_AS(g.set_value(exp(x).id(), "1"), usage_error);  // only leaves can be set
    CHECK_THROWS_AS(g.value(static_cast<node_id>(g.size())), usage_error);
    CHECK_THROWS_AS(x.adjoint(), usage_error);  // no backward() yet
  }
  CHECK(other.size() == 1);
}

TEMPLATE_TEST_CASE("a failed apply leaves the graph exactly as it was", "[ops][errors]", double,
                   mp_real) {
  graph<TestType> g(test_precision<TestType>::digits);
  const auto x = g.parameter("x", "2");
  const auto y = g.parameter("y", "0");
  const auto z = (x * y + sin(x)).named("z");
  const std::size_t size = g.size();
  std::vector<std::string> values;
  std::vector<std::string> partials;
  for (std::size_t i = 0; i < size; ++i) {
    const auto id = static_cast<node_id>(i);
    values.push_back(scalar_traits<TestType>::exact(g.value(id)));
    for (const auto& p : g.partials(id))
      partials.push_back(scalar_traits<TestType>::exact(p));
  }

  SECTION("division by zero") {
    CHECK_THROWS_AS(g.apply(op::div, {x, y}), evaluation_error);
  }
  SECTION("log 0") {
    CHECK_THROWS_AS(log(y), evaluation_error);
  }
  SECTION("wrong arity") {
    CHECK_THROWS_AS(g.apply(op::mul, {x}), usage_error);
  }

  REQUIRE(g.size() == size);
  std::vector<std::string> values_after;
  std::vector<std::string> partials_after;
  for (std::size_t i = 0; i < size; ++i) {
    const auto id = static_cast<node_id>(i);
    values_after.push_back(scalar_traits<TestType>::exact(g.value(id)));
    for (const auto& p : g.partials(id))
      partials_after.push_back(scalar_traits<TestType>::exact(p));
  }
  CHECK(values_after == values);
  CHECK(partials_after == partials);
  CHECK(g.find("z") == z.id());

  // The next node takes the id the failed one would have had, and the graph still works.
  const auto w = (z * 2).named("w");
  CHECK(static_cast<std::size_t>(w.id()) == size + 1);  // + 1: the lifted constant 2
  g.backward(w);
  // d(2 (x y + sin x))/dy = 2 x = 4 (closed form, exact).
  CHECK_THAT(y.adjoint(), is_exactly("4"));
}
