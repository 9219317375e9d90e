// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>
#include <chainrule/lang/format.hpp>
#include <chainrule/lang/parser.hpp>
#include <string>

#include "lang_test_support.hpp"

using namespace chainrule::lang;
using namespace chainrule::lang::testing;

namespace {

std::vector<std::string> equation_names(const checked_model& m) {
  std::vector<std::string> out;
  for (const auto& e : m.equations)
    out.push_back(e.name);
  return out;
}

std::vector<std::string> names_of_kind(const checked_model& m, declaration_kind kind) {
  std::vector<std::string> out;
  for (const auto& d : m.declarations) {
    if (d.kind == kind) out.push_back(d.name);
  }
  return out;
}

std::string source_of(const checked_model& m, std::string_view equation) {
  const auto* e = m.find_equation(equation);
  REQUIRE(e != nullptr);
  return to_source(m.expressions, e->value);
}

// A small valid model to which each test adds one mistake.
const std::string base_model =
    "input  i1 = 0.05\n"  // 1
    "param  w1 = 0.15\n"  // 2
    "y = w1*i1\n"         // 3
    "differentiate y\n";  // 4

}  // namespace

TEST_CASE("the Mazur example checks into its 11 equations", "[lang][check]") {
  const checked_model m = load_model(example_path("mazur.chain"));

  CHECK(equation_names(m) == std::vector<std::string>{"net_h1", "out_h1", "net_h2", "out_h2",
                                                      "net_o1", "out_o1", "net_o2", "out_o2",
                                                      "E_o1", "E_o2", "E_total"});
  CHECK(names_of_kind(m, declaration_kind::param) ==
        std::vector<std::string>{"w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8"});
  CHECK(names_of_kind(m, declaration_kind::input) == std::vector<std::string>{"i1", "i2"});
  CHECK(names_of_kind(m, declaration_kind::target) == std::vector<std::string>{"t1", "t2"});
  CHECK(names_of_kind(m, declaration_kind::constant) == std::vector<std::string>{"b1", "b2"});
  CHECK(m.find_declaration("w5")->value == "0.40");
  CHECK(m.find_declaration("b2")->value == "0.60");

  CHECK(source_of(m, "net_h1") == "w1*i1 + w2*i2 + b1");
  CHECK(source_of(m, "out_o1") == "sigmoid(net_o1)");
  CHECK(source_of(m, "E_o2") == "1/2*(t2 - out_o2)^2");
  CHECK(m.find_equation("E_o1")->location.line == 19);
  CHECK(m.find_equation("E_o1")->location.column == 1);

  CHECK_FALSE(m.precision.binary_double);
  CHECK(m.precision.digits == 50);
  CHECK(m.display.count == 9);
  CHECK(m.display.unit == display_unit::decimals);
  CHECK(m.display.rounding == rounding_mode::half_even);
  CHECK_FALSE(m.display.keep_zeros);

  REQUIRE(m.train.has_value());
  CHECK_FALSE(m.differentiate.has_value());
  CHECK(m.objective() == "E_total");
  CHECK(m.train->optimizer.name == "sgd");
  CHECK(m.train->optimizer.argument("lr") == "0.5");
  CHECK(m.train->count == 1);
  CHECK(m.train->unit == step_unit::steps);
  CHECK(m.train->order == update_order::simultaneous);
  CHECK(m.train->trace.selects(1, 1));
  CHECK(m.warnings.empty());
}

TEST_CASE("the expression and tanh neuron examples check", "[lang][check]") {
  SECTION("CS231n f = (x + y)*z") {
    const checked_model m = load_model(example_path("expression.chain"));
    REQUIRE(m.differentiate.has_value());
    CHECK(m.objective() == "f");
    CHECK(equation_names(m) == std::vector<std::string>{"f"});
    CHECK(source_of(m, "f") == "(x + y)*z");
    CHECK(m.find_declaration("x")->value == "-2");
    CHECK(m.find_declaration("z")->value == "-4");
    CHECK(m.warnings.empty());
  }
  SECTION("micrograd's neuron") {
    const checked_model m = load_model(example_path("tanh_neuron.chain"));
    CHECK(equation_names(m) == std::vector<std::string>{"n", "o"});
    CHECK(source_of(m, "o") == "tanh(n)");
    CHECK(m.find_declaration("b")->value == "6.8813735870195432");
    CHECK(m.display.count == 4);
  }
}

TEST_CASE("equations come out in evaluation order", "[lang][check]") {
  SECTION("dependencies first, otherwise source order") {
    const checked_model m = check_text(
        "input x = 1\n"
        "e = d + c\n"
        "d = b*2\n"
        "c = x\n"
        "b = a + c\n"
        "a = x\n"
        "differentiate e\n");
    CHECK(equation_names(m) == std::vector<std::string>{"c", "a", "b", "d", "e"});
  }
  SECTION("independent equations keep their source order") {
    const checked_model m = check_text("input x = 1\nz = x\ny = x\nw = z + y\ndifferentiate w\n");
    CHECK(equation_names(m) == std::vector<std::string>{"z", "y", "w"});
  }
}

TEST_CASE("name errors", "[lang][check]") {
  SECTION("unknown name with a suggestion") {
    const auto errors = errors_of(base_model + "z = w9*i1\n");
    REQUIRE(errors.size() == 1);
    CHECK(brief(errors[0]) == "5:5: unknown name 'w9'");
    REQUIRE(errors[0].notes.size() == 1);
    CHECK(errors[0].notes[0].message == "did you mean 'w1'?");
    CHECK(errors[0].source_line == "z = w9*i1");
  }
  SECTION("unknown name without a plausible suggestion") {
    const auto errors = errors_of(base_model + "z = velocity\n");
    REQUIRE(errors.size() == 1);
    CHECK(brief(errors[0]) == "5:5: unknown name 'velocity'");
    CHECK(errors[0].notes.empty());
  }
  SECTION("a name defined twice points at both places") {
    const auto errors = errors_of(base_model + "y = 2*w1\nparam i1 = 3\n");
    REQUIRE(errors.size() == 2);
    CHECK(brief(errors[0]) == "5:1: 'y' is defined twice");
    REQUIRE(errors[0].notes.size() == 1);
    CHECK(errors[0].notes[0].message == "the first definition of 'y' is here");
    CHECK(errors[0].notes[0].location.line == 3);
    CHECK(errors[0].notes[0].location.column == 1);
    CHECK(brief(errors[1]) == "6:7: 'i1' is defined twice");
    CHECK(errors[1].notes[0].location.line == 1);
  }
  SECTION("assigning to a target or an input") {
    const auto errors =
        errors_of("input x = 1\ntarget t = 0\nt = x\nx = 2\ny = x + t\ndifferentiate y\n");
    REQUIRE(errors.size() == 2);
    CHECK(brief(errors[0]) == "3:1: cannot assign to target 't'");
    CHECK(errors[0].notes.at(0).message == "'t' is declared as a target here");
    CHECK(errors[0].notes.at(0).location.line == 2);
    CHECK(brief(errors[1]) == "4:1: cannot assign to input 'x'");
    CHECK(errors[1].notes.at(0).message == "'x' is declared as an input here");
  }
  SECTION("an element name clashing with a scalar") {
    const auto errors =
        errors_of("input x[2] = [1, 2]\nparam x_2 = 3\ny = x_1 + x_2\ndifferentiate y\n");
    REQUIRE(errors.size() == 1);
    CHECK(brief(errors[0]) == "2:7: 'x_2' is defined twice");
  }
}

TEST_CASE("cycles among equations are named", "[lang][check]") {
  SECTION("two equations") {
    const auto errors = errors_of("input x = 1\na = b + x\nb = 2*a\ndifferentiate a\n");
    REQUIRE(errors.size() == 1);
    CHECK(brief(errors[0]) == "2:1: cycle among equations: a -> b -> a");
  }
  SECTION("a self reference and a longer cycle, reported separately") {
    const auto errors = errors_of(
        "input x = 1\nc = a\ns = s + 1\na = b\nb = c*x\nout = a + s\ndifferentiate out\n");
    CHECK(briefs(errors) == std::vector<std::string>{"2:1: cycle among equations: c -> a -> b -> c",
                                                     "3:1: cycle among equations: s -> s"});
  }
}

TEST_CASE("unused equations and params are warnings", "[lang][check]") {
  const checked_model m = check_text(
      "input x = 1\n"
      "param w = 2, unused_w = 3\n"
      "param v[2] = [1, 2]\n"
      "y = w*x + v[1]\n"
      "side = unused_w*x\n"
      "differentiate y\n");
  CHECK(briefs(m.warnings) ==
        std::vector<std::string>{
            "2:14: param 'unused_w' never reaches the objective 'y' (its gradient is always 0)",
            "3:18: param 'v_2' never reaches the objective 'y' (its gradient is always 0)",
            "5:1: equation 'side' is never used by the objective 'y'"});
  for (const auto& w : m.warnings)
    CHECK(w.severity == severity::warning);
}

TEST_CASE("function calls are checked against their forms", "[lang][check]") {
  const auto one_error = [](const std::string& expression) {
    const auto errors = errors_of("input x = 1, z = 2\ny = " + expression + "\ndifferentiate y\n");
    REQUIRE(errors.size() == 1);
    return errors[0];
  };
  SECTION("too many arguments") {
    const auto d = one_error("leaky_relu(x, 0.1, 3)");
    CHECK(brief(d) == "2:5: leaky_relu takes 1 or 2 arguments, got 3");
    CHECK(d.expected == "leaky_relu(x, alpha = 0.01)");
  }
  SECTION("too few arguments") {
    CHECK(brief(one_error("max(x)")) == "2:5: max takes 2 arguments, got 1");
    CHECK(brief(one_error("exp()")) == "2:5: exp takes 1 argument, got 0");
    CHECK(one_error("sum()").message == "sum takes at least 1 argument, got 0");
  }
  SECTION("keyword mistakes") {
    const auto unknown = one_error("leaky_relu(x, beta = 0.1)");
    CHECK(brief(unknown) == "2:19: leaky_relu has no keyword argument 'beta'");
    CHECK(unknown.expected == "leaky_relu(x, alpha = 0.01)");
    CHECK(brief(one_error("exp(x = 1)")) == "2:9: exp takes no keyword arguments");
    CHECK(brief(one_error("leaky_relu(x, 0.1, alpha = 0.2)")) ==
          "2:24: argument 'alpha' is given twice");
    CHECK(brief(one_error("softmax(x, z, alpha = 2)")) ==
          "2:19: softmax takes no keyword arguments");
  }
  SECTION("a literal-only argument") {
    const auto d = one_error("leaky_relu(x, alpha = z)");
    CHECK(brief(d) == "2:27: leaky_relu's alpha must be a number");
  }
  SECTION("unknown function") {
    const auto d = one_error("sigmoud(x)");
    CHECK(brief(d) == "2:5: unknown function 'sigmoud'");
    CHECK(d.notes.at(0).message == "did you mean 'sigmoid'?");
  }
  SECTION("valid forms and canonical output") {
    const checked_model m = check_text(
        "input x = 1, z = 2\n"
        "y = leaky_relu(x) + leaky_relu(x, alpha = -0.2) + leaky_relu(x, 0.3) + pow(x, z) + max(x, "
        "z)\n"
        "differentiate y\n");
    // Defaults are filled in and keyword arguments become positional.
    CHECK(to_source(m.expressions, m.equations[0].value) ==
          "leaky_relu(x, 0.01) + leaky_relu(x, -0.2) + leaky_relu(x, 0.3) + pow(x, z) + max(x, z)");
  }
}

TEST_CASE("settings are validated", "[lang][check]") {
  SECTION("precision range") {
    CHECK(brief(errors_of("precision 5\n" + base_model).at(0)) ==
          "1:11: precision 5 is out of range");
    CHECK(errors_of("precision 5\n" + base_model).at(0).expected ==
          "a number of significant digits from 10 to 10000, or 'double'");
    CHECK(brief(errors_of("precision 10001\n" + base_model).at(0)) ==
          "1:11: precision 10001 is out of range");
    CHECK(brief(errors_of("precision 50.5\n" + base_model).at(0)) ==
          "1:11: the precision must be a whole number of digits");
    CHECK(check_text("precision 10\n" + base_model).precision.digits == 10);
    CHECK(check_text("precision 10000\n" + base_model).precision.digits == 10000);
    const auto binary = check_text("precision double\n" + base_model);
    CHECK(binary.precision.binary_double);
    CHECK(binary.precision.digits == 17);
  }
  SECTION("defaults") {
    const checked_model m = check_text(base_model);
    CHECK(m.precision.digits == 50);
    CHECK_FALSE(m.precision.binary_double);
    CHECK(m.display.count == 9);
    CHECK(m.display.unit == display_unit::decimals);
  }
  SECTION("display") {
    const checked_model m =
        check_text("display 6 digits rounding half-up keep zeros\n" + base_model);
    CHECK(m.display.count == 6);
    CHECK(m.display.unit == display_unit::digits);
    CHECK(m.display.rounding == rounding_mode::half_up);
    CHECK(m.display.keep_zeros);
    CHECK(brief(errors_of("display 0 digits\n" + base_model).at(0)) ==
          "1:9: display 0 digits is out of range");
    const checked_model noisy = check_text("precision 20\ndisplay 30 digits\n" + base_model);
    CHECK(
        briefs(noisy.warnings) ==
        std::vector<std::string>{"2:9: display shows 30 significant digits but the precision is 20 "
                                 "digits; the extra digits are noise"});
  }
  SECTION("directives given twice") {
    const auto errors =
        errors_of("precision 20\nprecision 30\n" + base_model + "differentiate y\n");
    CHECK(briefs(errors) ==
          std::vector<std::string>{"2:1: precision is given twice",
                                   "7:1: only one train or differentiate directive is allowed"});
  }
  SECTION("missing train or differentiate") {
    const auto errors = errors_of("input x = 1\ny = x\n");
    REQUIRE(errors.size() == 1);
    CHECK(brief(errors[0]) == "3:1: no train or differentiate directive");
    CHECK(errors[0].expected ==
          "'train minimize NAME using OPTIMIZER(...) for N steps' or 'differentiate NAME'");
  }
  SECTION("objective") {
    CHECK(brief(errors_of("input x = 1\ny = x\ndifferentiate yy\n").at(0)) ==
          "3:15: unknown name 'yy'");
    CHECK(errors_of("input x = 1\ny = x\ndifferentiate yy\n").at(0).notes.at(0).message ==
          "did you mean 'y'?");
    CHECK(brief(errors_of("input x = 1\ny = x\ndifferentiate x\n").at(0)) ==
          "3:15: 'x' is an input, not an equation");
    CHECK(brief(errors_of("input x[2] = 1\ny = 2*x\ndifferentiate y\n").at(0)) ==
          "3:15: the objective 'y' is a vector of 2 elements");
    CHECK(check_text("input x[2] = 1\ny = 2*x\ndifferentiate y_2\n").objective() == "y_2");
  }
}

TEST_CASE("train directives are validated", "[lang][check]") {
  const std::string model = "input x = 1\nparam w = 2\nE = (w*x)^2\n";
  SECTION("every optimizer with its defaults") {
    const std::vector<std::pair<std::string, std::string>> cases{
        {"sgd", "lr = 0.01"},
        {"momentum", "lr = 0.01, beta = 0.9"},
        {"rmsprop", "lr = 0.001, rho = 0.9, eps = 1e-8"},
        {"adagrad", "lr = 0.01, eps = 1e-8"},
        {"adam", "lr = 0.001, beta1 = 0.9, beta2 = 0.999, eps = 1e-8"},
        {"perceptron", "lr = 1"}};
    for (const auto& [name, defaults] : cases) {
      const checked_model m =
          check_text(model + "train minimize E using " + name + " for 1 step\n");
      std::string args;
      for (const auto& a : m.train->optimizer.arguments) {
        if (!args.empty()) args += ", ";
        args += a.name + " = " + a.value;
      }
      CHECK(args == defaults);
    }
    const checked_model m =
        check_text(model + "train minimize E using adam(beta2 = 0.99, lr = 0.1) for 1 step\n");
    CHECK(m.train->optimizer.argument("lr") == "0.1");
    CHECK(m.train->optimizer.argument("beta1") == "0.9");
    CHECK(m.train->optimizer.argument("beta2") == "0.99");
  }
  SECTION("unknown optimizer") {
    const auto d = errors_of(model + "train minimize E using sgdd(lr = 0.5) for 1 step\n").at(0);
    CHECK(brief(d) == "4:24: unknown optimizer 'sgdd'");
    CHECK(d.expected == "one of sgd, momentum, rmsprop, adagrad, adam, perceptron");
    CHECK(d.notes.at(0).message == "did you mean 'sgd'?");
  }
  SECTION("unknown, repeated and out-of-range optimizer arguments") {
    const auto errors = errors_of(model +
                                  "train minimize E using adam(lr = 0, beta3 = 0.9, beta1 = 1, "
                                  "beta1 = 0.5, eps = -1e-8) for 1 step\n");
    CHECK(briefs(errors) ==
          std::vector<std::string>{
              "4:34: lr must be greater than 0", "4:37: adam has no argument 'beta3'",
              "4:58: beta1 must be at least 0 and less than 1",
              "4:61: argument 'beta1' is given twice", "4:80: eps must be greater than 0"});
    CHECK(errors[1].expected == "adam(lr = 0.001, beta1 = 0.9, beta2 = 0.999, eps = 1e-8)");
    CHECK(errors[1].notes.at(0).message == "did you mean 'beta1'?");
  }
  SECTION("steps, order and trace selection") {
    const checked_model m = check_text(model +
                                       "train minimize E using sgd(lr = 0.1) for 3000 steps order "
                                       "sequential trace first, every 1000, 7\n");
    const auto& t = *m.train;
    CHECK(t.count == 3000);
    CHECK(t.order == update_order::sequential);
    CHECK(t.trace.first);
    CHECK_FALSE(t.trace.last);
    CHECK(t.trace.every == 1000);
    CHECK(t.trace.steps == std::vector<std::uint64_t>{7});
    CHECK(t.trace.selects(1, 3000));
    CHECK(t.trace.selects(2000, 3000));
    CHECK(t.trace.selects(7, 3000));
    CHECK_FALSE(t.trace.selects(8, 3000));
    CHECK_FALSE(check_text(model + "train minimize E using sgd for 5 steps trace none\n")
                    .train->trace.selects(1, 5));
    CHECK(check_text(model + "train minimize E using sgd for 5 steps trace all\n")
              .train->trace.selects(3, 5));
  }
  SECTION("bad counts") {
    CHECK(brief(errors_of(model + "train minimize E using sgd for 0 steps\n").at(0)) ==
          "4:32: bad number of steps '0'");
    CHECK(brief(errors_of(model + "train minimize E using sgd for 2 epochs\n").at(0)) ==
          "4:32: training for epochs needs a data set");
    CHECK(
        brief(errors_of(model + "train minimize E using sgd for 2 steps trace every 0\n").at(0)) ==
        "4:52: bad trace interval '0'");
    CHECK(brief(errors_of(model + "train minimize E using sgd for 2 steps trace none, last\n")
                    .at(0)) == "4:46: 'none' cannot be combined with other trace items");
  }
}

TEST_CASE("several independent errors are reported together", "[lang][check]") {
  const auto errors = errors_of(
      "precision 5\n"
      "input x = 1\n"
      "target t = 0\n"
      "t = 1\n"
      "y = w9 + exp(x, x)\n"
      "train minimize y using sgdd for 1 step\n");
  CHECK(briefs(errors) == std::vector<std::string>{"1:11: precision 5 is out of range",
                                                   "4:1: cannot assign to target 't'",
                                                   "5:5: unknown name 'w9'",
                                                   "5:10: exp takes 1 argument, got 2",
                                                   "6:24: unknown optimizer 'sgdd'"});
}

TEST_CASE("symbols", "[lang][check]") {
  const checked_model m = check_text(
      "input x = 1, v[2] = [1, 2]\nparam W[2][2] = 0.5\nsymbol x = \"x_{\\mathrm{in}}\"\nsymbol W "
      "= \"w\"\n"
      "symbol W_2_1 = \"v\"\ny = sum(W @ v) + W[1][1]*x\ndifferentiate y\n",
      "sym.chain");
  CHECK(m.symbols.at("x") == "x_{\\mathrm{in}}");
  CHECK(m.symbols.at("W_1_2") == "{w}_{1,2}");
  CHECK(m.symbols.at("W_2_1") == "v");
  const auto errors = errors_of(
      "input x = 1\nsymbol xx = \"a\"\nsymbol x = \"a\"\nsymbol x = \"b\"\ny = x\ndifferentiate "
      "y\n");
  CHECK(briefs(errors) == std::vector<std::string>{"2:8: unknown name 'xx'",
                                                   "4:8: the symbol for 'x' is given twice"});
}

TEST_CASE("output is deterministic and round-trips", "[lang][check]") {
  const program p = parse_file(example_path("mazur.chain"));
  const std::string first = to_source(check(p));
  const std::string second = to_source(check(p));
  CHECK(first == second);
  // The scalar dump is itself a .chain file that checks to the same model.
  const checked_model again = check_text(first, p.file_name);
  CHECK(to_source(again) == first);
  require_same_scalars(check(p), again);
}
