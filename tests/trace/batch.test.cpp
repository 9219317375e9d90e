// SPDX-License-Identifier: MIT
// Batch updates: rows accumulated into one update, summed or averaged. Expected values:
// tests/reference/batches.ref and neuron004.ref (mpmath, the per-row gradient written out by hand;
// the engine is not used there).
#include <algorithm>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "chainrule/engine/engine.hpp"
#include "chainrule/engine/optimizer.hpp"
#include "chainrule/trace/train.hpp"
#include "support.hpp"

using namespace chainrule;
using namespace chainrule::trace;
using trace_test::agrees;
using trace_test::read_reference;
using trace_test::ref_value;

namespace {

// The seed-004 neuron: out = sigmoid(w1 x1 + w2 x2 + w3 x3), E = 1/2 (y - out)^2 per row.
struct neuron {
  neuron() : g(50) {
    auto x1 = g.input("x1", "0");
    auto x2 = g.input("x2", "0");
    auto x3 = g.input("x3", "1");
    auto y = g.input("y", "0");
    auto w1 = g.parameter("w1", "-0.16595599059485195");
    auto w2 = g.parameter("w2", "0.44064898688431604");
    auto w3 = g.parameter("w3", "-0.99977125262553");
    auto out = sigmoid(w1 * x1 + w2 * x2 + w3 * x3).named("out");
    loss = (g.constant("0.5") * pow(y - out, 2)).named("E").id();
    data.columns = {x1.id(), x2.id(), x3.id(), y.id()};
    data.values = {"0", "0", "1", "0", "1", "1", "1", "1", "1", "0", "1", "1", "0", "1", "1", "0"};
    weights = {w1.id(), w2.id(), w3.id()};
    targets = {y.id()};
  }

  run_options options(std::uint64_t steps, std::uint64_t batch, batch_reduction reduction,
                      const std::string& lr) const {
    run_options o;
    o.optimizer = {"sgd", {{"lr", lr}}};
    o.steps = steps;
    o.data = data;
    o.batch_size = batch;
    o.reduction = reduction;
    o.record.targets = targets;
    return o;
  }

  std::string weight(std::size_t k) const {
    return g.format(g.value(weights[k]), number_format::significant(60));
  }

  graph<mp_real> g;
  node_id loss{};
  training_data data;
  std::vector<node_id> weights;
  std::vector<node_id> targets;
};

// The document's index of parameter `name` in document::parameters.
std::size_t parameter_slot(const document& doc, const std::string& name) {
  for (std::size_t j = 0; j < doc.parameters.size(); ++j) {
    if (doc.quantities[doc.parameters[j]].name == name) return j;
  }
  FAIL("no parameter " << name);
  return 0;
}

}  // namespace

TEST_CASE("Batches per epoch", "[trace][train][batch]") {
  CHECK(batches_per_epoch(4, 1) == 4);
  CHECK(batches_per_epoch(4, 2) == 2);
  CHECK(batches_per_epoch(4, 3) == 2);  // rows 1-3, then row 4 alone
  CHECK(batches_per_epoch(4, 4) == 1);
  CHECK(batches_per_epoch(4, full_batch) == 1);
  CHECK(batches_per_epoch(1797, 32) == 57);  // 56 * 32 = 1792, and a last batch of 5
  CHECK(batches_per_epoch(0, 3) == 1);
}

TEST_CASE("A full-batch sum update adds up every row's gradient", "[trace][train][batch]") {
  const auto ref = read_reference("batches.ref");
  neuron n;
  auto options = n.options(1, full_batch, batch_reduction::sum, "1");
  const document doc = run(n.g, n.loss, options);
  CHECK(doc.config.data_rows == 4);
  CHECK(doc.config.batch_size == 4);
  CHECK(doc.config.batch_reduction == "sum");
  REQUIRE(doc.iterations.size() == 1);
  const iteration& it = doc.iterations.front();
  REQUIRE(it.batch.has_value());
  REQUIRE(it.batch->rows.size() == 4);
  for (std::size_t r = 0; r < 4; ++r) {
    const batch_row& row = it.batch->rows[r];
    const std::string key = "full.row" + std::to_string(r + 1);
    CHECK(row.row == r + 1);
    CHECK(agrees(row.loss.exact, ref_value(ref, key + ".loss"), 45));
    for (int k = 1; k <= 3; ++k) {
      const std::size_t j = parameter_slot(doc, "w" + std::to_string(k));
      const std::string expected = ref_value(ref, key + ".dw" + std::to_string(k));
      INFO(key << " dw" << k << ": " << row.gradients[j].exact);
      CHECK(agrees(row.gradients[j].exact, expected, 45));
    }
  }
  CHECK(agrees(it.batch->loss.exact, ref_value(ref, "full.loss"), 45));
  CHECK(agrees(doc.loss_history.front().loss.exact, ref_value(ref, "full.loss"), 45));
  // The worked example above the table is row 1's pass.
  CHECK(agrees(it.forward.loss.exact, ref_value(ref, "full.row1.loss"), 45));
  for (int k = 1; k <= 3; ++k) {
    const std::size_t j = parameter_slot(doc, "w" + std::to_string(k));
    CHECK(agrees(it.batch->gradients[j].exact, ref_value(ref, "full.dw" + std::to_string(k)), 45));
    // The update used the summed gradient.
    const parameter_update& u =
        *std::find_if(it.updates.begin(), it.updates.end(),
                      [&](const parameter_update& p) { return p.parameter == doc.parameters[j]; });
    CHECK(u.gradient.exact == it.batch->gradients[j].exact);
    CHECK(agrees(u.lines.back().value.exact, ref_value(ref, "full.w" + std::to_string(k)), 45));
  }
}

TEST_CASE("10,000 full-batch sum updates are the seed's w += X^T(error out(1 - out))",
          "[trace][train][batch]") {
  const auto ref = read_reference("neuron004.ref");
  neuron n;
  auto options = n.options(10000, full_batch, batch_reduction::sum, "1");
  options.trace.first = false;
  options.trace.last = false;
  const document doc = run(n.g, n.loss, options);
  CHECK(doc.config.steps == 10000);
  CHECK(doc.loss_history.size() == 10001);
  // 10,000 rounded steps at 50 digits against an 80-digit run: 40 digits is what survives.
  for (int k = 1; k <= 3; ++k) {
    INFO("w" << k << " = " << n.weight(static_cast<std::size_t>(k - 1)));
    CHECK(agrees(n.weight(static_cast<std::size_t>(k - 1)),
                 ref_value(ref, "dps80.w" + std::to_string(k)), 40));
  }
}

TEST_CASE("Mini-batches with a short last batch, averaged", "[trace][train][batch]") {
  const auto ref = read_reference("batches.ref");
  neuron n;
  auto options = n.options(5, 3, batch_reduction::mean, "0.5");
  options.trace.all = true;
  const document doc = run(n.g, n.loss, options);
  REQUIRE(doc.loss_history.size() == 6);
  for (std::size_t k = 0; k < 6; ++k) {
    INFO("loss " << k + 1 << " = " << doc.loss_history[k].loss.exact);
    CHECK(agrees(doc.loss_history[k].loss.exact,
                 ref_value(ref, "mini.loss." + std::to_string(k + 1)), 45));
  }
  for (int k = 1; k <= 3; ++k) {
    CHECK(agrees(n.weight(static_cast<std::size_t>(k - 1)),
                 ref_value(ref, "mini.w" + std::to_string(k)), 45));
  }
  REQUIRE(doc.iterations.size() == 5);
  // Batches 1, 2, 1, 2, 1: rows 1-3, then row 4 alone.
  const std::vector<std::vector<std::uint64_t>> expected_rows = {
      {1, 2, 3}, {4}, {1, 2, 3}, {4}, {1, 2, 3}};
  for (std::size_t k = 0; k < 5; ++k) {
    REQUIRE(doc.iterations[k].batch.has_value());
    std::vector<std::uint64_t> rows;
    for (const batch_row& r : doc.iterations[k].batch->rows)
      rows.push_back(r.row);
    CHECK(rows == expected_rows[k]);
  }
}

TEST_CASE("Batch settings that cannot work are refused", "[trace][train][batch]") {
  neuron n;
  SECTION("a batch larger than the data set") {
    auto options = n.options(1, 5, batch_reduction::sum, "1");
    CHECK_THROWS_WITH(trainer<mp_real>(n.g, n.loss, options),
                      Catch::Contains("a batch of 5 rows, but the data set has only 4"));
  }
  SECTION("batches without data") {
    auto options = n.options(1, 2, batch_reduction::sum, "1");
    options.data = {};
    CHECK_THROWS_WITH(trainer<mp_real>(n.g, n.loss, options),
                      Catch::Contains("need training data"));
  }
  SECTION("sequential order") {
    auto options = n.options(1, full_batch, batch_reduction::sum, "1");
    options.order = update_order::sequential;
    CHECK_THROWS_WITH(trainer<mp_real>(n.g, n.loss, options),
                      Catch::Contains("order simultaneous"));
  }
}

TEST_CASE("Row by row, the error after an update is the same row's", "[trace][train]") {
  // By hand, E = 1/2 (t - w x)^2, dE/dw = -(t - w x) x, lr 0.1, rows (x, t) = (1, 2), (2, 3):
  //   update 1 on row 1: w = 0.5, y = 0.5, E = 1.125, dE/dw = -1.5, w+ = 0.65;
  //     row 1 again: y = 0.65, E = 1/2 * 1.35^2 = 0.91125;
  //     the loss history's next point is row 2 with w = 0.65: y = 1.3, E = 1/2 * 1.7^2 = 1.445.
  //   update 2 on row 2: dE/dw = -1.7 * 2 = -3.4, w+ = 0.99; row 2 again: y = 1.98,
  //     E = 1/2 * 1.02^2 = 0.5202, which is also the final pass (the same row).
  graph<mp_real> g(50);
  auto x = g.input("x", "1");
  auto t = g.input("t", "2");
  auto w = g.parameter("w", "0.5");
  const auto loss = (g.constant("0.5") * pow(t - w * x, 2)).named("E");
  run_options o;
  o.optimizer = {"sgd", {{"lr", "0.1"}}};
  o.steps = 2;
  o.data.columns = {x.id(), t.id()};
  o.data.values = {"1", "2", "2", "3"};
  o.trace.all = true;
  o.record.targets = {t.id()};
  const document doc = run(g, loss.id(), o);
  REQUIRE(doc.iterations.size() == 2);
  REQUIRE(doc.iterations[0].row_loss_after.has_value());
  CHECK(doc.iterations[0].forward.loss.shown == "1.125");
  CHECK(doc.iterations[0].row_loss_after->shown == "0.91125");
  CHECK(doc.loss_history.at(1).loss.shown == "1.445");
  REQUIRE(doc.iterations[1].row_loss_after.has_value());
  CHECK(doc.iterations[1].row_loss_after->shown == "0.5202");
  CHECK(doc.loss_history.at(2).loss.shown == "0.5202");
  // One row: the next point of the history is the same row already.
  o.data.values = {"1", "2"};
  graph<mp_real> single(50);
  auto sx = single.input("x", "1");
  auto st = single.input("t", "2");
  auto sw = single.parameter("w", "0.5");
  const auto single_loss = (single.constant("0.5") * pow(st - sw * sx, 2)).named("E");
  o.data.columns = {sx.id(), st.id()};
  o.record.targets = {st.id()};
  CHECK_FALSE(run(single, single_loss.id(), o).iterations[0].row_loss_after.has_value());
}
