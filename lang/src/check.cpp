// SPDX-License-Identifier: MIT
// check(): names, functions, settings, evaluation order, vector/layer expansion and warnings.
//
// The work happens at two levels. At the program level every declared or computed name is an
// "entity" (a vector counts once); names, cycles and the evaluation order are settled there.
// Then each equation is expanded, in evaluation order, into one scalar equation per element,
// and the flat scalar model is assembled and checked once more for clashing element names.
#include <fmt/format.h>
#include <algorithm>
#include <array>
#include <filesystem>
#include <map>
#include <queue>
#include <set>
#include <tuple>

#include "chainrule/lang/functions.hpp"
#include "chainrule/lang/model.hpp"
#include "csv.hpp"
#include "decimal.hpp"
#include "expand.hpp"
#include "random.hpp"
#include "source_text.hpp"
#include "suggest.hpp"

namespace chainrule::lang {

std::string_view optimizer_setting::argument(std::string_view argument_name) const noexcept {
  for (const auto& a : arguments) {
    if (a.name == argument_name) return a.value;
  }
  return {};
}

bool trace_setting::selects(std::uint64_t step, std::uint64_t total_steps) const noexcept {
  if (all) return true;
  if (first && step == 1) return true;
  if (last && step == total_steps) return true;
  if (every != 0 && step % every == 0) return true;
  return std::binary_search(steps.begin(), steps.end(), step);
}

const std::string& checked_model::objective() const {
  return train ? train->objective : differentiate->objective;
}

const scalar_declaration* checked_model::find_declaration(std::string_view name) const {
  const auto it = std::find_if(declarations.begin(), declarations.end(),
                               [&](const scalar_declaration& d) { return d.name == name; });
  return it == declarations.end() ? nullptr : &*it;
}

const scalar_equation* checked_model::find_equation(std::string_view name) const {
  const auto it = std::find_if(equations.begin(), equations.end(),
                               [&](const scalar_equation& e) { return e.name == name; });
  return it == equations.end() ? nullptr : &*it;
}

const data_set* checked_model::find_data_set(std::string_view name) const {
  const auto it = std::find_if(data_sets.begin(), data_sets.end(),
                               [&](const data_set& d) { return d.name == name; });
  return it == data_sets.end() ? nullptr : &*it;
}

namespace {

using detail::describe_shape;
using detail::element_count;
using detail::element_name;
using detail::source_text;

constexpr std::size_t max_dimensions = 2;

struct entity {
  bool is_equation = false;
  declaration_kind kind = declaration_kind::input;
  std::string name;
  source_location location;
  std::vector<std::size_t> shape;
  bool shape_known = false;
  std::size_t item = 0;  // index into decls_ or eqs_
};

struct decl_item {
  declaration_kind kind = declaration_kind::input;
  std::string name;
  source_location location;
  std::vector<std::size_t> shape;
  std::vector<number_literal> values;  // one per element
  bool from_fill = false;              // `param b[2] = 0.35`: every element is the same literal
};

struct eq_item {
  std::string name;
  source_location location;
  expr_id root = 0;
  bool generated = false;  // a layer's pre-activation: not warned about separately
  bool poisoned = false;
  std::vector<std::size_t> deps;
  std::optional<detail::expansion> value;
};

struct element_ref {
  std::size_t entity = 0;
  std::vector<std::uint32_t> indices;
};

std::string plural(std::size_t n, std::string_view word) {
  return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s");
}

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += separator;
    out += items[i];
  }
  return out;
}

class checker {
 public:
  explicit checker(const program& p)
      : p_(p), src_(p.file_name, p.source, "source file"), work_(p.expressions) {}

  checked_model run() {
    m_.file_name = p_.file_name;
    m_.expressions = expression_arena(p_.file_name);
    collect_statements();
    for (std::size_t i = 0; i < eqs_.size(); ++i)
      collect_references(i);
    const std::vector<std::size_t> order = evaluation_order();
    expand_equations(order);
    assemble(order);
    settings();
    task();
    data_sets();
    evaluations();
    shows();
    symbols();
    if (errors_.empty()) usage_warnings();
    std::stable_sort(warnings_.begin(), warnings_.end(),
                     [](const diagnostic& a, const diagnostic& b) {
                       return std::tie(a.location.line, a.location.column) <
                              std::tie(b.location.line, b.location.column);
                     });
    if (!errors_.empty()) {
      std::vector<diagnostic> all = std::move(errors_);
      all.insert(all.end(), warnings_.begin(), warnings_.end());
      throw model_error(std::move(all));
    }
    m_.warnings = std::move(warnings_);
    return std::move(m_);
  }

 private:
  const program& p_;
  source_text src_;
  expression_arena work_;
  std::vector<diagnostic> errors_;
  std::vector<diagnostic> warnings_;
  std::vector<decl_item> decls_;
  std::vector<eq_item> eqs_;
  std::vector<entity> entities_;
  std::map<std::string, std::size_t, std::less<>> by_name_;
  checked_model m_;
  expression_arena expanded_;
  std::string objective_;  // scalar name, once resolved

  // Diagnostics --------------------------------------------------------------------------------

  diagnostic& error(const source_location& at, std::string message, std::string expected = {}) {
    errors_.push_back(src_.make(severity::error, at, std::move(message), std::move(expected)));
    return errors_.back();
  }
  void warning(const source_location& at, std::string message) {
    warnings_.push_back(src_.make(severity::warning, at, std::move(message)));
  }
  void note(diagnostic& d, const source_location& at, std::string message) {
    d.notes.push_back(src_.note(at, std::move(message)));
  }
  static void suggest(diagnostic& d, const std::optional<std::string>& candidate) {
    if (!candidate) return;
    diagnostic_note n;
    n.message = fmt::format("did you mean '{}'?", *candidate);
    d.notes.push_back(std::move(n));
  }

  std::vector<std::string> entity_names() const {
    std::vector<std::string> names;
    names.reserve(entities_.size());
    for (const auto& e : entities_)
      names.push_back(e.name);
    return names;
  }

  // Names ---------------------------------------------------------------------------------------

  // Registers a program-level name; reports a clash and returns false if it exists already.
  bool define(const std::string& name, const source_location& at, bool is_equation,
              declaration_kind kind, std::size_t item) {
    if (const auto it = by_name_.find(name); it != by_name_.end()) {
      const entity& first = entities_[it->second];
      if (is_equation && !first.is_equation) {
        auto& d = error(at, fmt::format("cannot assign to {} '{}'", to_string(first.kind), name),
                        "an equation for a new name; inputs, targets, params and consts get "
                        "their values from their declaration");
        note(
            d, first.location,
            fmt::format("'{}' is declared as {} {} here", name,
                        first.kind == declaration_kind::input ? "an" : "a", to_string(first.kind)));
      } else {
        auto& d = error(at, fmt::format("'{}' is defined twice", name));
        note(d, first.location, fmt::format("the first definition of '{}' is here", name));
      }
      return false;
    }
    entity e;
    e.is_equation = is_equation;
    e.kind = kind;
    e.name = name;
    e.location = at;
    e.item = item;
    by_name_.emplace(name, entities_.size());
    entities_.push_back(std::move(e));
    return true;
  }

  // `x` -> x; `W_1_2` -> W with {1, 2} (or W_1 with {2}, whichever exists, fewer indices first).
  std::optional<element_ref> lookup(std::string_view name) const {
    if (const auto it = by_name_.find(name); it != by_name_.end())
      return element_ref{it->second, {}};
    std::vector<std::uint32_t> indices;
    std::string_view rest = name;
    for (;;) {
      const auto underscore = rest.rfind('_');
      if (underscore == std::string_view::npos || underscore == 0) return std::nullopt;
      const std::string_view digits = rest.substr(underscore + 1);
      const auto value = detail::whole_number(digits);
      if (!value || *value == 0 || digits.front() == '0' || *value > 0xFFFFFFFFu)
        return std::nullopt;
      indices.insert(indices.begin(), static_cast<std::uint32_t>(*value));
      rest = rest.substr(0, underscore);
      if (const auto it = by_name_.find(rest); it != by_name_.end()) {
        return element_ref{it->second, std::move(indices)};
      }
    }
  }

  // Checks an element reference against the entity's (known) shape; reports "unknown name".
  bool valid_element(const element_ref& r, std::string_view name, const source_location& at) {
    const entity& e = entities_[r.entity];
    if (r.indices.empty()) return true;
    bool ok = r.indices.size() == e.shape.size();
    for (std::size_t k = 0; ok && k < r.indices.size(); ++k)
      ok = r.indices[k] <= e.shape[k];
    if (!ok) {
      auto& d = error(at, fmt::format("unknown name '{}'", name));
      note(d, e.location, fmt::format("'{}' is {}", e.name, describe_shape(e.shape)));
    }
    return ok;
  }

  void unknown_name(const source_location& at, std::string_view name) {
    auto& d = error(at, fmt::format("unknown name '{}'", name));
    const auto names = entity_names();
    suggest(d, detail::closest(name, names));
  }

  // Statements ----------------------------------------------------------------------------------

  void collect_statements() {
    for (const auto& s : p_.statements) {
      if (const auto* d = std::get_if<declaration>(&s)) {
        add_declaration(*d);
      } else if (const auto* e = std::get_if<equation_statement>(&s)) {
        add_equation(e->name, e->location, e->value, false);
      } else if (const auto* l = std::get_if<layer_statement>(&s)) {
        add_layer(*l);
      }
    }
  }

  void add_declaration(const declaration& d) {
    decl_item item;
    item.kind = d.kind;
    item.name = d.name;
    item.location = d.location;
    bool ok = true;
    if (d.shape.size() > max_dimensions) {
      error(d.shape_locations[max_dimensions], "too many dimensions",
            "a scalar, a vector x[n] or a matrix W[rows][columns]");
      ok = false;
    }
    if (const auto* n = std::get_if<number_literal>(&d.value)) {
      item.shape = d.shape;
      item.from_fill = !d.shape.empty();
      if (ok && element_count(item.shape) > detail::max_elements) {
        error(d.location, fmt::format("'{}' has too many elements (the limit is {})", d.name,
                                      detail::max_elements));
        ok = false;
      }
      if (ok) item.values.assign(element_count(item.shape), *n);
    } else {
      const auto& a = std::get<array_literal>(d.value);
      if (!d.shape.empty() && ok && d.shape != a.shape) {
        auto& e = error(a.location,
                        fmt::format("the value of '{}' is {} but its declaration says {}", d.name,
                                    describe_shape(a.shape), describe_shape(d.shape)),
                        "as many values as the dimensions say");
        note(e, d.location, fmt::format("'{}' is declared here", d.name));
        ok = false;
      }
      item.shape = a.shape;
      item.values = a.values;
    }
    if (!ok) {
      // The name exists, with an unknown shape like a failed equation's, so its uses are not
      // reported again as unknown names.
      if (define(item.name, item.location, false, item.kind, decls_.size()))
        entities_.back().shape_known = false;
      return;
    }
    add_declaration_item(std::move(item));
  }

  void add_declaration_item(decl_item item) {
    if (!define(item.name, item.location, false, item.kind, decls_.size())) return;
    entity& e = entities_.back();
    e.shape = item.shape;
    e.shape_known = true;
    decls_.push_back(std::move(item));
  }

  void add_equation(const std::string& name, const source_location& at, expr_id root,
                    bool generated) {
    if (!define(name, at, true, declaration_kind::input, eqs_.size())) return;
    eq_item item;
    item.name = name;
    item.location = at;
    item.root = root;
    item.generated = generated;
    eqs_.push_back(std::move(item));
  }

  // Layers ----------------------------------------------------------------------------------------

  static constexpr std::string_view dense_form =
      "dense(input, units, activation, weights = [[...], ...], bias = [...]) or "
      "dense(input, units, activation, init = xavier|he|uniform(a)|normal(s), seed = N, ...)";

  // A layer with `init = ...` gets its weights once the input's length is known, which for a
  // computed input is only after that input's equation has been expanded.
  struct pending_init {
    std::size_t decl = 0;  // index into decls_
    std::string input;
    source_location input_location;
    source_location at;  // the init argument: every drawn weight points there
    std::size_t units = 0;
    detail::init_scheme scheme = detail::init_scheme::xavier;
    std::string scale;
    std::uint64_t seed = 0;
    bool reported = false;
  };
  std::map<std::size_t, pending_init> pending_inits_;  // by entity index

  std::optional<pending_init> init_of(const layer_argument& init, const layer_argument* seed) {
    static constexpr std::string_view init_form =
        "init = xavier, he, uniform(a) or normal(s), with seed = N";
    const auto* scheme = std::get_if<std::string>(&init.value);
    static constexpr std::array<std::string_view, 4> schemes{"xavier", "he", "uniform", "normal"};
    const auto found =
        scheme != nullptr ? std::find(schemes.begin(), schemes.end(), *scheme) : schemes.end();
    if (found == schemes.end()) {
      auto& d = error(init.location,
                      scheme != nullptr ? fmt::format("unknown init scheme '{}'", *scheme)
                                        : std::string("init must be the name of a scheme"),
                      std::string(init_form));
      if (scheme != nullptr) suggest(d, detail::closest(*scheme, schemes));
      return std::nullopt;
    }
    pending_init p;
    p.at = init.location;
    p.scheme = static_cast<detail::init_scheme>(found - schemes.begin());
    const bool scaled =
        p.scheme == detail::init_scheme::uniform || p.scheme == detail::init_scheme::normal;
    bool ok = true;
    if (!scaled && init.call_argument) {
      error(init.call_argument->location, fmt::format("{} takes no argument", *scheme),
            fmt::format("init = {}", *scheme));
      ok = false;
    } else if (scaled && !init.call_argument) {
      error(init.location,
            fmt::format(
                "{} needs its {}", *scheme,
                p.scheme == detail::init_scheme::uniform ? "bound a" : "standard deviation s"),
            fmt::format("init = {}({})", *scheme,
                        p.scheme == detail::init_scheme::uniform ? "0.5" : "0.1"));
      ok = false;
    } else if (scaled) {
      p.scale = init.call_argument->text;
      if (!detail::signed_decimal_problem(p.scale) && detail::compare_decimals(p.scale, "0") <= 0) {
        error(init.call_argument->location,
              fmt::format("the {} of {} must be greater than 0",
                          p.scheme == detail::init_scheme::uniform ? "bound" : "standard deviation",
                          *scheme),
              fmt::format("init = {}(0.5)", *scheme));
        ok = false;
      }
    }
    if (seed == nullptr) {
      error(init.location, "init needs a seed, so that the same file always draws the same weights",
            fmt::format("seed = N after init = {}", *scheme));
      return std::nullopt;
    }
    const auto* n = std::get_if<number_literal>(&seed->value);
    const auto value = n != nullptr && !seed->call_argument ? detail::whole_number(n->text)
                                                            : std::optional<std::uint64_t>{};
    if (!value) {
      error(seed->location, "the seed must be a whole number of at most 18 digits", "seed = 42");
      return std::nullopt;
    }
    p.seed = *value;
    if (!ok) return std::nullopt;
    return p;
  }

  bool resolve_init(std::size_t index) {
    const auto it = pending_inits_.find(index);
    if (it == pending_inits_.end()) return false;
    pending_init& p = it->second;
    const auto in = lookup(p.input);
    if (!in) return false;  // reported as an unknown name in the layer's equation
    const entity& input = entities_[in->entity];
    if (!input.shape_known || in->indices.size() > input.shape.size()) return false;
    const std::vector<std::size_t> shape(
        input.shape.begin() + static_cast<std::ptrdiff_t>(in->indices.size()), input.shape.end());
    if (shape.size() != 1) {
      if (!p.reported) {
        error(p.input_location,
              fmt::format("the input of a layer with init = ... must be a vector; '{}' is {}",
                          p.input, describe_shape(shape)),
              "a vector input, or explicit weights = [[...], ...]");
      }
      p.reported = true;
      return false;
    }
    if (p.units * shape[0] > detail::max_elements) {
      if (!p.reported) {
        error(p.at, fmt::format("the layer would have {} weights (the limit is {})",
                                p.units * shape[0], detail::max_elements));
      }
      p.reported = true;
      return false;
    }
    decl_item& d = decls_[p.decl];
    d.shape = {p.units, shape[0]};
    d.values.clear();
    for (auto& w : detail::initial_weights(p.scheme, p.scale, p.units, shape[0], p.seed))
      d.values.push_back(number_literal{std::move(w), p.at});
    entities_[index].shape = d.shape;
    entities_[index].shape_known = true;
    pending_inits_.erase(it);
    return true;
  }

  // Dropout ---------------------------------------------------------------------------------------

  static constexpr std::string_view dropout_form =
      "NAME = dropout(input, rate = p, mask = [1, 0, ...]) or NAME = dropout(input, rate = p, "
      "seed = N)";

  // The mask takes its shape from the input, known for a computed input only after expansion.
  struct pending_mask {
    std::size_t decl = 0;  // index into decls_
    std::string input;
    source_location input_location;
    source_location at;                  // the mask or the seed
    std::vector<number_literal> values;  // as written; empty for a drawn mask
    dropout_setting setting;
    bool reported = false;
  };
  std::map<std::size_t, pending_mask> pending_masks_;  // by entity index

  // The layer input a deferred weights or mask declaration waits for.
  const std::string* deferred_input(std::size_t entity_index) const {
    if (const auto p = pending_inits_.find(entity_index); p != pending_inits_.end())
      return &p->second.input;
    if (const auto p = pending_masks_.find(entity_index); p != pending_masks_.end())
      return &p->second.input;
    return nullptr;
  }

  void add_dropout(const layer_statement& l) {
    static constexpr std::array<std::string_view, 4> parameter_names{"input", "rate", "mask",
                                                                     "seed"};
    std::array<const layer_argument*, 4> slots{};
    std::size_t positional = 0;
    bool ok = true;
    for (const auto& arg : l.arguments) {
      std::size_t slot = 0;
      if (arg.keyword) {
        const auto it = std::find(parameter_names.begin(), parameter_names.end(), *arg.keyword);
        if (it == parameter_names.end()) {
          auto& d =
              error(arg.keyword_location, fmt::format("dropout has no argument '{}'", *arg.keyword),
                    std::string(dropout_form));
          suggest(d, detail::closest(*arg.keyword, parameter_names));
          ok = false;
          continue;
        }
        slot = static_cast<std::size_t>(it - parameter_names.begin());
      } else {
        slot = positional++;
        if (slot >= 2) {
          error(arg.location, "dropout takes at most 2 positional arguments (input and rate)",
                std::string(dropout_form));
          ok = false;
          continue;
        }
      }
      if (slots[slot] != nullptr) {
        error(arg.keyword ? arg.keyword_location : arg.location,
              fmt::format("argument '{}' is given twice", parameter_names[slot]),
              std::string(dropout_form));
        ok = false;
        continue;
      }
      if (arg.call_argument) {
        error(arg.location,
              fmt::format("the {} of dropout cannot be a call", parameter_names[slot]),
              std::string(dropout_form));
        ok = false;
        continue;
      }
      slots[slot] = &arg;
    }
    if (!ok) return;
    const auto* input = slots[0] != nullptr ? std::get_if<std::string>(&slots[0]->value) : nullptr;
    if (input == nullptr) {
      error(slots[0] != nullptr ? slots[0]->location : l.constructor_location,
            slots[0] != nullptr ? "the input of dropout must be a name" : "dropout needs an input",
            std::string(dropout_form));
      ok = false;
    }
    const auto* rate =
        slots[1] != nullptr ? std::get_if<number_literal>(&slots[1]->value) : nullptr;
    if (rate == nullptr) {
      error(slots[1] != nullptr ? slots[1]->location : l.constructor_location,
            slots[1] != nullptr ? "the rate of dropout must be a number" : "dropout needs its rate",
            "rate = p, the probability of dropping a unit, from 0 up to (not including) 1");
      ok = false;
    } else if (!detail::signed_decimal_problem(rate->text)) {
      const auto point = rate->text.find('.');
      const bool plain = rate->text.find_first_of("eE") == std::string::npos &&
                         (point == std::string::npos || rate->text.size() - point - 1 <= 18);
      if (detail::compare_decimals(rate->text, "0") < 0 ||
          detail::compare_decimals(rate->text, "1") >= 0 || !plain) {
        error(slots[1]->location,
              plain ? std::string("the rate of dropout must be at least 0 and less than 1")
                    : std::string("write the rate of dropout as a plain decimal"),
              "rate = p with 0 <= p < 1 and at most 18 decimals, such as rate = 0.5");
        ok = false;
      }
    }
    if ((slots[2] == nullptr) == (slots[3] == nullptr)) {
      error(slots[2] != nullptr ? slots[3]->keyword_location : l.constructor_location,
            slots[2] != nullptr ? "dropout takes a mask or a seed, not both"
                                : "dropout needs a mask or a seed",
            "mask = [1, 0, ...] (1 keeps a unit, 0 drops it) or seed = N (a mask drawn per "
            "update)");
      ok = false;
    }
    pending_mask p;
    if (slots[2] != nullptr) {
      const auto* mask = std::get_if<array_literal>(&slots[2]->value);
      if (mask == nullptr) {
        error(slots[2]->location, "the mask must be a bracketed list of 0s and 1s",
              "mask = [1, 0, ...], one value per element of the input");
        ok = false;
      } else {
        for (const auto& v : mask->values) {
          if (detail::signed_decimal_problem(v.text)) continue;  // reported by the parser
          if (detail::compare_decimals(v.text, "0") != 0 &&
              detail::compare_decimals(v.text, "1") != 0) {
            error(v.location, fmt::format("a mask value must be 0 or 1, not {}", v.text),
                  "1 to keep the unit, 0 to drop it");
            ok = false;
          }
        }
        p.values = mask->values;
        p.at = slots[2]->location;
      }
    }
    if (slots[3] != nullptr) {
      const auto* n = std::get_if<number_literal>(&slots[3]->value);
      const auto seed = n != nullptr ? detail::whole_number(n->text) : std::nullopt;
      if (!seed) {
        error(slots[3]->location, "the seed must be a whole number of at most 18 digits",
              "seed = 42");
        ok = false;
      } else {
        p.setting.seed = *seed;
        p.at = slots[3]->location;
      }
    }
    if (!ok) return;

    const source_location& at = l.location;
    p.setting.name = l.name;
    p.setting.location = at;
    p.setting.rate = rate->text;
    p.setting.rate_constant = "rate_" + l.name;
    add_declaration_item(
        decl_item{declaration_kind::constant, p.setting.rate_constant, at, {}, {*rate}, false});
    const std::string mask_name = "mask_" + l.name;
    const std::size_t decl = decls_.size();
    add_declaration_item(decl_item{declaration_kind::constant, mask_name, p.at, {0}, {}, false});
    if (decls_.size() == decl) return;  // the name clashed (reported)
    entities_.back().shape_known = false;
    p.decl = decl;
    p.input = *input;
    p.input_location = slots[0]->location;
    pending_masks_.emplace(entities_.size() - 1, std::move(p));
    // d = mask_d*h/(1 - rate_d): inverted dropout, the kept units scaled by 1/(1 - rate).
    const expr_id mask_ref = work_.add(
        expr_kind::name, mask_name, slots[2] != nullptr ? slots[2]->location : slots[3]->location);
    const expr_id input_ref = work_.add(expr_kind::name, *input, slots[0]->location);
    const expr_id kept[2] = {mask_ref, input_ref};
    const expr_id product = work_.add(expr_kind::multiply, {}, at, kept);
    const expr_id one = work_.add(expr_kind::number, "1", slots[1]->location);
    const expr_id rate_ref = work_.add(expr_kind::name, "rate_" + l.name, slots[1]->location);
    const expr_id keep_parts[2] = {one, rate_ref};
    const expr_id keep = work_.add(expr_kind::subtract, {}, slots[1]->location, keep_parts);
    const expr_id quotient[2] = {product, keep};
    add_equation(l.name, at, work_.add(expr_kind::divide, {}, at, quotient), false);
  }

  bool resolve_mask(std::size_t index) {
    const auto it = pending_masks_.find(index);
    if (it == pending_masks_.end()) return false;
    pending_mask& p = it->second;
    const auto in = lookup(p.input);
    if (!in) return false;  // reported as an unknown name in the dropout's equation
    const entity& input = entities_[in->entity];
    if (!input.shape_known || in->indices.size() > input.shape.size()) return false;
    const std::vector<std::size_t> shape(
        input.shape.begin() + static_cast<std::ptrdiff_t>(in->indices.size()), input.shape.end());
    const std::size_t n = element_count(shape);
    if (!p.setting.seed && p.values.size() != n) {
      if (!p.reported) {
        error(p.at,
              fmt::format("the mask has {} but '{}' is {}", plural(p.values.size(), "value"),
                          p.input, describe_shape(shape)),
              fmt::format("one 0 or 1 per element of '{}'", p.input));
      }
      p.reported = true;
      return false;
    }
    if (p.setting.seed) {
      detail::dropout_mask_stream stream(*p.setting.seed, n, p.setting.rate);
      for (const int keep : stream.mask(1))
        p.values.push_back(number_literal{keep != 0 ? "1" : "0", p.at});
    }
    decl_item& d = decls_[p.decl];
    d.shape = shape;
    d.values = p.values;
    for (const auto& index_of_element : detail::all_indices(shape))
      p.setting.mask.push_back(element_name(d.name, index_of_element));
    for (const auto& v : p.values)
      p.setting.mask_values.push_back(v.text);
    entities_[index].shape = shape;
    entities_[index].shape_known = true;
    const auto before =
        std::find_if(m_.dropouts.begin(), m_.dropouts.end(), [&](const dropout_setting& other) {
          return std::tie(other.location.line, other.location.column) >
                 std::tie(p.setting.location.line, p.setting.location.column);
        });
    m_.dropouts.insert(before, std::move(p.setting));
    pending_masks_.erase(it);
    return true;
  }

  void add_layer(const layer_statement& l) {
    if (l.constructor == "dropout") {
      add_dropout(l);
      return;
    }
    if (l.constructor != "dense") {
      auto& d = error(l.constructor_location, fmt::format("unknown layer kind '{}'", l.constructor),
                      std::string(dense_form));
      const std::array<std::string_view, 2> kinds{"dense", "dropout"};
      suggest(d, detail::closest(l.constructor, kinds));
      return;
    }
    // init and seed are keyword-only: the first five may be positional.
    static constexpr std::array<std::string_view, 7> parameter_names{
        "input", "units", "activation", "weights", "bias", "init", "seed"};
    constexpr std::size_t init_slot = 5;
    std::array<const layer_argument*, 7> slots{};
    std::size_t positional = 0;
    bool ok = true;
    for (const auto& arg : l.arguments) {
      std::size_t slot = parameter_names.size();
      if (arg.keyword) {
        const auto it = std::find(parameter_names.begin(), parameter_names.end(), *arg.keyword);
        if (it == parameter_names.end()) {
          auto& d =
              error(arg.keyword_location, fmt::format("dense has no argument '{}'", *arg.keyword),
                    std::string(dense_form));
          suggest(d, detail::closest(*arg.keyword, parameter_names));
          ok = false;
          continue;
        }
        slot = static_cast<std::size_t>(it - parameter_names.begin());
      } else {
        slot = positional++;
        if (slot >= init_slot) {
          error(arg.location, "dense takes at most 5 arguments", std::string(dense_form));
          ok = false;
          continue;
        }
      }
      if (slots[slot] != nullptr) {
        error(arg.keyword ? arg.keyword_location : arg.location,
              fmt::format("argument '{}' is given twice", parameter_names[slot]),
              std::string(dense_form));
        ok = false;
        continue;
      }
      if (arg.call_argument && slot != init_slot) {
        error(arg.location,
              fmt::format("'{}(...)' can only be an init scheme, not the {}",
                          std::get<std::string>(arg.value), parameter_names[slot]),
              std::string(dense_form));
        ok = false;
        continue;
      }
      slots[slot] = &arg;
    }
    const bool arguments_ok = ok;
    const auto missing = [&](std::string_view what) {
      if (!arguments_ok) return;  // a misspelt keyword is the likelier story
      error(l.constructor_location, fmt::format("dense needs {}", what), std::string(dense_form));
      ok = false;
    };
    // input
    std::string input;
    source_location input_location;
    if (slots[0] == nullptr) {
      missing("an input");
    } else if (const auto* name = std::get_if<std::string>(&slots[0]->value)) {
      input = *name;
      input_location = slots[0]->location;
    } else {
      error(slots[0]->location, "the input of a dense layer must be a name",
            std::string(dense_form));
      ok = false;
    }
    // units
    std::size_t units = 0;
    if (slots[1] == nullptr) {
      missing("the number of units");
    } else {
      const auto* n = std::get_if<number_literal>(&slots[1]->value);
      const auto value = n != nullptr ? detail::whole_number(n->text) : std::nullopt;
      if (!value || *value == 0 || *value > detail::max_elements) {
        error(slots[1]->location, "the number of units must be a whole number from 1",
              std::string(dense_form));
        ok = false;
      } else {
        units = static_cast<std::size_t>(*value);
      }
    }
    // activation
    std::string activation(linear_activation);
    source_location activation_location = l.constructor_location;
    if (slots[2] != nullptr) {
      activation_location = slots[2]->location;
      const auto* name = std::get_if<std::string>(&slots[2]->value);
      if (name == nullptr || !valid_activation(*name)) {
        auto& d = error(slots[2]->location,
                        name == nullptr ? std::string("the activation must be a function name")
                                        : fmt::format("'{}' cannot be an activation", *name),
                        "linear, a one-argument function such as sigmoid, tanh, relu or "
                        "leaky_relu, or softmax / log_softmax");
        if (name != nullptr) suggest(d, detail::closest(*name, activation_names()));
        ok = false;
      } else {
        activation = *name;
      }
    }
    if (slots[3] == nullptr && slots[init_slot] == nullptr) {
      missing(
          "its weights: explicit (weights = [[...], ...], one row per unit) or drawn "
          "(init = xavier, seed = N)");
    }
    if (slots[3] != nullptr && slots[init_slot] != nullptr) {
      error(slots[init_slot]->keyword_location, "a layer takes explicit weights or init, not both",
            "either weights = [[...], ...] or init = ... with seed = N");
      ok = false;
    }
    if (slots[6] != nullptr && slots[init_slot] == nullptr) {
      error(slots[6]->keyword_location, "seed only goes with init",
            "init = xavier, he, uniform(a) or normal(s) before seed = N");
      ok = false;
    }
    std::optional<pending_init> init;
    if (ok && slots[init_slot] != nullptr) {
      init = init_of(*slots[init_slot], slots[6]);
      if (!init) ok = false;
    }
    if (!ok) return;

    const source_location& at = l.location;
    // weights
    std::string weights;
    if (init) {
      weights = "W_" + l.name;
      const std::size_t decl = decls_.size();
      add_declaration_item(decl_item{declaration_kind::param, weights, at, {units, 0}, {}, false});
      if (decls_.size() == decl) return;  // the name clashed (reported)
      entities_.back().shape_known = false;
      init->decl = decl;
      init->input = input;
      init->input_location = input_location;
      init->units = units;
      pending_inits_.emplace(entities_.size() - 1, std::move(*init));
    } else if (const auto* a = std::get_if<array_literal>(&slots[3]->value)) {
      if (a->shape.size() != 2 || a->shape[0] != units) {
        error(slots[3]->location,
              fmt::format("the weights are {} but the layer needs a matrix with {} (one per unit)",
                          describe_shape(a->shape), plural(units, "row")),
              "weights = [[...], ...] with one row per unit and one column per input");
        return;
      }
      weights = "W_" + l.name;
      add_declaration_item(
          decl_item{declaration_kind::param, weights, at, a->shape, a->values, false});
    } else if (const auto* name = std::get_if<std::string>(&slots[3]->value)) {
      weights = *name;
    } else {
      error(slots[3]->location, "the weights must be a matrix or the name of one",
            "weights = [[...], ...] with one row per unit and one column per input");
      return;
    }
    // bias
    std::string bias;
    if (slots[4] != nullptr) {
      if (const auto* a = std::get_if<array_literal>(&slots[4]->value)) {
        if (a->shape.size() != 1 || a->shape[0] != units) {
          error(slots[4]->location,
                fmt::format("the bias is {} but the layer has {}", describe_shape(a->shape),
                            plural(units, "unit")),
                "bias = [...] with one value per unit, a single number, or a name");
          return;
        }
        bias = "b_" + l.name;
        add_declaration_item(
            decl_item{declaration_kind::param, bias, at, a->shape, a->values, false});
      } else if (const auto* n = std::get_if<number_literal>(&slots[4]->value)) {
        bias = "b_" + l.name;
        add_declaration_item(decl_item{declaration_kind::param, bias, at, {}, {*n}, false});
      } else {
        bias = std::get<std::string>(slots[4]->value);
      }
    }
    // W @ input + b, then the activation.
    const expr_id w = work_.add(expr_kind::name, weights,
                                (slots[3] != nullptr ? slots[3] : slots[init_slot])->location);
    const expr_id x = work_.add(expr_kind::name, input, input_location);
    const expr_id wx[2] = {w, x};
    expr_id net = work_.add(expr_kind::matmul, {}, at, wx);
    if (!bias.empty()) {
      const expr_id b = work_.add(expr_kind::name, bias, slots[4]->location);
      const expr_id terms[2] = {net, b};
      net = work_.add(expr_kind::add, {}, at, terms);
    }
    if (activation == linear_activation) {
      add_equation(l.name, at, net, false);
      return;
    }
    const std::string net_name = "net_" + l.name;
    add_equation(net_name, at, net, true);
    const expr_id pre = work_.add(expr_kind::name, net_name, at);
    add_equation(l.name, at,
                 work_.add(expr_kind::call, activation, activation_location, std::span(&pre, 1)),
                 false);
  }

  static bool valid_activation(std::string_view name) {
    if (name == linear_activation) return true;
    const function_info* f = find_function(name);
    if (f == nullptr) return false;
    if (f->shape == function_shape::vector) return true;
    if (f->shape != function_shape::elementwise || f->parameters.empty()) return false;
    return std::all_of(f->parameters.begin() + 1, f->parameters.end(),
                       [](const parameter_info& p) { return !p.default_value.empty(); });
  }

  static std::vector<std::string> activation_names() {
    std::vector<std::string> names{std::string(linear_activation)};
    for (const auto& f : functions()) {
      if (valid_activation(f.name)) names.emplace_back(f.name);
    }
    return names;
  }

  // References and calls
  // ----------------------------------------------------------------------------

  void collect_references(std::size_t i) {
    eq_item& eq = eqs_[i];
    for (const expr_id id : work_.subtree(eq.root)) {
      const expr_node& node = work_[id];
      if (node.kind == expr_kind::name) {
        const auto r = lookup(node.text);
        if (!r) {
          unknown_name(work_.location(id), node.text);
          eq.poisoned = true;
          continue;
        }
        const entity& e = entities_[r->entity];
        if (e.is_equation) eq.deps.push_back(e.item);
        if (const std::string* input = deferred_input(r->entity)) {
          // Drawn weights and dropout masks take their shape from the layer's input: expand
          // that first.
          const auto in = lookup(*input);
          if (in && entities_[in->entity].is_equation)
            eq.deps.push_back(entities_[in->entity].item);
        }
      } else if (node.kind == expr_kind::call) {
        if (!check_call(id)) eq.poisoned = true;
      }
    }
    std::sort(eq.deps.begin(), eq.deps.end());
    eq.deps.erase(std::unique(eq.deps.begin(), eq.deps.end()), eq.deps.end());
  }

  static std::string arity_text(const function_info& f) {
    if (f.variadic) return "at least 1 argument";
    std::size_t required = 0;
    for (const auto& p : f.parameters)
      required += p.default_value.empty() ? 1 : 0;
    if (required == f.parameters.size()) return plural(required, "argument");
    return fmt::format("{} or {} arguments", required, f.parameters.size());
  }

  bool check_call(expr_id id) {
    const expr_node& node = work_[id];
    const source_location at = work_.location(id);
    const function_info* f = find_function(node.text);
    if (f == nullptr) {
      std::vector<std::string_view> names;
      for (const auto& fn : functions())
        names.push_back(fn.name);
      auto& d = error(
          at, fmt::format("unknown function '{}'", node.text), "a built-in function: " + [&] {
            std::vector<std::string> list(names.begin(), names.end());
            return join(list, ", ");
          }());
      suggest(d, detail::closest(node.text, names));
      return false;
    }
    const auto kids = work_.children(id);
    const std::string form(f->form);
    std::size_t positional = 0;
    std::vector<bool> given(f->parameters.size(), false);
    bool ok = true;
    for (const expr_id k : kids) {
      const expr_node& arg = work_[k];
      if (arg.kind != expr_kind::keyword_argument) {
        if (positional < given.size()) given[positional] = true;
        ++positional;
        continue;
      }
      const auto it = std::find_if(f->parameters.begin(), f->parameters.end(),
                                   [&](const parameter_info& p) { return p.name == arg.text; });
      if (it == f->parameters.end() || it->default_value.empty()) {
        const bool any_keywords =
            std::any_of(f->parameters.begin(), f->parameters.end(),
                        [](const parameter_info& p) { return !p.default_value.empty(); });
        error(work_.location(k),
              any_keywords ? fmt::format("{} has no keyword argument '{}'", f->name, arg.text)
                           : fmt::format("{} takes no keyword arguments", f->name),
              form);
        ok = false;
        continue;
      }
      const auto p = static_cast<std::size_t>(it - f->parameters.begin());
      if (given[p]) {
        error(work_.location(k), fmt::format("argument '{}' is given twice", arg.text), form);
        ok = false;
        continue;
      }
      given[p] = true;
    }
    if (!ok) return false;
    bool arity_ok = f->variadic ? positional >= 1 : positional <= f->parameters.size();
    for (std::size_t p = 0; arity_ok && p < given.size(); ++p) {
      arity_ok = given[p] || !f->parameters[p].default_value.empty();
    }
    if (!arity_ok) {
      error(at, fmt::format("{} takes {}, got {}", f->name, arity_text(*f), kids.size()), form);
      return false;
    }
    // Literal-only parameters (leaky_relu's alpha) must be a number, possibly negated.
    positional = 0;
    for (const expr_id k : kids) {
      const expr_node& arg = work_[k];
      std::size_t p = 0;
      expr_id value = k;
      if (arg.kind == expr_kind::keyword_argument) {
        p = static_cast<std::size_t>(
            std::find_if(f->parameters.begin(), f->parameters.end(),
                         [&](const parameter_info& q) { return q.name == arg.text; }) -
            f->parameters.begin());
        value = work_.children(k)[0];
      } else {
        p = positional++;
      }
      if (f->variadic || !f->parameters[p].literal_only) continue;
      expr_id v = value;
      while (work_[v].kind == expr_kind::negate)
        v = work_.children(v)[0];
      if (work_[v].kind != expr_kind::number) {
        error(work_.location(value),
              fmt::format("{}'s {} must be a number", f->name, f->parameters[p].name), form);
        ok = false;
      }
    }
    return ok;
  }

  // Evaluation order
  // ----------------------------------------------------------------------------------

  // Kahn's algorithm; among equations that are ready, the earliest in the source goes first.
  std::vector<std::size_t> evaluation_order() {
    const std::size_t n = eqs_.size();
    std::vector<std::size_t> waiting(n, 0);
    std::vector<std::vector<std::size_t>> users(n);
    for (std::size_t i = 0; i < n; ++i) {
      waiting[i] = eqs_[i].deps.size();
      for (const auto d : eqs_[i].deps)
        users[d].push_back(i);
    }
    std::priority_queue<std::size_t, std::vector<std::size_t>, std::greater<>> ready;
    for (std::size_t i = 0; i < n; ++i) {
      if (waiting[i] == 0) ready.push(i);
    }
    std::vector<std::size_t> order;
    order.reserve(n);
    while (!ready.empty()) {
      const std::size_t i = ready.top();
      ready.pop();
      order.push_back(i);
      for (const auto u : users[i]) {
        if (--waiting[u] == 0) ready.push(u);
      }
    }
    if (order.size() < n) report_cycles(waiting);
    return order;
  }

  // Every equation left over has a dependency that is left over too, so following the smallest
  // such dependency from any of them must run into a cycle.
  void report_cycles(const std::vector<std::size_t>& waiting) {
    const std::size_t n = eqs_.size();
    std::vector<std::size_t> walk_of(n, 0);  // 0: not visited; k: visited by walk k
    std::size_t walk = 0;
    for (std::size_t start = 0; start < n; ++start) {
      if (waiting[start] == 0 || walk_of[start] != 0) continue;
      ++walk;
      std::vector<std::size_t> path;
      std::size_t current = start;
      while (walk_of[current] == 0) {
        walk_of[current] = walk;
        path.push_back(current);
        std::size_t next = current;
        for (const auto d : eqs_[current].deps) {
          if (waiting[d] != 0) {
            next = d;
            break;
          }
        }
        current = next;
      }
      if (walk_of[current] != walk) continue;  // ran into a cycle reported before
      std::vector<std::size_t> cycle(std::find(path.begin(), path.end(), current), path.end());
      std::rotate(cycle.begin(), std::min_element(cycle.begin(), cycle.end()), cycle.end());
      std::vector<std::string> names;
      for (const auto c : cycle) {
        names.push_back(eqs_[c].name);
        eqs_[c].poisoned = true;
      }
      names.push_back(eqs_[cycle.front()].name);
      error(eqs_[cycle.front()].location, "cycle among equations: " + join(names, " -> "),
            "equations that can be evaluated in some order (no equation may depend on itself)");
    }
    for (std::size_t i = 0; i < n; ++i) {
      if (waiting[i] != 0) eqs_[i].poisoned = true;
    }
  }

  // Expansion
  // -------------------------------------------------------------------------------------------

  void expand_equations(const std::vector<std::size_t>& order) {
    expanded_ = expression_arena(p_.file_name);
    const detail::name_resolver resolve =
        [this](std::string_view name,
               const source_location& at) -> std::optional<detail::resolved_name> {
      const auto r = lookup(name);
      if (!r) return std::nullopt;
      const entity& e = entities_[r->entity];
      if (!e.shape_known && !resolve_init(r->entity) && !resolve_mask(r->entity)) {
        return std::nullopt;  // its equation failed, or the layer's input did; already reported
      }
      if (!valid_element(*r, name, at)) return std::nullopt;
      return detail::resolved_name{e.name, e.shape, r->indices};
    };
    for (const std::size_t i : order) {
      eq_item& eq = eqs_[i];
      if (eq.poisoned) continue;
      if (std::any_of(eq.deps.begin(), eq.deps.end(),
                      [&](std::size_t d) { return eqs_[d].poisoned; })) {
        eq.poisoned = true;
        continue;
      }
      auto value = detail::expand(work_, eq.root, expanded_, resolve, src_, errors_);
      if (!value) {
        eq.poisoned = true;
        continue;
      }
      if (value->shape.size() > max_dimensions ||
          element_count(value->shape) > detail::max_elements) {
        error(eq.location,
              fmt::format("'{}' is too large ({})", eq.name, describe_shape(value->shape)));
        eq.poisoned = true;
        continue;
      }
      entity& e = entities_[by_name_.at(eq.name)];
      e.shape = value->shape;
      e.shape_known = true;
      eq.value = std::move(value);
    }
  }

  // The flat model
  // ------------------------------------------------------------------------------------------

  void assemble(const std::vector<std::size_t>& order) {
    std::map<std::string, source_location, std::less<>> seen;
    const auto claim = [&](const std::string& name, const source_location& at,
                           const std::string& group) {
      const auto [it, inserted] = seen.emplace(name, at);
      if (inserted) return;
      // Report at whichever of the two comes later in the file.
      const bool later =
          std::tie(at.line, at.column) >= std::tie(it->second.line, it->second.column);
      const source_location& second = later ? at : it->second;
      const source_location& first = later ? it->second : at;
      auto& d = error(second, fmt::format("'{}' is defined twice", name));
      note(d, first, fmt::format("the first definition of '{}' is here", name));
      if (group != name) note(d, at, fmt::format("'{}' is an element of '{}'", name, group));
    };
    for (const auto& d : decls_) {
      const auto indices = detail::all_indices(d.shape);
      for (std::size_t k = 0; k < indices.size(); ++k) {
        scalar_declaration s;
        s.kind = d.kind;
        s.name = element_name(d.name, indices[k]);
        s.value = d.values[k].text;
        s.location = d.shape.empty() || d.from_fill ? d.location : d.values[k].location;
        s.group = d.name;
        if (!d.shape.empty()) s.indices = indices[k];
        claim(s.name, s.location, s.group);
        m_.declarations.push_back(std::move(s));
      }
    }
    for (const std::size_t i : order) {
      const eq_item& eq = eqs_[i];
      if (!eq.value) continue;
      const auto indices = detail::all_indices(eq.value->shape);
      for (std::size_t k = 0; k < indices.size(); ++k) {
        scalar_equation s;
        s.name = element_name(eq.name, indices[k]);
        s.value = m_.expressions.copy_subtree(expanded_, eq.value->elements[k]);
        s.location = eq.location;
        s.group = eq.name;
        if (!eq.value->shape.empty()) s.indices = indices[k];
        claim(s.name, s.location, s.group);
        m_.equations.push_back(std::move(s));
      }
    }
  }

  // Settings
  // -------------------------------------------------------------------------------------------------

  template <typename Directive>
  const Directive* single(std::string_view what) {
    const Directive* first = nullptr;
    for (const auto& s : p_.statements) {
      const auto* d = std::get_if<Directive>(&s);
      if (d == nullptr) continue;
      if (first == nullptr) {
        first = d;
        continue;
      }
      auto& e = error(d->location, fmt::format("{} is given twice", what));
      note(e, first->location, fmt::format("the first {} directive is here", what));
    }
    return first;
  }

  void settings() {
    if (const auto* p = single<precision_directive>("precision")) {
      m_.precision.location = p->location;
      if (p->binary_double) {
        m_.precision.binary_double = true;
        m_.precision.digits = 17;
      } else {
        const auto digits = detail::integer_value(p->digits.text);
        const std::string expected =
            fmt::format("a number of significant digits from {} to {}, or 'double'",
                        min_precision_digits, max_precision_digits);
        if (!digits) {
          error(p->digits.location, "the precision must be a whole number of digits", expected);
        } else if (*digits < static_cast<std::int64_t>(min_precision_digits) ||
                   *digits > static_cast<std::int64_t>(max_precision_digits)) {
          error(p->digits.location, fmt::format("precision {} is out of range", p->digits.text),
                expected);
        } else {
          m_.precision.digits = static_cast<unsigned>(*digits);
        }
      }
    }
    if (const auto* d = single<display_directive>("display")) {
      m_.display.location = d->location;
      m_.display.unit = d->unit;
      m_.display.rounding = d->rounding.value_or(rounding_mode::half_even);
      m_.display.keep_zeros = d->keep_zeros;
      const bool digits = d->unit == display_unit::digits;
      const std::int64_t low = digits ? 1 : 0;
      const auto count = detail::integer_value(d->count.text);
      const std::string expected =
          fmt::format("a whole number of {} from {} to {}", digits ? "digits" : "decimals", low,
                      max_precision_digits);
      if (!count || *count < low || *count > static_cast<std::int64_t>(max_precision_digits)) {
        error(d->count.location,
              fmt::format("display {} {} is out of range", d->count.text,
                          digits ? "digits" : "decimals"),
              expected);
      } else {
        m_.display.count = static_cast<unsigned>(*count);
        if (digits && m_.display.count > m_.precision.digits) {
          warning(d->count.location,
                  fmt::format("display shows {} significant digits but the precision is {} digits; "
                              "the extra digits are noise",
                              m_.display.count, m_.precision.digits));
        }
      }
    }
  }

  // Train / differentiate
  // --------------------------------------------------------------------------------------

  void task() {
    const source_location* first = nullptr;
    for (const auto& s : p_.statements) {
      const source_location* at = nullptr;
      if (const auto* t = std::get_if<train_directive>(&s)) at = &t->location;
      if (const auto* d = std::get_if<differentiate_directive>(&s)) at = &d->location;
      if (at == nullptr) continue;
      if (first != nullptr) {
        auto& e = error(*at, "only one train or differentiate directive is allowed");
        note(e, *first, "the first one is here");
        continue;
      }
      first = at;
      if (const auto* t = std::get_if<train_directive>(&s)) {
        train(*t);
      } else {
        const auto& d = std::get<differentiate_directive>(s);
        differentiate_setting setting;
        setting.location = d.location;
        setting.objective = resolve_objective(d.objective, d.objective_location);
        m_.differentiate = std::move(setting);
      }
    }
    if (first == nullptr) {
      errors_.push_back(src_.make(severity::error, p_.end, "no train or differentiate directive",
                                  "'train minimize NAME using OPTIMIZER(...) for N steps' or "
                                  "'differentiate NAME'"));
    }
  }

  std::string resolve_objective(const std::string& name, const source_location& at) {
    const auto r = lookup(name);
    if (!r) {
      auto& d = error(at, fmt::format("unknown name '{}'", name));
      std::vector<std::string> equations;
      for (const auto& eq : eqs_)
        equations.push_back(eq.name);
      suggest(d, detail::closest(name, equations));
      return name;
    }
    const entity& e = entities_[r->entity];
    if (!e.is_equation) {
      auto& d =
          error(at,
                fmt::format("'{}' is {} {}, not an equation", name,
                            e.kind == declaration_kind::input ? "an" : "a", to_string(e.kind)),
                "the name of an equation (the quantity to differentiate)");
      note(d, e.location, fmt::format("'{}' is declared here", e.name));
      return name;
    }
    if (!e.shape_known) return name;  // its equation failed; already reported
    if (!valid_element(*r, name, at)) return name;
    if (r->indices.size() != e.shape.size()) {
      error(at, fmt::format("the objective '{}' is {}", name, describe_shape(e.shape)),
            fmt::format("a scalar, such as one computed by 'E = sum({})'", name));
      return name;
    }
    objective_ = element_name(e.name, r->indices);
    return objective_;
  }

  std::optional<std::uint64_t> count_value(const number_literal& n, std::uint64_t low,
                                           std::uint64_t high, std::string_view what) {
    const auto value = detail::integer_value(n.text);
    if (!value || *value < static_cast<std::int64_t>(low) ||
        *value > static_cast<std::int64_t>(high)) {
      error(n.location, fmt::format("bad {} '{}'", what, n.text),
            fmt::format("a whole number from {} to {}", low, high));
      return std::nullopt;
    }
    return static_cast<std::uint64_t>(*value);
  }

  void train(const train_directive& t) {
    train_setting s;
    s.location = t.location;
    s.objective = resolve_objective(t.objective, t.objective_location);
    s.optimizer = optimizer(t.optimizer);
    s.unit = t.unit;
    s.count = count_value(t.count, 1, max_training_steps,
                          t.unit == step_unit::steps ? "number of steps" : "number of epochs")
                  .value_or(1);
    s.data_set = t.data_set;
    if (t.unit == step_unit::epochs && !t.data_set) {
      error(t.count.location, "training for epochs needs a data set",
            "'on DATA' after the number of epochs, or 'steps' instead of 'epochs'");
    }
    s.order = t.order.value_or(update_order::simultaneous);
    if (t.batch_full) s.batch_size = 0;
    if (t.batch) {
      s.batch_size = count_value(*t.batch, 1, max_training_steps, "batch size").value_or(1);
    }
    s.reduction = t.reduction.value_or(batch_reduction::sum);
    if ((t.batch_full || t.batch || t.reduction) && !t.data_set) {
      error(t.batch_full || t.batch ? t.batch_location : t.reduction_location,
            "batches need a data set", "'on DATA' before the batch or reduce clause");
    }
    const bool several_rows = t.batch_full || s.batch_size > 1;
    if (several_rows && s.order == update_order::sequential) {
      error(t.order_location, "sequential order recomputes one sample's gradients layer by layer",
            "'order simultaneous' (the default) with batches, or no batch clause");
    }
    if (several_rows && t.optimizer.name == "perceptron") {
      error(t.batch_location, "the perceptron rule updates after every sample",
            "no batch clause with 'using perceptron'");
    }
    validation(t, s);
    if (!t.trace.empty()) {
      s.trace.first = false;
      s.trace.last = false;
      const bool has_none = std::any_of(t.trace.begin(), t.trace.end(), [](const trace_item& i) {
        return i.selector == trace_selector::none;
      });
      if (has_none && t.trace.size() > 1) {
        error(t.trace.front().location, "'none' cannot be combined with other trace items",
              "either 'trace none' or a list of first, last, all, every N and step numbers");
      }
      for (const auto& item : t.trace) {
        switch (item.selector) {
          case trace_selector::first:
            s.trace.first = true;
            break;
          case trace_selector::last:
            s.trace.last = true;
            break;
          case trace_selector::all:
            s.trace.all = true;
            break;
          case trace_selector::none:
            break;
          case trace_selector::every:
            if (const auto n = count_value(item.number, 1, max_training_steps, "trace interval")) {
              s.trace.every = *n;
            }
            break;
          case trace_selector::step:
            if (const auto n = count_value(item.number, 1, max_training_steps, "step number")) {
              if (t.unit == step_unit::steps && *n > s.count) {
                warning(item.location,
                        fmt::format("trace step {} is after the last step ({})", *n, s.count));
              }
              s.trace.steps.push_back(*n);
            }
            break;
        }
      }
      std::sort(s.trace.steps.begin(), s.trace.steps.end());
      s.trace.steps.erase(std::unique(s.trace.steps.begin(), s.trace.steps.end()),
                          s.trace.steps.end());
    }
    m_.train = std::move(s);
  }

  optimizer_setting optimizer(const optimizer_call& call) {
    optimizer_setting s;
    s.name = call.name;
    s.location = call.location;
    const optimizer_info* info = find_optimizer(call.name);
    if (info == nullptr) {
      std::vector<std::string_view> names;
      for (const auto& o : optimizers())
        names.push_back(o.name);
      auto& d = error(call.location, fmt::format("unknown optimizer '{}'", call.name),
                      "one of sgd, momentum, rmsprop, adagrad, adam, perceptron");
      suggest(d, detail::closest(call.name, names));
      return s;
    }
    const std::string form(info->form);
    std::vector<std::string_view> parameter_names;
    for (const auto& p : info->parameters)
      parameter_names.push_back(p.name);
    std::vector<const named_value*> given(info->parameters.size(), nullptr);
    for (const auto& arg : call.arguments) {
      const auto it = std::find(parameter_names.begin(), parameter_names.end(), arg.name);
      if (it == parameter_names.end()) {
        auto& d =
            error(arg.location, fmt::format("{} has no argument '{}'", info->name, arg.name), form);
        suggest(d, detail::closest(arg.name, parameter_names));
        continue;
      }
      const auto p = static_cast<std::size_t>(it - parameter_names.begin());
      if (given[p] != nullptr) {
        error(arg.location, fmt::format("argument '{}' is given twice", arg.name), form);
        continue;
      }
      given[p] = &arg;
      const auto& range = info->parameters[p].range;
      if (detail::signed_decimal_problem(arg.value.text)) continue;  // reported by the parser
      if (range == value_range::positive && detail::compare_decimals(arg.value.text, "0") <= 0) {
        error(arg.value.location, fmt::format("{} must be greater than 0", arg.name), form);
      } else if (range == value_range::unit_interval &&
                 (detail::compare_decimals(arg.value.text, "0") < 0 ||
                  detail::compare_decimals(arg.value.text, "1") >= 0)) {
        error(arg.value.location, fmt::format("{} must be at least 0 and less than 1", arg.name),
              form);
      }
    }
    for (std::size_t p = 0; p < info->parameters.size(); ++p) {
      s.arguments.push_back(named_decimal{std::string(info->parameters[p].name),
                                          given[p] != nullptr
                                              ? given[p]->value.text
                                              : std::string(info->parameters[p].default_value)});
    }
    return s;
  }

  // Data sets
  // ----------------------------------------------------------------------------------------------------

  // Scalar column names for the columns as written (a vector input stands for its elements).
  std::optional<std::vector<std::string>> resolve_columns(const std::vector<std::string>& columns,
                                                          const std::vector<source_location>& at) {
    std::vector<std::string> out;
    bool ok = true;
    for (std::size_t c = 0; c < columns.size(); ++c) {
      const auto r = lookup(columns[c]);
      if (!r) {
        unknown_name(at[c], columns[c]);
        ok = false;
        continue;
      }
      const entity& e = entities_[r->entity];
      if (e.is_equation ||
          (e.kind != declaration_kind::input && e.kind != declaration_kind::target)) {
        auto& d = error(
            at[c],
            fmt::format("data column '{}' is {}", columns[c],
                        e.is_equation ? "an equation" : fmt::format("a {}", to_string(e.kind))),
            "an input or a target");
        note(d, e.location, fmt::format("'{}' is defined here", e.name));
        ok = false;
        continue;
      }
      if (!valid_element(*r, columns[c], at[c])) {
        ok = false;
        continue;
      }
      std::vector<std::size_t> rest(
          e.shape.begin() + static_cast<std::ptrdiff_t>(r->indices.size()), e.shape.end());
      for (const auto& index : detail::all_indices(rest)) {
        std::vector<std::uint32_t> full = r->indices;
        full.insert(full.end(), index.begin(), index.end());
        std::string name = element_name(e.name, full);
        if (std::find(out.begin(), out.end(), name) != out.end()) {
          error(at[c], fmt::format("column '{}' is listed twice", name));
          ok = false;
        }
        out.push_back(std::move(name));
      }
    }
    if (!ok) return std::nullopt;
    return out;
  }

  void data_sets() {
    const std::filesystem::path folder = std::filesystem::path(p_.file_name).parent_path();
    std::map<std::string, source_location, std::less<>> seen;
    for (const auto& s : p_.statements) {
      const auto* d = std::get_if<data_statement>(&s);
      if (d == nullptr) continue;
      if (const auto [it, inserted] = seen.emplace(d->name, d->location); !inserted) {
        auto& e = error(d->location, fmt::format("data set '{}' is defined twice", d->name));
        note(e, it->second, "the first definition is here");
        continue;
      }
      data_set out;
      out.name = d->name;
      out.location = d->location;
      std::optional<std::vector<std::string>> columns;
      if (!d->columns.empty()) columns = resolve_columns(d->columns, d->column_locations);
      if (d->file) {
        std::filesystem::path path(*d->file);
        if (path.is_relative()) path = folder / path;
        out.file = path.lexically_normal().string();
        const std::size_t before = errors_.size();
        detail::csv_table table = detail::read_csv(path, d->file_location, errors_);
        if (errors_.size() != before) continue;
        if (!table.header.empty()) {
          const auto from_header = resolve_columns(table.header, table.header_locations);
          if (!from_header) continue;
          if (columns && *columns != *from_header) {
            error(d->file_location,
                  fmt::format("the CSV header ({}) does not match the column list ({})",
                              join(table.header, ", "), join(d->columns, ", ")),
                  "the same columns in the same order, or no column list");
            continue;
          }
          columns = from_header;
        } else if (d->columns.empty()) {
          error(d->file_location,
                "the data file has no header, so the data set needs a column list",
                fmt::format("data {}(column, ...) = from \"{}\"", d->name, *d->file));
          continue;
        }
        if (!columns) continue;
        if (table.width != columns->size() && !table.values.empty()) {
          error(d->file_location,
                fmt::format("the data file has {} but the data set has {} ({})",
                            plural(table.width, "column"), plural(columns->size(), "column"),
                            join(*columns, ", ")));
          continue;
        }
        out.columns = std::move(*columns);
        out.values = std::move(table.values);
        out.row_locations = std::move(table.row_locations);
      } else {
        if (d->columns.empty()) {
          error(d->location, "inline data needs a column list",
                fmt::format("data {}(column, ...) = [[...], ...]", d->name));
          continue;
        }
        if (!columns) continue;
        // The parser has made sure every row has the same length.
        if (!d->row_lengths.empty() && d->row_lengths.front() != columns->size()) {
          error(d->row_locations.front(),
                fmt::format("the rows have {} but the data set has {} ({})",
                            plural(d->row_lengths.front(), "value"),
                            plural(columns->size(), "column"), join(*columns, ", ")));
          continue;
        }
        out.columns = std::move(*columns);
        out.values = d->values;
        out.row_locations = d->row_locations;
      }
      if (out.rows() == 0) {
        error(d->location, fmt::format("data set '{}' has no rows", d->name));
        continue;
      }
      m_.data_sets.push_back(std::move(out));
    }
    splits(seen);
    validation_data_set();
    if (m_.train && m_.train->data_set) {
      const auto& t = std::find_if(
          p_.statements.begin(), p_.statements.end(),
          [](const statement& s) { return std::holds_alternative<train_directive>(s); });
      const auto& directive = std::get<train_directive>(*t);
      if (m_.find_data_set(*m_.train->data_set) == nullptr) {
        if (!data_set_declared(*m_.train->data_set)) {
          auto& e = error(directive.data_set_location,
                          fmt::format("unknown data set '{}'", *m_.train->data_set));
          suggest(e, detail::closest(*m_.train->data_set, data_set_names()));
        }
      }
    }
    for (const auto& d : m_.data_sets) {
      const bool evaluated =
          std::any_of(p_.statements.begin(), p_.statements.end(), [&](const statement& s) {
            const auto* e = std::get_if<evaluate_directive>(&s);
            return e != nullptr && e->data_set == d.name;
          });
      const bool split =
          std::any_of(p_.statements.begin(), p_.statements.end(), [&](const statement& s) {
            const auto* e = std::get_if<split_directive>(&s);
            return e != nullptr && e->source == d.name;
          });
      const bool validated =
          m_.train && m_.train->validation && m_.train->validation->data_set == d.name;
      if ((!m_.train || m_.train->data_set != d.name) && !evaluated && !split && !validated) {
        warning(d.location, fmt::format("data set '{}' is never used", d.name));
      }
    }
  }

  // The validate, patience and restore clauses of the train line. The data set itself is looked
  // up once the data sets are known (validation_data_set).
  void validation(const train_directive& t, train_setting& s) {
    if (!t.validation_set) {
      if (t.patience) {
        error(t.patience_location, "'patience' needs a validation set to watch",
              "'validate on DATA' on the train line, or no patience clause");
      }
      if (t.restore_best) {
        error(t.restore_location, "'restore best' needs a validation set to choose the best update",
              "'validate on DATA' on the train line, or no restore clause");
      }
      return;
    }
    validation_setting v;
    v.data_set = *t.validation_set;
    v.location = t.validation_location;
    if (t.validate_every) {
      v.every_unit = t.validate_unit;
      const char* unit = t.validate_unit == step_unit::steps ? "steps" : "epochs";
      const auto n = detail::integer_value(t.validate_every->text);
      if (!n || *n < 1 || *n > static_cast<std::int64_t>(max_training_steps)) {
        error(t.validate_every->location,
              fmt::format("bad validation interval '{} {}'", t.validate_every->text, unit),
              fmt::format("a whole number of {} from 1 to {} between validations, as in 'every "
                          "2 {}'",
                          unit, max_training_steps, unit));
      } else {
        v.every_count = static_cast<std::uint64_t>(*n);
      }
      if (t.validate_unit == step_unit::epochs && !t.data_set) {
        error(t.validate_every->location, "validating every few epochs needs a training data set",
              "'on DATA' on the train line, or 'every K steps'");
      }
    }
    if (t.patience) {
      const auto n = detail::integer_value(t.patience->text);
      if (!n || *n < 1 || *n > static_cast<std::int64_t>(max_training_steps)) {
        error(t.patience->location,
              fmt::format("bad patience '{}': it counts validations without improvement, and "
                          "training stops when it is reached",
                          t.patience->text),
              fmt::format("a whole number from 1 to {}, as in 'patience 3'", max_training_steps));
      } else {
        v.patience = static_cast<std::uint64_t>(*n);
      }
    }
    v.restore_best = t.restore_best;
    if (t.data_set && *t.data_set == *t.validation_set) {
      // Early stopping on the rows being fitted would stop on the training loss; a validation set
      // that measures nothing new is a mistake, not a style.
      error(t.validation_location,
            fmt::format("'{}' is both the training and the validation set", *t.validation_set),
            fmt::format("rows held out from training, as made by 'split {} into train, val ratio "
                        "0.8'",
                        *t.validation_set));
    }
    s.validation = std::move(v);
  }

  // `split` lines, in source order, after the data statements: each adds its two parts.
  void splits(std::map<std::string, source_location, std::less<>>& seen) {
    for (const auto& s : p_.statements) {
      const auto* d = std::get_if<split_directive>(&s);
      if (d == nullptr) continue;
      bool ok = true;
      if (d->first == d->second) {
        error(d->second_location, fmt::format("both parts of the split are called '{}'", d->second),
              "two different names, as in 'split all into train, val ratio 0.8'");
        ok = false;
      }
      std::vector<std::pair<std::string, source_location>> names{{d->first, d->first_location}};
      if (d->second != d->first) names.emplace_back(d->second, d->second_location);
      for (const auto& [name, at] : names) {
        const auto [it, inserted] = seen.emplace(name, at);
        if (!inserted) {
          auto& e = error(at, fmt::format("data set '{}' is defined twice", name),
                          "a name no other data set or split part uses");
          note(e, it->second, "the first definition is here");
          ok = false;
        }
      }
      if (!d->ratio && !d->rows) {
        error(d->location, "the split does not say how many rows go to the first part",
              "'ratio R' (a fraction, as in 'ratio 0.8') or 'rows N' after the two names");
        ok = false;
      }
      std::optional<std::uint64_t> seed;
      if (d->seed) {
        seed = detail::whole_number(d->seed->text);
        if (!seed || d->seed->text.size() > 18) {
          error(d->seed->location, "the seed must be a whole number of at most 18 digits",
                "shuffle seed 42");
          ok = false;
        }
      }
      const data_set* source = m_.find_data_set(d->source);
      if (source == nullptr) {
        if (!seen.contains(d->source)) {
          auto& e = error(d->source_name_location, fmt::format("unknown data set '{}'", d->source),
                          "the name of a 'data' statement or of an earlier split's part");
          std::vector<std::string> known;
          for (const auto& entry : seen)
            known.push_back(entry.first);
          suggest(e, detail::closest(d->source, known));
        }
        continue;  // a data set that failed its own checks is reported already
      }
      const std::size_t rows = source->rows();
      std::uint64_t first = 0;
      if (d->rows) {
        if (rows < 2) {
          error(d->rows->location,
                fmt::format("data set '{}' has 1 row, which cannot be split", d->source),
                "a data set with at least two rows");
          continue;
        }
        const auto n = count_value(*d->rows, 1, rows - 1, "number of rows");
        if (!n) {
          note(errors_.back(), source->location,
               fmt::format("data set '{}' has {}", d->source, plural(rows, "row")));
          continue;
        }
        first = *n;
      } else if (d->ratio) {
        const std::string& text = d->ratio->text;
        if (detail::decimal_problem(text) || detail::compare_decimals(text, "0") <= 0 ||
            detail::compare_decimals(text, "1") >= 0) {
          error(d->ratio->location, fmt::format("bad split ratio '{}'", text),
                "a fraction strictly between 0 and 1, as in 'ratio 0.8'");
          continue;
        }
        // ratio < 1 leaves the second part at least one row; only the first can be empty.
        first = detail::floor_times(text, rows);
        if (first == 0) {
          error(d->ratio->location,
                fmt::format("ratio {} of the {} of '{}' leaves the first part empty ({} x {} "
                            "rounds down to 0)",
                            text, plural(rows, "row"), d->source, text, rows),
                "a larger ratio, or 'rows N'");
          continue;
        }
      }
      if (!ok) continue;
      std::vector<std::size_t> order;
      if (seed) {
        order = detail::shuffled_rows(rows, *seed);
      } else {
        order.resize(rows);
        for (std::size_t r = 0; r < rows; ++r)
          order[r] = r;
      }
      const std::size_t width = source->columns.size();
      data_set parts[2];
      for (std::size_t k = 0; k < rows; ++k) {
        data_set& part = parts[k < first ? 0 : 1];
        const std::size_t r = order[k];
        part.values.insert(part.values.end(), source->values.begin() + r * width,
                           source->values.begin() + (r + 1) * width);
        if (r < source->row_locations.size())
          part.row_locations.push_back(source->row_locations[r]);
        const std::uint64_t from = source->source_rows.empty() ? r + 1 : source->source_rows[r];
        part.source_rows.push_back(from);
      }
      parts[0].name = d->first;
      parts[0].location = d->first_location;
      parts[1].name = d->second;
      parts[1].location = d->second_location;
      // Before the parts are added: adding them may move `source`.
      for (data_set& part : parts) {
        part.columns = source->columns;
        part.file = source->file;
      }
      for (data_set& part : parts) {
        part.split_from = d->source;
        part.split_seed = seed;
        m_.data_sets.push_back(std::move(part));
      }
    }
  }

  // Whether a data statement or a split defines `name` (it may have failed its own checks).
  bool data_set_declared(std::string_view name) const {
    return std::any_of(p_.statements.begin(), p_.statements.end(), [&](const statement& s) {
      if (const auto* d = std::get_if<data_statement>(&s)) return d->name == name;
      if (const auto* d = std::get_if<split_directive>(&s))
        return d->first == name || d->second == name;
      return false;
    });
  }

  std::vector<std::string> data_set_names() const {
    std::vector<std::string> names;
    for (const auto& s : p_.statements) {
      if (const auto* d = std::get_if<data_statement>(&s)) names.push_back(d->name);
      if (const auto* d = std::get_if<split_directive>(&s)) {
        names.push_back(d->first);
        names.push_back(d->second);
      }
    }
    return names;
  }

  void no_validation_warning(const validation_setting& v, std::uint64_t updates) {
    warning(v.location,
            fmt::format("training makes {} and validates after every {}, so no "
                        "validation will run",
                        plural(updates, "update"),
                        v.every_count == 0
                            ? std::string("epoch")
                            : plural(v.every_count,
                                     v.every_unit == step_unit::epochs ? "epoch" : "update")));
  }

  void validation_data_set() {
    if (!m_.train || !m_.train->validation) return;
    const validation_setting& v = *m_.train->validation;
    const data_set* data = m_.find_data_set(v.data_set);
    if (data == nullptr) {
      if (!data_set_declared(v.data_set)) {
        auto& e = error(v.location, fmt::format("unknown validation set '{}'", v.data_set),
                        "the name of a 'data' statement or of a split's part");
        suggest(e, detail::closest(v.data_set, data_set_names()));
      }
      return;
    }
    if (!m_.train->data_set) {
      if (v.every_count > m_.train->count) no_validation_warning(v, m_.train->count);
      return;
    }
    const data_set* training = m_.find_data_set(*m_.train->data_set);
    if (training == nullptr) return;
    // The updates the trainer will make (trace::batches_per_epoch, repeated here because the
    // language does not depend on the trainer).
    const std::uint64_t rows = training->rows();
    const std::uint64_t batch = m_.train->batch_size;
    const std::uint64_t per_epoch = batch == 0 || batch >= rows ? 1 : (rows + batch - 1) / batch;
    const std::uint64_t updates =
        m_.train->unit == step_unit::epochs ? m_.train->count * per_epoch : m_.train->count;
    const std::uint64_t every = v.every_count == 0                  ? per_epoch
                                : v.every_unit == step_unit::epochs ? v.every_count * per_epoch
                                                                    : v.every_count;
    if (every > updates) no_validation_warning(v, updates);
    for (const auto& column : training->columns) {
      if (std::find(data->columns.begin(), data->columns.end(), column) == data->columns.end()) {
        error(v.location,
              fmt::format("the validation set '{}' has no column '{}', which the training set "
                          "'{}' has",
                          v.data_set, column, training->name),
              "a validation set with every column of the training set");
        return;
      }
    }
  }

  // Evaluate
  // ----------------------------------------------------------------------------------------------
  // Evaluate
  // ----------------------------------------------------------------------------------------------

  void evaluations() {
    for (const auto& s : p_.statements) {
      const auto* e = std::get_if<evaluate_directive>(&s);
      if (e == nullptr) continue;
      evaluate_setting out;
      out.quantity = e->quantity;
      out.data_set = e->data_set;
      out.location = e->location;
      if (m_.find_data_set(e->data_set) == nullptr) {
        if (!data_set_declared(e->data_set)) {  // one that failed its checks is reported
          auto& d = error(e->data_set_location, fmt::format("unknown data set '{}'", e->data_set),
                          "the name of a 'data' statement or of a split's part");
          suggest(d, detail::closest(e->data_set, data_set_names()));
        }
      }
      std::vector<const scalar_equation*> elements;
      for (const auto& eq : m_.equations) {
        if (eq.name == e->quantity) elements = {&eq};
      }
      if (elements.empty()) {
        for (const auto& eq : m_.equations) {
          if (eq.group == e->quantity && !eq.indices.empty()) elements.push_back(&eq);
        }
        std::sort(elements.begin(), elements.end(),
                  [](const scalar_equation* a, const scalar_equation* b) {
                    return a->indices < b->indices;
                  });
      }
      if (elements.empty()) {
        if (const auto* decl = m_.find_declaration(e->quantity); decl != nullptr) {
          error(e->quantity_location,
                fmt::format("'{}' is {} {}, not computed by the model", e->quantity,
                            decl->kind == declaration_kind::input ? "an" : "a",
                            to_string(decl->kind)),
                "the name of an equation, such as the network's output");
        } else if (errors_.empty()) {
          unknown_name(e->quantity_location, e->quantity);
        }
        continue;
      }
      for (const auto* eq : elements)
        out.outputs.push_back(eq->name);
      m_.evaluations.push_back(std::move(out));
    }
  }

  // Show
  // ----------------------------------------------------------------------------------------------

  // A name of a `show` item as a scalar name (`h_1`), or nothing after reporting why it is not.
  std::optional<std::string> show_scalar(const std::string& name, const source_location& at,
                                         bool computed) {
    const auto r = lookup(name);
    if (!r) {
      if (computed) {
        auto& d = error(at, fmt::format("unknown name '{}'", name),
                        "the name of an equation, such as the loss");
        std::vector<std::string> equations;
        for (const auto& eq : eqs_)
          equations.push_back(eq.name);
        suggest(d, detail::closest(name, equations));
      } else {
        unknown_name(at, name);
      }
      return std::nullopt;
    }
    const entity& e = entities_[r->entity];
    if (computed && !e.is_equation) {
      auto& d = error(
          at,
          fmt::format("'{}' is {} {}, not computed by the model; only an equation "
                      "has a derivative to show",
                      name, e.kind == declaration_kind::input ? "an" : "a", to_string(e.kind)),
          "the name of an equation, such as the loss");
      note(d, e.location, fmt::format("'{}' is declared here", e.name));
      return std::nullopt;
    }
    if (!e.shape_known) return std::nullopt;  // its equation failed; already reported
    if (!valid_element(*r, name, at)) return std::nullopt;
    if (r->indices.size() != e.shape.size()) {
      error(at,
            fmt::format("'{}' is {}; a shown derivative is of and by scalars", name,
                        describe_shape(e.shape)),
            fmt::format("one element, such as '{}'",
                        element_name(e.name, std::vector<std::uint32_t>(e.shape.size(), 1))));
      return std::nullopt;
    }
    return element_name(e.name, r->indices);
  }

  // `d`, `d2`, `^3`: a count from 1 to max_show_order, or nothing after reporting it.
  std::optional<std::size_t> show_count(const std::string& digits, const source_location& at,
                                        std::string_view what) {
    if (digits.empty()) return 1;
    const auto n = detail::whole_number(digits);
    if (n && *n >= 1 && *n <= max_show_order) return static_cast<std::size_t>(*n);
    error(at,
          fmt::format("{} {} is not a derivative order chainrule shows; orders go from 1 to {}",
                      what, digits, max_show_order),
          fmt::format("a whole number from 1 to {}", max_show_order));
    return std::nullopt;
  }

  void shows() {
    for (const auto& s : p_.statements) {
      const auto* directive = std::get_if<show_directive>(&s);
      if (directive == nullptr) continue;
      for (const show_item& item : directive->items) {
        show_setting out;
        out.location = item.location;
        bool ok = true;
        const auto order = show_count(item.order, item.order_location, "the order");
        ok = ok && order.has_value();
        if (auto of = show_scalar(item.of, item.of_location, true)) {
          out.of = std::move(*of);
        } else {
          ok = false;
        }
        std::size_t written = 0;
        for (const show_factor& f : item.factors) {
          const auto power = show_count(f.power, f.power_location, "the power");
          const auto wrt = show_scalar(f.name, f.location, false);
          if (!power || !wrt) {
            ok = false;
            continue;
          }
          written += *power;
          for (std::size_t k = 0; k < *power; ++k)
            out.wrt.push_back(*wrt);
        }
        if (!ok) continue;
        if (written != *order) {
          error(item.order_location,
                fmt::format("'d{}' asks for a derivative of order {}, but {} d(...) {} written "
                            "after the '/'",
                            item.order, *order, written, written == 1 ? "is" : "are"),
                "one d(NAME) per order, as in 'd(E)/d(x)', 'd2(E)/d(x)d(y)' or 'd2(E)/d(x)^2'");
          continue;
        }
        // Repeated factors next to each other read as a power: d2(E)/d(x)^2.
        out.text =
            (written > 1 ? "d" + std::to_string(written) : std::string("d")) + "(" + out.of + ")/";
        for (std::size_t k = 0; k < out.wrt.size();) {
          std::size_t run = 1;
          while (k + run < out.wrt.size() && out.wrt[k + run] == out.wrt[k])
            ++run;
          out.text += "d(" + out.wrt[k] + ")" + (run > 1 ? "^" + std::to_string(run) : "");
          k += run;
        }
        m_.shows.push_back(std::move(out));
      }
    }
  }

  // Symbols
  // ----------------------------------------------------------------------------------------------------------

  void symbols() {
    std::map<std::string, source_location, std::less<>> given;
    std::map<std::string, std::string, std::less<>> from_groups;
    for (const auto& s : p_.statements) {
      const auto* sym = std::get_if<symbol_statement>(&s);
      if (sym == nullptr) continue;
      if (const auto it = given.find(sym->name); it != given.end()) {
        auto& e =
            error(sym->location, fmt::format("the symbol for '{}' is given twice", sym->name));
        note(e, it->second, "the first one is here");
        continue;
      }
      given.emplace(sym->name, sym->location);
      const auto r = lookup(sym->name);
      if (!r) {
        unknown_name(sym->location, sym->name);
        continue;
      }
      const entity& e = entities_[r->entity];
      if (!e.shape_known) continue;
      if (!valid_element(*r, sym->name, sym->location)) continue;
      if (r->indices.size() == e.shape.size()) {
        m_.symbols[element_name(e.name, r->indices)] = sym->latex;
        continue;
      }
      // A symbol for a whole vector or matrix names its elements with subscripts.
      for (const auto& index : detail::all_indices(e.shape)) {
        std::string subscript;
        for (std::size_t k = 0; k < index.size(); ++k) {
          if (k > 0) subscript += ',';
          subscript += std::to_string(index[k]);
        }
        from_groups.emplace(element_name(e.name, index),
                            fmt::format("{{{}}}_{{{}}}", sym->latex, subscript));
      }
    }
    // Symbols written for single elements win over those derived from the whole vector.
    for (auto& [name, latex] : from_groups)
      m_.symbols.emplace(name, std::move(latex));
  }

  // Warnings
  // ----------------------------------------------------------------------------------------------------------

  void usage_warnings() {
    const std::string& objective = m_.objective();
    std::map<std::string_view, std::size_t, std::less<>> equation_index;
    for (std::size_t i = 0; i < m_.equations.size(); ++i)
      equation_index.emplace(m_.equations[i].name, i);
    std::vector<bool> used_equation(m_.equations.size(), false);
    std::set<std::string, std::less<>> used_names;
    std::vector<std::size_t> stack;
    if (const auto it = equation_index.find(objective); it != equation_index.end()) {
      used_equation[it->second] = true;
      stack.push_back(it->second);
    }
    while (!stack.empty()) {
      const std::size_t i = stack.back();
      stack.pop_back();
      for (const expr_id id : m_.expressions.subtree(m_.equations[i].value)) {
        const expr_node& node = m_.expressions[id];
        if (node.kind != expr_kind::name) continue;
        used_names.insert(node.text);
        const auto it = equation_index.find(node.text);
        if (it != equation_index.end() && !used_equation[it->second]) {
          used_equation[it->second] = true;
          stack.push_back(it->second);
        }
      }
    }
    std::set<std::string, std::less<>> used_groups;
    for (std::size_t i = 0; i < m_.equations.size(); ++i) {
      if (used_equation[i]) used_groups.insert(m_.equations[i].group);
    }
    for (const auto& eq : eqs_) {
      if (eq.generated || !eq.value || used_groups.count(eq.name) != 0) continue;
      warning(eq.location,
              fmt::format("equation '{}' is never used by the objective '{}'", eq.name, objective));
    }
    std::map<std::string, std::vector<const scalar_declaration*>, std::less<>> unused_params;
    std::vector<std::string> group_order;
    for (const auto& d : m_.declarations) {
      if (d.kind != declaration_kind::param) continue;
      auto& list = unused_params[d.group];
      if (list.empty() &&
          std::find(group_order.begin(), group_order.end(), d.group) == group_order.end()) {
        group_order.push_back(d.group);
      }
      if (used_names.count(d.name) == 0) list.push_back(&d);
    }
    for (const auto& group : group_order) {
      const auto& unused = unused_params[group];
      if (unused.empty()) continue;
      const entity& e = entities_[by_name_.at(group)];
      const std::size_t total = element_count(e.shape);
      const auto message = [&](std::string_view name) {
        return fmt::format("param '{}' never reaches the objective '{}' (its gradient is always 0)",
                           name, objective);
      };
      if (unused.size() == total) {
        warning(e.location, message(group));
      } else {
        for (const auto* d : unused)
          warning(d->location, message(d->name));
      }
    }
  }
};

}  // namespace

checked_model check(const program& p) {
  return checker(p).run();
}

}  // namespace chainrule::lang
