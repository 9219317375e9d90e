// SPDX-License-Identifier: MIT
// Helpers for the LaTeX exporter tests: traced Mazur documents, and reading PDFs back as text.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "chainrule/engine/engine.hpp"
#include "chainrule/engine/optimizer.hpp"
#include "chainrule/trace/document.hpp"

namespace latex_test {

struct mazur_run {
  unsigned digits = 50;
  chainrule::number_format display = chainrule::number_format::decimals(9);
  std::uint64_t steps = 1;
  chainrule::update_order order = chainrule::update_order::simultaneous;
  std::string optimizer = "sgd";
  std::string learning_rate = "0.5";
  std::string title = "A step by step backpropagation example";
};

/// Matt Mazur's 2-2-2 network trained as `run` says and traced (first and last iteration).
[[nodiscard]] chainrule::trace::document mazur_document(const mazur_run& run = {});

/// True when pdflatex is on PATH. When it is not, tests that need it WARN a SKIP line instead of
/// failing (it is installed wherever the suite normally runs).
[[nodiscard]] bool have_pdflatex();

/// The text of a PDF, via pdftotext.
[[nodiscard]] std::string pdf_text(const std::string& pdf);

/// `s` without any whitespace, so that digit groups and line breaks do not matter.
[[nodiscard]] std::string squeeze(std::string_view s);

/// How many times `needle` occurs in `haystack`.
[[nodiscard]] std::size_t count(std::string_view haystack, std::string_view needle);

}  // namespace latex_test
