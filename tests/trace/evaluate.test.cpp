// SPDX-License-Identifier: MIT
// Evaluation metrics on cases small enough to count by hand; every expected ratio is written as
// the fraction it comes from.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "chainrule/engine/engine.hpp"
#include "chainrule/trace/evaluate.hpp"
#include "support.hpp"

using namespace chainrule;
using namespace chainrule::trace;
using trace_test::agrees;

namespace {

// Three classes; the rows, as (actual, predicted):
//   actual 0: (0,0) (0,1) (0,0) (0,1)      actual 1: (1,1) (1,2)
//   actual 2: (2,2) (2,2) (2,0) (2,2)
// Confusion [actual][predicted] = [[2,2,0],[0,1,1],[1,0,3]], 6 of 10 right.
//   class 0: tp 2, predicted 3, support 4: P = 2/3, R = 2/4, F1 = 2*2/(2*2+1+2) = 4/7
//   class 1: tp 1, predicted 3, support 2: P = 1/3, R = 1/2, F1 = 2/(2+2+1)     = 2/5
//   class 2: tp 3, predicted 4, support 4: P = 3/4, R = 3/4, F1 = 6/(6+1+1)     = 3/4
//   macro P = (2/3 + 1/3 + 3/4)/3 = 7/12, macro R = (1/2 + 1/2 + 3/4)/3 = 7/12,
//   macro F1 = (4/7 + 2/5 + 3/4)/3 = 241/420.
const std::vector<std::uint32_t> actual = {0, 0, 0, 1, 1, 2, 2, 2, 2, 0};
const std::vector<std::uint32_t> predicted = {0, 1, 0, 1, 2, 2, 2, 0, 2, 1};

bool is(const number& n, const std::string& expected) {
  return agrees(n.exact, expected, 15);
}

}  // namespace

TEST_CASE("Classification metrics of a three-class case counted by hand", "[trace][evaluate]") {
  evaluation e;
  e.classes = {"a", "b", "c"};
  classification_metrics(actual, predicted, e, number_format::decimals(4));
  CHECK(e.confusion == std::vector<std::vector<std::uint64_t>>{{2, 2, 0}, {0, 1, 1}, {1, 0, 3}});
  CHECK(e.correct == 6);
  CHECK(is(e.accuracy, "0.6"));
  CHECK(e.accuracy.shown == "0.6");
  REQUIRE(e.per_class.size() == 3);
  CHECK(e.per_class[0].label == "a");
  CHECK(e.per_class[0].support == 4);
  CHECK(e.per_class[0].predicted == 3);
  CHECK(is(e.per_class[0].precision, "0.66666666666666667"));  // 2/3
  CHECK(e.per_class[0].precision.shown == "0.6667");
  CHECK(is(e.per_class[0].recall, "0.5"));
  CHECK(is(e.per_class[0].f1, "0.57142857142857143"));         // 4/7
  CHECK(is(e.per_class[1].precision, "0.33333333333333333"));  // 1/3
  CHECK(is(e.per_class[1].recall, "0.5"));
  CHECK(is(e.per_class[1].f1, "0.4"));
  CHECK(is(e.per_class[2].precision, "0.75"));
  CHECK(is(e.per_class[2].recall, "0.75"));
  CHECK(is(e.per_class[2].f1, "0.75"));
  CHECK(is(e.macro_precision, "0.58333333333333333"));  // 7/12
  CHECK(is(e.macro_recall, "0.58333333333333333"));     // 7/12
  CHECK(is(e.macro_f1, "0.57380952380952381"));         // 241/420
  // Every metric agrees with the confusion matrix it came from.
  std::uint64_t total = 0;
  for (const auto& row : e.confusion)
    for (std::uint64_t c : row)
      total += c;
  CHECK(total == actual.size());
}

TEST_CASE("Classes that never occur and classes never predicted", "[trace][evaluate]") {
  evaluation e;
  // Class "d" is neither an actual nor a predicted class: it is listed with zeros and left out
  // of the macro averages, which stay those of the three-class case.
  e.classes = {"a", "b", "c", "d"};
  classification_metrics(actual, predicted, e, number_format::decimals(4));
  REQUIRE(e.per_class.size() == 4);
  CHECK(e.per_class[3].support == 0);
  CHECK(is(e.per_class[3].precision, "0"));
  CHECK(is(e.macro_precision, "0.58333333333333333"));
  CHECK(is(e.macro_f1, "0.57380952380952381"));

  // Actual 0, 0, 1 all predicted 0: class 1 is never predicted, so its precision is 0 (nothing
  // to divide by) and it still counts in the averages: P = (2/3 + 0)/2 = 1/3, R = (1 + 0)/2,
  // F1 = (2*2/(4+1) + 0)/2 = 2/5.
  evaluation never;
  never.classes = {"0", "1"};
  classification_metrics({0, 0, 1}, {0, 0, 0}, never, number_format::decimals(4));
  CHECK(is(never.per_class[1].precision, "0"));
  CHECK(is(never.per_class[1].recall, "0"));
  CHECK(is(never.macro_precision, "0.33333333333333333"));
  CHECK(is(never.macro_recall, "0.5"));
  CHECK(is(never.macro_f1, "0.4"));
}

TEST_CASE("Which outputs and targets make a classifier", "[trace][evaluate]") {
  // Columns: x, t (one output).
  CHECK(classifier_kind(1, {1}, 2, {"0.3", "0", "2", "1.0"}) == "binary");
  CHECK(classifier_kind(1, {1}, 2, {"0.3", "0", "2", "0.5"}).empty());
  // Columns: x, t1, t2 (two outputs): one-hot, or not.
  CHECK(classifier_kind(2, {1, 2}, 3, {"5", "1", "0", "6", "0", "1"}) == "one-hot");
  CHECK(classifier_kind(2, {1, 2}, 3, {"5", "1", "1", "6", "0", "1"}).empty());
  // Columns: x, k (two outputs, a class number 1..2).
  CHECK(classifier_kind(2, {1}, 2, {"5", "2", "6", "1"}) == "class index");
  CHECK(classifier_kind(2, {1}, 2, {"5", "3", "6", "1"}).empty());
  CHECK(classifier_kind(2, {1}, 2, {"5", "1.5", "6", "1"}).empty());
}

TEST_CASE("Evaluating a graph row by row", "[trace][evaluate]") {
  SECTION("binary: one output y = x, threshold 0.5") {
    // Rows (x, t): (0.2, 0) (0.4, 1) (0.6, 0) (1.0, 1); E = (t - y)^2 = 0.04, 0.36, 0.36, 0;
    // mean 0.76 / 4 = 0.19. Predicted 0, 0, 1, 1 against 0, 1, 0, 1: two right.
    graph<mp_real> g(30);
    auto x = g.input("x", "0");
    auto t = g.input("t", "0");
    auto w = g.parameter("w", "1");
    auto y = (w * x).named("y");
    auto loss = pow(t - y, 2).named("E");
    evaluation_options o;
    o.data_set = "four";
    o.data.columns = {x.id(), t.id()};
    o.data.values = {"0.2", "0", "0.4", "1", "0.6", "0", "1.0", "1"};
    o.outputs = {y.id()};
    o.targets = {t.id()};
    const evaluation e = evaluate(g, loss.id(), o);
    CHECK(e.classifier == "binary");
    CHECK(e.rows == 4);
    CHECK(agrees(e.mean_loss.exact, "0.19", 25));
    REQUIRE(e.predictions.size() == 4);
    CHECK(agrees(e.predictions[1].loss.exact, "0.36", 25));
    CHECK(e.predictions[2].predicted == std::optional<std::uint32_t>(1));
    CHECK(e.predictions[2].actual == std::optional<std::uint32_t>(0));
    CHECK(e.correct == 2);
    CHECK(e.confusion == std::vector<std::vector<std::uint64_t>>{{1, 1}, {1, 1}});
  }
  SECTION("one-hot: argmax, the first of equal outputs wins") {
    // Rows (x1, x2, t1, t2): (0.9, 0.1, 1, 0) (0.3, 0.7, 1, 0) (0.5, 0.5, 0, 1); outputs are
    // the inputs. E = (t1 - y1)^2 + (t2 - y2)^2 = 0.02, 0.98, 0.5, mean 1.5 / 3 = 0.5.
    graph<double> g(17);
    auto x1 = g.input("x1", "0");
    auto x2 = g.input("x2", "0");
    auto t1 = g.input("t1", "0");
    auto t2 = g.input("t2", "0");
    auto y1 = (x1 + g.constant("0")).named("y1");
    auto y2 = (x2 + g.constant("0")).named("y2");
    auto loss = (pow(t1 - y1, 2) + pow(t2 - y2, 2)).named("E");
    evaluation_options o;
    o.data.columns = {x1.id(), x2.id(), t1.id(), t2.id()};
    o.data.values = {"0.9", "0.1", "1", "0", "0.3", "0.7", "1", "0", "0.5", "0.5", "0", "1"};
    o.outputs = {y1.id(), y2.id()};
    o.targets = {t1.id(), t2.id()};
    o.listed_rows = 2;  // three rows: a summary only
    const evaluation e = evaluate(g, loss.id(), o);
    CHECK(e.classifier == "one-hot");
    CHECK(e.predictions.empty());
    CHECK(agrees(e.mean_loss.exact, "0.5", 14));
    CHECK(e.confusion == std::vector<std::vector<std::uint64_t>>{{1, 1}, {1, 0}});
    CHECK(e.correct == 1);
  }
  SECTION("a target without a data column cannot be compared") {
    graph<double> g(17);
    auto x = g.input("x", "0");
    auto t = g.input("t", "0");
    auto loss = pow(t - x, 2).named("E");
    evaluation_options o;
    o.data.columns = {x.id()};
    o.data.values = {"1", "2"};
    o.outputs = {x.id()};
    o.targets = {t.id()};
    CHECK_THROWS_WITH(evaluate(g, loss.id(), o), Catch::Contains("no column for the target"));
  }
}
