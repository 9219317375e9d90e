// SPDX-License-Identifier: MIT
// examples/digits.chain end to end: the 64-32-10 classifier trained with mini-batches on the
// training split and evaluated on the held-out rows. What is asserted is independent of the
// engine's numbers: chance is 1 in 10, and every metric must follow from the confusion matrix.
#include <catch2/catch.hpp>

#include "chainrule/lang/lang.hpp"
#include "chainrule/lang/lower.hpp"
#include "chainrule/trace/evaluate.hpp"
#include "chainrule/trace/train.hpp"
#include "support.hpp"

using namespace chainrule;
using namespace chainrule::trace;

namespace {

double as_double(const number& n) {
  return std::stod(n.exact);
}

}  // namespace

TEST_CASE("examples/digits.chain learns the held-out digits", "[trace][lang][digits][slow]") {
  const lang::checked_model model =
      lang::load_model(std::string(CHAINRULE_SOURCE_DIR) + "/examples/digits.chain");
  REQUIRE(model.precision.binary_double);
  lang::lowered_model<double> low = lang::lower<double>(model);
  REQUIRE(low.train.has_value());
  const lang::train_setting& t = *low.train;
  const lang::data_set* train = model.find_data_set("train");
  const lang::data_set* test = model.find_data_set("test");
  REQUIRE(train != nullptr);
  REQUIRE(test != nullptr);
  CHECK(train->rows() == 1437);
  CHECK(test->rows() == 360);
  CHECK(t.batch_size == 16);
  CHECK(t.reduction == lang::batch_reduction::mean);

  run_options o;
  o.record.targets = low.targets;
  o.record.parameters = low.params;
  o.optimizer.name = t.optimizer.name;
  for (const auto& a : t.optimizer.arguments)
    o.optimizer.arguments.emplace_back(a.name, a.value);
  o.trace.first = t.trace.first;
  o.trace.last = t.trace.last;
  for (const std::string& column : train->columns)
    o.data.columns.push_back(low.node(column));
  o.data.values = train->values;
  o.batch_size = t.batch_size;
  o.reduction = batch_reduction::mean;
  const std::uint64_t per_epoch = batches_per_epoch(train->rows(), t.batch_size);
  CHECK(per_epoch == 90);  // 89 batches of 16 and one of 13
  o.steps = t.count * per_epoch;
  const double wanted = 0.8;
  // The trainer without run(): the worked example of a 5,000-node graph is not needed here.
  trainer<double> training(*low.graph, low.objective, o);
  for (std::uint64_t k = 0; k < o.steps; ++k)
    training.step();

  REQUIRE(model.evaluations.size() == 1);
  evaluation_options eo;
  eo.data_set = "test";
  for (const std::string& column : test->columns)
    eo.data.columns.push_back(low.node(column));
  eo.data.values = test->values;
  for (const std::string& output : model.evaluations[0].outputs)
    eo.outputs.push_back(low.node(output));
  eo.targets = low.targets;
  const evaluation e = evaluate(*low.graph, low.objective, eo);
  CHECK(e.classifier == "one-hot");
  REQUIRE(e.classes.size() == 10);
  CHECK(e.predictions.empty());  // 360 rows: a summary
  INFO("accuracy " << e.accuracy.exact);
  CHECK(as_double(e.accuracy) > wanted);  // chance: 0.1
  // Cross-entropy of an even guess among ten classes is ln 10 = 2.30.
  CHECK(as_double(e.mean_loss) < 1.0);

  // The metrics are those of the confusion matrix.
  std::uint64_t total = 0;
  std::uint64_t diagonal = 0;
  for (std::size_t a = 0; a < 10; ++a) {
    std::uint64_t support = 0;
    std::uint64_t predicted = 0;
    for (std::size_t p = 0; p < 10; ++p) {
      support += e.confusion[a][p];
      predicted += e.confusion[p][a];
    }
    total += support;
    diagonal += e.confusion[a][a];
    const class_metrics& m = e.per_class[a];
    CHECK(m.support == support);
    CHECK(m.predicted == predicted);
    const double tp = static_cast<double>(e.confusion[a][a]);
    if (predicted != 0)
      CHECK(as_double(m.precision) == Approx(tp / static_cast<double>(predicted)));
    if (support != 0) CHECK(as_double(m.recall) == Approx(tp / static_cast<double>(support)));
    const double f1_denominator = static_cast<double>(support + predicted);
    if (f1_denominator != 0) CHECK(as_double(m.f1) == Approx(2 * tp / f1_denominator));
  }
  CHECK(total == 360);
  CHECK(diagonal == e.correct);
  CHECK(as_double(e.accuracy) == Approx(static_cast<double>(diagonal) / 360.0));
}
