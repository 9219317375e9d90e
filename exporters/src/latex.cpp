// SPDX-License-Identifier: MIT
#include "chainrule/exporters/latex.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <utility>

#include <fmt/format.h>

namespace chainrule::exporters {
namespace {

namespace lt = latex_text;
using trace::quantity_index;
using trace::quantity_kind;
using form = lt::formula_style::form;

// ---------------------------------------------------------------------------------------------
// Recognising the network, for the notations that rename quantities by their role

enum class role : std::uint8_t {
  none,
  input,
  target,
  pre_activation,
  activation,
  weight,
  bias,
  error_term,
  loss
};

struct role_info {
  role kind = role::none;
  std::uint32_t layer = 0;  // 1-based for units, weights and biases
  std::uint32_t unit = 0;   // 1-based: unit j of the layer, input k, target j
  std::uint32_t from = 0;   // weights: the unit (or input) of the layer below
  bool shared = false;      // biases used by several units of one layer
  bool ambiguous = false;   // the quantity fits a role in two different ways: leave it alone
};

constexpr std::array<std::string_view, 6> activation_ops{"sigmoid",    "tanh",     "relu",
                                                         "leaky_relu", "softplus", "step"};

std::vector<quantity_index> quantities_in(const trace::expression& e) {
  std::vector<quantity_index> found;
  for (const trace::expr_node& n : e.nodes) {
    if (n.kind == trace::expr_kind::quantity &&
        std::find(found.begin(), found.end(), n.quantity) == found.end()) {
      found.push_back(n.quantity);
    }
  }
  return found;
}

struct network {
  std::vector<role_info> roles;
  std::uint32_t layers = 0;  // number of activation layers; the last is the output layer
};

void assign(role_info& r, role_info wanted) {
  if (r.ambiguous) return;
  if (r.kind != role::none && (r.kind != wanted.kind || r.layer != wanted.layer ||
                               r.unit != wanted.unit || r.from != wanted.from)) {
    r.ambiguous = true;
    return;
  }
  r = wanted;
}

network recognise(const trace::document& doc) {
  const auto& q = doc.quantities;
  network net;
  net.roles.resize(q.size());
  std::vector<std::optional<quantity_index>> pre_of(q.size());
  std::vector<std::optional<quantity_index>> activation_of(q.size());

  for (quantity_index a : doc.computed) {
    if (a >= q.size()) continue;
    const trace::expression& f = q[a].formula;
    if (f.empty()) continue;
    const trace::expr_node& root = f.nodes.back();
    if (root.kind != trace::expr_kind::apply || root.args.empty() ||
        std::find(activation_ops.begin(), activation_ops.end(), root.op) == activation_ops.end()) {
      continue;
    }
    const trace::expr_node& arg = f.nodes[root.args[0]];
    if (arg.kind != trace::expr_kind::quantity || arg.quantity >= q.size()) continue;
    const quantity_index p = arg.quantity;
    if (q[p].kind != quantity_kind::computed || !q[p].shown() || activation_of[p]) continue;
    pre_of[a] = p;
    activation_of[p] = a;
  }

  // Activation depth, in index order (a topological order), so no recursion is needed.
  std::vector<std::uint32_t> depth(q.size(), 0);
  for (quantity_index i = 0; i < q.size(); ++i) {
    if (pre_of[i]) {
      depth[i] = depth[*pre_of[i]] + 1;
      continue;
    }
    for (quantity_index d : quantities_in(q[i].formula)) {
      if (d < i) depth[i] = std::max(depth[i], depth[d]);
    }
  }

  std::map<std::uint32_t, std::uint32_t> units_per_layer;
  for (quantity_index a : doc.computed) {
    if (a >= q.size() || !pre_of[a]) continue;
    const std::uint32_t layer = depth[a];
    const std::uint32_t unit = ++units_per_layer[layer];
    net.layers = std::max(net.layers, layer);
    net.roles[a] = {role::activation, layer, unit, 0, false, false};
    net.roles[*pre_of[a]] = {role::pre_activation, layer, unit, 0, false, false};
  }
  if (net.layers == 0) return net;

  std::uint32_t inputs = 0;
  for (quantity_index g : doc.given) {
    if (g < q.size() && q[g].kind == quantity_kind::input) {
      net.roles[g] = {role::input, 0, ++inputs, 0, false, false};
    }
  }

  // Weights multiply the layer below's outputs (or the inputs); biases are added.
  std::map<quantity_index, std::set<std::pair<std::uint32_t, std::uint32_t>>> bias_units;
  for (quantity_index p = 0; p < q.size(); ++p) {
    if (net.roles[p].kind != role::pre_activation) continue;
    const std::uint32_t layer = net.roles[p].layer;
    const std::uint32_t unit = net.roles[p].unit;
    const trace::expression& f = q[p].formula;
    for (const trace::expr_node& n : f.nodes) {
      if (n.kind != trace::expr_kind::apply) continue;
      if (n.op == "mul" && n.args.size() == 2) {
        const trace::expr_node& x = f.nodes[n.args[0]];
        const trace::expr_node& y = f.nodes[n.args[1]];
        if (x.kind != trace::expr_kind::quantity || y.kind != trace::expr_kind::quantity) continue;
        for (const auto& [w, source] :
             {std::pair{x.quantity, y.quantity}, std::pair{y.quantity, x.quantity}}) {
          if (w >= q.size() || source >= q.size() || q[w].kind != quantity_kind::parameter) {
            continue;
          }
          const role_info& from = net.roles[source];
          const bool below = (from.kind == role::input && layer == 1) ||
                             (from.kind == role::activation && from.layer + 1 == layer);
          if (below) assign(net.roles[w], {role::weight, layer, unit, from.unit, false, false});
        }
      } else if (n.op == "add" || n.op == "sub" || n.op == "sum") {
        for (std::uint32_t arg : n.args) {
          const trace::expr_node& b = f.nodes[arg];
          if (b.kind != trace::expr_kind::quantity || b.quantity >= q.size()) continue;
          const quantity_kind kind = q[b.quantity].kind;
          if ((kind == quantity_kind::parameter || kind == quantity_kind::constant) &&
              !q[b.quantity].name.empty()) {
            bias_units[b.quantity].insert({layer, unit});
          }
        }
      }
    }
  }
  for (const auto& [b, units] : bias_units) {
    const std::uint32_t layer = units.begin()->first;
    const bool one_layer =
        std::all_of(units.begin(), units.end(), [&](const auto& u) { return u.first == layer; });
    if (!one_layer || net.roles[b].kind != role::none) {
      net.roles[b].ambiguous = true;
      continue;
    }
    net.roles[b] = {role::bias,       layer, units.size() == 1 ? units.begin()->second : 0, 0,
                    units.size() > 1, false};
  }

  // Targets and error terms: a formula that compares one output with one target.
  for (quantity_index e : doc.computed) {
    if (e >= q.size() || net.roles[e].kind != role::none || e == doc.loss) continue;
    std::vector<quantity_index> outputs;
    std::vector<quantity_index> targets;
    for (quantity_index d : quantities_in(q[e].formula)) {
      if (net.roles[d].kind == role::activation && net.roles[d].layer == net.layers) {
        outputs.push_back(d);
      }
      if (q[d].kind == quantity_kind::target) targets.push_back(d);
    }
    if (outputs.size() != 1 || targets.size() != 1) continue;
    const std::uint32_t unit = net.roles[outputs[0]].unit;
    assign(net.roles[targets[0]], {role::target, 0, unit, 0, false, false});
    net.roles[e] = {role::error_term, 0, unit, 0, false, false};
  }
  if (doc.loss < q.size()) net.roles[doc.loss] = {role::loss, 0, 0, 0, false, false};
  return net;
}

std::string pair_subscript(std::uint32_t j, std::uint32_t k) {
  if (j < 10 && k < 10) return fmt::format("{}{}", j, k);
  return fmt::format("{},{}", j, k);
}

std::string notation_symbol(latex_notation notation, const network& net, const role_info& r,
                            std::uint32_t weight_number) {
  const bool output = r.layer == net.layers;
  const std::uint32_t hidden_layers = net.layers - 1;
  switch (notation) {
    case latex_notation::model:
      return {};
    case latex_notation::mazur: {
      const std::string unit =
          output ? fmt::format("o{}", r.unit)
                 : (hidden_layers == 1 ? fmt::format("h{}", r.unit)
                                       : fmt::format("h^{{({})}}_{{{}}}", r.layer, r.unit));
      switch (r.kind) {
        case role::input:
          return fmt::format("i_{{{}}}", r.unit);
        case role::target:
          return fmt::format("target_{{o{}}}", r.unit);
        case role::pre_activation:
          return fmt::format("net_{{{}}}", unit);
        case role::activation:
          return fmt::format("out_{{{}}}", unit);
        case role::weight:
          return fmt::format("w_{{{}}}", weight_number);
        case role::bias:
          return r.shared ? fmt::format("b_{{{}}}", r.layer)
                          : fmt::format("b_{{{},{}}}", r.layer, r.unit);
        case role::error_term:
          return fmt::format("E_{{o{}}}", r.unit);
        case role::loss:
          return "E_{total}";
        case role::none:
          return {};
      }
      return {};
    }
    case latex_notation::layered:
      switch (r.kind) {
        case role::input:
          return fmt::format("x_{{{}}}", r.unit);
        case role::target:
          return fmt::format("y_{{{}}}", r.unit);
        case role::pre_activation:
          return fmt::format("z^{{({})}}_{{{}}}", r.layer, r.unit);
        case role::activation:
          return fmt::format("a^{{({})}}_{{{}}}", r.layer, r.unit);
        case role::weight:
          return fmt::format("w^{{({})}}_{{{}}}", r.layer, pair_subscript(r.unit, r.from));
        case role::bias:
          return r.shared ? fmt::format("b^{{({})}}", r.layer)
                          : fmt::format("b^{{({})}}_{{{}}}", r.layer, r.unit);
        case role::error_term:
          return fmt::format("E_{{{}}}", r.unit);
        case role::loss:
          return "E";
        case role::none:
          return {};
      }
      return {};
    case latex_notation::ho: {
      const std::string letter =
          output ? "o" : (hidden_layers == 1 ? "h" : fmt::format("h{}", r.layer));
      switch (r.kind) {
        case role::input:
          return fmt::format("x_{{{}}}", r.unit);
        case role::target:
          return fmt::format("y_{{{}}}", r.unit);
        case role::pre_activation:
          return fmt::format("z^{{{}}}_{{{}}}", letter, r.unit);
        case role::activation:
          if (output) return fmt::format("o_{{{}}}", r.unit);
          if (hidden_layers == 1) return fmt::format("h_{{{}}}", r.unit);
          return fmt::format("h^{{({})}}_{{{}}}", r.layer, r.unit);
        case role::weight:
          return fmt::format("w^{{{}}}_{{{}}}", letter, pair_subscript(r.unit, r.from));
        case role::bias:
          return r.shared ? fmt::format("b^{{{}}}", letter)
                          : fmt::format("b^{{{}}}_{{{}}}", letter, r.unit);
        case role::error_term:
          return fmt::format("E_{{{}}}", r.unit);
        case role::loss:
          return "E";
        case role::none:
          return {};
      }
      return {};
    }
  }
  return {};
}

// ---------------------------------------------------------------------------------------------
// Writing

std::tuple<quantity_index, quantity_index, std::int64_t, std::string> derivation_key(
    const trace::derivative& d, const trace::number& value) {
  return {d.of, d.wrt, d.via ? static_cast<std::int64_t>(*d.via) : -1, value.exact};
}

struct row {
  std::vector<std::string> pieces;  // joined with spaces; a line may break between pieces
  bool flowing = false;             // holds long numbers: set as a breakable paragraph
};

class writer {
 public:
  writer(const trace::document& doc, const latex_options& options)
      : doc_(doc),
        options_(options),
        symbols_(quantity_symbols(doc, options.notation)),
        width_(options.line_width != 0
                   ? options.line_width
                   : (options.form == latex_form::standalone ? std::size_t{72} : std::size_t{48})) {
  }

  std::string run();

 private:
  // Building blocks
  void heading(int level, std::string_view text);
  /// A title inside a section (a parameter's gradient): bold, or a new frame in Beamer form.
  void subheading(std::string_view text);
  void open_frame(std::string_view title);
  void close_frame();
  void paragraph(std::string_view text);
  void derivation(const std::string& lhs, const std::vector<row>& rows);
  [[nodiscard]] lt::formula_style style(bool numbers, bool flowing) const;
  [[nodiscard]] bool has_long_number(const trace::expression& e) const;
  [[nodiscard]] bool is_long(const trace::number& n) const {
    return lt::is_long_number(n.shown, options_.numbers);
  }
  [[nodiscard]] std::string number(const trace::number& n) const;
  [[nodiscard]] std::string number_or_dash(const trace::number& n) const;
  [[nodiscard]] row symbolic_row(const trace::expression& e) const;
  [[nodiscard]] std::optional<row> numeric_row(const trace::expression& e) const;
  [[nodiscard]] row value_row(const trace::number& n) const;
  void add_value(std::vector<row>& rows, const trace::number& n) const;
  [[nodiscard]] std::string symbol(quantity_index q) const;
  [[nodiscard]] std::string derivative(const trace::derivative& d) const;
  [[nodiscard]] std::string value_cell(const trace::number& n) const;
  /// A table with `header` and `rows` (each "a & b & c"), cut into several tabulars of at most
  /// options.table_chunk rows so that a page or a Beamer frame can break between them.
  void table(std::string_view columns, bool long_values, const std::string& header,
             const std::vector<std::string>& rows);

  // Sections
  void preamble();
  void summary();
  void given(const trace::snapshot& values, std::string_view title);
  void forward(const trace::iteration& it);
  void forward_step(const trace::forward_step& step);
  void gradient(const trace::gradient_step& step, std::string_view title);
  void backward(const trace::iteration& it);
  void batch(const trace::iteration& it);
  void optimizer_rule();
  void updates(const trace::iteration& it);
  void results(const trace::iteration& it);
  void error_after(const trace::iteration& it);
  void loss_history();
  void validation();
  void evaluation(const trace::evaluation& e);
  void derivatives();
  [[nodiscard]] std::string loss_symbol() const { return symbol(doc_.loss); }
  [[nodiscard]] bool uses_target(quantity_index q) const;

  const trace::document& doc_;
  const latex_options& options_;
  std::vector<std::string> symbols_;
  std::vector<bool> uses_target_;
  // Derivatives already worked out in the current iteration, with their values.
  std::set<std::tuple<quantity_index, quantity_index, std::int64_t, std::string>> derived_;
  std::size_t width_;
  bool frame_open_ = false;
  std::string out_;
};

lt::formula_style writer::style(bool numbers, bool flowing) const {
  lt::formula_style s;
  s.templates = flowing ? form::inline_latex : form::latex;
  s.numbers = numbers;
  s.symbols = &symbols_;
  s.loss = doc_.loss;
  s.numbers_format = options_.numbers;
  return s;
}

std::string writer::symbol(quantity_index q) const {
  return q < symbols_.size() ? symbols_[q] : fmt::format("q_{{{}}}", q);
}

std::string writer::number(const trace::number& n) const {
  return lt::math_number(n.shown, options_.numbers);
}

std::string writer::number_or_dash(const trace::number& n) const {
  return n.shown.empty() ? std::string("\\text{--}") : number(n);
}

std::string writer::derivative(const trace::derivative& d) const {
  std::string s = lt::derivative_symbol(symbol(d.of), symbol(d.wrt), form::latex);
  if (d.via && d.via_needed) {
    s = fmt::format("\\left.{}\\right|_{{\\text{{via }} {}}}", s, symbol(*d.via));
  }
  return s;
}

bool writer::has_long_number(const trace::expression& e) const {
  return std::any_of(e.nodes.begin(), e.nodes.end(), [&](const trace::expr_node& n) {
    return n.kind != trace::expr_kind::apply && is_long(n.value);
  });
}

row writer::symbolic_row(const trace::expression& e) const {
  return {lt::render_terms(e, style(false, false)), false};
}

std::optional<row> writer::numeric_row(const trace::expression& e) const {
  // A formula that is a single name or number says nothing new with its value substituted.
  if (e.nodes.size() <= 1) return std::nullopt;
  const bool flowing = has_long_number(e);
  return row{lt::render_terms(e, style(true, flowing)), flowing};
}

row writer::value_row(const trace::number& n) const {
  return {{number(n)}, is_long(n)};
}

void writer::add_value(std::vector<row>& rows, const trace::number& n) const {
  // `= 1` after `= 1`, or a name whose value is its only line, would say the same thing twice.
  if (!rows.empty() && rows.back().pieces.size() == 1 && rows.back().pieces[0] == number(n)) {
    return;
  }
  rows.push_back(value_row(n));
}

void writer::open_frame(std::string_view title) {
  close_frame();
  out_ += fmt::format("\n\\begin{{frame}}[allowframebreaks]{{{}}}\n", title);
  frame_open_ = true;
}

void writer::close_frame() {
  if (frame_open_) out_ += "\\end{frame}\n";
  frame_open_ = false;
}

void writer::subheading(std::string_view text) {
  if (options_.form == latex_form::beamer) {
    open_frame(text);
  } else {
    paragraph(fmt::format("\\textbf{{{}}}", text));
  }
}

void writer::heading(int level, std::string_view text) {
  if (options_.form == latex_form::beamer) {
    open_frame(text);
  } else if (options_.form == latex_form::standalone) {
    out_ += fmt::format("\n\\{}*{{{}}}\n", level == 0 ? "section" : "subsection", text);
  } else {
    // Sectioning commands are not allowed inside Beamer frames, so fragments use run-in titles.
    out_ += fmt::format("\n\\par\\medskip\\noindent\\textbf{{{}}}\\par\\nobreak\n", text);
  }
}

void writer::paragraph(std::string_view text) {
  // Ragged right: a paragraph quoting a long number can only break between its digit groups,
  // and justification would have no spaces to stretch.
  out_ += "\n{\\raggedright ";
  out_ += text;
  out_ += "\\par}\n";
}

// lhs = row 0 = row 1 = ... as an align* block. Rows that hold long numbers (and everything
// after the first of them, to keep the order) flow as ragged paragraphs instead, because TeX
// never breaks a line inside a displayed equation.
void writer::derivation(const std::string& lhs, const std::vector<row>& rows) {
  std::size_t displayed = 0;
  while (displayed < rows.size() && !rows[displayed].flowing)
    ++displayed;
  const std::size_t lhs_width = lt::math_width(lhs);
  const std::size_t budget = width_ > lhs_width + 12 ? width_ - lhs_width - 4 : 8;
  if (displayed > 0) {
    out_ += "\\begin{align*}\n";
    for (std::size_t r = 0; r < displayed; ++r) {
      out_ += r == 0 ? lhs + " &= " : "\\\\\n  &= ";
      std::size_t used = 0;
      for (std::size_t p = 0; p < rows[r].pieces.size(); ++p) {
        const std::string& piece = rows[r].pieces[p];
        const std::size_t w = lt::math_width(piece);
        if (p > 0 && used + w > budget) {
          // Continue a long sum or product on the next line, its operator leading.
          out_ += "\\\\\n  &\\quad {}";
          used = 0;
        } else if (p > 0) {
          out_ += ' ';
        }
        out_ += piece;
        used += w + 1;
      }
    }
    out_ += "\n\\end{align*}\n";
  }
  // End the paragraph a display leaves open, so that every flowing row starts the same way.
  if (displayed < rows.size()) out_ += "\\par\n";
  for (std::size_t r = displayed; r < rows.size(); ++r) {
    std::string text;
    for (const std::string& piece : rows[r].pieces) {
      if (!text.empty()) text += ' ';
      text += piece;
    }
    const std::string head = displayed == 0 && r == 0 ? lhs + " = " : "= ";
    out_ += fmt::format(
        "{{\\raggedright\\noindent\\hangindent=3em\\hangafter=1\\hspace*{{1.5em}}${}{}$\\par}}\n",
        head, text);
  }
}

std::string writer::value_cell(const trace::number& n) const {
  return n.shown.empty() ? std::string("--") : "$" + number(n) + "$";
}

void writer::table(std::string_view columns, bool long_values, const std::string& header,
                   const std::vector<std::string>& rows) {
  std::string spec(columns);
  if (long_values) {
    // The last column wraps: long numbers break between their digit groups.
    spec.pop_back();
    spec += fmt::format(">{{\\raggedright\\arraybackslash}}p{{{}\\linewidth}}",
                        columns.size() <= 3 ? "0.6" : "0.45");
  }
  const bool booktabs = options_.form == latex_form::standalone;
  const std::size_t chunk = std::max<std::size_t>(
      1, options_.table_chunk != 0 ? options_.table_chunk : (booktabs ? 40 : 6));
  std::size_t first = 0;
  do {
    out_ += fmt::format("\n\\begin{{center}}\n\\begin{{tabular}}{{{}}}\n", spec);
    out_ += booktabs ? "\\toprule\n" : "\\hline\n";
    out_ += header + " \\\\\n";
    out_ += booktabs ? "\\midrule\n" : "\\hline\n";
    for (std::size_t r = first; r < rows.size() && r < first + chunk; ++r) {
      out_ += rows[r] + " \\\\\n";
    }
    out_ += booktabs ? "\\bottomrule\n" : "\\hline\n";
    out_ += "\\end{tabular}\n\\end{center}\n";
    first += chunk;
  } while (first < rows.size());
}

bool writer::uses_target(quantity_index q) const {
  return q < uses_target_.size() && uses_target_[q];
}

void writer::preamble() {
  if (options_.form == latex_form::standalone) {
    out_ +=
        "% Generated by chainrule. Compile with pdflatex.\n"
        "\\documentclass[11pt]{article}\n"
        "\\usepackage[margin=2.2cm]{geometry}\n"
        "\\usepackage{amsmath,amssymb}\n"
        "\\usepackage{booktabs}\n"
        "\\usepackage{array}\n";
    if (doc_.loss_history.size() > 2 || (doc_.validation && doc_.validation->history.size() > 1)) {
      out_ += "\\usepackage{pgfplots}\n\\pgfplotsset{compat=1.18}\n";
    }
    out_ +=
        "% Worked examples are long runs of equations; let them break across pages.\n"
        "\\allowdisplaybreaks\n"
        "\\setlength{\\parindent}{0pt}\n"
        "\\setlength{\\parskip}{0.5ex}\n"
        "\\begin{document}\n";
  } else if (options_.form == latex_form::beamer) {
    out_ +=
        "% Generated by chainrule: Beamer frames of a worked example, to \\input between the\n"
        "% frames of a Beamer document (outside any frame). The loss plot needs pgfplots.\n";
  } else {
    out_ +=
        "% Generated by chainrule: a worked example to \\input into a document that loads\n"
        "% amsmath (and pgfplots for the loss plot). In Beamer, put it in a frame with\n"
        "% [allowframebreaks]; in an article, \\allowdisplaybreaks lets long derivations break.\n";
  }
}

void writer::summary() {
  const trace::settings& c = doc_.config;
  heading(0, lt::escape_text(doc_.title.empty() ? "A worked backpropagation example" : doc_.title));
  std::string s;
  if (!doc_.source.empty())
    s += fmt::format("Model: \\texttt{{{}}}. ", lt::escape_text(doc_.source));
  std::string rounding = c.display.rounding;
  std::replace(rounding.begin(), rounding.end(), '_', ' ');
  s += fmt::format("Working precision: {}; numbers are shown rounded to {} ({}).",
                   lt::escape_text(c.precision), lt::escape_text(c.display.description),
                   lt::escape_text(rounding));
  if (!c.certification.empty())
    s += fmt::format(" Certified: {}.", lt::escape_text(c.certification));
  paragraph(s);
  if (!c.optimizer.name.empty()) {
    std::string o;
    const std::string& name = c.optimizer.name;
    if (name == "sgd") {
      o = "Optimizer: gradient descent";
    } else if (name == "momentum") {
      o = "Optimizer: gradient descent with momentum";
    } else {
      o = fmt::format("Optimizer: \\texttt{{{}}}", lt::escape_text(name));
    }
    std::vector<std::string> hyper;
    for (const trace::hyper_parameter& h : c.optimizer.hyper) {
      hyper.push_back(fmt::format("${} = {}$", h.latex.empty() ? lt::escape_text(h.text) : h.latex,
                                  // The value as the model wrote it: "1e-8", not a
                                  // display rounding such as 0.
                                  h.source.empty() ? number(h.value) : lt::math_number(h.source)));
    }
    if (!hyper.empty()) {
      o += " with ";
      for (std::size_t k = 0; k < hyper.size(); ++k) {
        if (k > 0) o += k + 1 == hyper.size() ? " and " : ", ";
        o += hyper[k];
      }
    }
    o += fmt::format("; {} {}.", c.steps, c.steps == 1 ? "update" : "updates");
    if (c.update_order == "sequential") {
      o += " Update order: sequential. The output layer is updated first, and the gradients of "
           "earlier layers are then recomputed with the already updated weights.";
    } else {
      o += " Update order: simultaneous. Every gradient is computed with the current "
           "parameters, then all parameters are updated at once.";
    }
    paragraph(o);
    if (c.data_rows != 0 && c.batch_size > 1) {
      paragraph(fmt::format(
          "Training data: {} rows in batches of {} ({}). Each update runs the forward and "
          "backward pass once per row of its batch and uses the {} of the rows' gradients; the "
          "loss recorded for it is the {} of the rows' losses.",
          c.data_rows, c.batch_size, c.batch_size >= c.data_rows ? "full batch" : "mini-batches",
          c.batch_reduction == "mean" ? "mean" : "sum",
          c.batch_reduction == "mean" ? "mean" : "sum"));
    } else if (c.data_rows != 0) {
      paragraph(fmt::format("Training data: {} rows, one row per update.", c.data_rows));
    }
    if (doc_.validation) {
      const trace::validation_run& v = *doc_.validation;
      std::string sentence = trace::stopping_sentence(v, c.steps);
      sentence[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(sentence[0])));
      paragraph(fmt::format(
          "Validation on \\texttt{{{}}} ({} {}) after every {} {}{}{}. {}.",
          lt::escape_text(v.data_set), v.rows, v.rows == 1 ? "row" : "rows", v.every,
          v.every == 1 ? "update" : "updates",
          v.patience != 0 ? fmt::format(", patience {}", v.patience) : "",
          v.restored ? fmt::format(", the parameters of update {} restored", v.best_update)
                     : std::string(),
          lt::escape_text(sentence)));
    }
    if (doc_.iterations.size() > 0 && c.steps > doc_.iterations.size()) {
      std::string shown;
      for (std::size_t k = 0; k < doc_.iterations.size(); ++k) {
        if (k > 0) shown += k + 1 == doc_.iterations.size() ? " and " : ", ";
        shown += std::to_string(doc_.iterations[k].index);
      }
      paragraph(fmt::format("Iterations worked in full: {}{}.", shown,
                            c.traced_description.empty()
                                ? std::string()
                                : " (" + lt::escape_text(c.traced_description) + ")"));
    }
  }
}

void writer::given(const trace::snapshot& values, std::string_view title) {
  heading(1, title);
  bool long_values = false;
  for (quantity_index g : doc_.given) {
    if (g < values.values.size() && is_long(values.values[g])) long_values = true;
  }
  std::vector<std::string> rows;
  for (quantity_index g : doc_.given) {
    if (g >= doc_.quantities.size()) continue;
    const trace::number& v = g < values.values.size() ? values.values[g] : trace::number{};
    rows.push_back(fmt::format("${}$ & {} & {}", symbol(g),
                               trace::to_string(doc_.quantities[g].kind), value_cell(v)));
  }
  table("llr", long_values, "Quantity & Kind & Value", rows);
}

void writer::forward(const trace::iteration& it) {
  // Quantities that involve a target (and the loss itself) make up "the error" section.
  std::vector<const trace::forward_step*> network;
  std::vector<const trace::forward_step*> error;
  for (const trace::forward_step& step : it.forward_steps) {
    const bool error_part = step.quantity == doc_.loss || uses_target(step.quantity);
    (error_part ? error : network).push_back(&step);
  }
  const bool has_targets =
      std::any_of(doc_.quantities.begin(), doc_.quantities.end(),
                  [](const trace::quantity& q) { return q.kind == quantity_kind::target; });
  const std::string suffix =
      doc_.iterations.size() > 1 ? fmt::format(" (iteration {})", it.index) : std::string();
  if (!network.empty()) heading(1, "Forward pass" + suffix);
  for (const trace::forward_step* step : network)
    forward_step(*step);
  if (!error.empty()) heading(1, (has_targets ? "The error" : "The function value") + suffix);
  for (const trace::forward_step* step : error)
    forward_step(*step);
}

void writer::forward_step(const trace::forward_step& step) {
  std::vector<row> rows;
  if (!step.formula.empty()) {
    rows.push_back(symbolic_row(step.formula));
    if (std::optional<row> n = numeric_row(step.formula)) rows.push_back(std::move(*n));
  }
  add_value(rows, step.value);
  derivation(symbol(step.quantity), rows);
}

void writer::gradient(const trace::gradient_step& step, std::string_view title) {
  if (!title.empty()) subheading(title);
  const std::string lhs = derivative(step.d);
  if (step.factors.size() == 1 && step.factors.front().d == step.d &&
      !step.factors.front().form.empty()) {
    // A chain of one link (the loss is the parameter's own equation): its local derivative is
    // the gradient, worked out under its own name.
    const trace::factor& f = step.factors.front();
    std::vector<row> rows{symbolic_row(f.form)};
    if (std::optional<row> n = numeric_row(f.form)) rows.push_back(std::move(*n));
    add_value(rows, step.value);
    derivation(lhs, rows);
    derived_.insert(derivation_key(step.d, step.value));
    return;
  }
  const bool product = step.combine == trace::gradient_step::kind::product;
  // The chain rule in symbols.
  row chain;
  for (std::size_t k = 0; k < step.factors.size(); ++k) {
    const std::string d = derivative(step.factors[k].d);
    chain.pieces.push_back(k == 0 ? d : (product ? "\\cdot " : "+ ") + d);
  }
  derivation(lhs, {chain});
  // Each factor's own derivation where it has a local form and was not worked out before.
  for (const trace::factor& f : step.factors) {
    std::vector<row> rows;
    const bool fresh = derived_.insert(derivation_key(f.d, f.value)).second;
    if (!f.form.empty() && fresh) {
      rows.push_back(symbolic_row(f.form));
      if (std::optional<row> n = numeric_row(f.form)) rows.push_back(std::move(*n));
      add_value(rows, f.value);
    } else {
      rows.push_back(value_row(f.value));
      if (f.defined_by || !fresh) rows.back().pieces.push_back("\\quad\\text{(from above)}");
    }
    derivation(derivative(f.d), rows);
  }
  // The product or sum with numbers, and its value.
  row numbers;
  bool long_numbers = false;
  for (std::size_t k = 0; k < step.factors.size(); ++k) {
    const trace::number& v = step.factors[k].value;
    long_numbers = long_numbers || is_long(v);
    std::string n = number_or_dash(v);
    if (k > 0 && lt::is_negative(v.shown)) n = "(" + n + ")";
    numbers.pieces.push_back(k == 0 ? n : (product ? "\\cdot " : "+ ") + n);
  }
  numbers.flowing = long_numbers;
  std::vector<row> rows;
  if (step.factors.size() > 1) rows.push_back(std::move(numbers));
  rows.push_back(value_row(step.value));
  derivation(lhs, rows);
  derived_.insert(derivation_key(step.d, step.value));
}

void writer::backward(const trace::iteration& it) {
  if (it.backward.empty()) return;
  heading(1, doc_.iterations.size() > 1 ? fmt::format("Backward pass (iteration {})", it.index)
                                        : std::string("Backward pass"));
  paragraph(fmt::format(
      "For every parameter the chain rule splits ${}$ into local derivatives along the "
      "paths from the parameter to the error; each local derivative is worked out, then "
      "multiplied. Sums collect the paths through units that feed several others.",
      lt::derivative_symbol(loss_symbol(), "w", form::latex)));
  for (const trace::gradient_step& step : it.backward) {
    gradient(step, step.parameter ? fmt::format("Gradient for ${}$", symbol(*step.parameter))
                                  : fmt::format("Intermediate: ${}$", derivative(step.d)));
  }
}

// A batch update: the passes above are its first row's; the table gives every row's share and the
// gradient the update uses. Wide models show their first parameters only (the JSON has them all).
void writer::batch(const trace::iteration& it) {
  if (!it.batch) return;
  const trace::batch_step& b = *it.batch;
  const bool mean = doc_.config.batch_reduction == "mean";
  heading(1, doc_.iterations.size() > 1 ? fmt::format("Batch (iteration {})", it.index)
                                        : std::string("Batch"));
  if (!b.rows.empty()) {
    paragraph(fmt::format(
        "The update uses rows {} to {} of the data set. The passes above are row {}'s; every row "
        "gives its own error and gradients, and the update uses their {}.",
        b.rows.front().row, b.rows.back().row, b.rows.front().row, mean ? "mean" : "sum"));
  }
  constexpr std::size_t max_columns = 4;
  const std::size_t shown = std::min(doc_.parameters.size(), max_columns);
  std::string header = fmt::format("Row & ${}$", symbol(doc_.loss));
  for (std::size_t j = 0; j < shown; ++j) {
    trace::derivative d;
    d.of = doc_.loss;
    d.wrt = doc_.parameters[j];
    header += fmt::format(" & ${}$", derivative(d));
  }
  const auto cells = [&](const trace::number& loss, const std::vector<trace::number>& gradients) {
    std::string out = " & " + value_cell(loss);
    for (std::size_t j = 0; j < shown; ++j)
      out += " & " + (j < gradients.size() ? value_cell(gradients[j]) : std::string());
    return out;
  };
  std::vector<std::string> rows;
  const std::size_t limit = 40;
  for (std::size_t r = 0; r < b.rows.size(); ++r) {
    // Long batches: the first and the last rows, the reduction still covers all.
    if (b.rows.size() > limit && r == limit / 2) {
      rows.push_back(fmt::format("\\multicolumn{{{}}}{{c}}{{\\dots\\ {} more rows \\dots}}",
                                 shown + 2, b.rows.size() - limit));
      r = b.rows.size() - limit / 2;
    }
    rows.push_back(std::to_string(b.rows[r].row) + cells(b.rows[r].loss, b.rows[r].gradients));
  }
  rows.push_back(std::string(mean ? "mean" : "sum") + cells(b.loss, b.gradients));
  table("r" + std::string(shown + 1, 'r'), false, header, rows);
  if (shown < doc_.parameters.size()) {
    paragraph(
        fmt::format("The table shows {} of the {} parameters.", shown, doc_.parameters.size()));
  }
}

void writer::optimizer_rule() {
  const trace::optimizer_settings& o = doc_.config.optimizer;
  if (o.rule.empty()) return;
  lt::formula_style s = style(false, false);
  std::string lines;
  for (std::size_t k = 0; k < o.rule.size(); ++k) {
    if (k > 0) lines += "\\\\\n";
    lines += fmt::format(
        "{} &\\leftarrow {}",
        o.rule[k].lhs_latex.empty() ? lt::escape_text(o.rule[k].lhs_text) : o.rule[k].lhs_latex,
        lt::render_formula(o.rule[k].rhs, s));
  }
  paragraph("The update rule for every trained parameter $w$:");
  out_ += "\\begin{align*}\n" + lines + "\n\\end{align*}\n";
  paragraph("With this iteration's numbers:");
}

void writer::updates(const trace::iteration& it) {
  if (it.updates.empty()) return;
  heading(1, doc_.iterations.size() > 1 ? fmt::format("Updates (iteration {})", it.index)
                                        : std::string("Updates"));
  optimizer_rule();
  std::vector<bool> recomputed_shown(it.recomputed.size(), false);
  for (const trace::parameter_update& u : it.updates) {
    // Sequential order: show the recomputed gradients just before the update that uses them.
    for (std::size_t k = 0; k < it.recomputed.size(); ++k) {
      if (recomputed_shown[k]) continue;
      const bool needed =
          std::any_of(it.recomputed.begin() + static_cast<std::ptrdiff_t>(k), it.recomputed.end(),
                      [&](const trace::gradient_step& g) { return g.parameter == u.parameter; });
      if (!needed) break;
      recomputed_shown[k] = true;
      const trace::gradient_step& g = it.recomputed[k];
      gradient(g, g.parameter ? fmt::format("Gradient for ${}$, recomputed with the updated "
                                            "weights",
                                            symbol(*g.parameter))
                              : std::string());
    }
    // The trace names optimizer state after the parameter in its own way (v_{w5}, with the
    // parameter's symbol as the trace knows it: the left side of the update, w5^{+}). Swap in
    // the symbol this document uses, so that a notation renames the state too.
    std::string trace_symbol;
    for (const trace::assignment& a : u.lines) {
      if (a.is_parameter && a.lhs_latex.ends_with("^{+}")) {
        trace_symbol = a.lhs_latex.substr(0, a.lhs_latex.size() - 4);
      }
    }
    const auto rename = [&](const std::string& latex) {
      const std::string suffix = "_{" + trace_symbol + "}";
      if (trace_symbol.empty() || !latex.ends_with(suffix)) return latex;
      return latex.substr(0, latex.size() - suffix.size()) + "_{" + symbol(u.parameter) + "}";
    };
    for (const trace::assignment& a : u.lines) {
      const std::string lhs =
          a.is_parameter ? lt::with_superscript(symbol(u.parameter), "+") : rename(a.lhs_latex);
      trace::expression rhs = a.rhs;
      for (trace::expr_node& n : rhs.nodes) {
        if (n.kind == trace::expr_kind::symbol) n.latex = rename(n.latex);
      }
      std::vector<row> rows;
      rows.push_back(symbolic_row(rhs));
      if (std::optional<row> n = numeric_row(rhs)) rows.push_back(std::move(*n));
      rows.push_back(value_row(a.value));
      derivation(lhs, rows);
    }
  }
}

void writer::results(const trace::iteration& it) {
  if (it.updates.empty()) return;
  bool long_values = false;
  for (const trace::parameter_update& u : it.updates) {
    long_values = long_values || is_long(u.gradient);
  }
  subheading(fmt::format("Summary of iteration {}", it.index));
  if (long_values) {
    // Long numbers: one parameter per block, each number on its own breakable line.
    for (const trace::parameter_update& u : it.updates) {
      const trace::number& before =
          u.parameter < it.forward.values.size() ? it.forward.values[u.parameter] : trace::number{};
      const trace::assignment* last = u.lines.empty() ? nullptr : &u.lines.back();
      derivation(symbol(u.parameter), {value_row(before)});
      derivation(lt::derivative_symbol(loss_symbol(), symbol(u.parameter), form::latex),
                 {value_row(u.gradient)});
      if (last != nullptr) {
        derivation(lt::with_superscript(symbol(u.parameter), "+"), {value_row(last->value)});
      }
    }
    return;
  }
  std::vector<std::string> rows;
  for (const trace::parameter_update& u : it.updates) {
    const trace::number& before =
        u.parameter < it.forward.values.size() ? it.forward.values[u.parameter] : trace::number{};
    const trace::number after = u.lines.empty() ? trace::number{} : u.lines.back().value;
    rows.push_back(fmt::format("${}$ & {} & {} & {}", symbol(u.parameter), value_cell(before),
                               value_cell(u.gradient), value_cell(after)));
  }
  table("lrrr", false,
        fmt::format("Parameter & Value & ${}$ & Updated",
                    lt::derivative_symbol(loss_symbol(), "w", form::latex)),
        rows);
}

void writer::error_after(const trace::iteration& it) {
  if (it.updates.empty()) return;
  const auto point =
      std::find_if(doc_.loss_history.begin(), doc_.loss_history.end(),
                   [&](const trace::loss_point& p) { return p.updates == it.index; });
  if (point == doc_.loss_history.end()) return;
  if (it.batch) {
    // The next loss recorded belongs to the next batch unless every batch is the whole data set.
    if (doc_.config.batch_size < doc_.config.data_rows) return;
    const bool mean = doc_.config.batch_reduction == "mean";
    heading(1, doc_.iterations.size() > 1 ? fmt::format("Error after update {}", it.index)
                                          : std::string("Error after the update"));
    paragraph(
        fmt::format("The {} of the rows' errors with the updated parameters (before the "
                    "update it was ${}$):",
                    mean ? "mean" : "sum", number(it.batch->loss)));
    derivation(lt::with_superscript(loss_symbol(), "+"), {value_row(point->loss)});
    return;
  }
  if (doc_.validation && doc_.validation->restored && it.index == doc_.config.steps) {
    // The last loss recorded belongs to the restored parameters, not to this update's result.
    paragraph(
        fmt::format("After update {} the parameters of update {} were restored (see "
                    "\\emph{{Validation}}).",
                    it.index, doc_.validation->best_update));
    return;
  }
  heading(1, doc_.iterations.size() > 1 ? fmt::format("Error after update {}", it.index)
                                        : std::string("Error after the update"));
  // Training row by row, the next loss recorded is the next row's: compare the same row.
  const bool same_row = it.row_loss_after.has_value();
  paragraph(fmt::format(
      "A forward pass with the updated parameters{} gives the new error (before the update it "
      "was ${}$):",
      same_row ? " on the same data row" : "", number(it.forward.loss)));
  derivation(lt::with_superscript(loss_symbol(), "+"),
             {value_row(same_row ? *it.row_loss_after : point->loss)});
}

void writer::validation() {
  if (!doc_.validation) return;
  const trace::validation_run& v = *doc_.validation;
  heading(1, fmt::format("Validation on {}", lt::escape_text(v.data_set)));
  paragraph(fmt::format(
      "After every {} {} the mean of ${}$ over the {} {} of \\texttt{{{}}} is computed with the "
      "parameters as they are (nothing is updated). The training ${}$ is the mean of the losses "
      "recorded for the updates since the previous validation; $\\ast$ marks a new best.",
      v.every, v.every == 1 ? "update" : "updates", loss_symbol(), v.rows,
      v.rows == 1 ? "row" : "rows", lt::escape_text(v.data_set), loss_symbol()));
  const bool epochs = std::any_of(v.history.begin(), v.history.end(),
                                  [](const trace::validation_point& p) { return p.epoch != 0; });
  std::vector<std::size_t> picked;
  const std::size_t n = v.history.size();
  if (n <= options_.table_rows || options_.table_rows < 2) {
    for (std::size_t i = 0; i < n; ++i)
      picked.push_back(i);
  } else {
    for (std::size_t k = 0; k < options_.table_rows; ++k) {
      const std::size_t i = k * (n - 1) / (options_.table_rows - 1);
      if (picked.empty() || picked.back() != i) picked.push_back(i);
    }
  }
  bool long_values = false;
  std::vector<std::string> rows;
  for (std::size_t i : picked) {
    const trace::validation_point& p = v.history[i];
    long_values = long_values || is_long(p.training_loss) || is_long(p.validation_loss);
    std::string row = std::to_string(p.update);
    if (epochs) row += " & " + std::to_string(p.epoch);
    row += " & " + value_cell(p.training_loss) + " & " + value_cell(p.validation_loss) + " & " +
           (p.best ? "$\\ast$" : "");
    rows.push_back(std::move(row));
  }
  if (!rows.empty()) {
    table(epochs ? "rrrrc" : "rrrc", long_values,
          fmt::format("Update{} & Training ${}$ & Validation ${}$ & Best", epochs ? " & Epoch" : "",
                      loss_symbol(), loss_symbol()),
          rows);
  }
  if (picked.size() < n) {
    paragraph(fmt::format("({} of {} rows shown, evenly spaced.)", picked.size(), n));
  }
  std::string sentence = trace::stopping_sentence(v, doc_.config.steps);
  sentence[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(sentence[0])));
  std::string text = lt::escape_text(sentence) + ".";
  if (!v.history.empty()) {
    text += fmt::format(" The lowest validation loss, ${}$, was after update {}.",
                        number(v.best_loss), v.best_update);
  }
  if (v.restored) {
    text += fmt::format(
        " The parameters after update {} were restored: the final values and the last entry of "
        "the loss history are theirs.",
        v.best_update);
  }
  paragraph(text);
  if (n < 2) return;
  std::string training;
  std::string validating;
  for (const trace::validation_point& p : v.history) {
    if (!p.training_loss.shown.empty())
      training += fmt::format(" ({},{})", p.update, lt::plot_number(p.training_loss.shown));
    if (!p.validation_loss.shown.empty())
      validating += fmt::format(" ({},{})", p.update, lt::plot_number(p.validation_loss.shown));
  }
  const std::string plot = fmt::format(
      "\\begin{{center}}\n\\begin{{tikzpicture}}\n"
      "\\begin{{axis}}[width=0.85\\linewidth, height={}, xlabel={{updates}}, "
      "ylabel={{${}$}}, grid=major, scaled y ticks=false, legend pos=north east, "
      "yticklabel style={{/pgf/number format/fixed, /pgf/number format/precision=4}}]\n"
      "\\addplot[thick, mark={}] coordinates {{{} }};\n"
      "\\addlegendentry{{training}}\n"
      "\\addplot[thick, dashed, mark={}] coordinates {{{} }};\n"
      "\\addlegendentry{{validation}}\n"
      "\\end{{axis}}\n\\end{{tikzpicture}}\n\\end{{center}}\n",
      options_.form == latex_form::standalone ? "5.5cm" : "4.2cm", loss_symbol(),
      n <= 30 ? "*" : "none", training, n <= 30 ? "o" : "none", validating);
  if (options_.form == latex_form::standalone) {
    out_ += plot;
  } else {
    // As for the loss plot: only where pgfplots is loaded.
    out_ += "\\csname @\\ifdefined\\pgfplotsversion firstofone\\else gobble\\fi\\endcsname{%\n" +
            plot + "}\n";
  }
}

void writer::evaluation(const trace::evaluation& e) {
  heading(1, fmt::format("Evaluation on {}", lt::escape_text(e.data_set)));
  paragraph(fmt::format(
      "The trained model on the {} {} of \\texttt{{{}}}: the mean of ${}$ over the rows is ${}$.",
      e.rows, e.rows == 1 ? "row" : "rows", lt::escape_text(e.data_set), symbol(doc_.loss),
      number(e.mean_loss)));
  const bool classifier = !e.classifier.empty();
  const auto label = [&](const std::optional<std::uint32_t>& c) {
    return c && *c < e.classes.size() ? e.classes[*c] : std::string("--");
  };
  if (!e.predictions.empty()) {
    // Wide outputs (a 10-class softmax) show their first columns; the JSON trace has them all.
    constexpr std::size_t max_columns = 3;
    const std::size_t outputs = std::min(e.outputs.size(), max_columns);
    std::string header = "Row";
    for (std::size_t k = 0; k < outputs; ++k)
      header += fmt::format(" & ${}$", symbol(e.outputs[k]));
    header += fmt::format(" & ${}$", symbol(doc_.loss));
    if (classifier) header += " & Predicted & Actual";
    std::vector<std::string> rows;
    for (const trace::evaluation_row& r : e.predictions) {
      std::string row = std::to_string(r.row);
      for (std::size_t k = 0; k < outputs; ++k)
        row += " & " + (k < r.outputs.size() ? value_cell(r.outputs[k]) : std::string());
      row += " & " + value_cell(r.loss);
      if (classifier) row += " & " + label(r.predicted) + " & " + label(r.actual);
      rows.push_back(std::move(row));
    }
    table("r" + std::string(outputs + 1, 'r') + (classifier ? "cc" : ""), false, header, rows);
    if (outputs < e.outputs.size()) {
      paragraph(fmt::format("The table shows {} of the {} outputs.", outputs, e.outputs.size()));
    }
  }
  if (!classifier) return;
  const std::string rule =
      e.classifier == "binary" ? "an output of at least 0.5 predicts class 1"
      : e.classifier == "one-hot"
          ? "the largest output predicts its class; the targets are one-hot"
          : "the largest output predicts its class; the target is the class number";
  paragraph(fmt::format("As a classifier ({}): accuracy ${}$ ({} of {} rows right).", rule,
                        number(e.accuracy), e.correct, e.rows));
  std::vector<std::string> rows;
  for (const trace::class_metrics& m : e.per_class) {
    rows.push_back(fmt::format("{} & {} & {} & {} & {}", lt::escape_text(m.label),
                               value_cell(m.precision), value_cell(m.recall), value_cell(m.f1),
                               m.support));
  }
  rows.push_back(fmt::format("macro & {} & {} & {} &", value_cell(e.macro_precision),
                             value_cell(e.macro_recall), value_cell(e.macro_f1)));
  table("lrrrr", false, "Class & Precision & Recall & $F_1$ & Support", rows);
  std::string header = "Actual / predicted";
  for (const std::string& c : e.classes)
    header += " & " + lt::escape_text(c);
  std::vector<std::string> confusion;
  for (std::size_t a = 0; a < e.confusion.size(); ++a) {
    std::string row = a < e.classes.size() ? lt::escape_text(e.classes[a]) : std::string();
    for (std::uint64_t count : e.confusion[a])
      row += " & " + std::to_string(count);
    confusion.push_back(std::move(row));
  }
  table("l" + std::string(e.classes.size(), 'r'), false, header, confusion);
}

void writer::loss_history() {
  const std::vector<trace::loss_point>& h = doc_.loss_history;
  if (h.size() <= 2) return;
  heading(1, "Loss history");
  // Evenly spaced rows (always the first and the last) keep long runs readable.
  const auto pick = [&](std::size_t wanted) {
    std::vector<std::size_t> rows;
    const std::size_t n = h.size();
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
  };
  const std::vector<std::size_t> table_rows = pick(options_.table_rows);
  bool long_values = false;
  for (std::size_t i : table_rows)
    long_values = long_values || is_long(h[i].loss);
  std::vector<std::string> rows;
  for (std::size_t i : table_rows) {
    rows.push_back(fmt::format("{} & {}", h[i].updates, value_cell(h[i].loss)));
  }
  table("rr", long_values, fmt::format("Updates & ${}$", loss_symbol()), rows);
  if (table_rows.size() < h.size()) {
    paragraph(fmt::format("({} of {} rows shown, evenly spaced.)", table_rows.size(), h.size()));
  }

  std::string coordinates;
  for (std::size_t i : pick(options_.plot_points)) {
    if (h[i].loss.shown.empty()) continue;
    coordinates += fmt::format(" ({},{})", h[i].updates, lt::plot_number(h[i].loss.shown));
  }
  const std::string plot = fmt::format(
      "\\begin{{center}}\n\\begin{{tikzpicture}}\n"
      "\\begin{{axis}}[width=0.85\\linewidth, height={}, xlabel={{updates}}, "
      "ylabel={{${}$}}, grid=major, scaled y ticks=false, "
      "yticklabel style={{/pgf/number format/fixed, /pgf/number format/precision=4}}]\n"
      "\\addplot[thick, mark={}] coordinates {{{} }};\n"
      "\\end{{axis}}\n\\end{{tikzpicture}}\n\\end{{center}}\n",
      // Short enough for a Beamer frame in a fragment.
      options_.form == latex_form::standalone ? "5.5cm" : "4.2cm", loss_symbol(),
      h.size() <= 30 ? "*" : "none", coordinates);
  if (options_.form == latex_form::standalone) {
    out_ += plot;
  } else {
    // A fragment cannot load packages: draw the plot only where pgfplots is loaded.
    // The test picks \@firstofone or \@gobble before the plot is read, so no conditional is
    // open while pgfplots (or a Beamer frame) processes it.
    out_ += "\\csname @\\ifdefined\\pgfplotsversion firstofone\\else gobble\\fi\\endcsname{%\n" +
            plot + "}\n";
  }
}

// The LaTeX of a shown derivative with each `#k` replaced by the k-th quantity's symbol, in
// pieces a long line may break before: a top-level + or - of a sum, or a \cdot of a product.
std::vector<std::string> shown_pieces(const trace::shown_derivative& d,
                                      const std::vector<std::string>& symbols) {
  std::string tex;
  for (std::size_t i = 0; i < d.latex.size(); ++i) {
    if (d.latex[i] != '#' || i + 1 >= d.latex.size() || d.latex[i + 1] < '0' ||
        d.latex[i + 1] > '9') {
      tex += d.latex[i];
      continue;
    }
    std::size_t k = 0;
    while (i + 1 < d.latex.size() && d.latex[i + 1] >= '0' && d.latex[i + 1] <= '9') {
      k = k * 10 + static_cast<std::size_t>(d.latex[i + 1] - '0');
      ++i;
    }
    const bool known = k >= 1 && k <= d.symbols.size() && d.symbols[k - 1] < symbols.size();
    // Braced, so that a symbol with its own subscript takes a power as one atom.
    tex += known ? "{" + symbols[d.symbols[k - 1]] + "}" : "?";
  }
  // Where a line may break: before a + or - or \cdot outside braces, and outside any
  // \left...\right group shorter than long_group characters (TeX cannot break inside a group,
  // and breaking a short factor such as (1 - out_{o1}) reads badly).
  constexpr std::size_t long_group = 60;
  const std::string_view all(tex);
  std::vector<bool> breakable(tex.size(), true);
  std::vector<std::size_t> open;
  int braces = 0;
  for (std::size_t i = 0; i < tex.size(); ++i) {
    if (tex[i] == '{') ++braces;
    if (tex[i] == '}') --braces;
    if (braces != 0) breakable[i] = false;
    if (all.substr(i).starts_with("\\left")) open.push_back(i);
    if (all.substr(i).starts_with("\\right") && !open.empty()) {
      const std::size_t from = open.back();
      open.pop_back();
      if (i - from < long_group) {
        std::fill(breakable.begin() + static_cast<std::ptrdiff_t>(from),
                  breakable.begin() + static_cast<std::ptrdiff_t>(i), false);
      }
    }
  }
  std::vector<std::string> pieces;
  std::string current;
  int depth = 0;
  bool inside_group = false;
  for (std::size_t i = 0; i < tex.size(); ++i) {
    const std::string_view rest = all.substr(i);
    if (rest.starts_with("\\left")) ++depth;
    if (rest.starts_with("\\right")) --depth;
    const bool split =
        breakable[i] && !current.empty() &&
        (rest.starts_with(" + ") || rest.starts_with(" - ") || rest.starts_with(" \\cdot "));
    if (split) {
      inside_group = inside_group || depth > 0;
      pieces.push_back(std::move(current));
      current.clear();
      continue;  // the space before the operator is the one the pieces are joined with
    }
    current += tex[i];
  }
  if (!current.empty()) pieces.push_back(std::move(current));
  // A \left on one line of an align* and its \right on another do not pair up; fixed-size
  // delimiters do not need to.
  if (inside_group) {
    for (std::string& piece : pieces) {
      for (auto [from, to] : {std::pair<std::string_view, std::string_view>{"\\left", "\\bigl"},
                              {"\\right", "\\bigr"}}) {
        for (std::size_t at = piece.find(from); at != std::string::npos;
             at = piece.find(from, at + to.size())) {
          piece.replace(at, from.size(), to);
        }
      }
    }
  }
  return pieces;
}

void writer::derivatives() {
  if (doc_.derivatives.empty()) return;
  heading(1, "Derivatives");
  const std::string& at = doc_.derivatives.front().evaluated_at;
  paragraph(fmt::format("Derivatives of the model as written, simplified, with their values{}{}.",
                        at.empty() ? "" : " at ", lt::escape_text(at)));
  for (const trace::shown_derivative& d : doc_.derivatives) {
    // \partial x^2 for a repeated factor, \partial x\,\partial y for different ones.
    std::string bottom;
    for (std::size_t k = 0; k < d.wrt.size();) {
      std::size_t run = 1;
      while (k + run < d.wrt.size() && d.wrt[k + run] == d.wrt[k])
        ++run;
      if (!bottom.empty()) bottom += "\\,";
      bottom += "\\partial " + symbol(d.wrt[k]);
      if (run > 1) bottom += "^{" + std::to_string(run) + "}";
      k += run;
    }
    const std::string order = d.wrt.size() > 1 ? "^{" + std::to_string(d.wrt.size()) + "}" : "";
    const std::string lhs = "\\frac{\\partial" + order + " " + symbol(d.of) + "}{" + bottom + "}";
    derivation(lhs, {row{shown_pieces(d, symbols_), false}, value_row(d.value)});
  }
}

std::string writer::run() {
  // Which quantities depend on a target: those form "the error" rather than the forward pass.
  const auto& q = doc_.quantities;
  uses_target_.assign(q.size(), false);
  for (quantity_index i = 0; i < q.size(); ++i) {
    if (q[i].kind == quantity_kind::target) {
      uses_target_[i] = true;
      continue;
    }
    for (quantity_index d : quantities_in(q[i].formula)) {
      if (d < i && uses_target_[d]) uses_target_[i] = true;
    }
  }
  for (const trace::edge& e : doc_.engine_edges) {
    if (e.from < e.to && e.to < q.size() && uses_target_[e.from] && !q[e.to].shown()) {
      uses_target_[e.to] = true;
    }
  }

  preamble();
  summary();
  if (doc_.iterations.empty()) {
    given(doc_.final_state, "Given values");
    if (!doc_.final_state.loss.empty()) {
      heading(1, "Result");
      derivation(loss_symbol(), {value_row(doc_.final_state.loss)});
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
    results(it);
    error_after(it);
  }
  loss_history();
  validation();
  for (const trace::evaluation& e : doc_.evaluations)
    evaluation(e);
  derivatives();
  close_frame();
  if (options_.form == latex_form::standalone) {
    out_ += "\n\\end{document}\n";
    // Derivations that follow each other share one align* so their '=' line up and they sit
    // closer together. Fragments keep them apart: a Beamer frame can only break between them.
    const std::string_view seam = "\n\\end{align*}\n\\begin{align*}\n";
    std::string merged;
    merged.reserve(out_.size());
    std::size_t from = 0;
    for (std::size_t at = out_.find(seam); at != std::string::npos; at = out_.find(seam, from)) {
      merged.append(out_, from, at - from);
      merged += "\\\\[1.5ex]\n";
      from = at + seam.size();
    }
    merged.append(out_, from);
    out_ = std::move(merged);
  }
  return std::move(out_);
}

}  // namespace

std::string_view to_string(latex_notation n) noexcept {
  switch (n) {
    case latex_notation::model:
      return "model";
    case latex_notation::mazur:
      return "mazur";
    case latex_notation::layered:
      return "layered";
    case latex_notation::ho:
      return "ho";
  }
  return "model";
}

std::optional<latex_notation> parse_notation(std::string_view name) noexcept {
  for (latex_notation n : {latex_notation::model, latex_notation::mazur, latex_notation::layered,
                           latex_notation::ho}) {
    if (to_string(n) == name) return n;
  }
  return std::nullopt;
}

std::vector<std::string> quantity_symbols(const trace::document& doc, latex_notation notation) {
  std::vector<std::string> symbols;
  symbols.reserve(doc.quantities.size());
  for (quantity_index i = 0; i < doc.quantities.size(); ++i) {
    const trace::quantity& q = doc.quantities[i];
    if (!q.symbol.empty()) {
      lt::validate_symbol(q.name.empty() ? trace::display_name(doc, i) : q.name, q.symbol);
      symbols.push_back(q.symbol);
    } else if (!q.name.empty()) {
      symbols.push_back(lt::default_symbol(q.name));
    } else if (!q.source.empty()) {
      symbols.push_back(lt::math_number(q.source));
    } else {
      symbols.push_back(fmt::format("v_{{{}}}", i));
    }
  }
  if (notation == latex_notation::model) return symbols;

  const network net = recognise(doc);
  if (net.layers == 0) return symbols;
  // Mazur numbers the weights w1, w2, ... layer by layer, unit by unit, input by input.
  std::vector<std::pair<std::array<std::uint32_t, 3>, quantity_index>> weights;
  for (quantity_index i = 0; i < net.roles.size(); ++i) {
    const role_info& r = net.roles[i];
    if (r.kind == role::weight && !r.ambiguous) weights.push_back({{r.layer, r.unit, r.from}, i});
  }
  std::sort(weights.begin(), weights.end());
  std::map<quantity_index, std::uint32_t> weight_number;
  for (std::size_t k = 0; k < weights.size(); ++k) {
    weight_number[weights[k].second] = static_cast<std::uint32_t>(k + 1);
  }
  for (quantity_index i = 0; i < net.roles.size(); ++i) {
    const role_info& r = net.roles[i];
    if (r.kind == role::none || r.ambiguous) continue;
    const auto number = weight_number.find(i);
    std::string s =
        notation_symbol(notation, net, r, number == weight_number.end() ? 0 : number->second);
    if (!s.empty()) symbols[i] = std::move(s);
  }
  return symbols;
}

std::string to_latex(const trace::document& doc, const latex_options& options) {
  return writer(doc, options).run();
}

}  // namespace chainrule::exporters
