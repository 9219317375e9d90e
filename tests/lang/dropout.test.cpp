// SPDX-License-Identifier: MIT
// Dropout: `d = dropout(h, rate = p, mask = [...])` and `dropout(h, rate = p, seed = N)`.
// Expected values: closed forms written next to each check (inverted dropout keeps h/(1 - p) or
// gives 0), and for seeded masks tests/reference/random.ref, written by make_references.py from
// its own std::mt19937_64 and the mapping in docs/language.md ("Dropout").
#include <catch2/catch.hpp>
#include <chainrule/lang/dropout.hpp>
#include <chainrule/lang/lower.hpp>
#include <string>
#include <vector>

#include "lang_test_support.hpp"
#include "support/reference.hpp"

using namespace chainrule::lang;
using namespace chainrule::lang::testing;

namespace {

std::vector<std::string> equations_as_text(const checked_model& m) {
  std::vector<std::string> out;
  for (const auto& e : m.equations)
    out.push_back(e.name + " = " + to_source(m.expressions, e.value));
  return out;
}

template <class Real>
std::string mask_digits(const lowered_model<Real>& low, const std::string& name, int units) {
  std::string out;
  for (int i = 1; i <= units; ++i) {
    const Real& v = low.value(name + "_" + std::to_string(i));
    out += chainrule::scalar_traits<Real>::is_zero(v) ? '0' : '1';
  }
  return out;
}

}  // namespace

TEST_CASE("dropout: an explicit mask becomes consts and one equation per element",
          "[lang][dropout]") {
  const checked_model m = check_text(
      "input h[3] = [0.2, 0.4, 0.6]\n"
      "d = dropout(h, rate = 0.5, mask = [1, 0, 1])\n"
      "E = sum(d)\n"
      "differentiate E\n");
  CHECK(equations_as_text(m) == std::vector<std::string>{"d_1 = mask_d_1*h_1/(1 - rate_d)",
                                                         "d_2 = mask_d_2*h_2/(1 - rate_d)",
                                                         "d_3 = mask_d_3*h_3/(1 - rate_d)",
                                                         "E = sum(d_1, d_2, d_3)"});
  const scalar_declaration* rate = m.find_declaration("rate_d");
  REQUIRE(rate != nullptr);
  CHECK(rate->kind == declaration_kind::constant);
  CHECK(rate->value == "0.5");
  REQUIRE(m.find_declaration("mask_d_2") != nullptr);
  CHECK(m.find_declaration("mask_d_2")->value == "0");
  CHECK(m.find_declaration("mask_d_2")->kind == declaration_kind::constant);
  REQUIRE(m.dropouts.size() == 1);
  CHECK(m.dropouts[0].name == "d");
  CHECK(m.dropouts[0].rate_constant == "rate_d");
  CHECK(m.dropouts[0].mask == std::vector<std::string>{"mask_d_1", "mask_d_2", "mask_d_3"});
  CHECK(m.dropouts[0].mask_values == std::vector<std::string>{"1", "0", "1"});
  CHECK_FALSE(m.dropouts[0].seed.has_value());

  // Kept units are scaled by 1/(1 - 0.5) = 2: 0.2*2 = 0.4, 0, 0.6*2 = 1.2 (exact decimals).
  auto low = lower<chainrule::mp_real>(m);
  CHECK(low.format(low.value("d_1")) == "0.4");
  CHECK(low.format(low.value("d_2")) == "0");
  CHECK(low.format(low.value("d_3")) == "1.2");
  // Evaluation: the identity, d = h exactly.
  dropout_control<chainrule::mp_real> control(m, low);
  control.evaluation();
  low.graph->forward();
  CHECK(low.format(low.value("d_1")) == "0.2");
  CHECK(low.format(low.value("d_2")) == "0.4");
  CHECK(low.format(low.value("d_3")) == "0.6");
  // Back to training: the written mask again.
  control.training(5);
  low.graph->forward();
  CHECK(low.format(low.value("d_2")) == "0");
  CHECK(low.format(low.value("d_3")) == "1.2");
}

TEST_CASE("dropout: a seeded mask is drawn per update, the same for the same step",
          "[lang][dropout]") {
  const auto& ref = chainrule::testing::reference("random.ref");
  // The input is computed (its length known only after expansion) and comes later in the file.
  const checked_model m = check_text(
      "input x[4] = [1, 2, 3, 4]\n"
      "layer d = dropout(h, rate = 0.5, seed = 7)\n"
      "h = 2*x\n"
      "E = sum(d)\n"
      "differentiate E\n");
  REQUIRE(m.dropouts.size() == 1);
  REQUIRE(m.dropouts[0].seed == std::optional<std::uint64_t>{7});
  std::string declared;
  for (const auto& v : m.dropouts[0].mask_values)
    declared += v;
  CHECK(declared == ref["dropout.seed7.rate0.5.units4.step1"]);

  auto low = lower<double>(m);
  dropout_control<double> control(m, low);
  CHECK_FALSE(control.empty());
  for (const int step : {1, 2, 3, 2, 1}) {
    control.training(static_cast<std::uint64_t>(step));
    CHECK(mask_digits(low, "mask_d", 4) ==
          ref["dropout.seed7.rate0.5.units4.step" + std::to_string(step)]);
  }
  // Rows of a batch draw in turn: row r of update k in updates of B rows is draw (k-1)*B + r + 1.
  control.training(1, 1, 2);
  CHECK(mask_digits(low, "mask_d", 4) == ref["dropout.seed7.rate0.5.units4.step2"]);
  control.training(2, 0, 2);
  CHECK(mask_digits(low, "mask_d", 4) == ref["dropout.seed7.rate0.5.units4.step3"]);
  control.training(1, 0, 3);
  CHECK(mask_digits(low, "mask_d", 4) == ref["dropout.seed7.rate0.5.units4.step1"]);
  control.evaluation();
  CHECK(mask_digits(low, "mask_d", 4) == "1111");
  CHECK(low.value("rate_d") == 0.0);

  const checked_model five = check_text(
      "input x[5] = [1, 2, 3, 4, 5]\n"
      "d = dropout(x, rate = 0.3, seed = 3)\n"
      "E = sum(d)\n"
      "differentiate E\n");
  auto low5 = lower<double>(five);
  dropout_control<double> control5(five, low5);
  control5.training(2);
  CHECK(mask_digits(low5, "mask_d", 5) == ref["dropout.seed3.rate0.3.units5.step2"]);
}

TEST_CASE("dropout: mistakes are reported at the argument", "[lang][dropout]") {
  const std::string head = "input h[2] = [1, 2]\n";
  const std::string tail = "\nE = h_1\ndifferentiate E\n";
  const auto error = [&](const std::string& line) {
    const auto errors = errors_of(head + line + tail);
    REQUIRE(errors.size() == 1);
    return brief(errors.front());
  };
  CHECK(error("d = dropout(h, rate = 1, mask = [1, 0])") ==
        "2:23: the rate of dropout must be at least 0 and less than 1");
  CHECK(error("d = dropout(h, rate = 5e-1, mask = [1, 0])") ==
        "2:23: write the rate of dropout as a plain decimal");
  CHECK(error("d = dropout(h, rate = 0.5, mask = [1, 2])") ==
        "2:39: a mask value must be 0 or 1, not 2");
  CHECK(error("d = dropout(h, rate = 0.5, mask = [1, 0, 1])") ==
        "2:35: the mask has 3 values but 'h' is a vector of 2 elements");
  CHECK(error("d = dropout(h, rate = 0.5, mask = [1, 0], seed = 2)") ==
        "2:43: dropout takes a mask or a seed, not both");
  CHECK(error("d = dropout(h, rate = 0.5)") == "2:5: dropout needs a mask or a seed");
  CHECK(error("d = dropout(h, mask = [1, 0])") == "2:5: dropout needs its rate");
  CHECK(error("d = dropout(h, rate = 0.5, sed = 2)") == "2:28: dropout has no argument 'sed'");
}
