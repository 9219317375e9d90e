// SPDX-License-Identifier: MIT
#include "chainrule/check/check.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <utility>

#include <fmt/format.h>

#include "chainrule/engine/engine.hpp"
#include "chainrule/lang/dropout.hpp"
#include "chainrule/lang/lower.hpp"
#include "chainrule/trace/record.hpp"
#include "chainrule/trace/train.hpp"
#include "numbers.hpp"

namespace chainrule::check {

std::string_view describe(verdict v) noexcept {
  switch (v) {
    case verdict::correct:
      return "correct";
    case verdict::drift:
      return "rounding drift";
    case verdict::wrong:
      return "wrong here";
    case verdict::carried:
      return "follows from an earlier error";
  }
  return "?";
}

std::string_view to_string(verdict v) noexcept {
  switch (v) {
    case verdict::correct:
      return "correct";
    case verdict::drift:
      return "drift";
    case verdict::wrong:
      return "wrong";
    case verdict::carried:
      return "carried";
  }
  return "?";
}

namespace {

using trace::quantity_index;

bool is_whole_number(std::string_view text) {
  return !text.empty() && text.size() <= 9 &&
         text.find_first_not_of("0123456789") == std::string_view::npos;
}

lang::diagnostic error_at(const answer& a, const lang::source_location& where, std::string message,
                          std::string expected = {}) {
  lang::diagnostic d;
  d.location = where;
  d.message = std::move(message);
  d.expected = std::move(expected);
  d.source_line = a.source_line;
  return d;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

// The student's value source for one step: what the recomputation used.
struct used_input {
  std::size_t answer;  // index into the answers
};

template <class Real>
class checker {
 public:
  checker(const lang::checked_model& model, const answers_file& answers)
      : model_(model), answers_(answers), digits_(model.precision.digits), scratch_(digits_) {}

  report run();

 private:
  const lang::checked_model& model_;
  const answers_file& answers_;
  unsigned digits_;
  graph<Real> scratch_;  // every recomputation is a few nodes of this graph
  trace::document doc_;
  std::optional<trace::document> other_order_;
  std::map<std::string, quantity_index, std::less<>> names_;
  std::map<answer_key, std::size_t> given_;  // key -> answer index
  std::vector<checked_answer> out_;
  std::vector<std::vector<std::size_t>> inputs_;  // per answer: answers its recomputation used
  std::vector<std::optional<node_id>> recomputed_;
  std::vector<std::optional<node_id>> exact_;
  bool has_half_ = false;

  // ---- running the model ----
  trace::document run_model(bool other_order, const std::vector<std::uint64_t>& traced) {
    lang::lowered_model<Real> low = lang::lower<Real>(model_);
    graph<Real>& g = *low.graph;
    // The same masks as `chainrule run`: as written or drawn per update, evaluation at the end.
    lang::dropout_control<Real> dropout(model_, low);
    trace::record_options record;
    record.source = model_.file_name;
    record.display = low.display_format();
    record.targets = low.targets;
    record.parameters = low.params;
    if (!low.train) {
      g.forward();
      g.backward(low.objective);
      return trace::record(g, low.objective, record);
    }
    const lang::train_setting& t = *low.train;
    trace::run_options options;
    options.record = std::move(record);
    options.optimizer.name = t.optimizer.name;
    for (const lang::named_decimal& a : t.optimizer.arguments) {
      options.optimizer.arguments.emplace_back(a.name, a.value);
    }
    const bool sequential = (t.order == lang::update_order::sequential) != other_order;
    options.order = sequential ? update_order::sequential : update_order::simultaneous;
    options.trace.first = false;
    options.trace.last = false;
    options.trace.steps = traced;
    options.steps = t.count;
    if (!dropout.empty()) {
      options.before_update = [&dropout](std::uint64_t k) { dropout.training(k); };
      options.before_evaluation = [&dropout] { dropout.evaluation(); };
    }
    return trace::run(g, low.objective, options);
  }

  // ---- numbers ----
  node_id constant(std::string_view text) { return scratch_.constant(text).id(); }
  node_id apply(op o, std::initializer_list<node_id> args) {
    return scratch_.apply(o, std::span<const node_id>(args.begin(), args.size())).id();
  }
  const Real& value(node_id id) const { return scratch_.value(id); }
  std::string format(node_id id, const number_format& f) const {
    return scratch_.format(value(id), f);
  }

  /// `text` is the typed answer; `v` a value. True when some rounding rule at the student's
  /// precision turns v into the student's number.
  bool rounds_to(const typed_number& typed, node_id v) const {
    for (const rounding r : {rounding::half_even, rounding::half_up, rounding::toward_zero}) {
      if (same_number(format(v, typed.format(r)), typed.text())) return true;
    }
    return false;
  }
  /// |student - v| < one unit of the last digit the student wrote: the student's number is v
  /// rounded down or up, whichever way. Not "at most one unit": at one decimal that would take
  /// 0.2 for an exact 0.1, which is no rounding of it at all. The unit is shrunk by a few digits
  /// below the working precision, so that a difference of exactly one unit (0.4 - 0.3, computed
  /// in binary) never passes by its rounding error.
  bool within_one_unit(const typed_number& typed, node_id v) {
    const node_id s = constant(typed.text());
    const node_id difference = apply(op::abs, {apply(op::sub, {s, v})});
    const node_id unit = constant(typed.unit());
    const int margin_digits = std::max(static_cast<int>(digits_) - 5, 6);
    const node_id margin = constant("1e-" + std::to_string(margin_digits));
    const node_id one = constant("1");
    const node_id below_unit = apply(op::mul, {unit, apply(op::sub, {one, margin})});
    return value(difference) < value(below_unit);
  }
  bool agrees(const typed_number& typed, node_id v) {
    return rounds_to(typed, v) || within_one_unit(typed, v);
  }
  std::string at_student_precision(const typed_number& typed, node_id v) const {
    return format(v, typed.format(rounding::half_even));
  }

  // ---- lookups in a document ----
  const trace::iteration* iteration_of(const trace::document& d, std::uint64_t k) const {
    for (const trace::iteration& it : d.iterations) {
      if (it.index == k) return &it;
    }
    return nullptr;
  }
  std::string name_of(quantity_index q) const { return trace::display_name(doc_, q); }

  struct location_in_doc {
    std::string exact;
    std::string shown;
    const trace::expression* formula = nullptr;  // recompute with this expression ...
    const trace::gradient_step* step = nullptr;  // ... or with this chain-rule step
    std::optional<answer_key> identity;          // ... or it is this other key's value
    std::uint64_t k = 1;
    const std::vector<trace::number>* forward = nullptr;  // values of iteration k
    const trace::iteration* it = nullptr;
  };

  // Everything the document knows about a key; exact empty when it does not exist.
  location_in_doc locate(const trace::document& d, const answer_key& key, bool prefer_recomputed) {
    location_in_doc loc;
    loc.k = key.iteration;
    const trace::iteration* it = iteration_of(d, key.iteration);
    loc.it = it;
    const auto q = names_.find(key.of);
    if (q == names_.end()) return loc;
    const std::uint64_t steps = d.config.steps;
    if (key.kind == answer_kind::value) {
      const std::vector<trace::number>* values = nullptr;
      const std::vector<trace::forward_step>* lines = nullptr;
      if (it != nullptr) {
        values = &it->forward.values;
        lines = &it->forward_steps;
      } else if (key.iteration == steps + 1 || (steps == 0 && key.iteration == 1)) {
        values = &d.final_state.values;
        lines = &d.final_steps;
      }
      if (values == nullptr) return loc;
      loc.forward = values;
      loc.exact = (*values)[q->second].exact;
      loc.shown = (*values)[q->second].shown;
      for (const trace::forward_step& s : *lines) {
        if (s.quantity == q->second) loc.formula = &s.formula;
      }
      if (key.iteration > 1 && d.quantities[q->second].kind == trace::quantity_kind::parameter) {
        loc.identity = answer_key{answer_kind::updated, key.of, {}, key.iteration - 1};
      }
      return loc;
    }
    if (it == nullptr) return loc;
    loc.forward = &it->forward.values;
    if (key.kind == answer_kind::updated) {
      for (const trace::parameter_update& u : it->updates) {
        if (u.parameter != q->second || u.lines.empty()) continue;
        loc.exact = u.lines.back().value.exact;
        loc.shown = u.lines.back().value.shown;
        loc.formula = &u.lines.back().rhs;
      }
      return loc;
    }
    const auto w = names_.find(key.wrt);
    if (w == names_.end()) return loc;
    auto matches = [&](const trace::derivative& dv) {
      return dv.of == q->second && dv.wrt == w->second && (!dv.via || !dv.via_needed);
    };
    const std::vector<trace::gradient_step>* lists[2] = {&it->backward, &it->recomputed};
    if (prefer_recomputed) std::swap(lists[0], lists[1]);
    for (const auto* list : lists) {
      for (const trace::gradient_step& s : *list) {
        if (matches(s.d)) {
          loc.exact = s.value.exact;
          loc.shown = s.value.shown;
          loc.step = &s;
          return loc;
        }
      }
    }
    for (const auto* list : lists) {
      for (const trace::gradient_step& s : *list) {
        for (const trace::factor& f : s.factors) {
          if (matches(f.d) && !f.form.empty()) {
            loc.exact = f.value.exact;
            loc.shown = f.value.shown;
            loc.formula = &f.form;
            return loc;
          }
        }
      }
    }
    for (std::size_t e = 0; e < d.edges.size(); ++e) {
      if (d.edges[e].to == q->second && d.edges[e].from == w->second &&
          e < it->edge_partials.size()) {
        loc.exact = it->edge_partials[e].exact;
        loc.shown = it->edge_partials[e].shown;
        if (!d.edges[e].partial.empty()) loc.formula = &d.edges[e].partial;
        return loc;
      }
    }
    if (q->second == d.loss) {
      loc.exact = it->gradients[w->second].exact;
      loc.shown = it->gradients[w->second].shown;
    }
    return loc;
  }

  // ---- recomputation from the student's numbers ----
  enum class substitution : std::uint8_t { given, updated_parameters };

  struct evaluation {
    std::optional<node_id> result;
    std::string with_values;  // the formula with the numbers used
    std::vector<std::size_t> used;
  };

  // Value of a key as the student has it: their number if given, else the exact value.
  node_id student_value(const answer_key& key, const std::string& exact, std::string& shown,
                        std::vector<std::size_t>& used) {
    if (const auto a = given_.find(key); a != given_.end()) {
      used.push_back(a->second);
      shown = answers_.answers[a->second].number;
      return constant(shown);
    }
    if (key.kind == answer_kind::value && key.iteration > 1) {
      const auto q = names_.find(key.of);
      if (q != names_.end() && doc_.quantities[q->second].kind == trace::quantity_kind::parameter) {
        const answer_key updated{answer_kind::updated, key.of, {}, key.iteration - 1};
        if (const auto u = given_.find(updated); u != given_.end()) {
          used.push_back(u->second);
          shown = answers_.answers[u->second].number;
          return constant(shown);
        }
      }
    }
    return constant(exact);
  }

  static std::string substitute(std::string_view templ, const std::vector<std::string>& args,
                                const std::string& self, const std::string& selected) {
    std::string out;
    for (std::size_t i = 0; i < templ.size(); ++i) {
      if (templ[i] == '#' && i + 1 < templ.size()) {
        const char c = templ[i + 1];
        if (c >= '1' && c <= '9' && static_cast<std::size_t>(c - '1') < args.size()) {
          out += args[static_cast<std::size_t>(c - '1')];
          ++i;
          continue;
        }
        if (c == '0') {
          out += self;
          ++i;
          continue;
        }
        if (c == 'k') {
          out += selected;
          ++i;
          continue;
        }
        if (c == '*') {
          for (std::size_t a = 0; a < args.size(); ++a)
            out += (a ? ", " : "") + args[a];
          ++i;
          continue;
        }
      }
      out += templ[i];
    }
    return out;
  }

  // Renders `e` with the given leaf texts (one pass, children first; no recursion).
  static std::string render(const trace::expression& e, const std::vector<std::string>& leaf) {
    std::vector<std::string> text(e.nodes.size());
    std::vector<int> precedence(e.nodes.size(), 5);
    for (std::size_t i = 0; i < e.nodes.size(); ++i) {
      const trace::expr_node& n = e.nodes[i];
      if (n.kind != trace::expr_kind::apply) {
        text[i] = leaf[i];
        precedence[i] = leaf[i].starts_with('-') ? 3 : 5;
        continue;
      }
      std::vector<std::string> args;
      const bool right_sensitive =
          n.op == "sub" || n.op == "div" || n.op == "pow" || n.op == "powi";
      for (std::size_t a = 0; a < n.args.size(); ++a) {
        const std::uint32_t c = n.args[a];
        const bool parens = n.notation != trace::layout::function &&
                            (precedence[c] < n.precedence ||
                             (precedence[c] == n.precedence && a == 1 && right_sensitive) ||
                             (n.precedence == 4 && a == 0 && precedence[c] <= 4));
        // A negative number after an operator is bracketed, as in the worked example:
        // 0.3*(-0.5), 1 - (-0.5).
        const bool negative_operand = n.notation != trace::layout::function && precedence[c] == 3 &&
                                      (n.precedence >= 3 || a > 0);
        args.push_back(parens || negative_operand ? "(" + text[c] + ")" : text[c]);
      }
      const std::string self = n.self ? text[*n.self] : std::string();
      const std::string selected = n.selected && *n.selected < args.size() ? args[*n.selected] : "";
      text[i] = substitute(n.text, args, self, selected);
      precedence[i] = n.precedence;
    }
    return text.empty() ? std::string() : text.back();
  }

  std::string symbolic(const trace::expression& e) const {
    std::vector<std::string> leaf(e.nodes.size());
    for (std::size_t i = 0; i < e.nodes.size(); ++i) {
      const trace::expr_node& n = e.nodes[i];
      switch (n.kind) {
        case trace::expr_kind::quantity:
          leaf[i] = name_of(n.quantity);
          break;
        case trace::expr_kind::derivative:
          leaf[i] = fmt::format("d{}/d{}", name_of(n.of), name_of(n.quantity));
          break;
        case trace::expr_kind::symbol:
        case trace::expr_kind::literal:
          leaf[i] = n.text;
          break;
        case trace::expr_kind::apply:
          break;
      }
    }
    return render(e, leaf);
  }

  std::optional<op> op_named(std::string_view name) const {
    const auto infos = all_op_infos();
    for (std::size_t i = 0; i < infos.size(); ++i) {
      if (infos[i].name == name) return static_cast<op>(i);
    }
    return std::nullopt;
  }

  evaluation evaluate(const trace::expression& e, const location_in_doc& loc, substitution mode) {
    evaluation result;
    std::vector<node_id> ids(e.nodes.size());
    std::vector<std::string> leaf(e.nodes.size());
    const trace::iteration* it = loc.it;
    try {
      for (std::size_t i = 0; i < e.nodes.size(); ++i) {
        const trace::expr_node& n = e.nodes[i];
        switch (n.kind) {
          case trace::expr_kind::quantity: {
            const std::string& exact = !n.value.exact.empty()   ? n.value.exact
                                       : loc.forward != nullptr ? (*loc.forward)[n.quantity].exact
                                                                : n.value.exact;
            const std::string name = name_of(n.quantity);
            if (mode == substitution::updated_parameters && it != nullptr &&
                doc_.quantities[n.quantity].kind == trace::quantity_kind::parameter) {
              std::string updated_exact;
              for (const trace::parameter_update& u : it->updates) {
                if (u.parameter == n.quantity && !u.lines.empty()) {
                  updated_exact = u.lines.back().value.exact;
                }
              }
              if (!updated_exact.empty()) {
                ids[i] = constant(updated_exact);
                leaf[i] = name + "+";
                break;
              }
            }
            if (exact.empty()) return {};
            ids[i] = student_value(answer_key{answer_kind::value, name, {}, loc.k}, exact, leaf[i],
                                   result.used);
            if (leaf[i].empty()) leaf[i] = format(ids[i], display());
            break;
          }
          case trace::expr_kind::derivative: {
            std::string exact = n.value.exact;
            if (exact.empty() && it != nullptr && n.of == doc_.loss) {
              exact = it->gradients[n.quantity].exact;
            }
            if (exact.empty()) return {};
            ids[i] = student_value(
                answer_key{answer_kind::derivative, name_of(n.of), name_of(n.quantity), loc.k},
                exact, leaf[i], result.used);
            if (leaf[i].empty()) leaf[i] = format(ids[i], display());
            break;
          }
          case trace::expr_kind::symbol:
            if (n.value.exact.empty()) return {};
            ids[i] = constant(n.value.exact);
            leaf[i] = n.value.shown;
            break;
          case trace::expr_kind::literal:
            ids[i] = constant(n.text);
            leaf[i] = n.text;
            break;
          case trace::expr_kind::apply: {
            std::optional<op> o = op_named(n.op);
            if (!o || is_leaf(*o)) return {};
            // pow and powi share the name "pow": a whole-number exponent is the integer power,
            // defined for negative bases too ((t1 - out_o1)^2).
            if (*o == op::pow && n.args.size() == 2 &&
                e.nodes[n.args[1]].kind == trace::expr_kind::literal &&
                is_whole_number(e.nodes[n.args[1]].text)) {
              o = op::powi;
            }
            std::vector<node_id> args;
            for (const std::uint32_t a : n.args)
              args.push_back(ids[a]);
            ids[i] = scratch_.apply(*o, std::span<const node_id>(args)).id();
            break;
          }
        }
      }
    } catch (const std::exception&) {
      return {};  // a value that cannot be computed from these numbers (log of a negative, ...)
    }
    if (ids.empty()) return {};
    result.result = ids.back();
    result.with_values = render(e, leaf);
    return result;
  }

  evaluation evaluate_step(const trace::gradient_step& s, const location_in_doc& loc,
                           substitution mode) {
    evaluation result;
    std::optional<node_id> total;
    std::vector<std::string> parts;
    for (const trace::factor& f : s.factors) {
      node_id v{};
      std::string shown;
      const answer_key label{answer_kind::derivative, name_of(f.d.of), name_of(f.d.wrt), loc.k};
      const bool labelled = !f.d.via || !f.d.via_needed;
      if (const auto a = given_.find(label); labelled && a != given_.end()) {
        result.used.push_back(a->second);
        shown = answers_.answers[a->second].number;
        v = constant(shown);
      } else if (!f.form.empty()) {
        evaluation inner = evaluate(f.form, loc, mode);
        if (!inner.result) return {};
        v = *inner.result;
        result.used.insert(result.used.end(), inner.used.begin(), inner.used.end());
        shown = format(v, display());
      } else {
        if (f.value.exact.empty()) return {};
        v = constant(f.value.exact);
        shown = f.value.shown;
      }
      parts.push_back(shown.starts_with('-') ? "(" + shown + ")" : shown);
      total = !total ? v
                     : apply(s.combine == trace::gradient_step::kind::product ? op::mul : op::add,
                             {*total, v});
    }
    if (!total) return {};
    result.result = total;
    std::string joined;
    for (std::size_t i = 0; i < parts.size(); ++i) {
      if (i > 0) joined += s.combine == trace::gradient_step::kind::product ? " * " : " + ";
      joined += parts[i];
    }
    result.with_values = joined;
    return result;
  }

  std::string step_formula(const trace::gradient_step& s) const {
    std::string out;
    for (std::size_t i = 0; i < s.factors.size(); ++i) {
      if (i > 0) out += s.combine == trace::gradient_step::kind::product ? " * " : " + ";
      out += fmt::format("d{}/d{}", name_of(s.factors[i].d.of), name_of(s.factors[i].d.wrt));
    }
    return out;
  }

  number_format display() const { return display_; }
  number_format display_;

  evaluation recompute(const location_in_doc& loc, substitution mode) {
    if (loc.step != nullptr) return evaluate_step(*loc.step, loc, mode);
    if (loc.formula != nullptr) return evaluate(*loc.formula, loc, mode);
    if (loc.identity && mode == substitution::given) {
      if (const auto a = given_.find(*loc.identity); a != given_.end()) {
        evaluation e;
        e.used.push_back(a->second);
        e.result = constant(answers_.answers[a->second].number);
        e.with_values = answers_.answers[a->second].number;
        return e;
      }
    }
    return {};
  }

  // ---- causes ----
  std::string typo_between(const typed_number& typed, node_id v) const;
  std::string likely_cause(std::size_t index, const typed_number& typed, const location_in_doc& loc,
                           const std::optional<node_id>& from_given);
  void check_working(std::size_t index, const typed_number& typed, const location_in_doc& loc,
                     std::string& typo_cause, bool& follows_working, bool& working_exact);
  std::vector<node_id> plausible_values(const location_in_doc& loc);

  void resolve();
};

// ---------------------------------------------------------------------------------------------

template <class Real>
std::string checker<Real>::typo_between(const typed_number& typed, node_id v) const {
  if (!typed.plain()) return {};
  const std::string right = format(v, typed.format(rounding::half_even));
  const std::string& s = typed.normal();
  // Misplaced decimal point: the same digits, a different power of ten.
  {
    const std::string same_digits =
        format(v, number_format::significant(typed.significant(), rounding::half_even, false));
    if (significant_digits(same_digits) == significant_digits(s) && !same_number(same_digits, s)) {
      return fmt::format("a misplaced decimal point ({} has the same digits)",
                         right.empty() ? same_digits : same_digits);
    }
  }
  if (right.size() == s.size()) {
    std::vector<std::size_t> differ;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] != right[i]) differ.push_back(i);
    }
    if (differ.size() == 1 && is_digit_char(s[differ[0]]) && is_digit_char(right[differ[0]])) {
      return fmt::format("a typo: one digit differs ({} where {} has {})", s[differ[0]], right,
                         right[differ[0]]);
    }
    if (differ.size() == 2 && differ[1] == differ[0] + 1 && s[differ[0]] == right[differ[1]] &&
        s[differ[1]] == right[differ[0]] && is_digit_char(s[differ[0]]) &&
        is_digit_char(s[differ[1]])) {
      return fmt::format("a typo: two digits swapped ({}{} for {}{}; right: {})", s[differ[0]],
                         s[differ[1]], right[differ[0]], right[differ[1]], right);
    }
  }
  // A digit left out: the value at one more decimal, less one digit, is what was written.
  if (typed.decimals() >= 0) {
    const std::string longer =
        format(v, number_format::decimals(typed.decimals() + 1, rounding::half_even, false));
    for (std::size_t i = 0; i < longer.size(); ++i) {
      if (!is_digit_char(longer[i])) continue;
      std::string shorter = longer;
      shorter.erase(i, 1);
      if (shorter == s) {
        return fmt::format("a typo: a digit left out (right: {})", longer);
      }
    }
  }
  // A digit too many.
  if (typed.decimals() >= 1) {
    const std::string shorter =
        format(v, number_format::decimals(typed.decimals() - 1, rounding::half_even, false));
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (!is_digit_char(s[i])) continue;
      std::string without = s;
      without.erase(i, 1);
      if (without == shorter) {
        return fmt::format("a typo: an extra digit {} (right: {})", s[i], shorter);
      }
    }
  }
  return {};
}

template <class Real>
std::vector<node_id> checker<Real>::plausible_values(const location_in_doc& loc) {
  std::vector<node_id> values;
  std::set<std::string> seen;
  auto add = [&](const std::string& exact) {
    if (!exact.empty() && seen.insert(exact).second) values.push_back(constant(exact));
  };
  const trace::iteration* it = loc.it != nullptr ? loc.it : iteration_of(doc_, loc.k);
  const std::vector<trace::number>* forward = it != nullptr ? &it->forward.values : loc.forward;
  if (forward != nullptr) {
    for (std::size_t q = 0; q < forward->size(); ++q)
      add((*forward)[q].exact);
  }
  if (it != nullptr) {
    for (const trace::number& g : it->gradients)
      add(g.exact);
    for (const trace::number& p : it->edge_partials)
      add(p.exact);
    for (const trace::gradient_step& s : it->backward) {
      add(s.value.exact);
      for (const trace::factor& f : s.factors)
        add(f.value.exact);
    }
    for (const trace::parameter_update& u : it->updates) {
      for (const trace::assignment& line : u.lines)
        add(line.value.exact);
    }
  }
  for (const trace::hyper_parameter& h : doc_.config.optimizer.hyper)
    add(h.value.exact);
  // Working shows negative values as -(0.019...) as often as (-0.019...): match magnitudes.
  const std::size_t signed_count = values.size();
  for (std::size_t i = 0; i < signed_count; ++i)
    values.push_back(apply(op::neg, {values[i]}));
  return values;
}

template <class Real>
void checker<Real>::check_working(std::size_t index, const typed_number& typed,
                                  const location_in_doc& loc, std::string& typo_cause,
                                  bool& follows_working, bool& working_exact) {
  const answer& a = answers_.answers[index];
  follows_working = false;
  working_exact = true;
  if (a.workings.empty()) return;
  const std::vector<node_id> candidates = plausible_values(loc);
  for (std::size_t stage = 0; stage < a.workings.size(); ++stage) {
    const working& w = a.workings[stage];
    std::vector<node_id> stack;
    std::vector<bool> whole;  // parallel to stack: a whole-number literal (an exponent for powi)
    bool computable = true;
    for (const working_node& n : w.postfix) {
      try {
        switch (n.op) {
          case working_node::kind::number: {
            stack.push_back(constant(n.text));
            whole.push_back(is_whole_number(n.text));
            const typed_number operand(n.text);
            if (operand.significant() <= 1 && operand.decimals() <= 1) break;  // 1, 2, 0.5
            bool recognised = false;
            for (const node_id c : candidates)
              recognised = recognised || rounds_to(operand, c);
            for (const answer& other : answers_.answers) {
              recognised = recognised || same_number(other.number, n.text);
            }
            if (recognised) break;
            bool near = false;
            for (const node_id c : candidates)
              near = near || within_one_unit(operand, c);
            if (near) break;  // a rounded value carried on
            for (const node_id c : candidates) {
              const std::string typo = typo_between(operand, c);
              if (!typo.empty()) {
                out_[index].notes.push_back(fmt::format("in the working, column {}: {} is {}",
                                                        n.location.column, n.text, typo));
                if (typo_cause.empty()) typo_cause = out_[index].notes.back();
                working_exact = false;
                break;
              }
            }
            break;
          }
          case working_node::kind::euler:
            stack.push_back(apply(op::exp, {constant("1")}));
            whole.push_back(false);
            break;
          case working_node::kind::neg:
            stack.back() = apply(op::neg, {stack.back()});
            break;
          case working_node::kind::function: {
            const op f = n.text == "exp"       ? op::exp
                         : n.text == "sqrt"    ? op::sqrt
                         : n.text == "sigmoid" ? op::sigmoid
                         : n.text == "tanh"    ? op::tanh
                                               : op::log;
            stack.back() = apply(f, {stack.back()});
            whole.back() = false;
            break;
          }
          default: {
            const node_id right = stack.back();
            const bool whole_exponent = whole.back();
            stack.pop_back();
            whole.pop_back();
            const node_id left = stack.back();
            const op o = n.op == working_node::kind::add   ? op::add
                         : n.op == working_node::kind::sub ? op::sub
                         : n.op == working_node::kind::mul ? op::mul
                         : n.op == working_node::kind::div ? op::div
                         : whole_exponent                  ? op::powi
                                                           : op::pow;
            stack.back() = apply(o, {left, right});
            whole.back() = false;
            break;
          }
        }
      } catch (const std::exception&) {
        computable = false;
        break;
      }
    }
    if (!computable || stack.size() != 1) {
      out_[index].notes.push_back(fmt::format(
          "the working '{}' cannot be computed (a function outside its domain)", w.text));
      continue;
    }
    if (stage + 1 != a.workings.size()) continue;
    if (agrees(typed, stack.back())) {
      follows_working = true;
    } else {
      out_[index].notes.push_back(fmt::format("the working {} gives {}, not {}", w.text,
                                              at_student_precision(typed, stack.back()), a.number));
    }
  }
  (void)loc;
}

template <class Real>
std::string checker<Real>::likely_cause(std::size_t index, const typed_number& typed,
                                        const location_in_doc& loc,
                                        const std::optional<node_id>& from_given) {
  const answer& a = answers_.answers[index];
  std::vector<node_id> references;
  if (from_given) references.push_back(*from_given);
  if (exact_[index]) references.push_back(*exact_[index]);

  // The other update order (sequential vs simultaneous) gives this number.
  if (other_order_) {
    const location_in_doc other = locate(*other_order_, a.key, true);
    if (!other.exact.empty()) {
      const node_id v = constant(other.exact);
      if (rounds_to(typed, v) && !(exact_[index] && rounds_to(typed, *exact_[index]))) {
        return doc_.config.update_order == "simultaneous"
                   ? "updated weights used where the original ones were due: this is the value "
                     "of the sequential order (earlier layers' gradients from the already "
                     "updated later weights); the model updates every weight from the original "
                     "ones (simultaneous)"
                   : "original weights used where the updated ones were due: this is the value "
                     "of the simultaneous order; the model says `order sequential`";
      }
    }
  }
  if (a.key.kind != answer_kind::updated && (loc.step != nullptr || loc.formula != nullptr)) {
    const evaluation updated = recompute(loc, substitution::updated_parameters);
    if (updated.result && rounds_to(typed, *updated.result) &&
        !(exact_[index] && rounds_to(typed, *exact_[index]))) {
      return "updated weights used where the original ones were due (the value with w+ in "
             "place of w)";
    }
  }
  for (const node_id r : references) {
    if (!scalar_traits<Real>::is_zero(value(r)) && agrees(typed, apply(op::neg, {r}))) {
      return "sign flipped (the right value has the opposite sign)";
    }
  }
  // Sigmoid derivative mistakes.
  if (a.key.kind == answer_kind::derivative && loc.forward != nullptr) {
    const auto q = names_.find(a.key.of);
    const auto w = names_.find(a.key.wrt);
    if (q != names_.end() && w != names_.end() && doc_.quantities[q->second].op == "sigmoid") {
      std::vector<std::size_t> unused;
      std::string shown;
      const node_id out =
          student_value(answer_key{answer_kind::value, a.key.of, {}, a.key.iteration},
                        (*loc.forward)[q->second].exact, shown, unused);
      if (agrees(typed, out)) {
        return fmt::format(
            "sigmoid derivative written as sigmoid(x) = {0} instead of "
            "{0}*(1 - {0})",
            a.key.of);
      }
      for (quantity_index other = 0; other < doc_.quantities.size(); ++other) {
        if (other == q->second || !doc_.quantities[other].shown() ||
            doc_.quantities[other].name.empty() || (*loc.forward)[other].exact.empty()) {
          continue;
        }
        const node_id x = student_value(
            answer_key{answer_kind::value, doc_.quantities[other].name, {}, a.key.iteration},
            (*loc.forward)[other].exact, shown, unused);
        const node_id product = apply(op::mul, {x, apply(op::sub, {constant("1"), x})});
        if (agrees(typed, product)) {
          return fmt::format("sigmoid derivative x(1 - x) taken of {} instead of {}",
                             doc_.quantities[other].name, a.key.of);
        }
      }
    }
  }
  // Learning rate missing or doubled, update added instead of subtracted.
  if (a.key.kind == answer_kind::updated && loc.formula != nullptr &&
      doc_.config.optimizer.name == "sgd") {
    std::optional<node_id> w;
    std::optional<node_id> g;
    std::optional<node_id> eta;
    std::vector<std::size_t> unused;
    std::string shown;
    for (const trace::expr_node& n : loc.formula->nodes) {
      if (n.kind == trace::expr_kind::quantity && !w) {
        w = student_value(answer_key{answer_kind::value, name_of(n.quantity), {}, a.key.iteration},
                          n.value.exact, shown, unused);
      } else if (n.kind == trace::expr_kind::derivative && !g && !n.value.exact.empty()) {
        g = student_value(answer_key{answer_kind::derivative, name_of(n.of), name_of(n.quantity),
                                     a.key.iteration},
                          n.value.exact, shown, unused);
      } else if (n.kind == trace::expr_kind::symbol && !eta && !n.value.exact.empty()) {
        eta = constant(n.value.exact);
      }
    }
    if (w && g && eta) {
      const node_id step = apply(op::mul, {*eta, *g});
      const bool missing = agrees(typed, apply(op::sub, {*w, *g}));
      const bool doubled = agrees(typed, apply(op::sub, {*w, apply(op::add, {step, step})}));
      if (missing && doubled) {
        return "learning rate missing or doubled (with eta = 0.5, w - dE/dw and w - "
               "2*eta*dE/dw are the same number)";
      }
      if (missing) return "learning rate missing (w - dE/dw instead of w - eta*dE/dw)";
      if (doubled) return "learning rate doubled (w - 2*eta*dE/dw)";
      if (agrees(typed, apply(op::add, {*w, step}))) {
        return "the step added instead of subtracted (w + eta*dE/dw)";
      }
    }
  }
  if (has_half_) {
    for (const node_id r : references) {
      if (agrees(typed, apply(op::add, {r, r}))) {
        return "factor 1/2 dropped (the value is twice the right one)";
      }
    }
  }
  for (const node_id r : references) {
    const std::string typo = typo_between(typed, r);
    if (!typo.empty()) return typo;
  }
  return {};
}

// ---------------------------------------------------------------------------------------------

template <class Real>
report checker<Real>::run() {
  typename scalar_traits<Real>::precision_scope scope(digits_);
  std::vector<lang::diagnostic> errors;
  if (model_.train && model_.train->data_set) {
    lang::diagnostic d;
    d.location = model_.train->location;
    d.message = "check does not support models trained on a data set";
    d.expected = "a model whose inputs are declared values (one worked example)";
    throw lang::model_error({d});
  }
  const std::uint64_t steps = model_.train ? model_.train->count : 0;

  // Iterations asked for, checked against what the model runs.
  std::set<std::uint64_t> traced;
  for (const answer& a : answers_.answers) {
    const std::uint64_t k = a.key.iteration;
    const bool is_update = a.key.kind == answer_kind::updated;
    if (is_update && steps == 0) {
      errors.push_back(
          error_at(a, a.name_location,
                   fmt::format("'{}': the model does not train, so nothing is updated", a.written),
                   "the model's quantities and derivatives"));
      continue;
    }
    const std::uint64_t last = a.key.kind == answer_kind::value
                                   ? std::max<std::uint64_t>(steps + 1, 1)
                                   : std::max<std::uint64_t>(steps, 1);
    if (k > last) {
      errors.push_back(error_at(
          a, a.name_location,
          fmt::format("'{}' asks for iteration {}, but the model {}", a.written, k,
                      steps == 0
                          ? "runs one forward and backward pass"
                          : fmt::format("trains for {} step{}", steps, steps == 1 ? "" : "s")),
          fmt::format("an iteration from 1 to {}", last)));
      continue;
    }
    if (k <= steps) traced.insert(k);
  }
  if (!errors.empty()) throw lang::model_error(std::move(errors));
  // Every iteration up to the last one asked for keeps the missing list honest.
  const std::vector<std::uint64_t> traced_list(traced.begin(), traced.end());
  doc_ = run_model(false, traced_list);
  if (model_.train && model_.train->optimizer.name != "perceptron") {
    try {
      other_order_ = run_model(true, traced_list);
    } catch (const std::exception&) {
      other_order_.reset();  // the other order is only a hint for causes
    }
  }
  display_ = number_format::decimals(doc_.config.display.count);
  if (doc_.config.display.significant) {
    display_ = number_format::significant(doc_.config.display.count);
  }
  display_.max_significant = doc_.config.display.max_significant;
  for (quantity_index q = 0; q < doc_.quantities.size(); ++q) {
    const trace::quantity& quantity = doc_.quantities[q];
    if (!quantity.name.empty()) names_.emplace(quantity.name, q);
    for (const trace::expr_node& n : quantity.formula.nodes) {
      if (n.kind == trace::expr_kind::literal && (n.text == "0.5" || n.text == "1/2")) {
        has_half_ = true;
      }
      if (n.kind == trace::expr_kind::apply && n.op == "div" && n.args.size() == 2 &&
          quantity.formula.nodes[n.args[0]].text == "1" &&
          quantity.formula.nodes[n.args[1]].text == "2") {
        has_half_ = true;
      }
    }
  }
  resolve();

  const std::size_t n = answers_.answers.size();
  out_.resize(n);
  inputs_.resize(n);
  recomputed_.resize(n);
  exact_.resize(n);
  std::vector<location_in_doc> where(n);
  std::vector<typed_number> typed;
  for (std::size_t i = 0; i < n; ++i) {
    const answer& a = answers_.answers[i];
    typed.emplace_back(a.number);
    where[i] = locate(doc_, a.key, false);
    checked_answer& c = out_[i];
    c.given = a;
    c.key = to_string(a.key);
    exact_[i] = constant(where[i].exact);
    c.exact_rounded = at_student_precision(typed[i], *exact_[i]);
    c.exact_shown = where[i].shown;
    if (where[i].step != nullptr) {
      c.formula = step_formula(*where[i].step);
    } else if (where[i].formula != nullptr) {
      c.formula = symbolic(*where[i].formula);
    } else if (where[i].identity) {
      c.formula = to_string(*where[i].identity);
    }
    const evaluation e = recompute(where[i], substitution::given);
    if (e.result) {
      recomputed_[i] = e.result;
      inputs_[i] = e.used;
      c.formula_with_given = e.with_values;
      c.from_given = at_student_precision(typed[i], *e.result);
    }
  }

  // Verdicts in dependency order: an answer waits for the answers its recomputation used.
  std::vector<bool> done(n, false);
  for (bool progress = true; progress;) {
    progress = false;
    for (std::size_t i = 0; i < n; ++i) {
      if (done[i]) continue;
      bool ready = true;
      for (const std::size_t u : inputs_[i])
        ready = ready && (done[u] || u == i);
      if (!ready) continue;
      done[i] = progress = true;
      checked_answer& c = out_[i];
      std::string typo_cause;
      bool follows_working = false;
      bool working_exact = true;
      check_working(i, typed[i], where[i], typo_cause, follows_working, working_exact);
      if (rounds_to(typed[i], *exact_[i])) {
        c.result = verdict::correct;
        continue;
      }
      std::optional<std::size_t> origin;
      bool inputs_differ = false;
      for (const std::size_t u : inputs_[i]) {
        if (u == i) continue;
        inputs_differ = true;
        if (!origin && out_[u].result == verdict::wrong) origin = u;
        if (!origin && out_[u].result == verdict::carried) origin = out_[u].origin;
      }
      if (recomputed_[i] && inputs_differ && agrees(typed[i], *recomputed_[i])) {
        if (origin) {
          c.result = verdict::carried;
          c.origin = origin;
          c.explanation = fmt::format("right from your {} = {} (line {}), where the error began",
                                      out_[*origin].key, answers_.answers[*origin].number,
                                      answers_.answers[*origin].name_location.line);
        } else {
          c.result = verdict::drift;
          c.explanation = "what your own rounded numbers give";
        }
        continue;
      }
      if (!typo_cause.empty() && follows_working) {
        c.result = verdict::wrong;
        c.explanation = typo_cause + "; the rest of the line follows from it";
        continue;
      }
      if (within_one_unit(typed[i], *exact_[i])) {
        c.result = verdict::drift;
        c.explanation = fmt::format(
            "one unit off in the last digit (right: {}): rounded intermediates carried on",
            c.exact_rounded);
        continue;
      }
      c.result = verdict::wrong;
      c.explanation = likely_cause(i, typed[i], where[i], recomputed_[i]);
    }
  }

  report r;
  r.model_file = model_.file_name;
  r.answers_file = answers_.file_name;
  r.precision = doc_.config.precision;
  r.update_order = model_.train ? doc_.config.update_order : "";
  r.answers = std::move(out_);

  // What the worked example shows that the student did not give.
  std::set<std::uint64_t> iterations{1};
  for (const answer& a : answers_.answers)
    iterations.insert(a.key.iteration);
  for (const std::uint64_t k : iterations) {
    if (k > std::max<std::uint64_t>(steps, 1)) continue;
    std::vector<answer_key> expected;
    for (const quantity_index q : doc_.computed) {
      expected.push_back({answer_kind::value, name_of(q), {}, k});
    }
    if (std::find(doc_.computed.begin(), doc_.computed.end(), doc_.loss) == doc_.computed.end()) {
      expected.push_back({answer_kind::value, name_of(doc_.loss), {}, k});
    }
    for (const quantity_index p : doc_.parameters) {
      expected.push_back({answer_kind::derivative, name_of(doc_.loss), name_of(p), k});
    }
    if (steps > 0) {
      for (const quantity_index p : doc_.parameters) {
        expected.push_back({answer_kind::updated, name_of(p), {}, k});
      }
    }
    for (const answer_key& key : expected) {
      if (!given_.contains(key)) r.missing.push_back(to_string(key));
    }
  }

  summary& s = r.totals;
  for (const checked_answer& c : r.answers) {
    ++s.checked;
    s.working_notes += c.notes.size();
    switch (c.result) {
      case verdict::correct:
        ++s.correct;
        break;
      case verdict::drift:
        ++s.drift;
        break;
      case verdict::wrong:
        ++s.wrong;
        break;
      case verdict::carried:
        ++s.carried;
        break;
    }
  }
  s.missing = r.missing.size();
  s.marks = s.checked - s.wrong;
  return r;
}

template <class Real>
void checker<Real>::resolve() {
  std::vector<lang::diagnostic> errors;
  std::vector<std::string> known;
  for (const auto& [name, q] : names_)
    known.push_back(name);
  auto unknown = [&](const answer& a, const std::string& name) {
    lang::diagnostic d =
        error_at(a, a.name_location, fmt::format("unknown name '{}' in '{}'", name, a.written),
                 "a name from the model");
    std::string best;
    std::size_t best_distance = 3;
    for (const std::string& k : known) {
      const std::size_t distance = edit_distance(name, k);
      if (distance < best_distance) {
        best = k;
        best_distance = distance;
      }
    }
    if (!best.empty()) d.notes.push_back({{}, fmt::format("did you mean '{}'?", best), {}});
    errors.push_back(std::move(d));
  };
  for (std::size_t i = 0; i < answers_.answers.size(); ++i) {
    const answer& a = answers_.answers[i];
    if (!names_.contains(a.key.of)) {
      unknown(a, a.key.of);
      continue;
    }
    if (a.key.kind == answer_kind::derivative && !names_.contains(a.key.wrt)) {
      unknown(a, a.key.wrt);
      continue;
    }
    if (a.key.kind == answer_kind::updated &&
        std::find(doc_.parameters.begin(), doc_.parameters.end(), names_.at(a.key.of)) ==
            doc_.parameters.end()) {
      errors.push_back(error_at(a, a.name_location,
                                fmt::format("'{}' is not a trained parameter, so it has no "
                                            "updated value",
                                            a.key.of),
                                "an updated parameter such as 'w5+'"));
      continue;
    }
    if (locate(doc_, a.key, false).exact.empty()) {
      errors.push_back(error_at(
          a, a.name_location,
          fmt::format("'{}' is not a quantity of the worked example", a.written),
          a.key.kind == answer_kind::derivative
              ? fmt::format("a derivative of the loss (d{}/d...) or a step or factor of the "
                            "chain rule",
                            name_of(doc_.loss))
              : "a quantity of the model"));
      continue;
    }
    const auto [first, inserted] = given_.emplace(a.key, i);
    if (!inserted) {
      const answer& earlier = answers_.answers[first->second];
      lang::diagnostic d =
          error_at(a, a.name_location,
                   fmt::format("'{}' is given twice (as '{}' on line {} and here)",
                               to_string(a.key), earlier.written, earlier.name_location.line),
                   "each quantity once; for a later iteration add @2, @3, ...");
      d.notes.push_back({earlier.name_location, "first given here", earlier.source_line});
      errors.push_back(std::move(d));
    }
  }
  if (!errors.empty()) {
    std::stable_sort(errors.begin(), errors.end(), [](const auto& x, const auto& y) {
      return std::pair(x.location.line, x.location.column) <
             std::pair(y.location.line, y.location.column);
    });
    throw lang::model_error(std::move(errors));
  }
}

}  // namespace

report check_answers(const lang::checked_model& model, const answers_file& answers) {
  if (!answers.ok()) throw lang::model_error(answers.diagnostics);
  if (model.precision.binary_double) return checker<double>(model, answers).run();
  return checker<mp_real>(model, answers).run();
}

}  // namespace chainrule::check
