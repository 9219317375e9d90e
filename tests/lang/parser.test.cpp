// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>
#include <chainrule/lang/format.hpp>
#include <chainrule/lang/parser.hpp>
#include <string>

#include "lang_test_support.hpp"

using namespace chainrule::lang;
using namespace chainrule::lang::testing;

namespace {

// A fully parenthesised rendering that shows the tree's exact shape (test inputs are small, so
// recursion is fine here).
std::string shape_of(const expression_arena& a, expr_id id) {
  const expr_node& n = a[id];
  const auto kids = a.children(id);
  switch (n.kind) {
    case expr_kind::number:
    case expr_kind::name:
      return n.text;
    case expr_kind::element:
      return shape_of(a, kids[0]) + "[" + std::to_string(n.index) + "]";
    case expr_kind::keyword_argument:
      return n.text + "=" + shape_of(a, kids[0]);
    default:
      break;
  }
  std::string out = "(";
  out += n.kind == expr_kind::call ? n.text : to_string(n.kind);
  for (const auto k : kids) {
    out += ' ';
    out += shape_of(a, k);
  }
  return out + ")";
}

std::string parsed_shape(const std::string& expression) {
  const program p = parse("y = " + expression + "\n", "t.chain");
  const auto& eq = std::get<equation_statement>(p.statements.at(0));
  return shape_of(p.expressions, eq.value);
}

diagnostic single_error(std::string_view text) {
  const auto errors = errors_of(text);
  REQUIRE(errors.size() == 1);
  return errors.front();
}

}  // namespace

TEST_CASE("the Mazur example parses exactly as written", "[lang][parser]") {
  const program p = parse_file(example_path("mazur.chain"));
  REQUIRE(p.statements.size() == 2 + 14 + 11 + 1);

  const auto& precision = std::get<precision_directive>(p.statements[0]);
  CHECK_FALSE(precision.binary_double);
  CHECK(precision.digits.text == "50");
  CHECK(precision.location.line == 2);

  const auto& display = std::get<display_directive>(p.statements[1]);
  CHECK(display.count.text == "9");
  CHECK(display.unit == display_unit::decimals);

  const auto& i1 = std::get<declaration>(p.statements[2]);
  CHECK(i1.kind == declaration_kind::input);
  CHECK(i1.name == "i1");
  CHECK(std::get<number_literal>(i1.value).text == "0.05");
  CHECK(i1.location == source_location{p.file_name, 5, 8, 2});

  const auto& b2 = std::get<declaration>(p.statements[15]);
  CHECK(b2.kind == declaration_kind::constant);
  CHECK(b2.name == "b2");
  CHECK(std::get<number_literal>(b2.value).text == "0.60");  // kept as written

  const auto& e_o1 = std::get<equation_statement>(p.statements[24]);
  CHECK(e_o1.name == "E_o1");
  CHECK(e_o1.location.line == 19);
  CHECK(shape_of(p.expressions, e_o1.value) ==
        "(multiply (divide 1 2) (power (subtract t1 out_o1) 2))");

  const auto& train = std::get<train_directive>(p.statements.back());
  CHECK(train.objective == "E_total");
  CHECK(train.optimizer.name == "sgd");
  REQUIRE(train.optimizer.arguments.size() == 1);
  CHECK(train.optimizer.arguments[0].name == "lr");
  CHECK(train.optimizer.arguments[0].value.text == "0.5");
  CHECK(train.count.text == "1");
  CHECK(train.unit == step_unit::steps);
  CHECK_FALSE(train.order.has_value());
  CHECK(train.trace.empty());
}

TEST_CASE("expression precedence and associativity", "[lang][parser]") {
  SECTION("unary minus binds looser than ^") {
    CHECK(parsed_shape("-x^2") == "(negate (power x 2))");
    CHECK(parsed_shape("(-x)^2") == "(power (negate x) 2)");
    CHECK(parsed_shape("--x") == "(negate (negate x))");
    CHECK(parsed_shape("+x") == "x");
  }
  SECTION("^ is right-associative and its exponent may carry a sign") {
    CHECK(parsed_shape("a^b^c") == "(power a (power b c))");
    CHECK(parsed_shape("2^-x^2") == "(power 2 (negate (power x 2)))");
    CHECK(parsed_shape("a^(b)^c") == "(power a (power b c))");
  }
  SECTION("binary operators are left-associative") {
    CHECK(parsed_shape("a - b - c") == "(subtract (subtract a b) c)");
    CHECK(parsed_shape("a/b/c") == "(divide (divide a b) c)");
    CHECK(parsed_shape("a + b*c - d") == "(subtract (add a (multiply b c)) d)");
    CHECK(parsed_shape("W @ x + b") == "(add (matmul W x) b)");
    CHECK(parsed_shape("a * -b") == "(multiply a (negate b))");
  }
  SECTION("calls, keyword arguments and indexing") {
    CHECK(parsed_shape("leaky_relu(x, alpha = 0.2)") == "(leaky_relu x alpha=0.2)");
    CHECK(parsed_shape("max(a, b)") == "(max a b)");
    CHECK(parsed_shape("sum()") == "(sum)");
    CHECK(parsed_shape("softmax(a, b)[2]") == "(softmax a b)[2]");
    CHECK(parsed_shape("W[1][2]*x[2]") == "(multiply W[1][2] x[2])");
    CHECK(parsed_shape("sigmoid (x)") == "(sigmoid x)");
  }
  SECTION("numbers are kept as exact text") {
    CHECK(parsed_shape("0.1000000000000000000000000000000000000000001") ==
          "0.1000000000000000000000000000000000000000001");
    CHECK(parsed_shape("1e-3 + .25 + 5. + 2E+10") == "(add (add (add 1e-3 .25) 5.) 2E+10)");
    CHECK(parsed_shape("-2") == "(negate 2)");
  }
  SECTION("line breaks are allowed inside brackets, with comments") {
    CHECK(parsed_shape("max(a,  # first\n        b)") == "(max a b)");
    CHECK(parsed_shape("(a\n + b)") == "(add a b)");
  }
}

TEST_CASE("every expression node has a location", "[lang][parser]") {
  const program p = parse("\n  f = (x + y)*z\n", "loc.chain");
  const auto& eq = std::get<equation_statement>(p.statements.at(0));
  CHECK(eq.location == source_location{"loc.chain", 2, 3, 1});
  const auto& a = p.expressions;
  CHECK(a[eq.value].kind == expr_kind::multiply);
  CHECK(a.location(eq.value) == source_location{"loc.chain", 2, 14, 1});
  const expr_id sum = a.children(eq.value)[0];
  CHECK(a.location(sum) == source_location{"loc.chain", 2, 10, 1});
  CHECK(a.location(a.children(sum)[0]) == source_location{"loc.chain", 2, 8, 1});
  CHECK(a.location(a.children(eq.value)[1]) == source_location{"loc.chain", 2, 15, 1});
  for (expr_id id = 0; id < a.size(); ++id) {
    for (const expr_id c : a.children(id))
      CHECK(c < id);  // children before parents
  }
}

TEST_CASE("columns count code points, not bytes", "[lang][parser]") {
  const auto d = single_error("symbol x = \"\xCE\xB1\" + zz\n");
  CHECK(d.location.line == 1);
  CHECK(d.location.column == 16);  // the '+' is byte 17
}

TEST_CASE("directives, declarations and shorthand statements parse", "[lang][parser]") {
  SECTION("precision and display") {
    const program p =
        parse("precision double\ndisplay 12 digits rounding half-up keep zeros\n", "d.chain");
    CHECK(std::get<precision_directive>(p.statements[0]).binary_double);
    const auto& d = std::get<display_directive>(p.statements[1]);
    CHECK(d.count.text == "12");
    CHECK(d.unit == display_unit::digits);
    CHECK(d.rounding == rounding_mode::half_up);
    CHECK(d.keep_zeros);
  }
  SECTION("train with every clause") {
    const program p = parse(
        "train minimize E using adam(lr = 0.01, beta1 = 0.8) for 3000 steps order sequential "
        "trace first, last, every 1000, 5\n",
        "t.chain");
    const auto& t = std::get<train_directive>(p.statements[0]);
    CHECK(t.optimizer.name == "adam");
    CHECK(t.optimizer.arguments.size() == 2);
    CHECK(t.count.text == "3000");
    CHECK(t.order == update_order::sequential);
    REQUIRE(t.trace.size() == 4);
    CHECK(t.trace[0].selector == trace_selector::first);
    CHECK(t.trace[1].selector == trace_selector::last);
    CHECK(t.trace[2].selector == trace_selector::every);
    CHECK(t.trace[2].number.text == "1000");
    CHECK(t.trace[3].selector == trace_selector::step);
    CHECK(t.trace[3].number.text == "5");
  }
  SECTION("optimizer without parentheses, epochs on a data set") {
    const program p = parse("train minimize E using sgd for 2 epochs on xor\n", "t.chain");
    const auto& t = std::get<train_directive>(p.statements[0]);
    CHECK(t.optimizer.arguments.empty());
    CHECK(t.unit == step_unit::epochs);
    CHECK(t.data_set == "xor");
  }
  SECTION("vector and matrix declarations, across lines") {
    const program p = parse(
        "param W[2][2] = [[0.15, 0.20],\n                 [0.25, 0.30],]\nparam b[2] = -0.35\n",
        "v.chain");
    const auto& w = std::get<declaration>(p.statements[0]);
    CHECK(w.shape == std::vector<std::size_t>{2, 2});
    const auto& values = std::get<array_literal>(w.value);
    CHECK(values.shape == std::vector<std::size_t>{2, 2});
    REQUIRE(values.values.size() == 4);
    CHECK(values.values[2].text == "0.25");
    CHECK(values.values[2].location.line == 2);
    const auto& b = std::get<declaration>(p.statements[1]);
    CHECK(std::get<number_literal>(b.value).text == "-0.35");
  }
  SECTION("symbols keep the raw LaTeX") {
    const program p = parse("symbol w1 = \"w_{1}\\,\\mathrm{x}\"\n", "s.chain");
    CHECK(std::get<symbol_statement>(p.statements[0]).latex == "w_{1}\\,\\mathrm{x}");
  }
  SECTION("layers") {
    const program p =
        parse("layer h = dense(x, 2, sigmoid, weights = [[1, 2], [3, 4]], bias = b1)\n", "l.chain");
    const auto& l = std::get<layer_statement>(p.statements[0]);
    CHECK(l.constructor == "dense");
    REQUIRE(l.arguments.size() == 5);
    CHECK(std::get<std::string>(l.arguments[0].value) == "x");
    CHECK(std::get<number_literal>(l.arguments[1].value).text == "2");
    CHECK(l.arguments[3].keyword == "weights");
    CHECK(std::get<array_literal>(l.arguments[3].value).shape == std::vector<std::size_t>{2, 2});
    CHECK(std::get<std::string>(l.arguments[4].value) == "b1");
  }
  SECTION("data sets") {
    const program p = parse(
        "data xor(x1, x2, y) = [[0, 0, 0],\n  [0, 1, 1]]\ndata d = from \"d.csv\"\n", "d.chain");
    const auto& inline_data = std::get<data_statement>(p.statements[0]);
    CHECK(inline_data.columns == std::vector<std::string>{"x1", "x2", "y"});
    CHECK(inline_data.values.size() == 6);
    CHECK(inline_data.row_lengths == std::vector<std::size_t>{3, 3});
    CHECK(inline_data.row_locations[1].line == 2);
    const auto& from_file = std::get<data_statement>(p.statements[1]);
    CHECK(from_file.file == "d.csv");
    CHECK(from_file.columns.empty());
  }
  SECTION("CRLF line ends and a byte order mark") {
    const program p = parse("\xEF\xBB\xBFinput x = 1\r\ny = x\r\n", "crlf.chain");
    CHECK(p.statements.size() == 2);
    CHECK(std::get<equation_statement>(p.statements[1]).location.line == 2);
  }
}

TEST_CASE("bad numbers are reported, several at once", "[lang][parser]") {
  const auto errors = errors_of("input a = 1.2.3, b = 1e\ny = 3x + a\nz = 2e1234567890\n");
  REQUIRE(errors.size() == 4);
  CHECK(brief(errors[0]) == "1:11: bad number '1.2.3': more than one decimal point");
  CHECK(errors[0].expected == "a decimal number such as 12, 0.5, .25 or 1e-3");
  CHECK(brief(errors[1]) == "1:22: bad number '1e': no digits after the exponent");
  CHECK(brief(errors[2]) == "2:5: bad number '3x': unexpected character in number");
  CHECK(brief(errors[3]) == "3:5: bad number '2e1234567890': the exponent has more than 9 digits");
}

TEST_CASE("syntax errors say what was expected", "[lang][parser]") {
  SECTION("directive argument") {
    const auto d = single_error("precision fifty\n");
    CHECK(brief(d) == "1:11: unexpected 'fifty'");
    CHECK(d.expected == "the number of significant digits (10 to 10000) or 'double'");
    CHECK(d.location.length == 5);
  }
  SECTION("missing operand at the end of a line") {
    const auto d = single_error("x = 1 +\n");
    CHECK(brief(d) == "1:8: unexpected end of line");
    CHECK(d.expected == "an operand: a number, a name, a function call or '('");
  }
  SECTION("a misspelt keyword") {
    const auto d = single_error("paramm w = 1\n");
    CHECK(brief(d) == "1:8: unexpected 'w'");
    CHECK(d.expected == "'=' (an equation 'name = expression'), or a directive keyword");
    REQUIRE(d.notes.size() == 1);
    CHECK(d.notes[0].message == "did you mean 'param'?");
  }
  SECTION("positional optimizer argument") {
    const auto d = single_error("train minimize E using sgd(0.5) for 1 step\n");
    CHECK(brief(d) == "1:28: unexpected '0.5'");
    CHECK(d.expected == "an optimizer argument 'name = value', as in 'lr = 0.5'");
  }
  SECTION("unknown trailing words") {
    CHECK(single_error("display 9 decimals exactly\n").expected ==
          "end of line, 'rounding half-even|half-up' or 'keep zeros'");
    CHECK(single_error("train minimize E using sgd(lr = 1) for 1 step sequential\n").expected ==
          "end of line, or 'on DATA', 'batch N|full', 'reduce sum|mean', 'order ...', "
          "'trace ...', 'validate on DATA', 'patience P' or 'restore best'");
  }
  SECTION("unclosed things") {
    CHECK(brief(single_error("symbol w = \"abc\n")) == "1:16: unexpected end of line");
    const auto unclosed = single_error("y = (a + b\n");
    CHECK(brief(unclosed) == "2:1: unexpected end of file");
    REQUIRE(unclosed.notes.size() == 1);
    CHECK(unclosed.notes[0].message == "this '(' is never closed");
    CHECK(unclosed.notes[0].location.column == 5);
    CHECK(single_error("y = max(a b)\n").expected == "')'");
  }
  SECTION("a statement that is not one") {
    const auto d = single_error("input x = 1\n) = 3\n");
    CHECK(brief(d) == "2:1: unexpected ')'");
    CHECK(d.expected.rfind("a statement:", 0) == 0);
  }
  SECTION("ragged matrix rows") {
    CHECK(brief(single_error("param W = [[1, 2], [3]]\n")) ==
          "1:20: row 2 has 1 value but row 1 has 2");
  }
  SECTION("bad index and dimension") {
    CHECK(brief(single_error("y = x[0]\n")) == "1:7: bad index '0'");
    CHECK(brief(single_error("param W[2.5] = 1\n")) == "1:9: bad dimension '2.5'");
  }
}

TEST_CASE("nesting is limited instead of overflowing the stack", "[lang][parser]") {
  const auto nested = [](std::size_t depth) {
    return "input x = 1\ny = " + std::string(depth, '(') + "x" + std::string(depth, ')') + "\n";
  };
  SECTION("up to the limit") {
    const program p = parse(nested(max_nesting_depth), "deep.chain");
    CHECK(p.statements.size() == 2);
  }
  SECTION("one past the limit") {
    const auto d = single_error(nested(max_nesting_depth + 1));
    CHECK(brief(d) == "2:261: brackets nest too deeply (the limit is 256 levels)");
  }
  SECTION("nested calls count too") {
    std::string text = "y = ";
    for (std::size_t i = 0; i <= max_nesting_depth; ++i)
      text += "exp(";
    text += "1" + std::string(max_nesting_depth + 1, ')') + "\n";
    CHECK(single_error(text).message == "brackets nest too deeply (the limit is 256 levels)");
  }
  SECTION("long chains are loops, not recursion") {
    std::string sum = "input x = 1\ny = x";
    for (int i = 0; i < 20000; ++i)
      sum += " + x";
    std::string signs = "z = " + std::string(20000, '-') + "x";
    std::string powers = "w = x";
    for (int i = 0; i < 20000; ++i)
      powers += "^x";
    const program p = parse(sum + "\n" + signs + "\n" + powers + "\n", "long.chain");
    CHECK(p.statements.size() == 4);
    CHECK(to_source(p.expressions, std::get<equation_statement>(p.statements[3]).value).size() ==
          1 + 20000 * 2);
  }
}

TEST_CASE("files that are not text, empty or too large", "[lang][parser]") {
  SECTION("empty") {
    const auto d = single_error("");
    CHECK(d.message == "the file is empty");
  }
  SECTION("only comments") {
    const auto d = single_error("# nothing here\n\n");
    CHECK(brief(d) == "3:1: the file has no statements (only blank lines and comments)");
  }
  SECTION("NUL byte") {
    const auto d = single_error(std::string("input x = 1\ny = x\0\n", 19));
    CHECK(brief(d) == "2:6: source file contains a NUL byte (is it a binary file?)");
  }
  SECTION("invalid UTF-8") {
    CHECK(brief(single_error("input x = 1 # caf\xE9\n")) ==
          "1:18: invalid UTF-8 in source file (byte 0xE9)");
    CHECK(single_error("# \xC0\xAF\n").message ==
          "invalid UTF-8 in source file (byte 0xC0)");  // overlong
    CHECK(single_error("# \xED\xA0\x80\n").message ==
          "invalid UTF-8 in source file (byte 0xED)");  // surrogate
  }
  SECTION("valid UTF-8 in comments and strings is fine") {
    const program p = parse("# Größe α → β 🙂\nsymbol a = \"α\"\n", "u.chain");
    CHECK(std::get<symbol_statement>(p.statements[0]).latex == "α");
  }
  SECTION("larger than 16 MiB") {
    const std::string big(max_file_bytes + 1, '\n');
    const auto d = single_error(big);
    CHECK(d.message ==
          "source file is too large (16777217 bytes; the limit is 16777216 bytes, 16 MiB)");
  }
  SECTION("a missing file") {
    try {
      (void)parse_file(example_path("no-such-file.chain"));
      FAIL("no exception");
    } catch (const model_error& e) {
      CHECK(e.diagnostics().at(0).message == "cannot open the file");
    }
  }
}
