// SPDX-License-Identifier: MIT
// Escaping, symbols, symbol checking, number breaking and formula rendering.
#include <catch2/catch.hpp>
#include <string>

#include "chainrule/exporters/latex_text.hpp"
#include "support.hpp"

namespace lt = chainrule::exporters::latex_text;
using chainrule::trace::expr_kind;
using chainrule::trace::expr_node;
using chainrule::trace::expression;
using chainrule::trace::layout;

TEST_CASE("free text is escaped for LaTeX", "[latex][escape]") {
  CHECK(lt::escape_text("Mazur's example") == "Mazur's example");
  // TeX would print a straight " as a closing quote on both sides.
  CHECK(lt::escape_text("Mazur, \"A Step\" and \"B\"") == "Mazur, ``A Step'' and ``B''");
  CHECK(lt::escape_text("\\ # $ % & _ { } ~ ^") ==
        "\\textbackslash{} \\# \\$ \\% \\& \\_ \\{ \\} \\textasciitilde{} \\textasciicircum{}");
  CHECK(lt::escape_text("a<b>c|d") == "a\\textless{}b\\textgreater{}c\\textbar{}d");
  SECTION("injection attempts become printed text") {
    const std::string e = lt::escape_text("\\input{/etc/passwd} \\immediate\\write18{rm -rf ~}");
    CHECK(e.find("\\input") == std::string::npos);
    CHECK(e.find("\\write") == std::string::npos);
    CHECK(e ==
          "\\textbackslash{}input\\{/etc/passwd\\} \\textbackslash{}immediate"
          "\\textbackslash{}write18\\{rm -rf \\textasciitilde{}\\}");
    CHECK(lt::escape_text("^^5cinput") == "\\textasciicircum{}\\textasciicircum{}5cinput");
  }
  SECTION("line breaks and control characters cannot end a command or a line") {
    CHECK(lt::escape_text("a\nb\tc\rd") == "a b c d");
    CHECK(lt::escape_text(std::string("a\x01\x1b[31mb", 8)) == "a[31mb");
  }
  SECTION("UTF-8") {
    CHECK(lt::escape_text("caf\xc3\xa9") == "caf\xc3\xa9");                   // é passes through
    CHECK(lt::escape_text("\xce\xb7 = 0.5") == "\\ensuremath{\\eta} = 0.5");  // η
    CHECK(lt::escape_text("a\xe2\x80\x93"
                          "b") == "a--b");              // en dash
    CHECK(lt::escape_text("\xf0\x9f\x98\x80") == "?");  // emoji
    CHECK(lt::escape_text("bad\xff\xfe") == "bad??");   // invalid UTF-8
    CHECK(lt::escape_text("\xc3") == "?");              // truncated
  }
}

TEST_CASE("names become math symbols", "[latex][symbol]") {
  CHECK(lt::default_symbol("w5") == "w_{5}");
  CHECK(lt::default_symbol("w12") == "w_{12}");
  CHECK(lt::default_symbol("net_h1") == "net_{h1}");
  CHECK(lt::default_symbol("out_o1") == "out_{o1}");
  CHECK(lt::default_symbol("E_total") == "E_{total}");
  CHECK(lt::default_symbol("eta") == "\\eta");
  CHECK(lt::default_symbol("Delta") == "\\Delta");
  CHECK(lt::default_symbol("eta1") == "\\eta_{1}");
  CHECK(lt::default_symbol("delta_o1") == "\\delta_{o1}");
  CHECK(lt::default_symbol("w_alpha") == "w_{\\alpha}");
  CHECK(lt::default_symbol("W_1_2") == "W_{1,2}");
  CHECK(lt::default_symbol("net_h_1") == "net_{h1}");
  CHECK(lt::default_symbol("W_h_1_2") == "W_{h1,2}");
  CHECK(lt::default_symbol("x_alpha_1") == "x_{\\alpha,1}");
  CHECK(lt::default_symbol("x") == "x");
  CHECK(lt::default_symbol("loss") == "loss");
  CHECK(lt::default_symbol("etax") == "etax");  // not a Greek letter
  // Not an identifier: set upright and escaped rather than trusted.
  CHECK(lt::default_symbol("a__b") == "\\mathrm{a\\_\\_b}");
  CHECK(lt::default_symbol("x$y") == "\\mathrm{x\\$y}");
  CHECK(lt::greek_command("omicron").empty());
}

TEST_CASE("model symbols are checked", "[latex][symbol][security]") {
  SECTION("ordinary math is accepted") {
    for (const char* ok : {"w_{1}", "\\hat{y}_{1}", "\\mathrm{net}_{h1}", "w^{(2)}_{11}", "\\eta",
                           "\\text{out}_{o1}", "E_{\\mathrm{total}}", "x'", "\\bar{x}",
                           "\\mathbf{W}^{[1]}", "\\{a\\}", "\\alpha\\,\\beta", "a+b-c"}) {
      INFO(ok);
      CHECK(lt::symbol_problem(ok).empty());
    }
  }
  SECTION("commands that read or write files or redefine TeX are refused by name") {
    const std::vector<std::pair<std::string, std::string>> refused{
        {"\\input{/etc/passwd}", "\\input"},
        {"\\include{x}", "\\include"},
        {"\\write18{ls}", "\\write"},
        {"\\read16 to\\x", "\\read"},
        {"\\openin1=x", "\\openin"},
        {"\\openout1=x", "\\openout"},
        {"\\catcode`\\@=11", "\\catcode"},
        {"\\def\\x{y}", "\\def"},
        {"\\csname x\\endcsname", "\\csname"},
        {"\\immediate\\write1{x}", "\\immediate"},
        {"\\special{x}", "\\special"},
        {"\\edef\\a{b}", "\\edef"},
        {"\\let\\a\\b", "\\let"},
        {"\\newcommand\\a{b}", "\\newcommand"},
        {"\\usepackage{x}", "\\usepackage"},
        {"\\begin{verbatim}", "\\begin"},
        {"\\pdffiledump{x}", "\\pdffiledump"},
        {"\\expandafter\\a", "\\expandafter"},
        {"\\scantokens{x}", "\\scantokens"},
        {"x_{\\input{y}}", "\\input"}};
    for (const auto& [bad, command] : refused) {
      INFO(bad);
      const std::string problem = lt::symbol_problem(bad);
      CHECK(problem.find("uses " + command + ",") != std::string::npos);
    }
  }
  SECTION("character-code escapes, unbalanced braces and math-mode breakers are refused") {
    CHECK(lt::symbol_problem("w^^5cinput").find("^^") != std::string::npos);
    CHECK(lt::symbol_problem("w_{1").find("without a matching") != std::string::npos);
    CHECK(lt::symbol_problem("w_1}").find("without a matching") != std::string::npos);
    CHECK(lt::symbol_problem("}{").find("without a matching") != std::string::npos);
    CHECK(lt::symbol_problem("a$b").find("$") != std::string::npos);
    CHECK(lt::symbol_problem("a&b").find("&") != std::string::npos);
    CHECK(lt::symbol_problem("a%b").find("%") != std::string::npos);
    CHECK(lt::symbol_problem("#1").find("#") != std::string::npos);
    CHECK(lt::symbol_problem("a\\\\b").find("line break") != std::string::npos);
    CHECK(lt::symbol_problem("a\nb").find("control character") != std::string::npos);
    CHECK(lt::symbol_problem("\xce\xb7").find("non-ASCII") != std::string::npos);
    CHECK(lt::symbol_problem("w_").find("nothing after") != std::string::npos);
    CHECK(lt::symbol_problem("").find("empty") != std::string::npos);
    CHECK(lt::symbol_problem("\\").find("backslash") != std::string::npos);
    CHECK(lt::symbol_problem("\\foo").find("not among the commands allowed") != std::string::npos);
  }
  SECTION("validate_symbol names the quantity") {
    CHECK_THROWS_WITH(lt::validate_symbol("w1", "\\input{x}"),
                      Catch::Contains("symbol for 'w1' uses \\input"));
    CHECK_NOTHROW(lt::validate_symbol("w1", "w_{1}"));
  }
}

TEST_CASE("superscripts never double up", "[latex][symbol]") {
  CHECK(lt::with_superscript("w_{5}", "+") == "w_{5}^{+}");
  CHECK(lt::with_superscript("w^{(1)}_{1}", "+") == "{w^{(1)}_{1}}^{+}");
  CHECK(lt::with_superscript("w'", "+") == "{w'}^{+}");
  CHECK(lt::with_superscript("\\hat{w}^{}_{1}", "+") == "{\\hat{w}^{}_{1}}^{+}");
  CHECK(lt::with_superscript("\\mathrm{x^2}", "+") == "\\mathrm{x^2}^{+}");  // braced ^ is inside
}

TEST_CASE("numbers are typeset from their digits", "[latex][numbers]") {
  SECTION("short numbers stay as the textbook prints them") {
    CHECK(lt::math_number("0.298371109") == "0.298371109");
    CHECK(lt::math_number("-0.019049118") == "-0.019049118");
    CHECK(lt::math_number("12") == "12");
    CHECK(lt::math_number("1.5e-12") == "1.5 \\times 10^{-12}");
    CHECK(lt::math_number("2E+05") == "2 \\times 10^{5}");
    CHECK_FALSE(lt::is_long_number("0.29837110876000"));
    CHECK(lt::is_long_number("0.298371108760002"));
  }
  SECTION("long numbers get digit groups with permitted breaks") {
    const std::string e = "0.298371108760002688607381947666064020977459990940463160928589";
    CHECK(lt::is_long_number(e));
    const std::string m = lt::math_number(e);
    CHECK(m.substr(0, 40) == "0.29837\\,\\allowbreak 11087\\,\\allowbreak ");
    // Every digit is there, in order.
    std::string digits;
    for (char c : m) {
      if ((c >= '0' && c <= '9') || c == '.') digits += c;
    }
    CHECK(digits == e);
    CHECK(lt::math_number("-123456789012345678.5") ==
          "-123\\,\\allowbreak 45678\\,\\allowbreak 90123\\,\\allowbreak 45678.5");
  }
  SECTION("a 1000-digit number has a break after every group") {
    const std::string e = "0." + std::string(1000, '7');
    const std::string m = lt::math_number(e);
    CHECK(latex_test::count(m, "\\allowbreak") == 199);
  }
  SECTION("a certified run's uncertified tail becomes \\ldots") {
    CHECK(lt::math_number("0.12\xE2\x80\xA6") == "0.12\\ldots");
    CHECK(lt::math_number("-4.2\xE2\x80\xA6"
                          "e-18") == "-4.2\\ldots \\times 10^{-18}");
    CHECK(lt::math_number("\xE2\x80\xA6") == "\\ldots");
    CHECK(lt::plot_number("0.12\xE2\x80\xA6") == "0.12");
    CHECK(lt::plot_number("\xE2\x80\xA6") == "nan");
    CHECK_THROWS_AS(lt::math_number("0.1\xE2\x80\xA6"
                                    "5"),
                    std::invalid_argument);
    CHECK_THROWS_AS(lt::math_number("-\xE2\x80\xA6"
                                    "e5"),
                    std::invalid_argument);
  }
  SECTION("anything else is refused") {
    CHECK_THROWS_AS(lt::math_number("abc"), std::invalid_argument);
    CHECK_THROWS_AS(lt::math_number("1.2.3"), std::invalid_argument);
    CHECK_THROWS_AS(lt::math_number("1e"), std::invalid_argument);
    CHECK_THROWS_AS(lt::math_number("\\input"), std::invalid_argument);
    CHECK_THROWS_AS(lt::math_number(""), std::invalid_argument);
  }
  SECTION("plot coordinates are cut, not re-read as binary") {
    CHECK(lt::plot_number("0.298371108760002688607381947666064020977459990940463160928589") ==
          "0.2983711");
    CHECK(lt::plot_number("-0.000012345678999") == "-0.000012345678");
    CHECK(lt::plot_number("123456789012.5") == "123456780000");
    CHECK(lt::plot_number("3.5e-7") == "3.5e-7");
    CHECK(lt::plot_number("0") == "0");
  }
}

namespace {

expr_node quantity(std::uint32_t q, std::string shown = {}) {
  expr_node n;
  n.kind = expr_kind::quantity;
  n.quantity = q;
  n.value = {shown, shown};
  return n;
}

expr_node apply(std::string op, std::string text, std::string latex, layout l, int precedence,
                std::vector<std::uint32_t> args) {
  expr_node n;
  n.kind = expr_kind::apply;
  n.op = std::move(op);
  n.text = std::move(text);
  n.latex = std::move(latex);
  n.notation = l;
  n.precedence = precedence;
  n.args = std::move(args);
  return n;
}

}  // namespace

TEST_CASE("formulas get parentheses only where needed", "[latex][formula]") {
  const std::vector<std::string> symbols{"a", "b", "c"};
  lt::formula_style latex;
  latex.symbols = &symbols;
  lt::formula_style text = latex;
  text.templates = lt::formula_style::form::text;

  SECTION("(a + b) * c") {
    expression e;
    e.nodes = {quantity(0, "0.5"), quantity(1, "-0.25"), quantity(2, "2"),
               apply("add", "#1 + #2", "#1 + #2", layout::infix, 1, {0, 1}),
               apply("mul", "#1*#2", "#1 \\cdot #2", layout::infix, 2, {3, 2})};
    CHECK(lt::render_formula(e, latex) == "\\left(a + b\\right) \\cdot c");
    CHECK(lt::render_formula(e, text) == "(a + b)*c");
    lt::formula_style numbers = text;
    numbers.numbers = true;
    CHECK(lt::render_formula(e, numbers) == "(0.5 + (-0.25))*2");
  }
  SECTION("negative numbers are bracketed as factors, not whole products") {
    expression e;
    e.nodes = {quantity(0, "-0.2"), quantity(1, "3"), quantity(2, "0.1"),
               apply("mul", "#1*#2", "#1 \\cdot #2", layout::infix, 2, {0, 1}),
               apply("add", "#1 + #2", "#1 + #2", layout::infix, 1, {2, 3})};
    lt::formula_style numbers = text;
    numbers.numbers = true;
    CHECK(lt::render_formula(e, numbers) == "0.1 + (-0.2)*3");
    numbers.templates = lt::formula_style::form::latex;
    CHECK(lt::render_formula(e, numbers) == "0.1 + \\left(-0.2\\right) \\cdot 3");
  }
  SECTION("a - (b - c) and a / (b * c), but no parentheses inside \\frac") {
    expression e;
    e.nodes = {quantity(0), quantity(1), quantity(2),
               apply("sub", "#1 - #2", "#1 - #2", layout::infix, 1, {1, 2}),
               apply("sub", "#1 - #2", "#1 - #2", layout::infix, 1, {0, 3})};
    CHECK(lt::render_formula(e, latex) == "a - \\left(b - c\\right)");
    expression d;
    d.nodes = {quantity(0), quantity(1), quantity(2),
               apply("mul", "#1*#2", "#1 \\cdot #2", layout::infix, 2, {1, 2}),
               apply("div", "#1/#2", "\\frac{#1}{#2}", layout::infix, 2, {0, 3})};
    CHECK(lt::render_formula(d, latex) == "\\frac{a}{b \\cdot c}");
    CHECK(lt::render_formula(d, text) == "a/(b*c)");
  }
  SECTION("powers parenthesise their base, function arguments need nothing") {
    expression e;
    e.nodes = {
        quantity(0), quantity(1), apply("sub", "#1 - #2", "#1 - #2", layout::infix, 1, {0, 1}),
        apply("sigmoid", "sigmoid(#1)", "\\sigma\\left(#1\\right)", layout::function, 5, {2})};
    CHECK(lt::render_formula(e, latex) == "\\sigma\\left(a - b\\right)");
    expression p;
    expr_node two;
    two.kind = expr_kind::literal;
    two.text = "2";
    p.nodes = {quantity(0), quantity(1),
               apply("sub", "#1 - #2", "#1 - #2", layout::infix, 1, {0, 1}), two,
               apply("pow", "#1^#2", "{#1}^{#2}", layout::infix, 4, {2, 3})};
    CHECK(lt::render_formula(p, latex) == "{\\left(a - b\\right)}^{2}");
    CHECK(lt::render_formula(p, text) == "(a - b)^2");
  }
  SECTION("linear LaTeX from the text templates, for lines that must break") {
    lt::formula_style inline_latex = latex;
    inline_latex.templates = lt::formula_style::form::inline_latex;
    expression e;
    e.nodes = {
        quantity(0), quantity(1),
        apply("pow'", "#2*#1^(#2 - (1 + 1))", "", layout::infix, 2, {0, 1}),
        apply("sigmoid", "sigmoid(#1)", "\\sigma\\left(#1\\right)", layout::function, 5, {2})};
    CHECK(lt::render_formula(e, inline_latex) == "\\sigma(b \\cdot a^{b - (1 + 1)})");
  }
  SECTION("sums split into terms for line breaking") {
    expression e;
    e.nodes = {quantity(0), quantity(1), quantity(2),
               apply("add", "#1 + #2", "#1 + #2", layout::infix, 1, {0, 1}),
               apply("sub", "#1 - #2", "#1 - #2", layout::infix, 1, {3, 2})};
    CHECK(lt::render_terms(e, latex) == std::vector<std::string>{"a", "+ b", "- c"});
  }
}
