// SPDX-License-Identifier: MIT
// The train directive's batch and reduce clauses, and the evaluate directive.
#include <catch2/catch.hpp>

#include "lang_test_support.hpp"

using namespace chainrule::lang;
using namespace chainrule::lang::testing;

namespace {

const std::string model =
    "input x = 1\n"
    "target t = 0\n"
    "param w = 0.5\n"
    "y = w*x\n"
    "E = (t - y)^2\n"
    "data d(x, t) = [[1, 0], [2, 1], [3, 1]]\n";

}  // namespace

TEST_CASE("batch and reduce clauses", "[lang][train][batch]") {
  SECTION("defaults: per sample, summed") {
    const auto m = check_text(model + "train minimize E using sgd for 2 epochs on d\n");
    REQUIRE(m.train);
    CHECK(m.train->batch_size == 1);
    CHECK(m.train->reduction == batch_reduction::sum);
  }
  SECTION("batch full reduce mean, in any order with the other clauses") {
    const auto m = check_text(model +
                              "train minimize E using sgd for 2 epochs reduce mean trace none on d "
                              "batch full\n");
    REQUIRE(m.train);
    CHECK(m.train->batch_size == 0);
    CHECK(m.train->reduction == batch_reduction::mean);
    CHECK(m.train->data_set == std::optional<std::string>("d"));
  }
  SECTION("batch N") {
    const auto m = check_text(model + "train minimize E using sgd for 5 steps on d batch 2\n");
    REQUIRE(m.train);
    CHECK(m.train->batch_size == 2);
  }
}

TEST_CASE("batch and reduce mistakes", "[lang][train][batch]") {
  CHECK(brief(errors_of(model + "train minimize E using sgd for 1 step batch 2\n").at(0)) ==
        "7:39: batches need a data set");
  CHECK(brief(errors_of(model + "train minimize E using sgd for 1 step on d batch 0\n").at(0)) ==
        "7:50: bad batch size '0'");
  CHECK(brief(errors_of(model + "train minimize E using sgd for 1 step on d batch full batch 2\n")
                  .at(0)) == "7:55: the batch size is given twice");
  const auto median =
      errors_of(model + "train minimize E using sgd for 1 step on d reduce median\n");
  CHECK(brief(median.at(0)) == "7:51: unexpected 'median'");
  CHECK(median.at(0).expected == "'sum' or 'mean'");
  CHECK(brief(errors_of(model +
                        "train minimize E using sgd for 1 step on d batch 2 order sequential\n")
                  .at(0)) ==
        "7:52: sequential order recomputes one sample's gradients layer by "
        "layer");
  const auto e = errors_of(model +
                           "train minimize E using sgd for 1 step on d batch 2 order "
                           "sequential\n")
                     .at(0);
  CHECK(e.expected == "'order simultaneous' (the default) with batches, or no batch clause");
}

TEST_CASE("evaluate directive", "[lang][evaluate]") {
  const std::string vector_model =
      "input x[2] = [1, 2]\n"
      "target t[2] = [1, 0]\n"
      "param W[2][2] = [[0.1, 0.2], [0.3, 0.4]]\n"
      "p = softmax(W @ x)\n"
      "E = cce(t, p)\n"
      "data train_set(x, t) = [[1, 2, 1, 0], [2, 1, 0, 1]]\n"
      "data test_set(x, t) = [[0, 1, 0, 1]]\n"
      "train minimize E using sgd for 1 epoch on train_set\n";
  SECTION("a vector's elements in index order") {
    const auto m = check_text(vector_model + "evaluate p on test_set\n");
    REQUIRE(m.evaluations.size() == 1);
    CHECK(m.evaluations[0].outputs == std::vector<std::string>{"p_1", "p_2"});
    CHECK(m.evaluations[0].data_set == "test_set");
    // The evaluated data set counts as used.
    CHECK(m.warnings.empty());
  }
  SECTION("a scalar, twice") {
    const auto m = check_text(vector_model + "evaluate E on test_set\nevaluate p_2 on train_set\n");
    REQUIRE(m.evaluations.size() == 2);
    CHECK(m.evaluations[0].outputs == std::vector<std::string>{"E"});
    CHECK(m.evaluations[1].outputs == std::vector<std::string>{"p_2"});
  }
  SECTION("mistakes") {
    CHECK(brief(errors_of(vector_model + "evaluate p on tset\n").at(0)) ==
          "9:15: unknown data set 'tset'");
    CHECK(brief(errors_of(vector_model + "evaluate q on test_set\n").at(0)) ==
          "9:10: unknown name 'q'");
    const auto no_on = errors_of(vector_model + "evaluate p test_set\n");
    CHECK(brief(no_on.at(0)) == "9:12: unexpected 'test_set'");
    CHECK(no_on.at(0).expected == "'on' and a data set, as in 'evaluate y on test'");
  }
}
