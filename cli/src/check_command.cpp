// SPDX-License-Identifier: MIT
#include "check_command.hpp"

#include <algorithm>
#include <iostream>

#include <fmt/format.h>

#include "chainrule/exporters/latex_text.hpp"
#include "chainrule/exporters/output_file.hpp"
#include "chainrule/exporters/pdflatex.hpp"
#include "chainrule/lang/parser.hpp"

namespace chainrule::cli {
namespace {

namespace ex = chainrule::exporters;

std::string tt(std::string_view text) {
  return "\\texttt{" + ex::latex_text::escape_text(text) + "}";
}

std::string verdict_cell(check::verdict v) {
  switch (v) {
    case check::verdict::correct:
      return "correct";
    case check::verdict::drift:
      return "rounding drift";
    case check::verdict::wrong:
      return "\\textbf{wrong here}";
    case check::verdict::carried:
      return "follows from an earlier error";
  }
  return {};
}

}  // namespace

std::string feedback_sheet(const check::report& r) {
  std::string out;
  out +=
      "\\documentclass[11pt]{article}\n"
      "\\usepackage[T1]{fontenc}\n"
      "\\usepackage[margin=2cm]{geometry}\n"
      "\\usepackage{longtable}\n"
      "\\setlength{\\parindent}{0pt}\n"
      "\\begin{document}\n";
  out += fmt::format("\\section*{{Feedback: {}}}\n", ex::latex_text::escape_text(r.answers_file));
  out += fmt::format(
      "Checked against {} ({}{}). Each answer is compared at the number of "
      "decimals it was written with.\n\n",
      tt(r.model_file), ex::latex_text::escape_text(r.precision),
      r.update_order.empty()
          ? ""
          : ", " + ex::latex_text::escape_text(r.update_order) + " update order");
  out +=
      "\\begin{longtable}{rllll}\n"
      "line & answer & yours & right & verdict\\\\\n\\hline\n\\endhead\n";
  for (const check::checked_answer& c : r.answers) {
    out += fmt::format("{} & {} & {} & {} & {}\\\\\n", c.given.name_location.line, tt(c.key),
                       tt(c.given.number), tt(c.exact_rounded), verdict_cell(c.result));
  }
  out += "\\end{longtable}\n";

  bool details = false;
  for (const check::checked_answer& c : r.answers) {
    if (c.result == check::verdict::correct && c.notes.empty()) continue;
    if (!details) out += "\\subsection*{Details}\n\\begin{itemize}\n";
    details = true;
    out += fmt::format("\\item Line {}: {} = {} --- {}\n", c.given.name_location.line, tt(c.key),
                       tt(c.given.number), verdict_cell(c.result));
    out += "\\begin{itemize}\n";
    if (c.result != check::verdict::correct) {
      if (!c.formula.empty())
        out += fmt::format("\\item formula: {} = {}\n", tt(c.key), tt(c.formula));
      if (!c.formula_with_given.empty()) {
        out += fmt::format("\\item with your numbers: {} = {}\n", tt(c.formula_with_given),
                           tt(c.from_given));
      }
      out += fmt::format("\\item right value: {}\n", tt(c.exact_rounded));
      if (!c.explanation.empty()) {
        out += fmt::format("\\item {}: {}\n",
                           c.result == check::verdict::wrong ? "likely cause" : "why",
                           ex::latex_text::escape_text(c.explanation));
      }
    }
    for (const std::string& note : c.notes) {
      out += fmt::format("\\item note: {}\n", ex::latex_text::escape_text(note));
    }
    out += "\\end{itemize}\n";
  }
  if (details) out += "\\end{itemize}\n";
  if (!r.missing.empty()) {
    out += "\\subsection*{Not given (not counted)}\n";
    for (std::size_t i = 0; i < r.missing.size(); ++i)
      out += (i ? ", " : "") + tt(r.missing[i]);
    out += "\n";
  }
  const check::summary& s = r.totals;
  out += fmt::format(
      "\\subsection*{{Summary}}\n{} checked: {} correct, {} rounding drift, {} wrong here, {} "
      "following from an earlier error; {} not given.\n\n"
      "\\textbf{{Score: {}/{}}} (one mark per answer checked, except where an error was made; "
      "rounding drift and errors carried forward keep their marks).\n",
      s.checked, s.correct, s.drift, s.wrong, s.carried, s.missing, s.marks, s.checked);
  out += "\\end{document}\n";
  return out;
}

int check_command(const std::string& model_file, const std::string& answers_file,
                  const check_outputs& outputs, const run_limits& limits) {
  const loaded_model loaded = load_model(model_file, {}, limits);
  const check::answers_file answers = check::read_answers(answers_file);
  // The checker records only the updates the answers name (x@3 is update 3's x).
  lang::trace_setting answered{
      .first = false, .last = false, .all = false, .every = 0, .steps = {}};
  for (const check::answer& a : answers.answers) {
    if (a.key.iteration > 0) answered.steps.push_back(a.key.iteration);
  }
  std::sort(answered.steps.begin(), answered.steps.end());
  answered.steps.erase(std::unique(answered.steps.begin(), answered.steps.end()),
                       answered.steps.end());
  check_training_limits(loaded, answered, limits);
  const check::report r = check::check_answers(loaded.model, answers);

  ex::output_set files({model_file, answers_file});
  for (const std::string* path : {&outputs.json, &outputs.latex, &outputs.pdf}) {
    if (!path->empty()) files.check(*path);
  }
  if (!outputs.json.empty()) files.stage(outputs.json, check::to_json(r));
  if (!outputs.latex.empty()) files.stage(outputs.latex, feedback_sheet(r));
  if (!outputs.pdf.empty()) files.stage(outputs.pdf, ex::compile_pdf(feedback_sheet(r)));
  std::cout << check::to_text(r);
  const std::vector<std::filesystem::path> written = files.destinations();
  files.commit();
  for (const std::filesystem::path& p : written)
    std::cout << "wrote " << p.string() << '\n';
  std::cout.flush();
  return std::cout ? 0 : 1;
}

}  // namespace chainrule::cli
