// SPDX-License-Identifier: MIT
#include "chainrule/exporters/json.hpp"

#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace chainrule::exporters {

namespace {

// Written with ordered_json, which keeps keys in insertion order: that is what makes the output
// byte-stable. Read with plain json: ordered_json keeps an object's members in a vector whose
// reallocation copies them (its pair has a const key), recursively, so one deeply nested value
// before another key would overflow the stack.
using ordered_json = nlohmann::ordered_json;
using json = nlohmann::json;
using trace::quantity_index;

constexpr std::string_view format_tag = "chainrule-trace";

constexpr std::array quantity_kinds = {
    trace::quantity_kind::input,    trace::quantity_kind::target,   trace::quantity_kind::parameter,
    trace::quantity_kind::constant, trace::quantity_kind::computed, trace::quantity_kind::loss};
constexpr std::array layouts = {trace::layout::leaf, trace::layout::prefix, trace::layout::infix,
                                trace::layout::function};
constexpr std::array expr_kinds = {trace::expr_kind::quantity, trace::expr_kind::derivative,
                                   trace::expr_kind::symbol, trace::expr_kind::literal,
                                   trace::expr_kind::apply};
constexpr std::array combines = {trace::gradient_step::kind::product,
                                 trace::gradient_step::kind::sum};

// ---- writing ------------------------------------------------------------------------------------

ordered_json write(const trace::number& n) {
  if (n.exact.empty() && n.shown.empty()) return nullptr;
  ordered_json j = ordered_json::object();
  j["exact"] = n.exact;
  j["shown"] = n.shown;
  return j;
}

template <typename T>
ordered_json write_optional(const std::optional<T>& value) {
  return value ? ordered_json(*value) : ordered_json(nullptr);
}

ordered_json write_numbers(const std::vector<trace::number>& numbers) {
  ordered_json j = ordered_json::array();
  for (const trace::number& n : numbers)
    j.push_back(write(n));
  return j;
}

// Expression nodes are the bulk of a trace. A node carries the fields its kind uses, plus any
// other field that differs from its default (so reading it back restores it exactly).
ordered_json write(const trace::expression& e) {
  static const trace::expr_node defaults{};
  ordered_json nodes = ordered_json::array();
  for (const trace::expr_node& node : e.nodes) {
    const trace::expr_kind kind = node.kind;
    const bool is_quantity = kind == trace::expr_kind::quantity;
    const bool is_derivative = kind == trace::expr_kind::derivative;
    const bool is_symbol = kind == trace::expr_kind::symbol;
    const bool is_literal = kind == trace::expr_kind::literal;
    const bool is_apply = kind == trace::expr_kind::apply;
    ordered_json j = ordered_json::object();
    j["kind"] = trace::to_string(kind);
    if (is_quantity || is_derivative || node.quantity != defaults.quantity) {
      j["quantity"] = node.quantity;
    }
    if (is_derivative || node.of != defaults.of) j["of"] = node.of;
    if (is_symbol || is_literal || is_apply || !node.text.empty()) j["text"] = node.text;
    if (is_symbol || is_apply || !node.latex.empty()) j["latex"] = node.latex;
    if (is_apply || !node.op.empty()) j["op"] = node.op;
    if (is_apply || node.notation != defaults.notation) {
      j["notation"] = trace::to_string(node.notation);
    }
    if (is_apply || node.precedence != defaults.precedence) j["precedence"] = node.precedence;
    if (is_apply || !node.args.empty()) j["args"] = node.args;
    if (node.self) j["self"] = *node.self;
    if (node.selected) j["selected"] = *node.selected;
    if (!node.value.empty() || !node.value.shown.empty()) j["value"] = write(node.value);
    nodes.push_back(std::move(j));
  }
  return nodes;
}

ordered_json write(const trace::settings& s) {
  ordered_json display = ordered_json::object();
  display["significant"] = s.display.significant;
  display["count"] = s.display.count;
  display["rounding"] = s.display.rounding;
  display["strip_trailing_zeros"] = s.display.strip_trailing_zeros;
  if (s.display.max_significant != 0) display["max_significant"] = s.display.max_significant;
  display["description"] = s.display.description;

  ordered_json hyper = ordered_json::array();
  for (const trace::hyper_parameter& h : s.optimizer.hyper) {
    ordered_json j = ordered_json::object();
    j["name"] = h.name;
    j["text"] = h.text;
    j["latex"] = h.latex;
    j["value"] = write(h.value);
    j["source"] = h.source;
    hyper.push_back(std::move(j));
  }
  ordered_json rule = ordered_json::array();
  for (const trace::rule_line& line : s.optimizer.rule) {
    ordered_json j = ordered_json::object();
    j["lhs_text"] = line.lhs_text;
    j["lhs_latex"] = line.lhs_latex;
    j["rhs"] = write(line.rhs);
    rule.push_back(std::move(j));
  }
  ordered_json optimizer = ordered_json::object();
  optimizer["name"] = s.optimizer.name;
  optimizer["hyper"] = std::move(hyper);
  optimizer["rule"] = std::move(rule);

  ordered_json j = ordered_json::object();
  j["precision"] = s.precision;
  j["digits"] = s.digits;
  j["display"] = std::move(display);
  j["optimizer"] = std::move(optimizer);
  j["update_order"] = s.update_order;
  j["steps"] = s.steps;
  j["traced_description"] = s.traced_description;
  j["traced"] = s.traced;
  // Written only for runs over data, so traces without data stay as they were.
  if (s.data_rows != 0) {
    j["data_rows"] = s.data_rows;
    j["batch_size"] = s.batch_size;
    j["batch_reduction"] = s.batch_reduction;
  }
  if (!s.certification.empty()) j["certification"] = s.certification;
  return j;
}

ordered_json write(const trace::quantity& q, std::size_t index) {
  ordered_json j = ordered_json::object();
  j["index"] = index;
  j["name"] = q.name;
  j["symbol"] = q.symbol;
  j["kind"] = trace::to_string(q.kind);
  j["op"] = q.op;
  j["folded_into"] = write_optional(q.folded_into);
  j["rank"] = q.rank;
  j["formula"] = write(q.formula);
  j["source"] = q.source;
  return j;
}

ordered_json write(const std::vector<trace::edge>& edges) {
  ordered_json array = ordered_json::array();
  for (const trace::edge& e : edges) {
    ordered_json j = ordered_json::object();
    j["from"] = e.from;
    j["to"] = e.to;
    j["partial"] = write(e.partial);
    array.push_back(std::move(j));
  }
  return array;
}

ordered_json write(const trace::snapshot& s) {
  ordered_json j = ordered_json::object();
  j["values"] = write_numbers(s.values);
  j["loss"] = write(s.loss);
  return j;
}

ordered_json write(const trace::derivative& d) {
  ordered_json j = ordered_json::object();
  j["of"] = d.of;
  j["wrt"] = d.wrt;
  j["via"] = write_optional(d.via);
  j["via_needed"] = d.via_needed;
  return j;
}

ordered_json write(const std::vector<trace::gradient_step>& steps) {
  ordered_json array = ordered_json::array();
  for (const trace::gradient_step& step : steps) {
    ordered_json factors = ordered_json::array();
    for (const trace::factor& f : step.factors) {
      ordered_json j = ordered_json::object();
      j["d"] = write(f.d);
      j["form"] = write(f.form);
      j["value"] = write(f.value);
      j["defined_by"] = write_optional(f.defined_by);
      factors.push_back(std::move(j));
    }
    ordered_json j = ordered_json::object();
    j["combine"] = trace::to_string(step.combine);
    j["d"] = write(step.d);
    j["factors"] = std::move(factors);
    j["value"] = write(step.value);
    j["parameter"] = write_optional(step.parameter);
    array.push_back(std::move(j));
  }
  return array;
}

ordered_json write(const std::vector<trace::forward_step>& steps) {
  ordered_json array = ordered_json::array();
  for (const trace::forward_step& step : steps) {
    ordered_json j = ordered_json::object();
    j["quantity"] = step.quantity;
    j["formula"] = write(step.formula);
    j["value"] = write(step.value);
    array.push_back(std::move(j));
  }
  return array;
}

ordered_json write(const trace::iteration& it) {
  ordered_json updates = ordered_json::array();
  for (const trace::parameter_update& update : it.updates) {
    ordered_json lines = ordered_json::array();
    for (const trace::assignment& line : update.lines) {
      ordered_json j = ordered_json::object();
      j["lhs_text"] = line.lhs_text;
      j["lhs_latex"] = line.lhs_latex;
      j["is_parameter"] = line.is_parameter;
      j["rhs"] = write(line.rhs);
      j["before"] = write(line.before);
      j["value"] = write(line.value);
      lines.push_back(std::move(j));
    }
    ordered_json j = ordered_json::object();
    j["parameter"] = update.parameter;
    j["gradient"] = write(update.gradient);
    j["lines"] = std::move(lines);
    updates.push_back(std::move(j));
  }
  ordered_json j = ordered_json::object();
  j["index"] = it.index;
  j["forward"] = write(it.forward);
  j["forward_steps"] = write(it.forward_steps);
  j["gradients"] = write_numbers(it.gradients);
  j["edge_partials"] = write_numbers(it.edge_partials);
  j["engine_edge_partials"] = write_numbers(it.engine_edge_partials);
  j["backward"] = write(it.backward);
  j["updates"] = std::move(updates);
  j["recomputed"] = write(it.recomputed);
  if (it.batch) {
    ordered_json rows = ordered_json::array();
    for (const trace::batch_row& row : it.batch->rows) {
      ordered_json r = ordered_json::object();
      r["row"] = row.row;
      r["loss"] = write(row.loss);
      r["gradients"] = write_numbers(row.gradients);
      rows.push_back(std::move(r));
    }
    ordered_json batch = ordered_json::object();
    batch["rows"] = std::move(rows);
    batch["loss"] = write(it.batch->loss);
    batch["gradients"] = write_numbers(it.batch->gradients);
    j["batch"] = std::move(batch);
  }
  if (it.row_loss_after) j["row_loss_after"] = write(*it.row_loss_after);
  return j;
}

ordered_json write(const trace::evaluation& e) {
  ordered_json predictions = ordered_json::array();
  for (const trace::evaluation_row& row : e.predictions) {
    ordered_json r = ordered_json::object();
    r["row"] = row.row;
    r["outputs"] = write_numbers(row.outputs);
    r["targets"] = write_numbers(row.targets);
    r["loss"] = write(row.loss);
    r["predicted"] = write_optional(row.predicted);
    r["actual"] = write_optional(row.actual);
    predictions.push_back(std::move(r));
  }
  ordered_json classes = ordered_json::array();
  for (const trace::class_metrics& m : e.per_class) {
    ordered_json c = ordered_json::object();
    c["label"] = m.label;
    c["support"] = m.support;
    c["predicted"] = m.predicted;
    c["precision"] = write(m.precision);
    c["recall"] = write(m.recall);
    c["f1"] = write(m.f1);
    classes.push_back(std::move(c));
  }
  ordered_json j = ordered_json::object();
  j["data_set"] = e.data_set;
  j["rows"] = e.rows;
  j["outputs"] = e.outputs;
  j["targets"] = e.targets;
  j["predictions"] = std::move(predictions);
  j["mean_loss"] = write(e.mean_loss);
  j["classifier"] = e.classifier;
  j["classes"] = e.classes;
  j["confusion"] = e.confusion;
  j["correct"] = e.correct;
  j["accuracy"] = write(e.accuracy);
  j["per_class"] = std::move(classes);
  j["macro_precision"] = write(e.macro_precision);
  j["macro_recall"] = write(e.macro_recall);
  j["macro_f1"] = write(e.macro_f1);
  return j;
}

ordered_json write(const trace::shown_derivative& d) {
  ordered_json j = ordered_json::object();
  j["written"] = d.written;
  j["of"] = d.of;
  j["wrt"] = d.wrt;
  j["text"] = d.text;
  j["latex"] = d.latex;
  j["symbols"] = d.symbols;
  j["value"] = write(d.value);
  j["evaluated_at"] = d.evaluated_at;
  return j;
}

ordered_json write(const trace::validation_run& v, std::uint64_t steps) {
  ordered_json history = ordered_json::array();
  for (const trace::validation_point& p : v.history) {
    ordered_json point = ordered_json::object();
    point["update"] = p.update;
    point["epoch"] = p.epoch;
    point["training_loss"] = write(p.training_loss);
    point["validation_loss"] = write(p.validation_loss);
    point["best"] = p.best;
    history.push_back(std::move(point));
  }
  ordered_json j = ordered_json::object();
  j["data_set"] = v.data_set;
  j["rows"] = v.rows;
  j["every"] = v.every;
  j["patience"] = v.patience;
  j["restore_best"] = v.restore_best;
  j["history"] = std::move(history);
  j["best_update"] = v.best_update;
  j["best_loss"] = write(v.best_loss);
  j["planned_steps"] = v.planned_steps;
  j["stopped_early"] = v.stopped_early;
  j["restored"] = v.restored;
  // For readers of the file; from_json derives it again from the fields above.
  j["stopping"] = trace::stopping_sentence(v, steps);
  return j;
}

ordered_json write(const trace::document& doc) {
  ordered_json quantities = ordered_json::array();
  for (std::size_t q = 0; q < doc.quantities.size(); ++q) {
    quantities.push_back(write(doc.quantities[q], q));
  }
  ordered_json iterations = ordered_json::array();
  for (const trace::iteration& it : doc.iterations)
    iterations.push_back(write(it));
  ordered_json history = ordered_json::array();
  for (const trace::loss_point& point : doc.loss_history) {
    ordered_json j = ordered_json::object();
    j["updates"] = point.updates;
    j["loss"] = write(point.loss);
    history.push_back(std::move(j));
  }

  ordered_json j = ordered_json::object();
  j["format"] = format_tag;
  j["schema_version"] = json_schema_version;
  j["document_schema"] = doc.schema;
  j["title"] = doc.title;
  j["source"] = doc.source;
  j["settings"] = write(doc.config);
  j["quantities"] = std::move(quantities);
  j["given"] = doc.given;
  j["computed"] = doc.computed;
  j["parameters"] = doc.parameters;
  j["loss"] = doc.loss;
  j["edges"] = write(doc.edges);
  j["engine_edges"] = write(doc.engine_edges);
  j["iterations"] = std::move(iterations);
  j["loss_history"] = std::move(history);
  j["final_state"] = write(doc.final_state);
  j["final_steps"] = write(doc.final_steps);
  // Written only when the model has `evaluate` directives, so other traces stay as they were.
  if (!doc.evaluations.empty()) {
    ordered_json evaluations = ordered_json::array();
    for (const trace::evaluation& e : doc.evaluations)
      evaluations.push_back(write(e));
    j["evaluations"] = std::move(evaluations);
  }
  // Likewise only with `show` directives.
  if (!doc.derivatives.empty()) {
    ordered_json derivatives = ordered_json::array();
    for (const trace::shown_derivative& d : doc.derivatives)
      derivatives.push_back(write(d));
    j["derivatives"] = std::move(derivatives);
  }
  // Likewise only for training runs with `validate on DATA`.
  if (doc.validation) j["validation"] = write(*doc.validation, doc.config.steps);
  return j;
}

// ---- reading ------------------------------------------------------------------------------------

[[noreturn]] void fail(const std::string& path, std::string_view message) {
  throw json_error("trace JSON: " + (path.empty() ? std::string("/") : path) + ": " +
                   std::string(message));
}

std::string_view type_name(const json& j) {
  if (j.is_number_integer() || j.is_number_unsigned()) return "an integer";
  if (j.is_number()) return "a non-integer number";
  return j.type_name();
}

void expect_object(const json& j, const std::string& path) {
  if (!j.is_object()) fail(path, "expected an object, found " + std::string(type_name(j)));
}

// The member `key` of an object, which must be present.
const json& member(const json& object, std::string_view key, const std::string& path) {
  expect_object(object, path);
  const auto found = object.find(key);
  if (found == object.end()) fail(path, "missing key \"" + std::string(key) + "\"");
  return *found;
}

// The member `key`, or null if absent (for fields written only when not at their default).
const json* optional_member(const json& object, std::string_view key) {
  const auto found = object.find(key);
  return found == object.end() ? nullptr : &*found;
}

std::string read_string(const json& j, const std::string& path) {
  if (!j.is_string()) fail(path, "expected a string, found " + std::string(type_name(j)));
  return j.get<std::string>();
}

bool read_bool(const json& j, const std::string& path) {
  if (!j.is_boolean()) fail(path, "expected true or false, found " + std::string(type_name(j)));
  return j.get<bool>();
}

// Any integer type, range-checked.
template <typename T>
T read_integer(const json& j, const std::string& path) {
  static_assert(std::is_integral_v<T>);
  const auto out_of_range = [&]() {
    fail(path, "integer out of range [" + std::to_string(std::numeric_limits<T>::min()) + ", " +
                   std::to_string(std::numeric_limits<T>::max()) + "]");
  };
  if (j.is_number_unsigned()) {
    const auto value = j.get<std::uint64_t>();
    if (value > static_cast<std::uint64_t>(std::numeric_limits<T>::max())) out_of_range();
    return static_cast<T>(value);
  }
  if (j.is_number_integer()) {
    const auto value = j.get<std::int64_t>();
    if constexpr (std::is_unsigned_v<T>) {
      if (value < 0) out_of_range();
      if (static_cast<std::uint64_t>(value) > std::numeric_limits<T>::max()) out_of_range();
    } else {
      if (value < std::numeric_limits<T>::min() || value > std::numeric_limits<T>::max()) {
        out_of_range();
      }
    }
    return static_cast<T>(value);
  }
  fail(path, "expected an integer, found " + std::string(type_name(j)));
}

trace::number read_number(const json& j, const std::string& path) {
  if (j.is_null()) return {};
  trace::number n;
  n.exact = read_string(member(j, "exact", path), path + "/exact");
  n.shown = read_string(member(j, "shown", path), path + "/shown");
  return n;
}

template <typename T>
std::optional<T> read_optional_integer(const json& j, const std::string& path) {
  if (j.is_null()) return std::nullopt;
  return read_integer<T>(j, path);
}

template <typename Read>
auto read_array(const json& j, const std::string& path, Read read_element) {
  using element = decltype(read_element(j, path));
  if (!j.is_array()) fail(path, "expected an array, found " + std::string(type_name(j)));
  std::vector<element> out;
  out.reserve(j.size());
  for (std::size_t i = 0; i < j.size(); ++i) {
    out.push_back(read_element(j[i], path + "/" + std::to_string(i)));
  }
  return out;
}

template <typename Enum, std::size_t N>
Enum read_enum(const json& j, const std::string& path, const std::array<Enum, N>& values) {
  const std::string text = read_string(j, path);
  std::string known;
  for (const Enum value : values) {
    if (trace::to_string(value) == text) return value;
    known += (known.empty() ? "" : ", ") + std::string(trace::to_string(value));
  }
  fail(path, "unknown value \"" + text + "\" (expected one of " + known + ")");
}

std::vector<trace::number> read_numbers(const json& j, const std::string& path) {
  return read_array(j, path, read_number);
}

template <typename T>
std::vector<T> read_integers(const json& j, const std::string& path) {
  return read_array(j, path, read_integer<T>);
}

trace::expression read_expression(const json& j, const std::string& path) {
  static const trace::expr_node defaults{};
  trace::expression e;
  e.nodes = read_array(j, path, [](const json& n, const std::string& at) {
    trace::expr_node node;
    node.kind = read_enum(member(n, "kind", at), at + "/kind", expr_kinds);
    const auto field = [&](std::string_view key, bool required) -> const json* {
      const json* value = optional_member(n, key);
      if (value == nullptr && required) fail(at, "missing key \"" + std::string(key) + "\"");
      return value;
    };
    const bool is_quantity = node.kind == trace::expr_kind::quantity;
    const bool is_derivative = node.kind == trace::expr_kind::derivative;
    const bool is_symbol = node.kind == trace::expr_kind::symbol;
    const bool is_literal = node.kind == trace::expr_kind::literal;
    const bool is_apply = node.kind == trace::expr_kind::apply;
    if (const json* v = field("quantity", is_quantity || is_derivative)) {
      node.quantity = read_integer<quantity_index>(*v, at + "/quantity");
    }
    if (const json* v = field("of", is_derivative)) {
      node.of = read_integer<quantity_index>(*v, at + "/of");
    }
    if (const json* v = field("text", is_symbol || is_literal || is_apply)) {
      node.text = read_string(*v, at + "/text");
    }
    if (const json* v = field("latex", is_symbol || is_apply)) {
      node.latex = read_string(*v, at + "/latex");
    }
    if (const json* v = field("op", is_apply)) node.op = read_string(*v, at + "/op");
    if (const json* v = field("notation", is_apply)) {
      node.notation = read_enum(*v, at + "/notation", layouts);
    }
    if (const json* v = field("precedence", is_apply)) {
      node.precedence = read_integer<int>(*v, at + "/precedence");
    } else {
      node.precedence = defaults.precedence;
    }
    if (const json* v = field("args", is_apply)) {
      node.args = read_integers<std::uint32_t>(*v, at + "/args");
    }
    if (const json* v = field("self", false)) {
      node.self = read_optional_integer<std::uint32_t>(*v, at + "/self");
    }
    if (const json* v = field("selected", false)) {
      node.selected = read_optional_integer<std::uint32_t>(*v, at + "/selected");
    }
    if (const json* v = field("value", false)) node.value = read_number(*v, at + "/value");
    return node;
  });
  return e;
}

trace::settings read_settings(const json& j, const std::string& path) {
  trace::settings s;
  s.precision = read_string(member(j, "precision", path), path + "/precision");
  s.digits = read_integer<unsigned>(member(j, "digits", path), path + "/digits");

  const std::string dpath = path + "/display";
  const json& display = member(j, "display", path);
  s.display.significant = read_bool(member(display, "significant", dpath), dpath + "/significant");
  s.display.count = read_integer<int>(member(display, "count", dpath), dpath + "/count");
  s.display.rounding = read_string(member(display, "rounding", dpath), dpath + "/rounding");
  s.display.strip_trailing_zeros =
      read_bool(member(display, "strip_trailing_zeros", dpath), dpath + "/strip_trailing_zeros");
  if (const json* cap = optional_member(display, "max_significant")) {
    s.display.max_significant = read_integer<int>(*cap, dpath + "/max_significant");
  }
  s.display.description =
      read_string(member(display, "description", dpath), dpath + "/description");

  const std::string opath = path + "/optimizer";
  const json& optimizer = member(j, "optimizer", path);
  s.optimizer.name = read_string(member(optimizer, "name", opath), opath + "/name");
  s.optimizer.hyper = read_array(member(optimizer, "hyper", opath), opath + "/hyper",
                                 [](const json& h, const std::string& at) {
                                   trace::hyper_parameter out;
                                   out.name = read_string(member(h, "name", at), at + "/name");
                                   out.text = read_string(member(h, "text", at), at + "/text");
                                   out.latex = read_string(member(h, "latex", at), at + "/latex");
                                   out.value = read_number(member(h, "value", at), at + "/value");
                                   out.source =
                                       read_string(member(h, "source", at), at + "/source");
                                   return out;
                                 });
  s.optimizer.rule = read_array(
      member(optimizer, "rule", opath), opath + "/rule", [](const json& r, const std::string& at) {
        trace::rule_line out;
        out.lhs_text = read_string(member(r, "lhs_text", at), at + "/lhs_text");
        out.lhs_latex = read_string(member(r, "lhs_latex", at), at + "/lhs_latex");
        out.rhs = read_expression(member(r, "rhs", at), at + "/rhs");
        return out;
      });

  s.update_order = read_string(member(j, "update_order", path), path + "/update_order");
  s.steps = read_integer<std::uint64_t>(member(j, "steps", path), path + "/steps");
  s.traced_description =
      read_string(member(j, "traced_description", path), path + "/traced_description");
  s.traced = read_integers<std::uint64_t>(member(j, "traced", path), path + "/traced");
  if (const json* rows = optional_member(j, "data_rows")) {
    s.data_rows = read_integer<std::uint64_t>(*rows, path + "/data_rows");
    s.batch_size = read_integer<std::uint64_t>(member(j, "batch_size", path), path + "/batch_size");
    s.batch_reduction = read_string(member(j, "batch_reduction", path), path + "/batch_reduction");
  }
  if (const json* certification = optional_member(j, "certification"))
    s.certification = read_string(*certification, path + "/certification");
  return s;
}

trace::quantity read_quantity(const json& j, const std::string& path) {
  trace::quantity q;
  q.name = read_string(member(j, "name", path), path + "/name");
  q.symbol = read_string(member(j, "symbol", path), path + "/symbol");
  q.kind = read_enum(member(j, "kind", path), path + "/kind", quantity_kinds);
  q.op = read_string(member(j, "op", path), path + "/op");
  q.folded_into =
      read_optional_integer<quantity_index>(member(j, "folded_into", path), path + "/folded_into");
  q.rank = read_integer<std::uint32_t>(member(j, "rank", path), path + "/rank");
  q.formula = read_expression(member(j, "formula", path), path + "/formula");
  q.source = read_string(member(j, "source", path), path + "/source");
  return q;
}

trace::edge read_edge(const json& j, const std::string& path) {
  trace::edge e;
  e.from = read_integer<quantity_index>(member(j, "from", path), path + "/from");
  e.to = read_integer<quantity_index>(member(j, "to", path), path + "/to");
  e.partial = read_expression(member(j, "partial", path), path + "/partial");
  return e;
}

trace::snapshot read_snapshot(const json& j, const std::string& path) {
  trace::snapshot s;
  s.values = read_numbers(member(j, "values", path), path + "/values");
  s.loss = read_number(member(j, "loss", path), path + "/loss");
  return s;
}

trace::derivative read_derivative(const json& j, const std::string& path) {
  trace::derivative d;
  d.of = read_integer<quantity_index>(member(j, "of", path), path + "/of");
  d.wrt = read_integer<quantity_index>(member(j, "wrt", path), path + "/wrt");
  d.via = read_optional_integer<quantity_index>(member(j, "via", path), path + "/via");
  d.via_needed = read_bool(member(j, "via_needed", path), path + "/via_needed");
  return d;
}

trace::gradient_step read_gradient_step(const json& j, const std::string& path) {
  trace::gradient_step step;
  step.combine = read_enum(member(j, "combine", path), path + "/combine", combines);
  step.d = read_derivative(member(j, "d", path), path + "/d");
  step.factors = read_array(
      member(j, "factors", path), path + "/factors", [](const json& f, const std::string& at) {
        trace::factor out;
        out.d = read_derivative(member(f, "d", at), at + "/d");
        out.form = read_expression(member(f, "form", at), at + "/form");
        out.value = read_number(member(f, "value", at), at + "/value");
        out.defined_by =
            read_optional_integer<std::uint32_t>(member(f, "defined_by", at), at + "/defined_by");
        return out;
      });
  step.value = read_number(member(j, "value", path), path + "/value");
  step.parameter =
      read_optional_integer<quantity_index>(member(j, "parameter", path), path + "/parameter");
  return step;
}

trace::assignment read_assignment(const json& j, const std::string& path) {
  trace::assignment a;
  a.lhs_text = read_string(member(j, "lhs_text", path), path + "/lhs_text");
  a.lhs_latex = read_string(member(j, "lhs_latex", path), path + "/lhs_latex");
  a.is_parameter = read_bool(member(j, "is_parameter", path), path + "/is_parameter");
  a.rhs = read_expression(member(j, "rhs", path), path + "/rhs");
  a.before = read_number(member(j, "before", path), path + "/before");
  a.value = read_number(member(j, "value", path), path + "/value");
  return a;
}

trace::forward_step read_forward_step(const json& j, const std::string& path) {
  trace::forward_step step;
  step.quantity = read_integer<quantity_index>(member(j, "quantity", path), path + "/quantity");
  step.formula = read_expression(member(j, "formula", path), path + "/formula");
  step.value = read_number(member(j, "value", path), path + "/value");
  return step;
}

trace::iteration read_iteration(const json& j, const std::string& path) {
  trace::iteration it;
  it.index = read_integer<std::uint64_t>(member(j, "index", path), path + "/index");
  it.forward = read_snapshot(member(j, "forward", path), path + "/forward");
  it.forward_steps =
      read_array(member(j, "forward_steps", path), path + "/forward_steps", read_forward_step);
  it.gradients = read_numbers(member(j, "gradients", path), path + "/gradients");
  it.edge_partials = read_numbers(member(j, "edge_partials", path), path + "/edge_partials");
  it.engine_edge_partials =
      read_numbers(member(j, "engine_edge_partials", path), path + "/engine_edge_partials");
  it.backward = read_array(member(j, "backward", path), path + "/backward", read_gradient_step);
  it.updates = read_array(
      member(j, "updates", path), path + "/updates", [](const json& u, const std::string& at) {
        trace::parameter_update out;
        out.parameter = read_integer<quantity_index>(member(u, "parameter", at), at + "/parameter");
        out.gradient = read_number(member(u, "gradient", at), at + "/gradient");
        out.lines = read_array(member(u, "lines", at), at + "/lines", read_assignment);
        return out;
      });
  it.recomputed =
      read_array(member(j, "recomputed", path), path + "/recomputed", read_gradient_step);
  if (const json* batch = optional_member(j, "batch")) {
    const std::string at = path + "/batch";
    trace::batch_step b;
    b.rows = read_array(
        member(*batch, "rows", at), at + "/rows", [](const json& r, const std::string& row_at) {
          trace::batch_row out;
          out.row = read_integer<std::uint64_t>(member(r, "row", row_at), row_at + "/row");
          out.loss = read_number(member(r, "loss", row_at), row_at + "/loss");
          out.gradients = read_numbers(member(r, "gradients", row_at), row_at + "/gradients");
          return out;
        });
    b.loss = read_number(member(*batch, "loss", at), at + "/loss");
    b.gradients = read_numbers(member(*batch, "gradients", at), at + "/gradients");
    it.batch = std::move(b);
  }
  if (const json* after = optional_member(j, "row_loss_after")) {
    it.row_loss_after = read_number(*after, path + "/row_loss_after");
  }
  return it;
}

trace::evaluation read_evaluation(const json& j, const std::string& path) {
  trace::evaluation e;
  e.data_set = read_string(member(j, "data_set", path), path + "/data_set");
  e.rows = read_integer<std::uint64_t>(member(j, "rows", path), path + "/rows");
  e.outputs = read_integers<quantity_index>(member(j, "outputs", path), path + "/outputs");
  e.targets = read_integers<quantity_index>(member(j, "targets", path), path + "/targets");
  e.predictions = read_array(
      member(j, "predictions", path), path + "/predictions",
      [](const json& r, const std::string& at) {
        trace::evaluation_row row;
        row.row = read_integer<std::uint64_t>(member(r, "row", at), at + "/row");
        row.outputs = read_numbers(member(r, "outputs", at), at + "/outputs");
        row.targets = read_numbers(member(r, "targets", at), at + "/targets");
        row.loss = read_number(member(r, "loss", at), at + "/loss");
        row.predicted =
            read_optional_integer<std::uint32_t>(member(r, "predicted", at), at + "/predicted");
        row.actual = read_optional_integer<std::uint32_t>(member(r, "actual", at), at + "/actual");
        return row;
      });
  e.mean_loss = read_number(member(j, "mean_loss", path), path + "/mean_loss");
  e.classifier = read_string(member(j, "classifier", path), path + "/classifier");
  e.classes = read_array(member(j, "classes", path), path + "/classes", read_string);
  e.confusion = read_array(
      member(j, "confusion", path), path + "/confusion",
      [](const json& r, const std::string& at) { return read_integers<std::uint64_t>(r, at); });
  e.correct = read_integer<std::uint64_t>(member(j, "correct", path), path + "/correct");
  e.accuracy = read_number(member(j, "accuracy", path), path + "/accuracy");
  e.per_class = read_array(
      member(j, "per_class", path), path + "/per_class", [](const json& c, const std::string& at) {
        trace::class_metrics m;
        m.label = read_string(member(c, "label", at), at + "/label");
        m.support = read_integer<std::uint64_t>(member(c, "support", at), at + "/support");
        m.predicted = read_integer<std::uint64_t>(member(c, "predicted", at), at + "/predicted");
        m.precision = read_number(member(c, "precision", at), at + "/precision");
        m.recall = read_number(member(c, "recall", at), at + "/recall");
        m.f1 = read_number(member(c, "f1", at), at + "/f1");
        return m;
      });
  e.macro_precision = read_number(member(j, "macro_precision", path), path + "/macro_precision");
  e.macro_recall = read_number(member(j, "macro_recall", path), path + "/macro_recall");
  e.macro_f1 = read_number(member(j, "macro_f1", path), path + "/macro_f1");
  return e;
}

trace::shown_derivative read_shown_derivative(const json& j, const std::string& path) {
  trace::shown_derivative d;
  d.written = read_string(member(j, "written", path), path + "/written");
  d.of = read_integer<quantity_index>(member(j, "of", path), path + "/of");
  d.wrt = read_integers<quantity_index>(member(j, "wrt", path), path + "/wrt");
  d.text = read_string(member(j, "text", path), path + "/text");
  d.latex = read_string(member(j, "latex", path), path + "/latex");
  d.symbols = read_integers<quantity_index>(member(j, "symbols", path), path + "/symbols");
  d.value = read_number(member(j, "value", path), path + "/value");
  d.evaluated_at = read_string(member(j, "evaluated_at", path), path + "/evaluated_at");
  return d;
}

trace::validation_run read_validation(const json& j, const std::string& path) {
  trace::validation_run v;
  v.data_set = read_string(member(j, "data_set", path), path + "/data_set");
  v.rows = read_integer<std::uint64_t>(member(j, "rows", path), path + "/rows");
  v.every = read_integer<std::uint64_t>(member(j, "every", path), path + "/every");
  v.patience = read_integer<std::uint64_t>(member(j, "patience", path), path + "/patience");
  v.restore_best = read_bool(member(j, "restore_best", path), path + "/restore_best");
  v.history = read_array(
      member(j, "history", path), path + "/history", [](const json& p, const std::string& at) {
        trace::validation_point point;
        point.update = read_integer<std::uint64_t>(member(p, "update", at), at + "/update");
        point.epoch = read_integer<std::uint64_t>(member(p, "epoch", at), at + "/epoch");
        point.training_loss = read_number(member(p, "training_loss", at), at + "/training_loss");
        point.validation_loss =
            read_number(member(p, "validation_loss", at), at + "/validation_loss");
        point.best = read_bool(member(p, "best", at), at + "/best");
        return point;
      });
  v.best_update =
      read_integer<std::uint64_t>(member(j, "best_update", path), path + "/best_update");
  v.best_loss = read_number(member(j, "best_loss", path), path + "/best_loss");
  v.planned_steps =
      read_integer<std::uint64_t>(member(j, "planned_steps", path), path + "/planned_steps");
  v.stopped_early = read_bool(member(j, "stopped_early", path), path + "/stopped_early");
  v.restored = read_bool(member(j, "restored", path), path + "/restored");
  return v;
}

// ---- checking references ------------------------------------------------------------------------

// Exporters index vectors with the numbers in a document, so a document read from a file is
// checked for dangling references before anyone uses it.
class reference_check {
 public:
  explicit reference_check(const trace::document& doc) : doc_(doc) {}

  void run() {
    const std::size_t n = doc_.quantities.size();
    for (std::size_t q = 0; q < n; ++q) {
      const std::string at = "/quantities/" + std::to_string(q);
      const trace::quantity& quantity = doc_.quantities[q];
      if (quantity.folded_into) index(*quantity.folded_into, at + "/folded_into");
      expression(quantity.formula, at + "/formula");
    }
    indices(doc_.given, "/given");
    indices(doc_.computed, "/computed");
    indices(doc_.parameters, "/parameters");
    if (n > 0) index(doc_.loss, "/loss");
    edges(doc_.edges, "/edges");
    edges(doc_.engine_edges, "/engine_edges");
    for (std::size_t i = 0; i < doc_.iterations.size(); ++i) {
      iteration(doc_.iterations[i], "/iterations/" + std::to_string(i));
    }
    size(doc_.final_state.values.size(), n, "/final_state/values", "quantities");
    forward_steps(doc_.final_steps, "/final_steps");
    for (std::size_t i = 0; i < doc_.evaluations.size(); ++i)
      evaluation(doc_.evaluations[i], "/evaluations/" + std::to_string(i));
    for (std::size_t i = 0; i < doc_.derivatives.size(); ++i) {
      const std::string at = "/derivatives/" + std::to_string(i);
      const trace::shown_derivative& d = doc_.derivatives[i];
      index(d.of, at + "/of");
      if (d.wrt.empty()) fail(at + "/wrt", "expected at least one quantity");
      indices(d.wrt, at + "/wrt");
      indices(d.symbols, at + "/symbols");
    }
  }

 private:
  const trace::document& doc_;

  // Exporters index classes, outputs and the confusion matrix with these numbers.
  void evaluation(const trace::evaluation& e, const std::string& at) const {
    indices(e.outputs, at + "/outputs");
    indices(e.targets, at + "/targets");
    const std::size_t k = e.classes.size();
    if (e.confusion.size() != k) fail(at + "/confusion", "expected one row per class");
    for (std::size_t r = 0; r < k; ++r) {
      if (e.confusion[r].size() != k) {
        fail(at + "/confusion/" + std::to_string(r), "expected one entry per class");
      }
    }
    if (e.per_class.size() != k) fail(at + "/per_class", "expected one entry per class");
    for (std::size_t r = 0; r < e.predictions.size(); ++r) {
      const std::string row_at = at + "/predictions/" + std::to_string(r);
      const trace::evaluation_row& row = e.predictions[r];
      if (row.outputs.size() != e.outputs.size()) fail(row_at + "/outputs", "one per output");
      if (row.targets.size() != e.targets.size()) fail(row_at + "/targets", "one per target");
      if ((row.predicted && *row.predicted >= k) || (row.actual && *row.actual >= k)) {
        fail(row_at, "class index out of range");
      }
    }
  }

  void index(quantity_index q, const std::string& at) const {
    if (q >= doc_.quantities.size()) {
      fail(at, "quantity " + std::to_string(q) + " does not exist (there are " +
                   std::to_string(doc_.quantities.size()) + ")");
    }
  }

  void indices(const std::vector<quantity_index>& qs, const std::string& at) const {
    for (std::size_t i = 0; i < qs.size(); ++i)
      index(qs[i], at + "/" + std::to_string(i));
  }

  static void size(std::size_t actual, std::size_t expected, const std::string& at,
                   std::string_view what) {
    if (actual != 0 && actual != expected) {
      fail(at, std::to_string(actual) + " entries, expected one per entry of " + std::string(what) +
                   " (" + std::to_string(expected) + ")");
    }
  }

  void expression(const trace::expression& e, const std::string& at) const {
    for (std::size_t k = 0; k < e.nodes.size(); ++k) {
      const trace::expr_node& node = e.nodes[k];
      const std::string node_at = at + "/" + std::to_string(k);
      if (node.kind == trace::expr_kind::quantity || node.kind == trace::expr_kind::derivative) {
        index(node.quantity, node_at + "/quantity");
      }
      if (node.kind == trace::expr_kind::derivative) index(node.of, node_at + "/of");
      const auto child = [&](std::uint32_t c, const std::string& where) {
        if (c >= k)
          fail(where, "expression node " + std::to_string(c) + " must come before its parent " +
                          std::to_string(k));
      };
      for (std::size_t a = 0; a < node.args.size(); ++a) {
        child(node.args[a], node_at + "/args/" + std::to_string(a));
      }
      if (node.self) child(*node.self, node_at + "/self");
      if (node.selected && *node.selected >= node.args.size()) {
        fail(node_at + "/selected", "selects argument " + std::to_string(*node.selected) + " of " +
                                        std::to_string(node.args.size()));
      }
    }
  }

  void edges(const std::vector<trace::edge>& es, const std::string& at) const {
    for (std::size_t i = 0; i < es.size(); ++i) {
      const std::string edge_at = at + "/" + std::to_string(i);
      index(es[i].from, edge_at + "/from");
      index(es[i].to, edge_at + "/to");
      expression(es[i].partial, edge_at + "/partial");
    }
  }

  void derivative(const trace::derivative& d, const std::string& at) const {
    index(d.of, at + "/of");
    index(d.wrt, at + "/wrt");
    if (d.via) index(*d.via, at + "/via");
  }

  void steps(const std::vector<trace::gradient_step>& ss, std::size_t step_count,
             const std::string& at) const {
    for (std::size_t s = 0; s < ss.size(); ++s) {
      const std::string step_at = at + "/" + std::to_string(s);
      derivative(ss[s].d, step_at + "/d");
      if (ss[s].parameter) index(*ss[s].parameter, step_at + "/parameter");
      for (std::size_t f = 0; f < ss[s].factors.size(); ++f) {
        const trace::factor& factor = ss[s].factors[f];
        const std::string factor_at = step_at + "/factors/" + std::to_string(f);
        derivative(factor.d, factor_at + "/d");
        expression(factor.form, factor_at + "/form");
        if (factor.defined_by && *factor.defined_by >= step_count) {
          fail(factor_at + "/defined_by",
               "step " + std::to_string(*factor.defined_by) + " does not exist");
        }
      }
    }
  }

  void forward_steps(const std::vector<trace::forward_step>& steps, const std::string& at) const {
    for (std::size_t s = 0; s < steps.size(); ++s) {
      const std::string step_at = at + "/" + std::to_string(s);
      index(steps[s].quantity, step_at + "/quantity");
      expression(steps[s].formula, step_at + "/formula");
    }
  }

  void iteration(const trace::iteration& it, const std::string& at) const {
    const std::size_t n = doc_.quantities.size();
    size(it.forward.values.size(), n, at + "/forward/values", "quantities");
    size(it.gradients.size(), n, at + "/gradients", "quantities");
    size(it.edge_partials.size(), doc_.edges.size(), at + "/edge_partials", "edges");
    size(it.engine_edge_partials.size(), doc_.engine_edges.size(), at + "/engine_edge_partials",
         "engine_edges");
    forward_steps(it.forward_steps, at + "/forward_steps");
    steps(it.backward, it.backward.size(), at + "/backward");
    // Recomputed steps may refer to each other or to the original backward steps.
    steps(it.recomputed, std::max(it.backward.size(), it.recomputed.size()), at + "/recomputed");
    if (it.batch) {
      const std::size_t p = doc_.parameters.size();
      size(it.batch->gradients.size(), p, at + "/batch/gradients", "parameters");
      for (std::size_t r = 0; r < it.batch->rows.size(); ++r) {
        size(it.batch->rows[r].gradients.size(), p,
             at + "/batch/rows/" + std::to_string(r) + "/gradients", "parameters");
      }
    }
    for (std::size_t u = 0; u < it.updates.size(); ++u) {
      const std::string update_at = at + "/updates/" + std::to_string(u);
      index(it.updates[u].parameter, update_at + "/parameter");
      for (std::size_t l = 0; l < it.updates[u].lines.size(); ++l) {
        expression(it.updates[u].lines[l].rhs, update_at + "/lines/" + std::to_string(l) + "/rhs");
      }
    }
  }
};

trace::document read_document(const json& j) {
  expect_object(j, "");
  const json* format = optional_member(j, "format");
  if (format == nullptr || !format->is_string() || format->get<std::string>() != format_tag) {
    fail("/format",
         "not a chainrule trace (expected \"format\": \"" + std::string(format_tag) + "\")");
  }
  const int version = read_integer<int>(member(j, "schema_version", ""), "/schema_version");
  if (version != json_schema_version) {
    fail("/schema_version", "unsupported schema version " + std::to_string(version) +
                                " (this build of chainrule reads version " +
                                std::to_string(json_schema_version) + ")");
  }
  trace::document doc;
  doc.schema = read_integer<int>(member(j, "document_schema", ""), "/document_schema");
  if (doc.schema != trace::schema_version) {
    fail("/document_schema", "unsupported document schema " + std::to_string(doc.schema) +
                                 " (this build of chainrule has document schema " +
                                 std::to_string(trace::schema_version) + ")");
  }
  doc.title = read_string(member(j, "title", ""), "/title");
  doc.source = read_string(member(j, "source", ""), "/source");
  doc.config = read_settings(member(j, "settings", ""), "/settings");

  const json& quantities = member(j, "quantities", "");
  doc.quantities = read_array(quantities, "/quantities", read_quantity);
  for (std::size_t q = 0; q < quantities.size(); ++q) {
    const std::string at = "/quantities/" + std::to_string(q);
    if (read_integer<std::size_t>(member(quantities[q], "index", at), at + "/index") != q) {
      fail(at + "/index", "must equal the quantity's position " + std::to_string(q));
    }
  }
  doc.given = read_integers<quantity_index>(member(j, "given", ""), "/given");
  doc.computed = read_integers<quantity_index>(member(j, "computed", ""), "/computed");
  doc.parameters = read_integers<quantity_index>(member(j, "parameters", ""), "/parameters");
  doc.loss = read_integer<quantity_index>(member(j, "loss", ""), "/loss");
  doc.edges = read_array(member(j, "edges", ""), "/edges", read_edge);
  doc.engine_edges = read_array(member(j, "engine_edges", ""), "/engine_edges", read_edge);
  doc.iterations = read_array(member(j, "iterations", ""), "/iterations", read_iteration);
  doc.loss_history = read_array(
      member(j, "loss_history", ""), "/loss_history", [](const json& p, const std::string& at) {
        trace::loss_point out;
        out.updates = read_integer<std::uint64_t>(member(p, "updates", at), at + "/updates");
        out.loss = read_number(member(p, "loss", at), at + "/loss");
        return out;
      });
  doc.final_state = read_snapshot(member(j, "final_state", ""), "/final_state");
  doc.final_steps = read_array(member(j, "final_steps", ""), "/final_steps", read_forward_step);
  if (const json* evaluations = optional_member(j, "evaluations")) {
    doc.evaluations = read_array(*evaluations, "/evaluations", read_evaluation);
  }
  if (const json* derivatives = optional_member(j, "derivatives")) {
    doc.derivatives = read_array(*derivatives, "/derivatives", read_shown_derivative);
  }
  if (const json* validation = optional_member(j, "validation")) {
    doc.validation = read_validation(*validation, "/validation");
  }
  reference_check(doc).run();
  return doc;
}

}  // namespace

std::string to_json(const trace::document& doc, const json_options& options) {
  // Names and formulas are UTF-8; invalid bytes are replaced rather than aborting the export.
  std::string text = write(doc).dump(options.indent < 0 ? -1 : options.indent, ' ', false,
                                     ordered_json::error_handler_t::replace);
  text += '\n';
  return text;
}

trace::document from_json(std::string_view text) {
  json j;
  try {
    j = json::parse(text.begin(), text.end());
  } catch (const json::parse_error& error) {
    throw json_error(std::string("trace JSON is not valid JSON: ") + error.what());
  }
  return read_document(j);
}

}  // namespace chainrule::exporters
