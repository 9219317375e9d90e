// SPDX-License-Identifier: MIT
// Every model in examples/ becomes LaTeX that pdflatex compiles (standalone, and as a fragment
// in Beamer), run through the same pipeline as the `chainrule` command.
#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "chainrule/exporters/latex.hpp"
#include "chainrule/exporters/pdflatex.hpp"
#include "chainrule/exporters/text.hpp"
#include "pipeline.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
namespace ex = chainrule::exporters;

namespace {

std::vector<fs::path> example_models() {
  std::vector<fs::path> models;
  for (const auto& entry : fs::directory_iterator(fs::path(CHAINRULE_SOURCE_DIR) / "examples")) {
    if (entry.path().extension() == ".chain") models.push_back(entry.path());
  }
  std::sort(models.begin(), models.end());
  return models;
}

}  // namespace

TEST_CASE("every example compiles with pdflatex", "[latex][examples]") {
  const std::vector<fs::path> models = example_models();
  REQUIRE(models.size() >= 3);
  const bool pdflatex = latex_test::have_pdflatex();
  if (!pdflatex) WARN("SKIP: pdflatex is not on PATH, so the examples' LaTeX was not compiled");
  for (const fs::path& model : models) {
    INFO(model.string());
    const auto run = chainrule::cli::run_model(model, {}, std::nullopt);
    for (ex::latex_notation notation : {ex::latex_notation::model, ex::latex_notation::mazur}) {
      ex::latex_options options;
      options.notation = notation;
      const std::string tex = ex::to_latex(run.document, options);
      CHECK(tex == ex::to_latex(run.document, options));  // deterministic
      if (!pdflatex) continue;
      const auto out = ex::compile_pdf_with_log(tex);
      CHECK(latex_test::count(out.log, "Overfull \\hbox") == 0);
      if (model.filename() == "mazur.chain" && notation == ex::latex_notation::model) {
        const std::string text = latex_test::pdf_text(out.pdf);
        for (const char* n :
             {"0.298371109", "0.082167041", "0.35891648", "0.149780716", "0.291027774"}) {
          INFO(n);
          CHECK(text.find(n) != std::string::npos);
        }
      }
      // `show` lines: Mazur's dE_total/dw5 and the mpmath second derivative (show.ref,
      // -6.04309310403552e-6) as the file's 9 decimals print it.
      if (model.filename() == "mazur_derivatives.chain") {
        const std::string text = latex_test::pdf_text(out.pdf);
        for (const char* n : {"Derivatives", "0.082167041", "0.74136507", "0.000006043"}) {
          INFO(n);
          CHECK(text.find(n) != std::string::npos);
        }
      }
    }
    if (!pdflatex) continue;
    // One Beamer frame holds at most about 16000pt (latex.hpp); the digits classifier's table of
    // 2,410 given parameters alone is longer, so it is compiled above as an article only.
    if (model.filename() == "digits.chain") continue;
    ex::latex_options fragment;
    fragment.form = ex::latex_form::fragment;
    ex::pdflatex_options beamer;
    beamer.extra_files = {{"example.tex", ex::to_latex(run.document, fragment)}};
    CHECK_NOTHROW(
        ex::compile_pdf("\\documentclass{beamer}\n\\begin{document}\n"
                        "\\begin{frame}[allowframebreaks]{Example}\n\\input{example}\n"
                        "\\end{frame}\n\\end{document}\n",
                        beamer));
  }
}

TEST_CASE("the examples at 100 and 1000 digits", "[latex][examples][digits]") {
  if (!latex_test::have_pdflatex()) {
    WARN("SKIP: pdflatex is not on PATH");
    return;
  }
  const fs::path mazur = fs::path(CHAINRULE_SOURCE_DIR) / "examples" / "mazur.chain";
  chainrule::cli::number_settings hundred;
  hundred.precision = "110";
  hundred.digits = 100;
  const auto out = ex::compile_pdf_with_log(
      ex::to_latex(chainrule::cli::run_model(mazur, hundred, std::nullopt).document));
  CHECK(latex_test::count(out.log, "Overfull \\hbox") == 0);
  const std::string text = latex_test::squeeze(latex_test::pdf_text(out.pdf));
  CHECK(text.find("0.2983711087600026886073819476660640209774599909404631609") !=
        std::string::npos);

  chainrule::cli::number_settings thousand;
  thousand.precision = "1010";
  thousand.decimals = 1000;
  const auto big = ex::compile_pdf_with_log(
      ex::to_latex(chainrule::cli::run_model(mazur, thousand, std::nullopt).document));
  CHECK(latex_test::count(big.log, "Overfull \\hbox") == 0);
}

TEST_CASE("early stopping in the text and LaTeX worked examples", "[latex][text][validation]") {
  const fs::path model = fs::path(CHAINRULE_SOURCE_DIR) / "examples" / "early_stopping.chain";
  const chainrule::trace::document doc =
      chainrule::cli::run_model(model, {}, std::nullopt).document;
  const std::string latex = ex::to_latex(doc);
  const auto has = [](const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
  };
  // The stop is at update 96 of 6000 with the best at 36 (tests/reference/validation.ref).
  const std::string sentence =
      "topped early at update 96: no improvement for 5 validations since update 36.";
  CHECK(has(latex, "\\subsection*{Validation on held}"));
  CHECK(has(latex, "Update & Epoch & Training $E$ & Validation $E$ & Best \\\\"));
  CHECK(has(latex, "36 & 3 & "));
  CHECK(has(latex, "S" + sentence));
  CHECK(has(latex, "\\addlegendentry{training}"));
  CHECK(has(latex, "\\addlegendentry{validation}"));
  CHECK(has(latex, "After update 96 the parameters of update 36 were restored"));
  const std::string text = ex::to_text(doc);
  CHECK(has(text, "Validation on held (4 rows)\n"));
  CHECK(has(text, "  update  epoch  training E   validation E  best\n"));
  CHECK(has(text, "  S" + sentence + "\n"));
  CHECK(has(text, "Validation: on held (4 rows) every 12 updates, patience 5, restore best; s" +
                      sentence.substr(0, sentence.size() - 1) + "\n"));
}
