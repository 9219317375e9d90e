// SPDX-License-Identifier: MIT
// The loss and penalty library functions: values and gradients at 50 digits against mpmath
// (tests/reference/losses.ref), the scalar formulas they expand to, and their diagnostics.
#include <catch2/catch.hpp>
#include <chainrule/engine/engine.hpp>
#include <chainrule/lang/format.hpp>
#include <chainrule/lang/lower.hpp>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "lang_test_support.hpp"

using namespace chainrule::lang;
using namespace chainrule::lang::testing;
using chainrule::mp_real;
using chainrule::number_format;

namespace {

constexpr int required_digits = 45;

const std::map<std::string, std::string>& references() {
  static const std::map<std::string, std::string> ref = [] {
    std::map<std::string, std::string> out;
    std::ifstream in(std::string(CHAINRULE_REFERENCE_DIR) + "/losses.ref");
    REQUIRE(in.good());
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line.front() == '#') continue;
      const auto at = line.find(" = ");
      REQUIRE(at != std::string::npos);
      out.emplace(line.substr(0, at), line.substr(at + 3));
    }
    return out;
  }();
  return ref;
}

std::string reference(const std::string& key) {
  const auto& ref = references();
  const auto it = ref.find(key);
  INFO("reference key " << key);
  REQUIRE(it != ref.end());
  return it->second;
}

// True when the decimal `actual` agrees with `expected` to `digits` significant digits
// (compared at 200 digits; an expected 0 needs |actual| below 10^-digits).
bool agrees(const std::string& actual, const std::string& expected, int digits) {
  using traits = chainrule::scalar_traits<mp_real>;
  traits::precision_scope scope(200);
  const mp_real a = traits::from_decimal(actual, 200);
  const mp_real b = traits::from_decimal(expected, 200);
  mp_real diff = a - b;
  diff = abs(diff);
  mp_real scale = abs(b);
  if (scale == 0) scale = 1;
  mp_real tolerance = pow(mp_real(10, 200), -digits);
  tolerance *= scale;
  return diff <= tolerance;
}

std::string digits_of(const lowered_model<mp_real>& m, const mp_real& x) {
  return m.graph->format(x, number_format::significant(50, chainrule::rounding::half_even, true));
}

void check_value(const lowered_model<mp_real>& m, std::string_view name, const std::string& key) {
  const std::string actual = digits_of(m, m.value(name));
  const std::string expected = reference(key);
  INFO(key << ": engine " << actual << ", mpmath " << expected);
  CHECK(agrees(actual, expected, required_digits));
}

void check_gradient(const lowered_model<mp_real>& m, std::string_view name,
                    const std::string& key) {
  const std::string actual = digits_of(m, m.graph->adjoint(m.node(name)));
  const std::string expected = reference(key);
  INFO(key << ": engine " << actual << ", mpmath " << expected);
  CHECK(agrees(actual, expected, required_digits));
}

const std::string pair_header =
    "precision 50\n"
    "param t[3] = [0.2, 0.7, 0.1]\n"
    "param y[3] = [0.25, 0.6, 0.3]\n";

std::vector<std::string> equations_as_text(const checked_model& m) {
  std::vector<std::string> out;
  for (const auto& e : m.equations)
    out.push_back(e.name + " = " + to_source(m.expressions, e.value));
  return out;
}

}  // namespace

TEST_CASE("losses of two vectors match mpmath to 45 digits, with gradients", "[lang][losses]") {
  for (const char* loss : {"se", "half_se", "mse", "mae", "mape", "bce", "cce"}) {
    INFO(loss);
    auto m = lower<mp_real>(check_text(pair_header + "E = " + loss + "(t, y)\ndifferentiate E\n"));
    check_value(m, "E", std::string(loss) + ".value");
    m.graph->backward(m.objective);
    for (int i = 1; i <= 3; ++i) {
      const std::string k = std::to_string(i);
      check_gradient(m, "y_" + k, std::string(loss) + ".dy_" + k);
      check_gradient(m, "t_" + k, std::string(loss) + ".dt_" + k);
    }
  }
}

TEST_CASE("sparse_cce, hinge, penalties and scalar arguments match mpmath", "[lang][losses]") {
  SECTION("sparse_cce(2, y) = -log(y_2)") {
    auto m = lower<mp_real>(check_text(pair_header + "E = sparse_cce(2, y)\ndifferentiate E\n"));
    check_value(m, "E", "sparse_cce.value");
    m.graph->backward(m.objective);
    for (int i = 1; i <= 3; ++i)
      check_gradient(m, "y_" + std::to_string(i), "sparse_cce.dy_" + std::to_string(i));
  }
  SECTION("hinge") {
    auto m = lower<mp_real>(
        check_text("precision 50\ninput h[3] = [1, -1, 1]\nparam s[3] = [0.3, 0.5, 1.5]\n"
                   "E = hinge(h, s)\ndifferentiate E\n"));
    check_value(m, "E", "hinge.value");
    m.graph->backward(m.objective);
    for (int i = 1; i <= 3; ++i)
      check_gradient(m, "s_" + std::to_string(i), "hinge.ds_" + std::to_string(i));
  }
  SECTION("l1 and l2 over a vector and a matrix") {
    for (const char* penalty : {"l1", "l2"}) {
      INFO(penalty);
      auto m =
          lower<mp_real>(check_text(std::string("precision 50\nparam w[2] = [0.5, -1.5]\n"
                                                "param W[2][2] = [[0.1, -0.2], [0.3, 0.4]]\nE = ") +
                                    penalty + "(w, W)\ndifferentiate E\n"));
      check_value(m, "E", std::string(penalty) + ".value");
      m.graph->backward(m.objective);
      for (const char* w : {"w_1", "w_2", "W_1_1", "W_1_2", "W_2_1", "W_2_2"})
        check_gradient(m, w, std::string(penalty) + ".d" + w);
    }
  }
  SECTION("scalar arguments") {
    for (const char* loss : {"bce", "mse"}) {
      INFO(loss);
      auto m = lower<mp_real>(
          check_text(std::string("precision 50\ntarget a = 0.3\nparam b = 0.8\nE = ") + loss +
                     "(a, b)\ndifferentiate E\n"));
      check_value(m, "E", std::string(loss) + "_scalar.value");
      m.graph->backward(m.objective);
      check_gradient(m, "b", std::string(loss) + "_scalar.dy");
    }
  }
}

TEST_CASE("losses expand to the same equations as the hand-written formulas", "[lang][losses]") {
  const std::string header =
      "input x[3] = [1, 2, 3]\ntarget t[3] = [0.2, 0.7, 0.1]\nparam W[2][2] = 0.5\n"
      "param c = 2\n";
  const auto same = [&](const std::string& library, const std::string& hand_written) {
    INFO(library << "  vs  " << hand_written);
    const checked_model a =
        check_text(header + "y = sigmoid(c*x)\nE = " + library + "\ndifferentiate E\n");
    const checked_model b =
        check_text(header + "y = sigmoid(c*x)\nE = " + hand_written + "\ndifferentiate E\n");
    require_same_scalars(a, b);
  };
  same("se(t, y)", "sum((t_1 - y_1)^2, (t_2 - y_2)^2, (t_3 - y_3)^2)");
  same("half_se(t, y)", "sum(1/2*(t_1 - y_1)^2, 1/2*(t_2 - y_2)^2, 1/2*(t_3 - y_3)^2)");
  same("half_se(t, y)", "sum(1/2*(t - y)^2)");
  same("mse(t, y)", "1/3*sum((t_1 - y_1)^2, (t_2 - y_2)^2, (t_3 - y_3)^2)");
  same("mae(t, y)", "1/3*sum(abs(t_1 - y_1), abs(t_2 - y_2), abs(t_3 - y_3))");
  same("mape(t, y)", "100/3*sum(abs((t_1 - y_1)/t_1), abs((t_2 - y_2)/t_2), abs((t_3 - y_3)/t_3))");
  same("bce(t, y)",
       "-1/3*sum(t_1*log(y_1) + (1 - t_1)*log(1 - y_1), t_2*log(y_2) + (1 - t_2)*log(1 - y_2), "
       "t_3*log(y_3) + (1 - t_3)*log(1 - y_3))");
  same("cce(t, y)", "-sum(t_1*log(y_1), t_2*log(y_2), t_3*log(y_3))");
  same("sparse_cce(3, y)", "-log(y_3)");
  same("hinge(t, y)", "1/3*sum(max(0, 1 - t_1*y_1), max(0, 1 - t_2*y_2), max(0, 1 - t_3*y_3))");
  same("l1(W, c)", "sum(abs(W_1_1), abs(W_1_2), abs(W_2_1), abs(W_2_2), abs(c))");
  same("l2(W)", "sum(W_1_1^2, W_1_2^2, W_2_1^2, W_2_2^2)");
  // Scalars: one term, no sum and no 1/n.
  same("se(t_1, y_1)", "(t_1 - y_1)^2");
  same("mse(t_2, y_2)", "(t_2 - y_2)^2");
  same("mape(t_1, y_1)", "100*abs((t_1 - y_1)/t_1)");
  same("bce(t_1, y_1)", "-(t_1*log(y_1) + (1 - t_1)*log(1 - y_1))");
  same("hinge(t_1, y_1)", "max(0, 1 - t_1*y_1)");
  same("cce(t_1, y_1)", "-(t_1*log(y_1))");
  same("mae(t_1, y_1)", "abs(t_1 - y_1)");
  same("l2(c)", "c^2");
  // Arguments may be expressions, and a loss is an ordinary term.
  same("mse(t, sigmoid(W[1][1]*x)) + 0.01*l2(W)",
       "1/3*sum((t_1 - sigmoid(W_1_1*x_1))^2, (t_2 - sigmoid(W_1_1*x_2))^2, "
       "(t_3 - sigmoid(W_1_1*x_3))^2) + 0.01*sum(W_1_1^2, W_1_2^2, W_2_1^2, W_2_2^2)");

  const checked_model m = check_text(header + "y = sigmoid(c*x)\nE = bce(t, y)\ndifferentiate E\n");
  CHECK(equations_as_text(m).back() ==
        "E = -1/3*sum(t_1*log(y_1) + (1 - t_1)*log(1 - y_1), t_2*log(y_2) + (1 - t_2)*log(1 - "
        "y_2), t_3*log(y_3) + (1 - t_3)*log(1 - y_3))");
}

TEST_CASE("the Mazur network with half_se", "[lang][losses]") {
  const std::string text =
      "input  i[2] = [0.05, 0.10]\n"
      "target t[2] = [0.01, 0.99]\n"
      "const  b1 = 0.35, b2 = 0.60\n"
      "layer h = dense(i, 2, sigmoid, weights = [[0.15, 0.20], [0.25, 0.30]], bias = b1)\n"
      "layer o = dense(h, 2, sigmoid, weights = [[0.40, 0.45], [0.50, 0.55]], bias = b2)\n"
      "E_total = half_se(t, o)\n"
      "train minimize E_total using sgd(lr = 0.5) for 1 step\n";
  require_same_scalars(check_text(text), load_model(example_path("mazur_layers.chain")));
  auto m = lower<mp_real>(check_text(text));
  CHECK(m.format(m.value("E_total")) == "0.298371109");
}

TEST_CASE("cross-entropy of a softmax output", "[lang][losses]") {
  const std::string header =
      "precision 50\ninput z[3] = [1, 2, 3]\ntarget t[3] = [0, 1, 0]\np = softmax(z)\n";
  auto dense = lower<mp_real>(check_text(header + "E = cce(t, p)\ndifferentiate E\n"));
  auto sparse = lower<mp_real>(check_text(header + "E = sparse_cce(2, p)\ndifferentiate E\n"));
  auto inline_softmax =
      lower<mp_real>(check_text(header + "E = sparse_cce(2, softmax(z))\ndifferentiate E\n"));
  const std::string expected = digits_of(sparse, sparse.value("E"));
  CHECK(agrees(digits_of(dense, dense.value("E")), expected, required_digits));
  CHECK(agrees(digits_of(inline_softmax, inline_softmax.value("E")), expected, required_digits));
  CHECK(sparse.format(sparse.value("E")) == "1.407605964");  // log(e + e^2 + e^3) - 2
  dense.graph->backward(dense.objective);
  sparse.graph->backward(sparse.objective);
  for (const char* z : {"z_1", "z_2", "z_3"}) {
    INFO(z);
    CHECK(agrees(digits_of(dense, dense.graph->adjoint(dense.node(z))),
                 digits_of(sparse, sparse.graph->adjoint(sparse.node(z))), required_digits));
  }
  CHECK(check_text(header + "E = cce(t, p)\ndifferentiate E\n").warnings.empty());
}

TEST_CASE("loss diagnostics", "[lang][losses]") {
  const std::string header =
      "target t[3] = [0.2, 0.7, 0.1]\nparam y[3] = 0.5, z[2] = 0.5, M[3][1] = 0.5\n";
  const auto errors = [&](const std::string& equation) {
    return briefs(errors_of(header + "E = " + equation + "\ndifferentiate E\n"));
  };
  using list = std::vector<std::string>;
  CHECK(errors("mse(t, z)") ==
        list{"3:5: shape mismatch in the arguments of mse: t is a vector of 3 elements, y is a "
             "vector of 2 elements"});
  CHECK(errors("cce(t, 0.5)") ==
        list{"3:5: shape mismatch in the arguments of cce: t is a vector of 3 elements, p is a "
             "scalar"});
  CHECK(errors("hinge(t, M)") ==
        list{"3:5: shape mismatch in the arguments of hinge: t is a vector of 3 elements, s is a "
             "3x1 matrix"});
  CHECK(errors("mse(t)") == list{"3:5: mse takes 2 arguments, got 1"});
  CHECK(errors("bce(t, y, y)") == list{"3:5: bce takes 2 arguments, got 3"});
  CHECK(errors("l2()") == list{"3:5: l2 takes at least 1 argument, got 0"});
  CHECK(errors("mae(t, y = y)") == list{"3:12: mae takes no keyword arguments"});
  CHECK(errors("sparse_cce(4, y)") ==
        list{"3:16: sparse_cce's k must be a whole number from 1 to 3 (p is a vector of 3 "
             "elements)"});
  CHECK(errors("sparse_cce(1.5, y)") ==
        list{"3:16: sparse_cce's k must be a whole number from 1 to 3 (p is a vector of 3 "
             "elements)"});
  CHECK(errors("sparse_cce(-1, y)") ==
        list{"3:16: sparse_cce's k must be a whole number from 1 to 3 (p is a vector of 3 "
             "elements)"});
  CHECK(errors("sparse_cce(t_1, y)") == list{"3:16: sparse_cce's k must be a number"});
  CHECK(errors("mes(t, y)") == list{"3:5: unknown function 'mes'"});

  const auto all = errors_of(header + "E = mse(t, z)\ndifferentiate E\n", "model.chain");
  REQUIRE(all.size() == 1);
  CHECK(format(all[0]) ==
        "model.chain:3:5: error: shape mismatch in the arguments of mse: t is a vector of 3 "
        "elements, y is a vector of 2 elements\n"
        "E = mse(t, z)\n"
        "    ^~~\n"
        "note: expected t and y of the same shape (two scalars, or two vectors of the same "
        "length)\n");
}
