// SPDX-License-Identifier: MIT
// `split DATA into A, B ...` and `validate on V ... patience P restore best` on the train line:
// parsing, checking and their errors. The shuffled row orders come from
// tests/reference/validation.ref, written by make_references.py from its own Fisher-Yates over
// its own std::mt19937_64 (random.ref's generator, checked against the C++ standard's value).
#include <catch2/catch.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "lang_test_support.hpp"
#include "support/reference.hpp"

using namespace chainrule::lang;
using namespace chainrule::lang::testing;

namespace {

// A model over ten rows whose x is the row number, so a part's rows can be read off its values.
std::string ten_rows(const std::string& split, const std::string& train_options = "") {
  std::string text =
      "input x = 0\ntarget t = 0\nparam w = 1\ny = w*x\nE = (y - t)^2\n"
      "data all(x, t) = [[1, 0], [2, 0], [3, 0], [4, 0], [5, 0], [6, 0], [7, 0], [8, 0], [9, 0], "
      "[10, 0]]\n";
  text += split + "\n";
  text += "train minimize E using sgd for 1 epoch on fit validate on held" + train_options + "\n";
  return text;
}

std::vector<std::string> xs(const data_set& d) {
  std::vector<std::string> out;
  for (std::size_t r = 0; r < d.rows(); ++r)
    out.emplace_back(d.value(r, 0));
  return out;
}

std::vector<std::string> numbers(const std::string& list, int offset) {
  std::vector<std::string> out;
  std::stringstream in(list);
  std::string item;
  while (std::getline(in, item, ','))
    out.push_back(std::to_string(std::stoi(item) + offset));
  return out;
}

}  // namespace

TEST_CASE("split without shuffle keeps the rows in order", "[lang][split]") {
  const checked_model m = check_text(ten_rows("split all into fit, held ratio 0.7"));
  const data_set* fit = m.find_data_set("fit");
  const data_set* held = m.find_data_set("held");
  REQUIRE(fit != nullptr);
  REQUIRE(held != nullptr);
  // floor(0.7 * 10) = 7 rows first.
  CHECK(xs(*fit) == std::vector<std::string>{"1", "2", "3", "4", "5", "6", "7"});
  CHECK(xs(*held) == std::vector<std::string>{"8", "9", "10"});
  CHECK(held->source_rows == std::vector<std::uint64_t>{8, 9, 10});
  CHECK(fit->split_from == "all");
  CHECK_FALSE(fit->split_seed);
  CHECK(fit->columns == std::vector<std::string>{"x", "t"});

  // rows N, and a ratio whose product is not whole rounds down: floor(0.35 * 10) = 3.
  CHECK(m.find_data_set("fit")->rows() == 7);
  const checked_model rows = check_text(ten_rows("split all into fit, held rows 4"));
  CHECK(rows.find_data_set("fit")->rows() == 4);
  const checked_model third = check_text(ten_rows("split all into fit, held ratio 0.35"));
  CHECK(third.find_data_set("fit")->rows() == 3);
  CHECK(third.find_data_set("held")->rows() == 7);
}

TEST_CASE("split with shuffle follows the documented Fisher-Yates", "[lang][split]") {
  const auto& ref = chainrule::testing::reference("validation.ref");
  const checked_model m = check_text(ten_rows("split all into fit, held ratio 0.7 shuffle seed 7"));
  // x is the 1-based row number; the reference lists 0-based rows.
  const std::vector<std::string> order = numbers(ref["shuffle.seed7.rows10"], 1);
  const std::vector<std::string> first(order.begin(), order.begin() + 7);
  const std::vector<std::string> second(order.begin() + 7, order.end());
  CHECK(xs(*m.find_data_set("fit")) == first);
  CHECK(xs(*m.find_data_set("held")) == second);
  CHECK(m.find_data_set("fit")->split_seed == 7u);

  // The clauses may come in any order; the same seed gives the same split.
  const checked_model again =
      check_text(ten_rows("split all into fit, held shuffle seed 7 ratio 0.7"));
  CHECK(xs(*again.find_data_set("fit")) == first);
}

TEST_CASE("a split part can be split again, and shuffled orders match other sizes",
          "[lang][split]") {
  const auto& ref = chainrule::testing::reference("validation.ref");
  const std::string text =
      "input x = 0\ntarget t = 0\nparam w = 1\ny = w*x\nE = (y - t)^2\n"
      "data all(x, t) = [[1, 0], [2, 0], [3, 0], [4, 0], [5, 0], [6, 0], [7, 0], [8, 0], [9, 0], "
      "[10, 0], [11, 0], [12, 0], [13, 0]]\n"
      "split all into rest, test rows 5 shuffle seed 2024\n"
      "split rest into fit, held rows 3\n"
      "train minimize E using sgd for 1 epoch on fit validate on held\n"
      "evaluate y on test\n";
  const checked_model m = check_text(text);
  const std::vector<std::string> order = numbers(ref["shuffle.seed2024.rows13"], 1);
  CHECK(xs(*m.find_data_set("rest")) == std::vector<std::string>(order.begin(), order.begin() + 5));
  CHECK(xs(*m.find_data_set("test")) == std::vector<std::string>(order.begin() + 5, order.end()));
  CHECK(xs(*m.find_data_set("fit")) == std::vector<std::string>(order.begin(), order.begin() + 3));
  CHECK(xs(*m.find_data_set("held")) ==
        std::vector<std::string>(order.begin() + 3, order.begin() + 5));
  // Row numbers refer to the original data set.
  CHECK(m.find_data_set("held")->source_rows ==
        std::vector<std::uint64_t>{std::stoull(order[3]), std::stoull(order[4])});
  CHECK(m.warnings.empty());
}

TEST_CASE("validate, patience and restore best reach the train setting", "[lang][split]") {
  const checked_model m = check_text(
      ten_rows("split all into fit, held ratio 0.8", " every 2 epochs patience 3 restore best"));
  REQUIRE(m.train);
  REQUIRE(m.train->validation);
  const validation_setting& v = *m.train->validation;
  CHECK(v.data_set == "held");
  CHECK(v.every_count == 2);
  CHECK(v.every_unit == step_unit::epochs);
  CHECK(v.patience == 3);
  CHECK(v.restore_best);

  const checked_model plain = check_text(ten_rows("split all into fit, held ratio 0.8"));
  REQUIRE(plain.train->validation);
  CHECK(plain.train->validation->every_count == 0);  // every epoch
  CHECK(plain.train->validation->patience == 0);
  CHECK_FALSE(plain.train->validation->restore_best);

  // The clauses in another order.
  const checked_model moved = check_text(
      "input x = 0\ntarget t = 0\nparam w = 1\ny = w*x\nE = (y - t)^2\n"
      "data a(x, t) = [[1, 0], [2, 0], [3, 0]]\nsplit a into b, c rows 2\n"
      "train minimize E using sgd for 4 steps restore best on b patience 2 validate on c every 3 "
      "steps trace last\n");
  REQUIRE(moved.train->validation);
  CHECK(moved.train->validation->every_count == 3);
  CHECK(moved.train->validation->every_unit == step_unit::steps);
  CHECK(moved.train->validation->patience == 2);
}

TEST_CASE("split is not a reserved word", "[lang][split]") {
  const checked_model m = check_text("input split = 2\nf = split^2\ndifferentiate f\n");
  CHECK(m.declarations.front().name == "split");
}

TEST_CASE("split and validation errors are located", "[lang][split]") {
  const auto one = [](const std::string& text) {
    const std::vector<diagnostic> e = errors_of(text);
    REQUIRE(e.size() == 1);
    return brief(e.front());
  };
  CHECK(one(ten_rows("split all into fit, held ratio 1.5")) == "7:32: bad split ratio '1.5'");
  CHECK(one(ten_rows("split all into fit, held ratio 0")) == "7:32: bad split ratio '0'");
  CHECK(one(ten_rows("split all into fit, held ratio 0.05")) ==
        "7:32: ratio 0.05 of the 10 rows of 'all' leaves the first part empty (0.05 x 10 rounds "
        "down to 0)");
  CHECK(one(ten_rows("split all into fit, held rows 10")) == "7:31: bad number of rows '10'");
  CHECK(one(ten_rows("split all into fit, held rows 0")) == "7:31: bad number of rows '0'");
  CHECK(one(ten_rows("split all into fit, held")) ==
        "7:1: the split does not say how many rows go to the first part");
  // (The train line's 'held' is then unknown too.)
  CHECK(brief(errors_of(ten_rows("split all into fit, fit rows 2")).front()) ==
        "7:21: both parts of the split are called 'fit'");
  CHECK(one(ten_rows("split al into fit, held rows 2")) == "7:7: unknown data set 'al'");
  // (The train line's 'fit' is then unknown, rightly.)
  CHECK(brief(errors_of(ten_rows("split all into all, held rows 2")).front()) ==
        "7:16: data set 'all' is defined twice");
  CHECK(one(ten_rows("split all into fit, held rows 2 shuffle seed 1234567890123456789")) ==
        "7:46: the seed must be a whole number of at most 18 digits");
  // Unknown validation set, with a suggestion.
  const std::vector<diagnostic> unknown = errors_of(ten_rows("split all into fit, hold ratio 0.8"));
  REQUIRE(unknown.size() == 1);
  CHECK(brief(unknown[0]) == "8:59: unknown validation set 'held'");
}

TEST_CASE("train line validation errors", "[lang][split]") {
  const std::string head =
      "input x = 0\ntarget t = 0\nparam w = 1\ny = w*x\nE = (y - t)^2\n"
      "data a(x, t) = [[1, 0], [2, 0], [3, 0]]\nsplit a into b, c rows 2\n";
  const auto one = [&](const std::string& train) {
    const std::vector<diagnostic> e = errors_of(head + train + "\n");
    REQUIRE(e.size() == 1);
    return brief(e.front());
  };
  CHECK(one("train minimize E using sgd for 3 epochs on b validate on c patience 0") ==
        "8:69: bad patience '0': it counts validations without improvement, and training stops "
        "when it is reached");
  CHECK(one("train minimize E using sgd for 3 epochs on b validate on c every 0 epochs") ==
        "8:66: bad validation interval '0 epochs'");
  CHECK(one("train minimize E using sgd for 3 epochs on b restore best") ==
        "8:46: 'restore best' needs a validation set to choose the best update");
  CHECK(one("train minimize E using sgd for 3 epochs on b patience 2") ==
        "8:46: 'patience' needs a validation set to watch");
  CHECK(one("train minimize E using sgd for 3 epochs on b validate on b") ==
        "8:58: 'b' is both the training and the validation set");
  CHECK(one("train minimize E using sgd for 3 steps validate on c every 1 epoch") ==
        "8:60: validating every few epochs needs a training data set");
  CHECK(one("train minimize E using sgd for 3 epochs on b validate on c validate on b") ==
        "8:72: the validation set is given twice");
  // A validation set without a training column.
  const std::vector<diagnostic> columns = errors_of(
      "input x = 0\ninput z = 0\ntarget t = 0\nparam w = 1\ny = w*x + z\nE = (y - t)^2\n"
      "data a(x, z, t) = [[1, 0, 0], [2, 0, 0]]\ndata v(x, t) = [[1, 0]]\n"
      "train minimize E using sgd for 1 epoch on a validate on v\n");
  REQUIRE(columns.size() == 1);
  CHECK(brief(columns[0]) ==
        "9:57: the validation set 'v' has no column 'z', which the training set 'a' has");
}

TEST_CASE("the scalar dump keeps the validation clauses and the parts' rows", "[lang][split]") {
  const program p = parse_file(example_path("early_stopping.chain"));
  const std::string first = to_source(check(p));
  CHECK(first.find(" on fit validate on held patience 5 restore best ") != std::string::npos);
  // The parts are written out as plain data sets, so the dump checks to the same model.
  const checked_model again = check_text(first, p.file_name);
  CHECK(to_source(again) == first);
  REQUIRE(again.find_data_set("held") != nullptr);
  CHECK(again.find_data_set("held")->values == check(p).find_data_set("held")->values);
}

TEST_CASE("split and validate syntax errors say what was expected", "[lang][split]") {
  const std::string head =
      "input x = 0\ntarget t = 0\nparam w = 1\ny = w*x\nE = (t - y)^2\n"
      "data all(x, t) = [[1, 2], [2, 4], [3, 6], [4, 8]]\n";
  const auto first = [&](const std::string& lines) {
    const std::vector<diagnostic> e = errors_of(head + lines);
    REQUIRE_FALSE(e.empty());
    return brief(e.front()) + " / " + e.front().expected;
  };
  CHECK(first("split all into fit, held ratio 0.5 rows 2\n") ==
        "7:36: the size of the first part is given twice / one 'ratio R' or 'rows N' clause");
  CHECK(first("split all into fit held rows 2\n") ==
        "7:20: unexpected 'held' / ',' and the name of the second part");
  CHECK(first("split all into fit, held rows 2 shuffle 3\n") ==
        "7:41: unexpected '3' / 'seed' and a number, as in 'shuffle seed 7'");
  CHECK(first("train minimize E using sgd for 1 epoch on all validate all\n") ==
        "7:56: unexpected 'all' / 'on' and a data set, as in 'validate on val'");
  CHECK(first("train minimize E using sgd for 1 epoch on all restore\n") ==
        "7:54: unexpected end of line / 'best' (as in 'restore best')");
}

TEST_CASE("a validation interval longer than the training is a warning", "[lang][split]") {
  // 1 epoch of the 8 rows of fit in batches of 3 is ceil(8 / 3) = 3 updates.
  const checked_model m =
      check_text(ten_rows("split all into fit, held rows 8", " every 4 steps") + "\n");
  REQUIRE(m.warnings.empty());  // 1 epoch per sample: 8 updates, validations after 4 and 8
  const checked_model batched = check_text(
      "input x = 0\ntarget t = 0\nparam w = 1\ny = w*x\nE = (y - t)^2\n"
      "data all(x, t) = [[1, 0], [2, 0], [3, 0], [4, 0], [5, 0], [6, 0], [7, 0], [8, 0], [9, 0], "
      "[10, 0]]\nsplit all into fit, held rows 8\n"
      "train minimize E using sgd for 1 epoch on fit batch 3 validate on held every 4 steps\n");
  REQUIRE(batched.warnings.size() == 1);
  CHECK(brief(batched.warnings[0]) ==
        "8:67: training makes 3 updates and validates after every 4 updates, so no validation "
        "will run");
}
