// SPDX-License-Identifier: MIT
// The LaTeX worked example: content, compilation with pdflatex, the numbers in the PDF, fragments
// in Beamer, notations, long numbers and determinism.
#include <catch2/catch.hpp>
#include <string>

#include "chainrule/exporters/latex.hpp"
#include "chainrule/exporters/pdflatex.hpp"
#include "support.hpp"

using chainrule::exporters::compile_pdf_with_log;
using chainrule::exporters::latex_form;
using chainrule::exporters::latex_notation;
using chainrule::exporters::latex_options;
using chainrule::exporters::to_latex;
using latex_test::count;
using latex_test::squeeze;

namespace {

#define REQUIRE_PDFLATEX_OR_SKIP()                                                  \
  do {                                                                              \
    if (!latex_test::have_pdflatex()) {                                             \
      WARN("SKIP: pdflatex is not on PATH, so this LaTeX output was not compiled"); \
      return;                                                                       \
    }                                                                               \
  } while (false)

// Compiles, checks there were no overfull boxes (text running off the page) and returns the text.
std::string compile_and_read(const std::string& latex, const std::string& wrapper = {}) {
  chainrule::exporters::pdflatex_options options;
  std::string document = latex;
  if (!wrapper.empty()) {
    options.extra_files = {{"example.tex", latex}};
    document = wrapper;
  }
  const auto out = compile_pdf_with_log(document, options);
  CHECK(out.pdf.substr(0, 5) == "%PDF-");
  const std::size_t overfull = out.log.find("Overfull \\hbox");
  const std::string where =
      overfull == std::string::npos ? std::string() : out.log.substr(overfull, 600);
  INFO(where);
  CHECK(count(out.log, "Overfull \\hbox") == 0);
  return latex_test::pdf_text(out.pdf);
}

}  // namespace

TEST_CASE("Mazur's example in textbook order", "[latex][mazur]") {
  const auto doc = latex_test::mazur_document();
  const std::string tex = to_latex(doc, {});

  SECTION("a standalone document with display breaks allowed") {
    CHECK(tex.find("\\documentclass[11pt]{article}") != std::string::npos);
    CHECK(tex.find("\\usepackage{amsmath,amssymb}") != std::string::npos);
    CHECK(tex.find("\\allowdisplaybreaks") != std::string::npos);
    CHECK(tex.find("\\end{document}") != std::string::npos);
  }
  SECTION("sections in order") {
    const auto at = [&](const char* s) { return tex.find(s); };
    CHECK(at("Given values") < at("Forward pass"));
    CHECK(at("Forward pass") < at("The error"));
    CHECK(at("The error") < at("Backward pass"));
    CHECK(at("Backward pass") < at("\\subsection*{Updates}"));
    CHECK(at("\\subsection*{Updates}") < at("Error after the update"));
    CHECK(at("Update order: simultaneous") != std::string::npos);
  }
  SECTION("formulas, numbers substituted, results") {
    CHECK(tex.find("net_{h1} &= w_{1} \\cdot i_{1} + w_{2} \\cdot i_{2} + b_{1}\\\\\n"
                   "  &= 0.15 \\cdot 0.05 + 0.2 \\cdot 0.1 + 0.35\\\\\n"
                   "  &= 0.3775") != std::string::npos);
    CHECK(tex.find("\\frac{\\partial E_{total}}{\\partial w_{5}} &= "
                   "\\frac{\\partial E_{total}}{\\partial out_{o1}} \\cdot "
                   "\\frac{\\partial out_{o1}}{\\partial net_{o1}} \\cdot "
                   "\\frac{\\partial net_{o1}}{\\partial w_{5}}") != std::string::npos);
    // Each factor's own derivation.
    CHECK(tex.find("-\\left(0.01 - 0.75136507\\right)\\\\\n  &= 0.74136507") != std::string::npos);
    CHECK(tex.find("0.75136507 \\cdot \\left(1 - 0.75136507\\right)\\\\\n  &= 0.186815602") !=
          std::string::npos);
    CHECK(tex.find("&= 0.74136507 \\cdot 0.186815602 \\cdot 0.593269992\\\\\n  &= 0.082167041") !=
          std::string::npos);
    // The grouped sum for a hidden unit.
    CHECK(tex.find("\\frac{\\partial E_{total}}{\\partial out_{h1}} &= "
                   "\\frac{\\partial E_{o1}}{\\partial out_{h1}} + "
                   "\\frac{\\partial E_{o2}}{\\partial out_{h1}}") != std::string::npos);
    CHECK(tex.find("0.055399425 + (-0.019049118)\\\\\n  &= 0.036350306") != std::string::npos);
    // The update.
    CHECK(tex.find("w_{5}^{+} &= w_{5} - \\eta \\cdot \\frac{\\partial E_{total}}{\\partial "
                   "w_{5}}\\\\\n  &= 0.4 - 0.5 \\cdot 0.082167041\\\\\n  &= 0.35891648") !=
          std::string::npos);
  }
  SECTION("compiles, and the PDF shows the textbook's numbers") {
    REQUIRE_PDFLATEX_OR_SKIP();
    const std::string text = compile_and_read(tex);
    for (const char* n : {"0.298371109", "0.082167041", "0.35891648", "0.149780716", "0.291027774",
                          "0.74136507", "0.186815602", "0.036350306"}) {
      INFO(n);
      CHECK(text.find(n) != std::string::npos);
    }
  }
}

TEST_CASE("sequential updates state their order and recompute earlier gradients",
          "[latex][mazur]") {
  latex_test::mazur_run run;
  run.order = chainrule::update_order::sequential;
  const std::string tex = to_latex(latex_test::mazur_document(run), {});
  CHECK(tex.find("Update order: sequential") != std::string::npos);
  CHECK(tex.find("recomputed with the updated weights") != std::string::npos);
  REQUIRE_PDFLATEX_OR_SKIP();
  const std::string text = compile_and_read(tex);
  CHECK(text.find("0.291027924") != std::string::npos);  // the tutorial's quoted error
}

TEST_CASE("the fragment form goes into Beamer slides and handouts", "[latex][fragment]") {
  latex_options options;
  options.form = latex_form::fragment;
  latex_test::mazur_run run;
  run.steps = 3;
  const std::string tex = to_latex(latex_test::mazur_document(run), options);
  CHECK(tex.find("\\documentclass") == std::string::npos);
  CHECK(tex.find("\\begin{document}") == std::string::npos);
  CHECK(tex.find("\\section") == std::string::npos);  // not allowed inside frames
  CHECK(tex.find("\\toprule") == std::string::npos);  // booktabs may not be loaded
  CHECK(tex.find("\\csname @\\ifdefined\\pgfplotsversion firstofone\\else gobble\\fi") !=
        std::string::npos);
  REQUIRE_PDFLATEX_OR_SKIP();
  SECTION("Beamer, a frame with allowframebreaks") {
    const std::string text = compile_and_read(tex,
                                              "\\documentclass{beamer}\n"
                                              "\\begin{document}\n"
                                              "\\begin{frame}[allowframebreaks]{Worked example}\n"
                                              "\\input{example}\n"
                                              "\\end{frame}\n"
                                              "\\end{document}\n");
    CHECK(text.find("0.298371109") != std::string::npos);
  }
  SECTION("Beamer with pgfplots: the plot is drawn inside the frame") {
    (void)compile_and_read(tex,
                           "\\documentclass{beamer}\n"
                           "\\usepackage{pgfplots}\n"
                           "\\pgfplotsset{compat=1.18}\n"
                           "\\begin{document}\n"
                           "\\begin{frame}[allowframebreaks]{Worked example}\n"
                           "\\input{example}\n"
                           "\\end{frame}\n"
                           "\\end{document}\n");
  }
  SECTION("an article handout with pgfplots") {
    const std::string text = compile_and_read(tex,
                                              "\\documentclass{article}\n"
                                              "\\usepackage{amsmath}\n"
                                              "\\usepackage{pgfplots}\n"
                                              "\\pgfplotsset{compat=1.18}\n"
                                              "\\allowdisplaybreaks\n"
                                              "\\begin{document}\n"
                                              "\\input{example}\n"
                                              "\\end{document}\n");
    CHECK(text.find("0.298371109") != std::string::npos);
  }
}

TEST_CASE("the Beamer form is a sequence of frames", "[latex][beamer]") {
  latex_options options;
  options.form = latex_form::beamer;
  options.notation = latex_notation::layered;
  latex_test::mazur_run run;
  run.steps = 40;  // too long for one frame: Beamer fits about 16000pt into one
  const std::string tex = to_latex(latex_test::mazur_document(run), options);
  CHECK(tex.find("\\documentclass") == std::string::npos);
  CHECK(count(tex, "\\begin{frame}[allowframebreaks]") == count(tex, "\\end{frame}"));
  CHECK(tex.find("\\begin{frame}[allowframebreaks]{Gradient for $w^{(2)}_{11}$}") !=
        std::string::npos);
  REQUIRE_PDFLATEX_OR_SKIP();
  chainrule::exporters::pdflatex_options pdflatex;
  pdflatex.extra_files = {{"frames.tex", tex}};
  const auto out = compile_pdf_with_log(
      "\\documentclass{beamer}\n\\usepackage{pgfplots}\n\\pgfplotsset{compat=1.18}\n"
      "\\begin{document}\n\\input{frames}\n\\end{document}\n",
      pdflatex);
  CHECK(count(out.log, "Overfull \\vbox") == 0);  // no frame overflows
  CHECK(count(out.log, "Overfull \\hbox") == 0);
  const std::string text = latex_test::pdf_text(out.pdf);
  CHECK(text.find("0.069045516") != std::string::npos);  // the loss after 40 steps
}

TEST_CASE("several steps add the loss history as a table and a plot", "[latex][history]") {
  latex_test::mazur_run run;
  run.steps = 40;
  const std::string tex = to_latex(latex_test::mazur_document(run), {});
  CHECK(tex.find("\\subsection*{Loss history}") != std::string::npos);
  CHECK(tex.find("\\begin{axis}") != std::string::npos);
  CHECK(tex.find("(0,0.2983711)") != std::string::npos);
  CHECK(tex.find("(21 of 41 rows shown, evenly spaced.)") != std::string::npos);
  CHECK(tex.find("Iterations worked in full: 1 and 40") != std::string::npos);
  REQUIRE_PDFLATEX_OR_SKIP();
  const std::string text = compile_and_read(tex);
  CHECK(text.find("Loss history") != std::string::npos);
}

TEST_CASE("optimizer state updates are shown", "[latex][optimizer]") {
  latex_test::mazur_run run;
  run.optimizer = "adam";
  run.learning_rate = "0.1";
  run.steps = 2;
  const std::string tex = to_latex(latex_test::mazur_document(run), {});
  CHECK(tex.find("The update rule for every trained parameter") != std::string::npos);
  CHECK(tex.find("\\leftarrow") != std::string::npos);
  // State is named after the parameter's symbol in the document's notation.
  CHECK(tex.find("m_{w_{5}} &= \\beta_1 \\cdot m_{w_{5}}") != std::string::npos);
  latex_options layered;
  layered.notation = latex_notation::layered;
  CHECK(to_latex(latex_test::mazur_document(run), layered)
            .find("\\hat{m}_{w^{(2)}_{11}} &= \\frac{m_{w^{(2)}_{11}}}") != std::string::npos);
  REQUIRE_PDFLATEX_OR_SKIP();
  (void)compile_and_read(tex);
}

TEST_CASE("notations rename by role, not by name", "[latex][notation]") {
  const auto doc = latex_test::mazur_document();
  SECTION("layered") {
    latex_options options;
    options.notation = latex_notation::layered;
    const std::string tex = to_latex(doc, options);
    CHECK(tex.find("z^{(1)}_{1} &= w^{(1)}_{11} \\cdot x_{1} + w^{(1)}_{12} \\cdot x_{2} + "
                   "b^{(1)}") != std::string::npos);
    CHECK(tex.find("a^{(2)}_{1} &= \\sigma\\left(z^{(2)}_{1}\\right)") != std::string::npos);
    CHECK(tex.find("E_{1} &= 0.5 \\cdot {\\left(y_{1} - a^{(2)}_{1}\\right)}^{2}") !=
          std::string::npos);
    CHECK(tex.find("net_{h1}") == std::string::npos);
  }
  SECTION("ho") {
    latex_options options;
    options.notation = latex_notation::ho;
    const std::string tex = to_latex(doc, options);
    CHECK(tex.find("h_{1} &= \\sigma\\left(z^{h}_{1}\\right)") != std::string::npos);
    CHECK(tex.find("o_{2} &= \\sigma\\left(z^{o}_{2}\\right)") != std::string::npos);
    CHECK(tex.find("w^{o}_{21}") != std::string::npos);
  }
  SECTION("mazur on a model with other names") {
    auto renamed = doc;
    for (auto& q : renamed.quantities) {
      if (q.name == "out_h1") q.name = "a1";
      if (q.name == "net_h1") q.name = "z1";
      if (q.name == "w5") q.name = "v";
    }
    CHECK(to_latex(renamed, {}).find("a_{1} &= \\sigma\\left(z_{1}\\right)") != std::string::npos);
    latex_options options;
    options.notation = latex_notation::mazur;
    const std::string tex = to_latex(renamed, options);
    CHECK(tex.find("out_{h1} &= \\sigma\\left(net_{h1}\\right)") != std::string::npos);
    CHECK(tex.find("w_{5}^{+}") != std::string::npos);
    CHECK(tex.find("target_{o1}") != std::string::npos);
  }
  SECTION("every notation compiles") {
    REQUIRE_PDFLATEX_OR_SKIP();
    for (latex_notation n : {latex_notation::mazur, latex_notation::layered, latex_notation::ho}) {
      latex_options options;
      options.notation = n;
      INFO(chainrule::exporters::to_string(n));
      (void)compile_and_read(to_latex(doc, options));
    }
  }
}

TEST_CASE("model symbols override the defaults, and unsafe ones are refused", "[latex][symbol]") {
  auto doc = latex_test::mazur_document();
  for (auto& q : doc.quantities) {
    if (q.name == "w5") q.symbol = "\\omega_{5}";
  }
  CHECK(to_latex(doc, {}).find("\\omega_{5}^{+} &= \\omega_{5} - \\eta") != std::string::npos);
  for (auto& q : doc.quantities) {
    if (q.name == "w5") q.symbol = "\\input{/etc/passwd}";
  }
  CHECK_THROWS_WITH(to_latex(doc, {}), Catch::Contains("symbol for 'w5' uses \\input"));
}

TEST_CASE("titles are text, not LaTeX", "[latex][escape]") {
  latex_test::mazur_run run;
  run.title = "100% \\input{/etc/passwd} #1 $x$ {";
  const std::string tex = to_latex(latex_test::mazur_document(run), {});
  CHECK(tex.find("\\input{/etc/passwd}") == std::string::npos);
  CHECK(tex.find("100\\% \\textbackslash{}input\\{/etc/passwd\\} \\#1 \\$x\\$ \\{") !=
        std::string::npos);
  REQUIRE_PDFLATEX_OR_SKIP();
  const std::string text = compile_and_read(tex);
  CHECK(text.find("input{/etc/passwd}") != std::string::npos);  // printed, not executed
}

TEST_CASE("100 and 1000 digit numbers fit the page", "[latex][digits]") {
  SECTION("100 significant digits") {
    latex_test::mazur_run run;
    run.digits = 110;
    run.display = chainrule::number_format::significant(100);
    const std::string tex = to_latex(latex_test::mazur_document(run), {});
    CHECK(tex.find("\\allowbreak") != std::string::npos);
    REQUIRE_PDFLATEX_OR_SKIP();
    const std::string text = squeeze(compile_and_read(tex));
    // E_total and w5+ from mpmath (tests/reference/mazur.ref), 55 digits.
    CHECK(text.find("0.2983711087600026886073819476660640209774599909404631609") !=
          std::string::npos);
    CHECK(text.find("0.3589164797178846105767904832229468061473713985634748464") !=
          std::string::npos);
  }
  SECTION("1000 decimals") {
    latex_test::mazur_run run;
    run.digits = 1010;
    run.display = chainrule::number_format::decimals(1000);
    const std::string tex = to_latex(latex_test::mazur_document(run), {});
    REQUIRE_PDFLATEX_OR_SKIP();
    const std::string text = squeeze(compile_and_read(tex));
    CHECK(text.find("0.2983711087600026886073819476660640209774599909404631609") !=
          std::string::npos);
  }
}

TEST_CASE("output is deterministic", "[latex][determinism]") {
  latex_test::mazur_run run;
  run.steps = 5;
  const std::string a = to_latex(latex_test::mazur_document(run), {});
  const std::string b = to_latex(latex_test::mazur_document(run), {});
  CHECK(a == b);
  latex_options fragment;
  fragment.form = latex_form::fragment;
  CHECK(to_latex(latex_test::mazur_document(run), fragment) ==
        to_latex(latex_test::mazur_document(run), fragment));
  REQUIRE_PDFLATEX_OR_SKIP();
  CHECK(chainrule::exporters::compile_pdf(a) == chainrule::exporters::compile_pdf(b));
}
