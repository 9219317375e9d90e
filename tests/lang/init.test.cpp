// SPDX-License-Identifier: MIT
// Seeded layer initialisation: `layer h = dense(x, 2, sigmoid, init = xavier, seed = 42)`.
// Expected weights: tests/reference/random.ref, written by make_references.py from its own
// implementation of std::mt19937_64 (checked there against the C++ standard's value for the
// 10000th draw) and of the mapping in docs/language.md ("Seeded initialisation").
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "lang_test_support.hpp"
#include "support/reference.hpp"

using namespace chainrule::lang;
using namespace chainrule::lang::testing;

namespace {

std::vector<std::string> declared_values(const checked_model& m, const std::string& group) {
  std::vector<std::string> out;
  for (const auto& d : m.declarations) {
    if (d.group == group) out.push_back(d.value);
  }
  return out;
}

std::vector<std::string> reference_weights(const std::string& prefix, std::size_t count) {
  const auto& ref = chainrule::testing::reference("random.ref");
  std::vector<std::string> out;
  for (std::size_t k = 1; k <= count; ++k)
    out.push_back(ref[prefix + std::to_string(k)]);
  return out;
}

}  // namespace

TEST_CASE("init: each scheme draws the documented weights", "[lang][init]") {
  const checked_model m = check_text(
      "input x[3] = [1, 2, 3]\n"
      "input y[2] = [1, 2]\n"
      "layer a = dense(x, 2, sigmoid, init = xavier, seed = 42)\n"
      "layer b = dense(x, 2, sigmoid, init = he, seed = 42)\n"
      "layer c = dense(y, 2, tanh, init = uniform(0.5), seed = 7)\n"
      "layer d = dense(y, 3, linear, init = normal(0.1), seed = 2024)\n"
      "E = sum(a) + sum(b) + sum(c) + sum(d)\n"
      "differentiate E\n");
  CHECK(declared_values(m, "W_a") == reference_weights("init.xavier.2x3.seed42.", 6));
  CHECK(declared_values(m, "W_b") == reference_weights("init.he.2x3.seed42.", 6));
  CHECK(declared_values(m, "W_c") == reference_weights("init.uniform.2x2.seed7.", 4));
  CHECK(declared_values(m, "W_d") == reference_weights("init.normal.3x2.seed2024.", 6));
  // Row-major, one row per unit, like explicit weights; each weight points at its init.
  const scalar_declaration* w = m.find_declaration("W_a_2_3");
  REQUIRE(w != nullptr);
  CHECK(w->kind == declaration_kind::param);
  CHECK(w->location.line == 3);
  CHECK(w->location.column == 39);
}

TEST_CASE("init: the same file gives the same weights; another seed others", "[lang][init]") {
  const auto weights = [](int seed) {
    return declared_values(check_text("input x[3] = [1, 2, 3]\n"
                                      "layer h = dense(x, 4, relu, init = he, seed = " +
                                      std::to_string(seed) +
                                      ")\n"
                                      "E = sum(h)\n"
                                      "differentiate E\n"),
                           "W_h");
  };
  CHECK(weights(1) == weights(1));
  CHECK(weights(1) != weights(2));
  CHECK(weights(1).size() == 12);
}

TEST_CASE("init: a computed input gives the fan-in, in any order of the file", "[lang][init]") {
  // o's input h is an equation whose length is known only after expansion; o comes first.
  const checked_model m = check_text(
      "input x[3] = [1, 2, 3]\n"
      "pen = l2(W_o)\n"
      "layer o = dense(h, 2, sigmoid, init = xavier, seed = 42, bias = 0)\n"
      "layer h = dense(x, 3, tanh, weights = [[1, 0, 0], [0, 1, 0], [0, 0, 1]])\n"
      "E = sum(o) + pen\n"
      "differentiate E\n");
  // fan_in 3, fan_out 2: the same bound and draws as the 2x3 xavier layer above.
  CHECK(declared_values(m, "W_o") == reference_weights("init.xavier.2x3.seed42.", 6));
  CHECK(m.find_equation("net_o_2") != nullptr);
  CHECK(m.find_declaration("b_o") != nullptr);
}

TEST_CASE("init: mistakes are reported at the argument", "[lang][init]") {
  const std::string head = "input x[2] = [1, 2]\n";
  // The objective does not use h: a layer with a mistake defines no names, so using h would
  // add an "unknown name 'h'" error.
  const std::string tail = "\nE = x_1\ndifferentiate E\n";
  const auto error = [&](const std::string& layer) {
    const auto errors = errors_of(head + layer + tail);
    REQUIRE(errors.size() == 1);
    return errors.front();
  };
  auto d = error("layer h = dense(x, 2, relu, init = xavir, seed = 1)");
  CHECK(brief(d) == "2:36: unknown init scheme 'xavir'");
  REQUIRE(d.notes.size() == 1);
  CHECK(d.notes[0].message == "did you mean 'xavier'?");
  CHECK(brief(error("layer h = dense(x, 2, relu, init = he)")) ==
        "2:36: init needs a seed, so that the same file always draws the same weights");
  CHECK(brief(error("layer h = dense(x, 2, relu, init = he, seed = -1)")) ==
        "2:47: the seed must be a whole number of at most 18 digits");
  CHECK(brief(error("layer h = dense(x, 2, relu, init = uniform, seed = 1)")) ==
        "2:36: uniform needs its bound a");
  CHECK(brief(error("layer h = dense(x, 2, relu, init = uniform(0), seed = 1)")) ==
        "2:44: the bound of uniform must be greater than 0");
  CHECK(brief(error("layer h = dense(x, 2, relu, init = xavier(2), seed = 1)")) ==
        "2:43: xavier takes no argument");
  CHECK(brief(error(
            "layer h = dense(x, 2, relu, weights = [[1, 2], [3, 4]], init = he, seed = 1)")) ==
        "2:57: a layer takes explicit weights or init, not both");
  CHECK(brief(error("layer h = dense(x, 2, relu, weights = [[1, 2], [3, 4]], seed = 1)")) ==
        "2:57: seed only goes with init");
  CHECK(brief(error("layer h = dense(x, 2, relu, bias = uniform(1), init = he, seed = 1)")) ==
        "2:36: 'uniform(...)' can only be an init scheme, not the bias");
  CHECK(brief(error("layer h = dense(x, 2, relu)")) ==
        "2:11: dense needs its weights: explicit (weights = [[...], ...], one row per unit) or "
        "drawn (init = xavier, seed = N)");
  const auto scalar = errors_of(
      "input s = 1\nlayer h = dense(s, 2, relu, init = he, seed = 1)\nE = sum(h)\ndifferentiate "
      "E\n");
  REQUIRE(scalar.size() == 1);
  CHECK(brief(scalar[0]) ==
        "2:17: the input of a layer with init = ... must be a vector; 's' is a scalar");
}
