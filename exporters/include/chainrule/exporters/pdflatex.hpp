// SPDX-License-Identifier: MIT
// Compiling a LaTeX document to PDF with pdflatex, safely and without leaving files behind.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace chainrule::exporters {

/// pdflatex could not be run or the document did not compile. what() is the full message,
/// including the relevant lines of the LaTeX log.
class pdflatex_error : public std::runtime_error {
 public:
  pdflatex_error(const std::string& message, std::string log_excerpt)
      : std::runtime_error(message), log_excerpt_(std::move(log_excerpt)) {}
  /// The lines of the LaTeX log that explain the failure (empty if pdflatex never ran).
  [[nodiscard]] const std::string& log_excerpt() const noexcept { return log_excerpt_; }

 private:
  std::string log_excerpt_;
};

struct pdflatex_options {
  /// The program to run: a bare name is looked up on PATH, a name with a '/' is used as is.
  std::string program = "pdflatex";
  /// pdflatex is run again (up to this many times in all) while its log asks for a rerun.
  int max_runs = 3;
  /// A single pdflatex run taking longer is stopped and reported as an error.
  std::chrono::seconds timeout{120};
  /// Name of the .tex file inside the temporary directory (shown in error messages).
  std::string job_name = "chainrule";
  /// Further files (name, contents) put beside the document, for example a fragment it
  /// `\input`s. Names must be plain file names without '/' and not start with '.'.
  std::vector<std::pair<std::string, std::string>> extra_files;
};

/// Where `program` would be run from: itself if it contains a '/', else the first executable
/// file of that name on PATH. std::nullopt when there is none.
[[nodiscard]] std::optional<std::filesystem::path> find_program(std::string_view program);

/// What a successful compilation produced.
struct pdflatex_output {
  std::string pdf;  ///< the bytes of the PDF
  std::string log;  ///< the LaTeX log of the last run (warnings such as overfull boxes)
};

/// Compiles a complete LaTeX document and returns the bytes of the PDF.
///
/// pdflatex runs as `pdflatex -no-shell-escape -halt-on-error -interaction=nonstopmode` in a
/// fresh temporary directory, with TeX's file access restricted to that directory
/// (openin_any/openout_any = p), stdin closed, and is rerun while the log asks for it. The
/// directory is removed afterwards whatever happens. Throws pdflatex_error when pdflatex is not
/// found, does not finish within the timeout, or fails; the message quotes the error lines of
/// the log and the offending line of the document.
[[nodiscard]] std::string compile_pdf(std::string_view latex_document,
                                      const pdflatex_options& options = {});

/// compile_pdf(), also returning the log of the last run.
[[nodiscard]] pdflatex_output compile_pdf_with_log(std::string_view latex_document,
                                                   const pdflatex_options& options = {});

/// The error lines of a pdflatex log: each `! ...` message with the lines up to and including
/// its `l.NN` context line, and LaTeX warnings about undefined references. At most `max_lines`.
[[nodiscard]] std::string log_excerpt(std::string_view log, std::size_t max_lines = 30);

}  // namespace chainrule::exporters
