// SPDX-License-Identifier: MIT
// Validation while training and early stopping. Expected values: tests/reference/validation.ref,
// written by make_references.py (make_validation), which trains the same one-parameter model
// y = w x, E = (y - t)^2 in exact Python fractions with dE/dw = 2 (w x - t) x written by hand,
// and applies the stopping rule itself; the engine is not used there.
#include <catch2/catch.hpp>
#include <map>
#include <optional>
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

constexpr int digits = 45;

// y = w x, E = (y - t)^2, w = 0; `fit` (rows 1-2 of the reference's data) to train on and
// `check` (rows 3-4) to validate on.
template <class Real>
struct line_model {
  explicit line_model(unsigned precision) : g(precision) {
    auto x = g.input("x", "0");
    auto t = g.input("t", "0");
    auto w_node = g.parameter("w", "0");
    auto y = (w_node * x).named("y");
    loss = pow(y - t, 2).named("E").id();
    w = w_node.id();
    fit.columns = {x.id(), t.id()};
    fit.values = {"1", "2", "2", "4.2"};
    check.columns = {x.id(), t.id()};
    check.values = {"1", "1.5", "2", "3.4"};
    targets = {t.id()};
  }

  // The reference's `sample` run: per sample, sgd lr 0.05, 20 epochs, validation every epoch,
  // patience 2, restore best; only the last update traced.
  run_options sample(bool restore_best) const {
    run_options o;
    o.optimizer = {"sgd", {{"lr", "0.05"}}};
    o.steps = 40;
    o.data = fit;
    o.record.targets = targets;
    o.trace.first = false;
    o.trace.last = true;
    validation_options v;
    v.data_set = "check";
    v.data = check;
    v.patience = 2;
    v.restore_best = restore_best;
    o.validation = v;
    return o;
  }

  // The reference's `batch` run: the full batch of fit, reduce mean, sgd lr 0.1, 30 steps,
  // validation every 3 updates, patience 3, no restore.
  run_options batch() const {
    run_options o;
    o.optimizer = {"sgd", {{"lr", "0.1"}}};
    o.steps = 30;
    o.data = fit;
    o.batch_size = full_batch;
    o.reduction = batch_reduction::mean;
    o.record.targets = targets;
    o.trace.first = false;
    o.trace.last = true;
    validation_options v;
    v.data_set = "check";
    v.data = check;
    v.every = 3;
    v.patience = 3;
    o.validation = v;
    return o;
  }

  std::string weight() const { return g.format(g.value(w), number_format::significant(60)); }

  graph<Real> g;
  node_id loss{};
  node_id w{};
  training_data fit;
  training_data check;
  std::vector<node_id> targets;
};

void check_history(const document& doc, const std::map<std::string, std::string>& ref,
                   const std::string& run, int precision) {
  const validation_run& v = *doc.validation;
  const auto made = std::stoull(ref_value(ref, run + ".made"));
  CHECK(doc.config.steps == made);
  CHECK(v.stopped_early == (ref_value(ref, run + ".stopped") == "1"));
  CHECK(v.best_update == std::stoull(ref_value(ref, run + ".best_update")));
  CHECK(agrees(v.best_loss.exact, ref_value(ref, run + ".best_loss"), precision));
  REQUIRE(v.history.size() == std::stoull(ref_value(ref, run + ".validations")));
  for (std::size_t k = 0; k < v.history.size(); ++k) {
    const std::string key = run + ".val." + std::to_string(k + 1);
    const validation_point& p = v.history[k];
    INFO(key);
    CHECK(p.update == std::stoull(ref_value(ref, key + ".update")));
    CHECK(agrees(p.training_loss.exact, ref_value(ref, key + ".training"), precision));
    CHECK(agrees(p.validation_loss.exact, ref_value(ref, key + ".validation"), precision));
    CHECK(p.best == (ref_value(ref, key + ".best") == "1"));
  }
  // Only the updates that ran, then the final pass.
  REQUIRE(doc.loss_history.size() == made + 1);
  for (std::size_t k = 0; k < made; ++k) {
    INFO("loss " << k);
    CHECK(doc.loss_history[k].updates == k);
    CHECK(agrees(doc.loss_history[k].loss.exact, ref_value(ref, run + ".loss." + std::to_string(k)),
                 precision));
  }
  CHECK(agrees(doc.loss_history.back().loss.exact, ref_value(ref, run + ".final_loss"), precision));
}

}  // namespace

TEST_CASE("Early stopping per sample stops at the update the reference computes",
          "[trace][train][validation]") {
  const auto ref = read_reference("validation.ref");
  line_model<mp_real> m(50);
  const document doc = run(m.g, m.loss, m.sample(true));
  REQUIRE(doc.validation);
  check_history(doc, ref, "sample", digits);
  const validation_run& v = *doc.validation;
  CHECK(v.planned_steps == 40);
  CHECK(v.every == 2);  // one epoch of the two rows
  CHECK(v.patience == 2);
  CHECK(v.restored);
  CHECK(v.history[0].epoch == 1);
  CHECK(v.history[4].epoch == 5);
  CHECK(stopping_sentence(v, doc.config.steps) ==
        "stopped early at update 10: no improvement for 2 validations since update 6");

  // The parameters after the best update, in the graph and in the final state.
  CHECK(agrees(m.weight(), ref_value(ref, "sample.w.after.6"), digits));
  CHECK(agrees(doc.final_state.values[static_cast<std::size_t>(m.w)].exact,
               ref_value(ref, "sample.w.after.6"), digits));

  // `trace last` is the update training stopped after, traced from the parameters it started
  // from: its loss is the 10th entry of the history and its update gives w after 10 updates.
  REQUIRE(doc.iterations.size() == 1);
  CHECK(doc.config.traced == std::vector<std::uint64_t>{10});
  const iteration& it = doc.iterations[0];
  CHECK(it.index == 10);
  CHECK(agrees(it.forward.loss.exact, ref_value(ref, "sample.loss.9"), digits));
  REQUIRE(it.updates.size() == 1);
  CHECK(
      agrees(it.updates[0].lines.back().value.exact, ref_value(ref, "sample.w.after.10"), digits));
}

TEST_CASE("Without restore best the last update's parameters stay", "[trace][train][validation]") {
  const auto ref = read_reference("validation.ref");
  line_model<mp_real> m(50);
  const document doc = run(m.g, m.loss, m.sample(false));
  REQUIRE(doc.validation);
  CHECK(doc.config.steps == 10);
  CHECK_FALSE(doc.validation->restored);
  CHECK(agrees(m.weight(), ref_value(ref, "sample.w.after.10"), digits));
}

TEST_CASE("restore best puts back exactly the parameters of the best update",
          "[trace][train][validation]") {
  // Six plain updates and the restored run end with the same bytes, not merely close numbers.
  line_model<mp_real> restored(50);
  const document with_restore = run(restored.g, restored.loss, restored.sample(true));
  REQUIRE(with_restore.validation->best_update == 6);
  line_model<mp_real> plain(50);
  run_options six = plain.sample(false);
  six.validation.reset();
  six.steps = 6;
  run(plain.g, plain.loss, six);
  CHECK(restored.weight() == plain.weight());
  CHECK(restored.g.format(restored.g.value(restored.w), number_format::significant(50)) ==
        plain.g.format(plain.g.value(plain.w), number_format::significant(50)));
}

TEST_CASE("Early stopping with full batches and validation every 3 updates",
          "[trace][train][validation]") {
  const auto ref = read_reference("validation.ref");
  line_model<mp_real> m(50);
  const document doc = run(m.g, m.loss, m.batch());
  REQUIRE(doc.validation);
  check_history(doc, ref, "batch", digits);
  CHECK_FALSE(doc.validation->restored);
  CHECK(agrees(m.weight(), ref_value(ref, "batch.w.after.12"), digits));
  REQUIRE(doc.iterations.size() == 1);
  CHECK(doc.iterations[0].index == 12);
  REQUIRE(doc.iterations[0].batch);
  CHECK(agrees(doc.iterations[0].batch->loss.exact, ref_value(ref, "batch.loss.11"), digits));
}

TEST_CASE("Early stopping in double precision", "[trace][train][validation]") {
  const auto ref = read_reference("validation.ref");
  line_model<double> m(17);
  const document doc = run(m.g, m.loss, m.sample(true));
  REQUIRE(doc.validation);
  check_history(doc, ref, "sample", 13);
}

TEST_CASE("Without patience the validation curve is recorded and every update runs",
          "[trace][train][validation]") {
  const auto ref = read_reference("validation.ref");
  line_model<mp_real> m(50);
  run_options o = m.sample(true);
  o.validation->patience = 0;
  const document doc = run(m.g, m.loss, o);
  REQUIRE(doc.validation);
  CHECK(doc.config.steps == 40);
  CHECK(doc.loss_history.size() == 41);
  CHECK_FALSE(doc.validation->stopped_early);
  CHECK(doc.validation->history.size() == 20);
  // The first five validations are the early-stopping run's.
  for (std::size_t k = 0; k < 5; ++k) {
    CHECK(agrees(doc.validation->history[k].validation_loss.exact,
                 ref_value(ref, "sample.val." + std::to_string(k + 1) + ".validation"), digits));
  }
  REQUIRE(doc.iterations.size() == 1);
  CHECK(doc.iterations[0].index == 40);
}

TEST_CASE("A run with validation is deterministic", "[trace][train][validation]") {
  line_model<mp_real> a(50);
  line_model<mp_real> b(50);
  const document first = run(a.g, a.loss, a.sample(true));
  const document second = run(b.g, b.loss, b.sample(true));
  CHECK(first == second);
}

TEST_CASE("Validation data must be inputs with whole rows", "[trace][train][validation]") {
  line_model<mp_real> m(50);
  run_options o = m.sample(true);
  o.validation->data.values.pop_back();
  CHECK_THROWS_AS(run(m.g, m.loss, o), usage_error);
  o = m.sample(true);
  o.validation->data.columns[0] = m.w;
  CHECK_THROWS_AS(run(m.g, m.loss, o), usage_error);
}

TEST_CASE("Validation runs in evaluation mode and leaves the training values alone",
          "[trace][train][validation]") {
  // y = m w x, E = (y - t)^2 with the declared x = 1, t = 2 (no training data set). Training
  // drops the unit (m = 0, as a dropout mask would), so E = t^2 = 4 and dE/dw = 0: w stays 0.5.
  // Validation takes dropout out (m = 1): on the rows (1, 1) and (2, 3) its loss is
  // ((0.5 - 1)^2 + (1 - 3)^2) / 2 = (0.25 + 4) / 2 = 2.125 every time, so only the first
  // validation is a best (equal is no improvement) and patience 2 stops after update 3.
  graph<mp_real> g(50);
  auto x = g.input("x", "1");
  auto t = g.input("t", "2");
  auto m = g.input("m", "1");
  auto w = g.parameter("w", "0.5");
  const node_id loss = pow(m * w * x - t, 2).named("E").id();
  run_options o;
  o.optimizer = {"sgd", {{"lr", "0.1"}}};
  o.steps = 5;
  o.record.targets = {t.id()};
  o.before_update = [&](std::uint64_t) { g.set_value(m.id(), mp_real(0, 50)); };
  o.before_evaluation = [&] { g.set_value(m.id(), mp_real(1, 50)); };
  validation_options v;
  v.data_set = "rows";
  v.data.columns = {x.id(), t.id()};
  v.data.values = {"1", "1", "2", "3"};
  v.every = 1;
  v.patience = 2;
  o.validation = v;
  const document doc = run(g, loss, o);
  REQUIRE(doc.validation);
  CHECK(doc.validation->stopped_early);
  CHECK(doc.config.steps == 3);
  CHECK(doc.validation->best_update == 1);
  REQUIRE(doc.validation->history.size() == 3);
  for (const validation_point& p : doc.validation->history) {
    CHECK(agrees(p.validation_loss.exact, "2.125", digits));
    CHECK(agrees(p.training_loss.exact, "4", digits));
    CHECK(p.epoch == 0);  // no training data set
  }
  CHECK(doc.validation->history[0].best);
  CHECK_FALSE(doc.validation->history[1].best);
  // Had the validation rows stayed in x and t, updates 2 and 3 would see (0 - 3)^2 = 9.
  REQUIRE(doc.loss_history.size() == 4);
  for (std::size_t k = 0; k < 3; ++k)
    CHECK(agrees(doc.loss_history[k].loss.exact, "4", digits));
  // The final pass: m = 1, x = 1, t = 2, w = 0.5: (0.5 - 2)^2 = 2.25.
  CHECK(agrees(doc.loss_history[3].loss.exact, "2.25", digits));
}
