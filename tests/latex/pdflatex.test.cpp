// SPDX-License-Identifier: MIT
// Running pdflatex: confinement, error reports, missing program, leftovers.
#include <stdlib.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

#include "chainrule/exporters/pdflatex.hpp"
#include "support.hpp"

using chainrule::exporters::compile_pdf;
using chainrule::exporters::pdflatex_error;
using chainrule::exporters::pdflatex_options;

namespace {

// Points TMPDIR at a private directory for the test's lifetime, so that what pdflatex runs
// leave behind can be counted without seeing other processes' files.
class private_tmpdir {
 public:
  private_tmpdir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "chainrule-test-tmp-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
    if (const char* old = std::getenv("TMPDIR")) previous_ = old;
    ::setenv("TMPDIR", path_.c_str(), 1);
  }
  ~private_tmpdir() {
    if (previous_) {
      ::setenv("TMPDIR", previous_->c_str(), 1);
    } else {
      ::unsetenv("TMPDIR");
    }
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  private_tmpdir(const private_tmpdir&) = delete;
  private_tmpdir& operator=(const private_tmpdir&) = delete;

  [[nodiscard]] std::size_t entries() const {
    return static_cast<std::size_t>(std::distance(std::filesystem::directory_iterator(path_),
                                                  std::filesystem::directory_iterator()));
  }

 private:
  std::filesystem::path path_;
  std::optional<std::string> previous_;
};

}  // namespace

TEST_CASE("a missing pdflatex is reported clearly", "[pdflatex]") {
  pdflatex_options options;
  options.program = "chainrule-no-such-latex";
  CHECK_THROWS_WITH(compile_pdf("\\documentclass{article}", options),
                    Catch::Contains("chainrule-no-such-latex was not found on PATH") &&
                        Catch::Contains("install TeX Live"));
  options.program = "/nonexistent/pdflatex";
  CHECK_THROWS_WITH(compile_pdf("x", options),
                    Catch::Contains("/nonexistent/pdflatex was not found"));
}

TEST_CASE("pdflatex runs confined and reports errors with the log", "[pdflatex]") {
  if (!latex_test::have_pdflatex()) {
    WARN("SKIP: pdflatex is not on PATH");
    return;
  }
  const private_tmpdir tmp;
  SECTION("a good document") {
    const std::string pdf =
        compile_pdf("\\documentclass{article}\\begin{document}$x^2$\\end{document}\n");
    CHECK(pdf.substr(0, 5) == "%PDF-");
    CHECK(latex_test::pdf_text(pdf).find("x2") != std::string::npos);
  }
  SECTION("an error quotes the log and the offending line") {
    try {
      (void)compile_pdf(
          "\\documentclass{article}\n\\begin{document}\nfine\n$\\nosuchmacro$\n"
          "\\end{document}\n");
      FAIL("expected a pdflatex_error");
    } catch (const pdflatex_error& e) {
      const std::string what = e.what();
      CHECK(what.find("! Undefined control sequence.") != std::string::npos);
      CHECK(what.find("line 4 of the generated LaTeX: $\\nosuchmacro$") != std::string::npos);
      CHECK(e.log_excerpt().find("l.4") != std::string::npos);
    }
  }
  SECTION("files outside the working directory cannot be read") {
    CHECK_THROWS_WITH(compile_pdf("\\documentclass{article}\\begin{document}\n"
                                  "\\input{/etc/hostname}\n\\end{document}\n"),
                      Catch::Contains("not found"));
  }
  SECTION("shell escape is off") {
    const std::string pdf = compile_pdf(
        "\\documentclass{article}\\begin{document}\n"
        "\\immediate\\write18{touch chainrule-shell-escape-ran}\\IfFileExists{chainrule-shell-"
        "escape-ran}{RAN}{SAFE}\n\\end{document}\n");
    CHECK(latex_test::pdf_text(pdf).find("SAFE") != std::string::npos);
  }
  SECTION("a run that does not finish is stopped") {
    pdflatex_options options;
    options.timeout = std::chrono::seconds(2);
    CHECK_THROWS_WITH(compile_pdf("\\documentclass{article}\\begin{document}\n"
                                  "\\def\\x{\\x}\\x\n\\end{document}\n",
                                  options),
                      Catch::Contains("did not finish within 2 s"));
  }
  CHECK(tmp.entries() == 0);  // every run removed its directory
}

TEST_CASE("log excerpts pick the error lines", "[pdflatex]") {
  const std::string log =
      "This is pdfTeX\n(./chainrule.tex\nLaTeX Warning: Reference `x' on page 1 undefined.\n"
      "! Missing $ inserted.\n<inserted text> \n                $\nl.12 a_b\n          \n"
      "more\n";
  const std::string excerpt = chainrule::exporters::log_excerpt(log);
  CHECK(excerpt ==
        "LaTeX Warning: Reference `x' on page 1 undefined.\n! Missing $ inserted.\n"
        "<inserted text> \n                $\nl.12 a_b\n          \n");
  CHECK(chainrule::exporters::log_excerpt("no errors\nat all\n") == "no errors\nat all\n");
}
