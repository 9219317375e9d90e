// SPDX-License-Identifier: MIT
// The worked examples in examples/*.chain, run the way `chainrule run` runs them (the CLI's
// pipeline). Expected numbers: tests/reference/examples.ref, computed by make_references.py
// (make_examples) from each example's formulas in mpmath, and the lecture's data (seed 002).
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <unistd.h>

#include "pipeline.hpp"
#include "support.hpp"

using namespace chainrule;
using trace_test::agrees;
using trace_test::read_reference;
using trace_test::ref_value;

namespace {

trace::document run_example(const std::string& name) {
  return cli::run_model(std::string(CHAINRULE_SOURCE_DIR) + "/examples/" + name, {}, std::nullopt)
      .document;
}

std::size_t quantity(const trace::document& doc, const std::string& name) {
  for (std::size_t i = 0; i < doc.quantities.size(); ++i) {
    if (doc.quantities[i].name == name) return i;
  }
  FAIL("no quantity " << name);
  return 0;
}

const trace::assignment& update_line(const trace::document& doc, const std::string& lhs) {
  for (const auto& u : doc.iterations.at(0).updates) {
    for (const auto& line : u.lines) {
      if (line.lhs_text == lhs) return line;
    }
  }
  FAIL("no update line " << lhs);
  throw std::logic_error("unreachable");
}

// Wrong samples in each epoch of a perceptron run with `rows` rows: E = (d - y)^2 is 1 for a
// wrong sample and 0 for a right one, and loss_history[k] is update k + 1's sample.
std::vector<int> wrong_per_epoch(const trace::document& doc, std::size_t rows) {
  std::vector<int> out;
  for (std::size_t k = 0; k + 1 < doc.loss_history.size(); ++k) {
    if (k % rows == 0) out.push_back(0);
    out.back() += doc.loss_history[k].loss.exact == "1" ? 1 : 0;
  }
  return out;
}

}  // namespace

TEST_CASE("examples/relu_average.chain: seed 002's data, trained per sample", "[trace][examples]") {
  const auto ref = read_reference("examples.ref");
  const trace::document doc = run_example("relu_average.chain");
  REQUIRE(doc.loss_history.size() == 10);  // 3 epochs of the 3 rows, plus the final pass
  for (const int k : {0, 1, 2, 8, 9}) {
    CHECK(agrees(doc.loss_history[static_cast<std::size_t>(k)].loss.exact,
                 ref_value(ref, "relu_average.history." + std::to_string(k)), 38));
  }
  // The first traced pass is the lecture's first row: (0.1, 0.3) -> 0.2.
  const auto& first = doc.iterations.at(0).forward.values;
  CHECK(first[quantity(doc, "x_1")].exact == "0.1");
  CHECK(first[quantity(doc, "x_2")].exact == "0.3");
  CHECK(first[quantity(doc, "t")].exact == "0.2");
}

TEST_CASE("examples/xor.chain: a 2-2-1 sigmoid net learns XOR to a loss below 0.01",
          "[trace][examples]") {
  const auto ref = read_reference("examples.ref");
  const trace::document doc = run_example("xor.chain");
  REQUIRE(doc.loss_history.size() == 8001);
  for (const int k : {0, 1, 7996, 7997, 7998, 7999, 8000}) {
    const auto& loss = doc.loss_history[static_cast<std::size_t>(k)].loss.exact;
    CHECK(agrees(loss, ref_value(ref, "xor.history." + std::to_string(k)), 23));
    if (k >= 7996) CHECK(std::stod(loss) < 0.01);  // every sample of the last epoch
  }
}

TEST_CASE("examples/perceptron_and.chain and perceptron_xor.chain: the rule learns AND, never XOR",
          "[trace][examples]") {
  const auto ref = read_reference("examples.ref");
  const trace::document learned = run_example("perceptron_and.chain");
  const std::vector<int> and_wrong = wrong_per_epoch(learned, 4);
  REQUIRE(and_wrong.size() == 6);
  for (std::size_t e = 0; e < and_wrong.size(); ++e) {
    CHECK(std::to_string(and_wrong[e]) ==
          ref_value(ref, "perceptron_and.errors." + std::to_string(e + 1)));
  }
  CHECK(and_wrong.back() == 0);
  const auto& final_values = learned.final_state.values;
  CHECK(final_values[quantity(learned, "w1")].exact == ref_value(ref, "perceptron_and.w1"));
  CHECK(final_values[quantity(learned, "w2")].exact == ref_value(ref, "perceptron_and.w2"));
  CHECK(final_values[quantity(learned, "b")].exact == ref_value(ref, "perceptron_and.b"));

  const trace::document failed = run_example("perceptron_xor.chain");
  const std::vector<int> xor_wrong = wrong_per_epoch(failed, 4);
  REQUIRE(xor_wrong.size() == 20);
  for (std::size_t e = 0; e < xor_wrong.size(); ++e) {
    CHECK(std::to_string(xor_wrong[e]) ==
          ref_value(ref, "perceptron_xor.errors." + std::to_string(e + 1)));
    CHECK(xor_wrong[e] > 0);  // never an epoch without errors
  }
}

TEST_CASE("examples/softmax_step.chain: one softmax + cross-entropy step", "[trace][examples]") {
  const auto ref = read_reference("examples.ref");
  const trace::document doc = run_example("softmax_step.chain");
  const trace::iteration& it = doc.iterations.at(0);
  CHECK(agrees(it.forward.values[quantity(doc, "p_2")].exact, ref_value(ref, "softmax_step.p_2"),
               48));
  CHECK(agrees(it.forward.loss.exact, ref_value(ref, "softmax_step.E"), 48));
  CHECK(agrees(it.gradients[quantity(doc, "W_2_1")].exact, ref_value(ref, "softmax_step.dE/dW_2_1"),
               48));
  CHECK(agrees(update_line(doc, "W_2_1+").value.exact, ref_value(ref, "softmax_step.W_2_1+"), 48));
  CHECK(agrees(doc.final_state.loss.exact, ref_value(ref, "softmax_step.E_after"), 48));
}

TEST_CASE("examples/adam_step.chain: moment estimates and bias corrections", "[trace][examples]") {
  const auto ref = read_reference("examples.ref");
  const trace::document doc = run_example("adam_step.chain");
  for (const char* line : {"m_w1", "v_w1", "m_hat_w1", "v_hat_w1", "w1+"}) {
    CHECK(agrees(update_line(doc, line).value.exact,
                 ref_value(ref, std::string("adam_step.") + line), 48));
  }
  CHECK(update_line(doc, "m_hat_w1").value.shown == "-1.35");
  CHECK(agrees(doc.final_state.loss.exact, ref_value(ref, "adam_step.E_after"), 48));
}

TEST_CASE("examples/dropout_l2.chain: L2 and dropout, evaluation without dropout",
          "[trace][examples]") {
  const auto ref = read_reference("examples.ref");
  const trace::document doc = run_example("dropout_l2.chain");
  const trace::iteration& it = doc.iterations.at(0);
  CHECK(agrees(it.forward.values[quantity(doc, "hd_1")].exact, ref_value(ref, "dropout_l2.hd_1"),
               48));
  CHECK(it.forward.values[quantity(doc, "hd_2")].exact == "0");
  CHECK(agrees(it.forward.loss.exact, ref_value(ref, "dropout_l2.E"), 48));
  CHECK(agrees(it.gradients[quantity(doc, "W_y_1_2")].exact,
               ref_value(ref, "dropout_l2.dE/dW_y_1_2"), 48));
  CHECK(agrees(it.gradients[quantity(doc, "W_h_1_1")].exact,
               ref_value(ref, "dropout_l2.dE/dW_h_1_1"), 48));
  // The final pass evaluates: every mask 1, rate 0, so hd = h.
  const auto& after = doc.final_state.values;
  CHECK(after[quantity(doc, "mask_hd_2")].exact == "1");
  CHECK(after[quantity(doc, "hd_2")].exact == after[quantity(doc, "h_2")].exact);
  CHECK(agrees(doc.final_state.loss.exact, ref_value(ref, "dropout_l2.E_after_evaluation"), 48));
}

TEST_CASE("examples/neuron004.chain: seed 004's neuron, 10,000 full-batch iterations",
          "[trace][examples]") {
  const auto ref = read_reference("examples.ref");
  const trace::document doc = run_example("neuron004.chain");
  const auto& after = doc.final_state.values;
  // The lab prints (numpy float64) 9.67282529, -0.20892653, -4.62890667 and 0.99993703. Ten
  // thousand steps at 50 digits in a different summation order than mpmath's leave about 45
  // digits in common; 40 are checked.
  const char* published[] = {"9.67282529", "-0.20892653", "-4.62890667"};
  for (int k = 1; k <= 3; ++k) {
    const std::string name = "w_" + std::to_string(k);
    CHECK(agrees(after[quantity(doc, name)].exact,
                 ref_value(ref, "neuron004.w" + std::to_string(k)), 40));
    CHECK(after[quantity(doc, name)].shown == published[k - 1]);
  }
  REQUIRE(doc.evaluations.size() == 1);
  REQUIRE(doc.evaluations[0].predictions.size() == 1);
  const trace::number& prediction = doc.evaluations[0].predictions[0].outputs.at(0);
  CHECK(agrees(prediction.exact, ref_value(ref, "neuron004.prediction_100"), 40));
  CHECK(prediction.shown == "0.99993703");
}

TEST_CASE("examples/mazur_derivatives.chain: shown derivatives at the initial parameters",
          "[trace][examples][show]") {
  // dE_total/dw5: Mazur's published 0.082167041 (mazur.ref, mpmath); the second derivatives and
  // dE_total/dout_o1: show.ref, mpmath closed forms checked against mp.diff.
  const auto mazur = read_reference("mazur.ref");
  const auto show = read_reference("show.ref");
  const trace::document doc = run_example("mazur_derivatives.chain");
  REQUIRE(doc.derivatives.size() == 4);
  const trace::shown_derivative& w5 = doc.derivatives[0];
  CHECK(w5.written == "d(E_total)/d(w5)");
  CHECK(w5.of == quantity(doc, "E_total"));
  CHECK(w5.wrt == std::vector<trace::quantity_index>{
                      static_cast<trace::quantity_index>(quantity(doc, "w5"))});
  // The form of the seed slides' derivation.
  CHECK(w5.text == "-(t1 - out_o1)*out_o1*(1 - out_o1)*out_h1");
  CHECK(agrees(w5.value.exact, ref_value(mazur, "dE_total/dw5"), 48));
  CHECK(w5.value.shown == "0.082167041");
  CHECK(w5.evaluated_at == "the initial parameters");

  const trace::shown_derivative& out = doc.derivatives[1];
  CHECK(out.written == "d(E_total)/d(out_o1)");
  CHECK(out.text == "-(t1 - out_o1)");
  CHECK(agrees(out.value.exact, ref_value(show, "d(E_total)/d(out_o1)"), 48));

  const trace::shown_derivative& mixed = doc.derivatives[2];
  CHECK(mixed.written == "d2(E_total)/d(w1)d(w2)");
  CHECK(mixed.wrt.size() == 2);
  CHECK(agrees(mixed.value.exact, ref_value(show, "d2(E_total)/d(w1)d(w2)"), 48));
  CHECK(mixed.value.shown == "-0.000006043");

  const trace::shown_derivative& square = doc.derivatives[3];
  CHECK(square.written == "d2(E_total)/d(w1)^2");
  CHECK(agrees(square.value.exact, ref_value(show, "d2(E_total)/d(w1)^2"), 48));

  // Showing derivatives leaves the worked example as it was: the same run without them.
  trace::document plain = run_example("mazur.chain");
  trace::document shown = doc;
  shown.derivatives.clear();
  shown.title = plain.title;
  shown.source = plain.source;
  CHECK(shown == plain);
  CHECK(run_example("mazur_derivatives.chain") == doc);  // deterministic
}

namespace {

// Runs `text` as a model file in a directory of this process's own, removed afterwards.
trace::document run_text(const std::string& name, const std::string& text) {
  struct scratch_directory {
    std::filesystem::path path =
        std::filesystem::temp_directory_path() / ("chainrule-show-" + std::to_string(::getpid()));
    scratch_directory() { std::filesystem::create_directories(path); }
    scratch_directory(const scratch_directory&) = delete;
    scratch_directory& operator=(const scratch_directory&) = delete;
    // Also when run_model throws (a failing test's model error).
    ~scratch_directory() {
      std::error_code ignored;
      std::filesystem::remove_all(path, ignored);
    }
  } dir;
  const std::filesystem::path file = dir.path / name;
  {
    std::ofstream out(file, std::ios::binary);
    out << text;
  }
  return cli::run_model(file, {}, std::nullopt).document;
}

}  // namespace

TEST_CASE("show with differentiate is taken at the one pass shown", "[trace][show]") {
  // micrograd's neuron: o = tanh(n) with n = atanh(1/sqrt(2)), so 1 - o^2 = 1/2 and
  // do/dw1 = (1 - o^2)*x1 = 1/2 * 2 = 1 (closed form; the bias is given to 16 digits, so the
  // value is 1 to about 16 digits).
  const trace::document doc = run_text("show_differentiate.chain",
                                       "precision 50\n"
                                       "input x1 = 2, x2 = 0\n"
                                       "param w1 = -3, w2 = 1\n"
                                       "param b = 6.8813735870195432\n"
                                       "n = x1*w1 + x2*w2 + b\n"
                                       "o = tanh(n)\n"
                                       "differentiate o\n"
                                       "show d(o)/d(w1)\n");
  REQUIRE(doc.derivatives.size() == 1);
  CHECK(doc.derivatives[0].evaluated_at.empty());
  CHECK(agrees(doc.derivatives[0].value.exact, "1", 15));
  CHECK(doc.derivatives[0].text.find("o^2") != std::string::npos);
}

TEST_CASE("seeded dropout draws a mask for every row of a batch", "[trace][dropout]") {
  // d = dropout(x, rate 0.5, seed 7), E = w*sum(d), so a row's loss is w*2*(sum of the kept x_i)
  // and its gradient dE/dw is 2*(sum of the kept x_i). random.ref (a Python re-implementation of
  // the draws) gives the masks of draws 1, 2 and 3: 1101, 0011 and 0111. Update 1 (w = 1): its
  // two rows are draws 1 and 2, 2*(1 + 10 + 1000) = 2022 and 2*(100 + 1000) = 2200. Then
  // w = 1 - 0.001*(2022 + 2200) = -3.222, and update 2's first row is draw 3:
  // -3.222*2*(10 + 100 + 1000) = -7152.84. (One mask per update would give both rows of update 1
  // the same loss.)
  const trace::document doc =
      run_text("dropout_batch.chain",
               "input x[4] = [0, 0, 0, 0]\n"
               "param w = 1\n"
               "d = dropout(x, rate = 0.5, seed = 7)\n"
               "E = w*sum(d)\n"
               "data rows(x) = [[1, 10, 100, 1000], [1, 10, 100, 1000]]\n"
               "train minimize E using sgd(lr = 0.001) for 2 steps on rows batch 2 trace all\n");
  REQUIRE(doc.iterations.size() == 2);
  REQUIRE(doc.iterations[0].batch.has_value());
  REQUIRE(doc.iterations[0].batch->rows.size() == 2);
  CHECK(doc.iterations[0].batch->rows[0].loss.shown == "2022");
  CHECK(doc.iterations[0].batch->rows[1].loss.shown == "2200");
  REQUIRE(doc.iterations[1].batch.has_value());
  CHECK(doc.iterations[1].batch->rows[0].loss.shown == "-7152.84");
  // The worked example's pass is the first row's, with its own mask as named values.
  CHECK(doc.iterations[1].forward.values[quantity(doc, "mask_d_1")].shown == "0");
  CHECK(doc.iterations[1].forward.values[quantity(doc, "mask_d_2")].shown == "1");
  // The final pass evaluates: every mask 1.
  for (int i = 1; i <= 4; ++i)
    CHECK(doc.final_state.values[quantity(doc, "mask_d_" + std::to_string(i))].shown == "1");
}

TEST_CASE("show with training on a data set is taken at the first row", "[trace][show]") {
  // E = 1/2 (t - w x)^2, dE/dw = -(t - w x) x. Row 1 (x = 2, t = 1) with w = 0.25:
  // -(1 - 0.5)*2 = -1; the declared x = 0, t = 0 would give 0, row 2 (x = 3, t = 0) 2.25.
  const trace::document doc =
      run_text("show_data.chain",
               "input x = 0\n"
               "target t = 0\n"
               "param w = 0.25\n"
               "y = w*x\n"
               "E = 1/2*(t - y)^2\n"
               "data rows(x, t) = [[2, 1], [3, 0]]\n"
               "show d(E)/d(w)\n"
               "train minimize E using sgd(lr = 0.1) for 2 steps on rows\n");
  REQUIRE(doc.derivatives.size() == 1);
  CHECK(doc.derivatives[0].evaluated_at == "the initial parameters and the first data row");
  CHECK(agrees(doc.derivatives[0].value.exact, "-1", 40));
}

TEST_CASE("show in a training run uses update 1's dropout masks", "[trace][show]") {
  // examples/dropout_l2.chain drops hidden unit 2 (mask [1, 0, 1]), so E's only dependence on
  // W_h_2_1 and W_y_1_2 is the L2 term 0.01*(sum of squares): dE/dW_h_2_1 = 0.01*2*(-0.3) =
  // -0.006 and dE/dW_y_1_2 = 0.01*2*(-0.2) = -0.004 (closed forms). Without the mask, unit 2
  // would add -(t - y)*hd_2 to the second.
  std::ifstream in(std::string(CHAINRULE_SOURCE_DIR) + "/examples/dropout_l2.chain");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  text += "show d(E)/d(W_h_2_1), d(E)/d(W_y_1_2), d(E)/d(W_h_1_1)\n";
  const trace::document doc = run_text("show_dropout.chain", text);
  REQUIRE(doc.derivatives.size() == 3);
  CHECK(agrees(doc.derivatives[0].value.exact, "-0.006", 45));
  CHECK(agrees(doc.derivatives[1].value.exact, "-0.004", 45));
  // Symbolic and numeric reverse mode agree on the gradient the first update used.
  const auto w = quantity(doc, "W_h_1_1");
  CHECK(agrees(doc.derivatives[2].value.exact, doc.iterations.at(0).gradients.at(w).exact, 45));
}

TEST_CASE("examples/early_stopping.chain: stops where the fractions say, best epoch restored",
          "[trace][examples][validation]") {
  // validation.ref's example.* keys: make_references.py splits the points with its own
  // Fisher-Yates and trains the polynomial in exact fractions.
  const auto ref = read_reference("validation.ref");
  const trace::document doc = run_example("early_stopping.chain");
  REQUIRE(doc.validation);
  const trace::validation_run& v = *doc.validation;
  CHECK(doc.config.steps == std::stoull(ref_value(ref, "example.stop")));
  CHECK(v.stopped_early);
  CHECK(v.planned_steps == 6000);
  CHECK(v.every == 12);
  CHECK(v.best_update == std::stoull(ref_value(ref, "example.best_update")));
  CHECK(agrees(v.best_loss.exact, ref_value(ref, "example.best_loss"), 45));
  CHECK(v.restored);
  const char* names[] = {"b", "w1", "w2", "w3", "w4", "w5"};
  for (int k = 0; k < 6; ++k) {
    INFO(names[k]);
    CHECK(agrees(doc.final_state.values[quantity(doc, names[k])].exact,
                 ref_value(ref, "example.w." + std::to_string(k)), 45));
  }
  // `evaluate y on held` runs after the restore through trace::evaluate, another path to the
  // same mean: it must equal the best validation loss.
  REQUIRE(doc.evaluations.size() == 1);
  CHECK(agrees(doc.evaluations[0].mean_loss.exact, ref_value(ref, "example.best_loss"), 45));
  CHECK(doc.evaluations[0].rows == 4);
  // `trace first, last` (the default): update 1 and the update training stopped after.
  REQUIRE(doc.iterations.size() == 2);
  CHECK(doc.iterations[1].index == doc.config.steps);
  CHECK(doc.loss_history.size() == doc.config.steps + 1);
}
