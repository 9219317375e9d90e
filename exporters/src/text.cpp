// SPDX-License-Identifier: MIT
#include "chainrule/exporters/text.hpp"

#include <algorithm>
#include <cctype>
#include <optional>
#include <set>
#include <tuple>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "chainrule/exporters/latex_text.hpp"

namespace chainrule::exporters {
namespace {

namespace lt = latex_text;
using trace::quantity_index;
using trace::quantity_kind;

// Text from the model (title, file name) with control characters, which could move the cursor
// or recolour the terminal, replaced.
std::string printable(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    const auto byte = static_cast<unsigned char>(c);
    out += (byte < 0x20 || byte == 0x7F) ? '?' : c;
  }
  return out;
}

// Display width of UTF-8 text: one column per code point (continuation bytes do not count).
std::size_t columns(std::string_view s) {
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::string pad(std::string_view s, std::size_t width) {
  std::string out(s);
  const std::size_t w = columns(s);
  if (w < width) out.append(width - w, ' ');
  return out;
}

std::string join(const std::vector<std::string>& pieces) {
  std::string out;
  for (const std::string& p : pieces) {
    if (!out.empty()) out += ' ';
    out += p;
  }
  return out;
}

// Rows evenly spaced over n, always with the first and the last.
std::vector<std::size_t> pick_rows(std::size_t n, std::size_t wanted) {
  std::vector<std::size_t> rows;
  if (n <= wanted || wanted < 2) {
    for (std::size_t i = 0; i < n; ++i)
      rows.push_back(i);
    return rows;
  }
  for (std::size_t k = 0; k < wanted; ++k) {
    const std::size_t i = k * (n - 1) / (wanted - 1);
    if (rows.empty() || rows.back() != i) rows.push_back(i);
  }
  return rows;
}

// One right-hand side of a derivation, as the pieces a long line may be broken between
// ("w1*x1", "+ w2*x2", ...).
using text_row = std::vector<std::string>;

class text_writer {
 public:
  text_writer(const trace::document& doc, const text_options& options)
      : doc_(doc), options_(options) {
    names_.reserve(doc.quantities.size());
    for (quantity_index i = 0; i < doc.quantities.size(); ++i) {
      const trace::quantity& q = doc.quantities[i];
      if (!q.name.empty()) {
        names_.push_back(printable(q.name));
      } else if (!q.source.empty()) {
        names_.push_back(q.source);
      } else {
        names_.push_back(trace::display_name(doc, i));
      }
    }
  }

  std::string run();

 private:
  void heading(std::string_view title, char underline);
  void line(std::string_view s) {
    out_ += s;
    out_ += '\n';
  }
  /// lhs = rows[0] = rows[1] ... on one line if it fits, else one `=` per line, aligned.
  void derivation(std::string_view indent, const std::string& lhs,
                  const std::vector<text_row>& rows);
  [[nodiscard]] lt::formula_style style(bool numbers) const;
  [[nodiscard]] std::vector<text_row> formula_rows(const trace::expression& e) const;
  [[nodiscard]] std::string name(quantity_index q) const {
    return q < names_.size() ? names_[q] : trace::display_name(doc_, q);
  }
  [[nodiscard]] std::string derivative(const trace::derivative& d) const;
  void table(std::string_view indent, const std::vector<std::vector<std::string>>& rows,
             const std::vector<bool>& right_aligned);

  void summary();
  void given(const trace::snapshot& values, std::string_view title);
  void forward(const trace::iteration& it);
  void gradient(const trace::gradient_step& step, std::string_view title);
  void backward(const trace::iteration& it);
  void batch(const trace::iteration& it);
  void updates(const trace::iteration& it);
  void values_and_gradients(const trace::iteration& it);
  void error_after(const trace::iteration& it);
  void loss_history();
  void validation();
  void evaluation(const trace::evaluation& e);
  void derivatives();

  const trace::document& doc_;
  const text_options& options_;
  std::vector<std::string> names_;
  std::set<std::tuple<quantity_index, quantity_index, std::int64_t, std::string>> derived_;
  std::string out_;
};

lt::formula_style text_writer::style(bool numbers) const {
  lt::formula_style s;
  s.templates = lt::formula_style::form::text;
  s.numbers = numbers;
  s.symbols = &names_;
  s.loss = doc_.loss;
  return s;
}

std::vector<text_row> text_writer::formula_rows(const trace::expression& e) const {
  std::vector<text_row> rows;
  if (e.empty()) return rows;
  rows.push_back(lt::render_terms(e, style(false)));
  if (e.nodes.size() > 1) rows.push_back(lt::render_terms(e, style(true)));
  return rows;
}

std::string text_writer::derivative(const trace::derivative& d) const {
  std::string s = lt::derivative_symbol(name(d.of), name(d.wrt), lt::formula_style::form::text);
  if (d.via && d.via_needed) s += " (via " + name(*d.via) + ")";
  return s;
}

void text_writer::heading(std::string_view title, char underline) {
  if (!out_.empty()) out_ += '\n';
  line(title);
  line(std::string(columns(title), underline));
}

void text_writer::derivation(std::string_view indent, const std::string& lhs,
                             const std::vector<text_row>& given_rows) {
  // Drop a row that repeats the one before it (`= 0.05` after `= 0.05`).
  std::vector<text_row> rows;
  for (const text_row& r : given_rows) {
    if (rows.empty() || rows.back() != r) rows.push_back(r);
  }
  std::string one_line = std::string(indent) + lhs;
  for (const text_row& r : rows)
    one_line += " = " + join(r);
  if (columns(one_line) <= options_.width) {
    line(one_line);
    return;
  }
  // One '=' per line, aligned under the first; a row still too wide is broken between its
  // terms, the continuation indented past the '='.
  const std::string continuation = std::string(indent) + std::string(columns(lhs), ' ');
  const std::string wrapped = continuation + "     ";
  for (std::size_t k = 0; k < rows.size(); ++k) {
    std::string current = (k == 0 ? std::string(indent) + lhs : continuation) + " =";
    bool first_piece = true;
    for (const std::string& piece : rows[k]) {
      if (!first_piece && columns(current) + 1 + columns(piece) > options_.width) {
        line(current);
        current = wrapped;
      } else {
        current += ' ';
      }
      current += piece;
      first_piece = false;
    }
    line(current);
  }
}

void text_writer::table(std::string_view indent, const std::vector<std::vector<std::string>>& rows,
                        const std::vector<bool>& right_aligned) {
  std::vector<std::size_t> widths;
  for (const auto& r : rows) {
    if (widths.size() < r.size()) widths.resize(r.size(), 0);
    for (std::size_t c = 0; c < r.size(); ++c)
      widths[c] = std::max(widths[c], columns(r[c]));
  }
  for (const auto& r : rows) {
    std::string s(indent);
    for (std::size_t c = 0; c < r.size(); ++c) {
      const bool last = c + 1 == r.size();
      const bool right = c < right_aligned.size() && right_aligned[c];
      const std::size_t w = columns(r[c]);
      if (right && w < widths[c]) s.append(widths[c] - w, ' ');
      s += last && !right ? r[c] : (right ? r[c] : pad(r[c], widths[c]));
      if (!last) s += "  ";
    }
    while (!s.empty() && s.back() == ' ')
      s.pop_back();
    line(s);
  }
}

void text_writer::summary() {
  const trace::settings& c = doc_.config;
  heading(printable(doc_.title.empty() ? "Worked backpropagation example" : doc_.title), '=');
  if (!doc_.source.empty()) line("Model:      " + printable(doc_.source));
  std::string rounding = c.display.rounding;
  std::replace(rounding.begin(), rounding.end(), '_', ' ');
  line(fmt::format("Precision:  {}; numbers shown rounded to {} ({})", c.precision,
                   c.display.description, rounding));
  if (!c.certification.empty()) line("Certified:  " + printable(c.certification));
  if (!c.optimizer.name.empty()) {
    std::string o = "Optimizer:  " + c.optimizer.name;
    if (!c.optimizer.hyper.empty()) {
      o += " (";
      for (std::size_t k = 0; k < c.optimizer.hyper.size(); ++k) {
        if (k > 0) o += ", ";
        const trace::hyper_parameter& h = c.optimizer.hyper[k];
        o += h.name + " = " + (h.source.empty() ? h.value.shown : h.source);
      }
      o += ")";
    }
    o += fmt::format("; {} {}; update order: {}", c.steps, c.steps == 1 ? "update" : "updates",
                     c.update_order);
    line(o);
    if (c.data_rows != 0) {
      line(
          c.batch_size <= 1
              ? fmt::format("Data:       {} rows, one row per update", c.data_rows)
              : fmt::format("Data:       {} rows, batches of {} rows ({}), gradients and losses {}",
                            c.data_rows, c.batch_size,
                            c.batch_size >= c.data_rows ? "full batch" : "mini-batches",
                            c.batch_reduction == "mean" ? "averaged" : "summed"));
    }
    if (doc_.validation) {
      const trace::validation_run& v = *doc_.validation;
      std::string l =
          fmt::format("Validation: on {} ({} {}) every {} {}", v.data_set, v.rows,
                      v.rows == 1 ? "row" : "rows", v.every, v.every == 1 ? "update" : "updates");
      if (v.patience != 0) l += fmt::format(", patience {}", v.patience);
      if (v.restore_best) l += ", restore best";
      line(l + "; " + trace::stopping_sentence(v, c.steps));
    }
    if (c.steps > doc_.iterations.size() && !doc_.iterations.empty()) {
      std::string shown;
      for (std::size_t k = 0; k < doc_.iterations.size(); ++k) {
        if (k > 0) shown += ", ";
        shown += std::to_string(doc_.iterations[k].index);
      }
      line("Traced:     iterations " + shown +
           (c.traced_description.empty() ? std::string() : " (" + c.traced_description + ")"));
    }
  }
}

void text_writer::given(const trace::snapshot& values, std::string_view title) {
  heading(title, '-');
  std::vector<std::vector<std::string>> rows;
  for (quantity_index g : doc_.given) {
    if (g >= doc_.quantities.size()) continue;
    rows.push_back({name(g), std::string(trace::to_string(doc_.quantities[g].kind)),
                    g < values.values.size() ? values.values[g].shown : std::string()});
  }
  table("  ", rows, {false, false, false});
}

void text_writer::forward(const trace::iteration& it) {
  const bool has_targets =
      std::any_of(doc_.quantities.begin(), doc_.quantities.end(),
                  [](const trace::quantity& q) { return q.kind == quantity_kind::target; });
  // Quantities computed from a target, and the loss, are "the error".
  std::vector<bool> uses_target(doc_.quantities.size(), false);
  for (quantity_index i = 0; i < doc_.quantities.size(); ++i) {
    const trace::quantity& q = doc_.quantities[i];
    if (q.kind == quantity_kind::target) uses_target[i] = true;
    for (const trace::expr_node& n : q.formula.nodes) {
      if (n.kind == trace::expr_kind::quantity && n.quantity < i && uses_target[n.quantity]) {
        uses_target[i] = true;
      }
    }
  }
  const std::string suffix =
      doc_.iterations.size() > 1 ? fmt::format(" (iteration {})", it.index) : std::string();
  bool network_started = false;
  bool error_started = false;
  for (const trace::forward_step& step : it.forward_steps) {
    const bool error_part = step.quantity == doc_.loss ||
                            (step.quantity < uses_target.size() && uses_target[step.quantity]);
    if (!error_part && !network_started) {
      network_started = true;
      heading("Forward pass" + suffix, '-');
    }
    if (error_part && !error_started) {
      error_started = true;
      heading((has_targets ? "Error" : "Function value") + suffix, '-');
    }
    std::vector<text_row> rows = formula_rows(step.formula);
    rows.push_back({step.value.shown});
    derivation("  ", name(step.quantity), rows);
  }
}

void text_writer::gradient(const trace::gradient_step& step, std::string_view title) {
  if (!title.empty()) {
    out_ += '\n';
    line(std::string("  ") + std::string(title));
  }
  if (step.factors.size() == 1 && step.factors.front().d == step.d &&
      !step.factors.front().form.empty()) {
    // A chain of one link (the loss is the parameter's own equation): its local derivative is
    // the gradient, worked out under its own name.
    std::vector<text_row> rows = formula_rows(step.factors.front().form);
    rows.push_back({step.value.shown});
    derivation("    ", derivative(step.d), rows);
    derived_.insert(
        {step.d.of, step.d.wrt, step.d.via ? std::int64_t(*step.d.via) : -1, step.value.exact});
    return;
  }
  const bool product = step.combine == trace::gradient_step::kind::product;
  const std::string op = product ? " * " : " + ";
  std::string chain;
  for (std::size_t k = 0; k < step.factors.size(); ++k) {
    if (k > 0) chain += op;
    chain += derivative(step.factors[k].d);
  }
  const std::string lhs = derivative(step.d);
  line("    " + lhs + " = " + chain);
  for (const trace::factor& f : step.factors) {
    const bool fresh =
        derived_.insert({f.d.of, f.d.wrt, f.d.via ? std::int64_t(*f.d.via) : -1, f.value.exact})
            .second;
    if (!f.form.empty() && fresh) {
      std::vector<text_row> rows = formula_rows(f.form);
      rows.push_back({f.value.shown});
      derivation("      ", derivative(f.d), rows);
    } else {
      // A factor without a form of its own (the 0 of step()) is new here, not from above.
      const bool from_above = f.defined_by || !fresh;
      line("      " + derivative(f.d) + " = " + f.value.shown +
           (from_above ? "  (from above)" : ""));
    }
  }
  text_row numbers;
  for (std::size_t k = 0; k < step.factors.size(); ++k) {
    const std::string& v = step.factors[k].value.shown;
    const std::string n = k > 0 && lt::is_negative(v) ? "(" + v + ")" : v;
    numbers.push_back(k == 0 ? n : std::string(product ? "* " : "+ ") + n);
  }
  std::vector<text_row> rows;
  if (step.factors.size() > 1) rows.push_back(std::move(numbers));
  rows.push_back({step.value.shown});
  derivation("    ", lhs, rows);
  derived_.insert(
      {step.d.of, step.d.wrt, step.d.via ? std::int64_t(*step.d.via) : -1, step.value.exact});
}

void text_writer::backward(const trace::iteration& it) {
  if (it.backward.empty()) return;
  heading(doc_.iterations.size() > 1 ? fmt::format("Backward pass (iteration {})", it.index)
                                     : std::string("Backward pass"),
          '-');
  for (const trace::gradient_step& step : it.backward) {
    gradient(step, step.parameter ? "Gradient for " + name(*step.parameter)
                                  : "Intermediate: " + derivative(step.d));
  }
}

// A batch update: the worked example above is one row's; this table shows every row's share and
// what the update uses. Wide models show the first parameters only (the JSON trace has them all).
void text_writer::batch(const trace::iteration& it) {
  if (!it.batch) return;
  const trace::batch_step& b = *it.batch;
  const bool mean = doc_.config.batch_reduction == "mean";
  heading(doc_.iterations.size() > 1 ? fmt::format("Batch (iteration {})", it.index)
                                     : std::string("Batch"),
          '-');
  if (!b.rows.empty()) {
    line(fmt::format("  rows {} to {} of the data set; the passes above are row {}'s",
                     b.rows.front().row, b.rows.back().row, b.rows.front().row));
  }
  constexpr std::size_t max_columns = 8;
  const std::size_t shown = std::min(doc_.parameters.size(), max_columns);
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> header{"row", name(doc_.loss)};
  for (std::size_t j = 0; j < shown; ++j)
    header.push_back("d" + name(doc_.loss) + "/d" + name(doc_.parameters[j]));
  rows.push_back(std::move(header));
  const std::vector<std::size_t> picked = pick_rows(b.rows.size(), options_.table_rows);
  for (std::size_t r : picked) {
    std::vector<std::string> row{std::to_string(b.rows[r].row), b.rows[r].loss.shown};
    for (std::size_t j = 0; j < shown; ++j)
      row.push_back(j < b.rows[r].gradients.size() ? b.rows[r].gradients[j].shown : "");
    rows.push_back(std::move(row));
  }
  std::vector<std::string> total{mean ? "mean" : "sum", b.loss.shown};
  for (std::size_t j = 0; j < shown; ++j)
    total.push_back(j < b.gradients.size() ? b.gradients[j].shown : "");
  rows.push_back(std::move(total));
  table("  ", rows, std::vector<bool>(rows.front().size(), false));
  if (picked.size() < b.rows.size()) {
    line(fmt::format("  ({} of {} rows shown, evenly spaced; the {} is over all of them)",
                     picked.size(), b.rows.size(), mean ? "mean" : "sum"));
  }
  if (shown < doc_.parameters.size()) {
    line(fmt::format("  ({} of {} parameters shown)", shown, doc_.parameters.size()));
  }
  line(
      fmt::format("  The updates below use the {} of the rows' gradients.", mean ? "mean" : "sum"));
}

void text_writer::updates(const trace::iteration& it) {
  if (it.updates.empty()) return;
  heading(fmt::format(
              "Updates ({}){}", doc_.config.update_order,
              doc_.iterations.size() > 1 ? fmt::format(", iteration {}", it.index) : std::string()),
          '-');
  const trace::optimizer_settings& o = doc_.config.optimizer;
  for (const trace::rule_line& r : o.rule) {
    line("  rule: " + r.lhs_text + " <- " + join(lt::render_terms(r.rhs, style(false))));
  }
  std::vector<bool> recomputed_shown(it.recomputed.size(), false);
  for (const trace::parameter_update& u : it.updates) {
    for (std::size_t k = 0; k < it.recomputed.size(); ++k) {
      if (recomputed_shown[k]) continue;
      const bool needed =
          std::any_of(it.recomputed.begin() + static_cast<std::ptrdiff_t>(k), it.recomputed.end(),
                      [&](const trace::gradient_step& g) { return g.parameter == u.parameter; });
      if (!needed) break;
      recomputed_shown[k] = true;
      const trace::gradient_step& g = it.recomputed[k];
      gradient(g, g.parameter ? "Gradient for " + name(*g.parameter) +
                                    ", recomputed with the updated weights"
                              : std::string());
    }
    for (const trace::assignment& a : u.lines) {
      std::vector<text_row> rows = formula_rows(a.rhs);
      rows.push_back({a.value.shown});
      derivation("  ", a.is_parameter ? name(u.parameter) + "+" : printable(a.lhs_text), rows);
    }
  }
}

void text_writer::values_and_gradients(const trace::iteration& it) {
  if (it.gradients.empty()) return;
  heading(doc_.iterations.size() > 1 ? fmt::format("Values and gradients (iteration {})", it.index)
                                     : std::string("Values and gradients"),
          '-');
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"quantity", "kind", "value", "d" + name(doc_.loss) + "/d(quantity)"});
  std::vector<quantity_index> order = doc_.given;
  order.insert(order.end(), doc_.computed.begin(), doc_.computed.end());
  for (quantity_index q : order) {
    if (q >= doc_.quantities.size()) continue;
    rows.push_back({name(q), std::string(trace::to_string(doc_.quantities[q].kind)),
                    q < it.forward.values.size() ? it.forward.values[q].shown : std::string(),
                    q < it.gradients.size() ? it.gradients[q].shown : std::string()});
  }
  table("  ", rows, {false, false, false, false});
  if (!it.updates.empty()) {
    out_ += '\n';
    std::vector<std::vector<std::string>> summary;
    summary.push_back({"parameter", "value", "gradient", "updated"});
    for (const trace::parameter_update& u : it.updates) {
      summary.push_back(
          {name(u.parameter),
           u.parameter < it.forward.values.size() ? it.forward.values[u.parameter].shown : "",
           u.gradient.shown, u.lines.empty() ? std::string() : u.lines.back().value.shown});
    }
    table("  ", summary, {false, false, false, false});
  }
}

void text_writer::error_after(const trace::iteration& it) {
  if (it.updates.empty()) return;
  const auto point =
      std::find_if(doc_.loss_history.begin(), doc_.loss_history.end(),
                   [&](const trace::loss_point& p) { return p.updates == it.index; });
  if (point == doc_.loss_history.end()) return;
  // The next loss recorded belongs to the next batch unless every batch is the whole data set.
  if (it.batch && doc_.config.batch_size < doc_.config.data_rows) return;
  out_ += '\n';
  if (it.batch) {
    line(fmt::format("Error over the batch after update {}: {} of {} = {} (before: {})", it.index,
                     doc_.config.batch_reduction == "mean" ? "mean" : "sum", name(doc_.loss),
                     point->loss.shown, it.batch->loss.shown));
    return;
  }
  if (doc_.validation && doc_.validation->restored && it.index == doc_.config.steps) {
    // The last loss recorded is the restored parameters' loss, not this update's result.
    line(fmt::format("(After update {} the parameters of update {} were restored; see Validation.)",
                     it.index, doc_.validation->best_update));
    return;
  }
  if (it.row_loss_after) {
    // Training row by row, the next loss recorded is the next row's: compare the same row.
    line(fmt::format("Error after update {} on the same data row: {} = {} (before: {})", it.index,
                     name(doc_.loss), it.row_loss_after->shown, it.forward.loss.shown));
    return;
  }
  line(fmt::format("Error after update {}: {} = {} (before: {})", it.index, name(doc_.loss),
                   point->loss.shown, it.forward.loss.shown));
}

void text_writer::loss_history() {
  const std::vector<trace::loss_point>& h = doc_.loss_history;
  if (h.size() <= 2) return;
  heading("Loss history", '-');
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"updates", name(doc_.loss)});
  const std::vector<std::size_t> picked = pick_rows(h.size(), options_.table_rows);
  for (std::size_t i : picked)
    rows.push_back({std::to_string(h[i].updates), h[i].loss.shown});
  table("  ", rows, {true, false});
  if (picked.size() < h.size()) {
    line(fmt::format("  ({} of {} rows shown, evenly spaced)", picked.size(), h.size()));
  }
}

void text_writer::validation() {
  if (!doc_.validation) return;
  const trace::validation_run& v = *doc_.validation;
  heading(fmt::format("Validation on {} ({} {})", v.data_set, v.rows, v.rows == 1 ? "row" : "rows"),
          '-');
  line(fmt::format("  mean {} over the validation rows after every {} {}; training {} is the mean",
                   name(doc_.loss), v.every, v.every == 1 ? "update" : "updates", name(doc_.loss)));
  line(
      "  of the losses recorded for the updates since the previous validation; * marks a new best");
  out_ += '\n';
  if (!v.history.empty()) {
    const bool epochs = std::any_of(v.history.begin(), v.history.end(),
                                    [](const trace::validation_point& p) { return p.epoch != 0; });
    std::vector<std::vector<std::string>> rows;
    std::vector<std::string> header{"update"};
    if (epochs) header.push_back("epoch");
    header.push_back("training " + name(doc_.loss));
    header.push_back("validation " + name(doc_.loss));
    header.push_back("best");
    rows.push_back(std::move(header));
    const std::vector<std::size_t> picked = pick_rows(v.history.size(), options_.table_rows);
    for (std::size_t i : picked) {
      const trace::validation_point& p = v.history[i];
      std::vector<std::string> row{std::to_string(p.update)};
      if (epochs) row.push_back(std::to_string(p.epoch));
      row.push_back(p.training_loss.shown);
      row.push_back(p.validation_loss.shown);
      row.push_back(p.best ? "*" : "");
      rows.push_back(std::move(row));
    }
    std::vector<bool> right(rows.front().size(), false);
    right[0] = true;
    if (epochs) right[1] = true;
    table("  ", rows, right);
    if (picked.size() < v.history.size()) {
      line(fmt::format("  ({} of {} rows shown, evenly spaced)", picked.size(), v.history.size()));
    }
    out_ += '\n';
  }
  std::string sentence = trace::stopping_sentence(v, doc_.config.steps);
  sentence[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(sentence[0])));
  line("  " + sentence + ".");
  if (!v.history.empty()) {
    line(fmt::format("  Best: validation {} = {} after update {}.", name(doc_.loss),
                     v.best_loss.shown, v.best_update));
  }
  if (v.restored) {
    line(fmt::format("  The parameters after update {} were restored: the final values and the",
                     v.best_update));
    line(fmt::format("  last loss of the history ({} = {}) are theirs.", name(doc_.loss),
                     doc_.final_state.loss.shown));
  } else if (v.restore_best && !v.history.empty()) {
    line("  Nothing to restore: the best validation was after the last update.");
  }
}

void text_writer::evaluation(const trace::evaluation& e) {
  heading(fmt::format("Evaluation on {} ({} {})", e.data_set, e.rows, e.rows == 1 ? "row" : "rows"),
          '-');
  line(fmt::format("  mean {} = {}", name(doc_.loss), e.mean_loss.shown));
  const bool classifier = !e.classifier.empty();
  const auto label = [&](const std::optional<std::uint32_t>& c) {
    return c && *c < e.classes.size() ? e.classes[*c] : std::string();
  };
  if (!e.predictions.empty()) {
    // Wide outputs (a 10-class softmax) show their first columns; the JSON trace has them all.
    constexpr std::size_t max_columns = 6;
    const std::size_t outputs = std::min(e.outputs.size(), max_columns);
    const std::size_t targets = std::min(e.targets.size(), max_columns);
    std::vector<std::vector<std::string>> rows;
    std::vector<std::string> header{"row"};
    for (std::size_t k = 0; k < outputs; ++k)
      header.push_back(name(e.outputs[k]));
    for (std::size_t k = 0; k < targets; ++k)
      header.push_back(name(e.targets[k]));
    header.push_back(name(doc_.loss));
    if (classifier) {
      header.push_back("predicted");
      header.push_back("actual");
    }
    rows.push_back(std::move(header));
    for (const trace::evaluation_row& r : e.predictions) {
      std::vector<std::string> row{std::to_string(r.row)};
      for (std::size_t k = 0; k < outputs; ++k)
        row.push_back(k < r.outputs.size() ? r.outputs[k].shown : "");
      for (std::size_t k = 0; k < targets; ++k)
        row.push_back(k < r.targets.size() ? r.targets[k].shown : "");
      row.push_back(r.loss.shown);
      if (classifier) {
        row.push_back(label(r.predicted));
        row.push_back(label(r.actual));
      }
      rows.push_back(std::move(row));
    }
    out_ += '\n';
    table("  ", rows, std::vector<bool>(rows.front().size(), false));
    if (outputs < e.outputs.size() || targets < e.targets.size()) {
      line(fmt::format("  (first {} of {} outputs and {} of {} targets shown)", outputs,
                       e.outputs.size(), targets, e.targets.size()));
    }
  } else {
    line(fmt::format("  (per-row predictions are listed for small data sets only)"));
  }
  if (!classifier) return;
  out_ += '\n';
  const std::string rule = e.classifier == "binary" ? "output >= 0.5 is class 1"
                           : e.classifier == "one-hot"
                               ? "the largest output is the class, targets one-hot"
                               : "the largest output is the class, targets class numbers";
  line(fmt::format("  Classifier ({}): accuracy {} ({} of {} rows)", rule, e.accuracy.shown,
                   e.correct, e.rows));
  std::vector<std::vector<std::string>> metrics;
  metrics.push_back({"class", "precision", "recall", "F1", "support", "predicted"});
  for (const trace::class_metrics& m : e.per_class) {
    metrics.push_back({m.label, m.precision.shown, m.recall.shown, m.f1.shown,
                       std::to_string(m.support), std::to_string(m.predicted)});
  }
  metrics.push_back(
      {"macro", e.macro_precision.shown, e.macro_recall.shown, e.macro_f1.shown, "", ""});
  out_ += '\n';
  table("  ", metrics, {false, false, false, false, true, true});
  out_ += '\n';
  line("  Confusion matrix (rows: actual class, columns: predicted class)");
  std::vector<std::vector<std::string>> confusion;
  std::vector<std::string> header{""};
  for (const std::string& c : e.classes)
    header.push_back(c);
  confusion.push_back(std::move(header));
  for (std::size_t a = 0; a < e.confusion.size(); ++a) {
    std::vector<std::string> row{a < e.classes.size() ? e.classes[a] : ""};
    for (std::uint64_t count : e.confusion[a])
      row.push_back(std::to_string(count));
    confusion.push_back(std::move(row));
  }
  table("  ", confusion, std::vector<bool>(confusion.front().size(), true));
}

// A shown derivative's expression in pieces a long line may break between: before a binary + or
// -, except inside a short parenthesised group, so that a line never ends in the middle of a
// factor such as (1 - out_o1). Joined with spaces, the pieces give back the expression.
text_row expression_pieces(std::string_view e) {
  constexpr std::size_t short_group = 30;
  // For each position, whether it lies inside a parenthesised group shorter than short_group.
  std::vector<bool> in_short(e.size(), false);
  std::vector<std::size_t> open;
  for (std::size_t i = 0; i < e.size(); ++i) {
    if (e[i] == '(') open.push_back(i);
    if (e[i] == ')' && !open.empty()) {
      const std::size_t from = open.back();
      open.pop_back();
      if (i - from < short_group) std::fill(in_short.begin() + from, in_short.begin() + i, true);
    }
  }
  text_row pieces;
  std::string current;
  for (std::size_t i = 0; i < e.size(); ++i) {
    const std::string_view rest = e.substr(i);
    if (!current.empty() && !in_short[i] && (rest.starts_with(" + ") || rest.starts_with(" - "))) {
      pieces.push_back(std::move(current));
      current.clear();
      continue;  // the space is the one the join puts back
    }
    current += e[i];
  }
  if (!current.empty()) pieces.push_back(std::move(current));
  return pieces;
}

void text_writer::derivatives() {
  if (doc_.derivatives.empty()) return;
  // Every derivative of one run is taken at the same values, so the heading says which once.
  const std::string& at = doc_.derivatives.front().evaluated_at;
  heading(at.empty() ? std::string("Derivatives") : fmt::format("Derivatives (at {})", at), '-');
  for (const trace::shown_derivative& d : doc_.derivatives)
    derivation("  ", printable(d.written), {expression_pieces(printable(d.text)), {d.value.shown}});
}

std::string text_writer::run() {
  summary();
  if (doc_.iterations.empty()) {
    given(doc_.final_state, "Given values");
    if (!doc_.final_state.loss.empty()) {
      out_ += '\n';
      line(name(doc_.loss) + " = " + doc_.final_state.loss.shown);
    }
  }
  for (const trace::iteration& it : doc_.iterations) {
    derived_.clear();
    given(it.forward, it.index <= 1 ? std::string("Given values")
                                    : fmt::format("Values at the start of iteration {}", it.index));
    forward(it);
    backward(it);
    batch(it);
    updates(it);
    values_and_gradients(it);
    error_after(it);
  }
  loss_history();
  validation();
  for (const trace::evaluation& e : doc_.evaluations)
    evaluation(e);
  derivatives();
  return std::move(out_);
}

}  // namespace

std::string to_text(const trace::document& doc, const text_options& options) {
  return text_writer(doc, options).run();
}

}  // namespace chainrule::exporters
