// SPDX-License-Identifier: MIT
#include <algorithm>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "chainrule/check/check.hpp"

namespace chainrule::check {
namespace {

// Display width in code points (names may contain ∂).
std::size_t width(std::string_view s) {
  std::size_t n = 0;
  for (const char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

std::string pad(std::string_view s, std::size_t to) {
  std::string out(s);
  for (std::size_t w = width(s); w < to; ++w)
    out += ' ';
  return out;
}

std::string percent(std::size_t marks, std::size_t checked) {
  if (checked == 0) return "no answers";
  // Whole per cent, rounded half up, in integers: no floating point in a mark.
  const std::size_t p = (marks * 200 + checked) / (checked * 2);
  return fmt::format("{}%", p);
}

}  // namespace

std::string to_text(const report& r) {
  std::string out;
  out += fmt::format("Checking {} against {}\n", r.answers_file, r.model_file);
  out += fmt::format("({}{}; each answer compared at the decimals it was written with)\n\n",
                     r.precision,
                     r.update_order.empty() ? "" : ", " + r.update_order + " update order");

  std::size_t name_width = std::string_view("answer").size();
  std::size_t given_width = std::string_view("given").size();
  std::size_t right_width = std::string_view("right").size();
  for (const checked_answer& c : r.answers) {
    name_width = std::max(name_width, width(c.given.written));
    given_width = std::max(given_width, width(c.given.number));
    right_width = std::max(right_width, width(c.exact_rounded));
  }
  out += fmt::format("  line  {}  {}  {}  verdict\n", pad("answer", name_width),
                     pad("given", given_width), pad("right", right_width));
  for (const checked_answer& c : r.answers) {
    out += fmt::format("  {:>4}  {}  {}  {}  {}{}\n", c.given.name_location.line,
                       pad(c.given.written, name_width), pad(c.given.number, given_width),
                       pad(c.exact_rounded, right_width), describe(c.result),
                       c.notes.empty() ? "" : " (see notes)");
  }

  bool details = false;
  for (const checked_answer& c : r.answers) {
    if (c.result == verdict::correct && c.notes.empty()) continue;
    if (!details) out += "\nDetails\n-------\n";
    details = true;
    out += fmt::format("{}:{}: {} = {}: {}\n", r.answers_file, c.given.name_location.line,
                       c.given.written, c.given.number, describe(c.result));
    if (c.result != verdict::correct) {
      if (!c.formula.empty()) {
        out += fmt::format("    formula:           {} = {}\n", c.key, c.formula);
      }
      if (!c.formula_with_given.empty()) {
        out += fmt::format("    with your numbers: {} = {}\n", c.formula_with_given, c.from_given);
      }
      out +=
          fmt::format("    right value:       {} (exactly {})\n", c.exact_rounded, c.exact_shown);
      if (!c.explanation.empty()) {
        out += fmt::format("    {}{}\n",
                           c.result == verdict::wrong ? "likely cause: " : "why: ", c.explanation);
      } else if (c.result == verdict::wrong) {
        out += "    likely cause: not recognised\n";
      }
    }
    for (const std::string& note : c.notes)
      out += fmt::format("    note: {}\n", note);
  }

  if (!r.missing.empty()) {
    out += "\nNot given (not counted):\n ";
    std::size_t column = 1;
    for (std::size_t i = 0; i < r.missing.size(); ++i) {
      const std::string item = " " + r.missing[i] + (i + 1 < r.missing.size() ? "," : "");
      if (column + item.size() > 100) {
        out += "\n ";
        column = 1;
      }
      out += item;
      column += item.size();
    }
    out += '\n';
  }
  const summary& s = r.totals;
  out += fmt::format(
      "\nSummary: {} checked: {} correct, {} rounding drift, {} wrong here, {} follow{} from an "
      "earlier error; {} not given\n",
      s.checked, s.correct, s.drift, s.wrong, s.carried, s.carried == 1 ? "s" : "", s.missing);
  out += fmt::format(
      "Score: {}/{} = {} (one mark per answer checked, except where an error was made; rounding "
      "drift and errors carried forward keep their marks)\n",
      s.marks, s.checked, percent(s.marks, s.checked));
  return out;
}

std::string to_json(const report& r) {
  using json = nlohmann::ordered_json;
  json j;
  j["model"] = r.model_file;
  j["answers_file"] = r.answers_file;
  j["precision"] = r.precision;
  j["update_order"] = r.update_order;
  json items = json::array();
  for (const checked_answer& c : r.answers) {
    json a;
    a["line"] = c.given.name_location.line;
    a["written"] = c.given.written;
    a["key"] = c.key;
    a["given"] = c.given.number;
    a["right"] = c.exact_rounded;
    a["exact"] = c.exact_shown;
    a["verdict"] = std::string(to_string(c.result));
    a["formula"] = c.formula;
    a["with_given"] = c.formula_with_given;
    a["from_given"] = c.from_given;
    a["explanation"] = c.explanation;
    if (c.origin) {
      a["origin_line"] = r.answers[*c.origin].given.name_location.line;
    } else {
      a["origin_line"] = nullptr;
    }
    a["notes"] = c.notes;
    items.push_back(std::move(a));
  }
  j["answers"] = std::move(items);
  j["missing"] = r.missing;
  const summary& s = r.totals;
  j["summary"] = {{"checked", s.checked},     {"correct", s.correct}, {"drift", s.drift},
                  {"wrong", s.wrong},         {"carried", s.carried}, {"missing", s.missing},
                  {"notes", s.working_notes}, {"marks", s.marks},     {"out_of", s.checked}};
  return j.dump(2) + "\n";
}

}  // namespace chainrule::check
