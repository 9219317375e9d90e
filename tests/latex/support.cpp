// SPDX-License-Identifier: MIT
#include "support.hpp"

#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "chainrule/exporters/pdflatex.hpp"
#include "chainrule/trace/train.hpp"
#include "support/mazur.hpp"

namespace latex_test {

chainrule::trace::document mazur_document(const mazur_run& run) {
  using chainrule::mp_real;
  chainrule::graph<mp_real> g(run.digits);
  const auto net = chainrule::testing::build_mazur(g);
  chainrule::trace::run_options options;
  options.record.title = run.title;
  options.record.source = "mazur.chain";
  options.record.display = run.display;
  options.record.targets = {net.t1.id(), net.t2.id()};
  options.optimizer = {run.optimizer, {{"lr", run.learning_rate}}};
  options.steps = run.steps;
  options.order = run.order;
  return chainrule::trace::run(g, net.E_total.id(), options);
}

bool have_pdflatex() {
  return chainrule::exporters::find_program("pdflatex").has_value();
}

std::string pdf_text(const std::string& pdf) {
  std::string pattern = (std::filesystem::temp_directory_path() / "chainrule-test-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  const std::filesystem::path directory = pattern;
  const std::filesystem::path file = directory / "document.pdf";
  {
    std::ofstream out(file, std::ios::binary);
    out.write(pdf.data(), static_cast<std::streamsize>(pdf.size()));
  }
  // The path is our own mkdtemp directory: no quoting problems.
  const std::string command = "pdftotext -enc UTF-8 '" + file.string() + "' -";
  std::string text;
  if (FILE* pipe = ::popen(command.c_str(), "r")) {
    char buffer[4096];
    std::size_t n = 0;
    while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0)
      text.append(buffer, n);
    ::pclose(pipe);
  }
  std::filesystem::remove_all(directory);
  return text;
}

std::string squeeze(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c != ' ' && c != '\n' && c != '\t' && c != '\f' && c != '\r') out += c;
  }
  return out;
}

std::size_t count(std::string_view haystack, std::string_view needle) {
  std::size_t n = 0;
  for (std::size_t at = haystack.find(needle); at != std::string_view::npos;
       at = haystack.find(needle, at + needle.size())) {
    ++n;
  }
  return n;
}

}  // namespace latex_test
