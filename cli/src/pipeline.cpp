// SPDX-License-Identifier: MIT
#include "pipeline.hpp"

#include "certify.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string_view>
#include <utility>
#include <variant>

#include <fmt/format.h>

#include "chainrule/engine/engine.hpp"
#include "chainrule/engine/optimizer.hpp"
#include "chainrule/exporters/latex_text.hpp"
#include "chainrule/lang/lang.hpp"
#include "chainrule/trace/evaluate.hpp"
#include "chainrule/trace/record.hpp"
#include "chainrule/trace/show.hpp"
#include "chainrule/trace/train.hpp"

namespace chainrule::cli {
namespace {

std::string_view line_of(std::string_view source, std::uint32_t line) {
  std::size_t start = 0;
  for (std::uint32_t k = 1; k < line; ++k) {
    const std::size_t end = source.find('\n', start);
    if (end == std::string_view::npos) return {};
    start = end + 1;
  }
  std::size_t end = source.find('\n', start);
  if (end == std::string_view::npos) end = source.size();
  std::string_view text = source.substr(start, end - start);
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  return text;
}

lang::diagnostic error_at(std::string_view source, const lang::source_location& where,
                          std::string message, std::string expected = {}) {
  lang::diagnostic d;
  d.severity = lang::severity::error;
  d.location = where;
  d.message = std::move(message);
  d.expected = std::move(expected);
  if (where.known()) d.source_line = std::string(line_of(source, where.line));
  return d;
}

// LaTeX in `symbol` lines ends up inside the worked example, so it is checked here, where the
// error can point at the string in the file.
void check_symbols(const lang::program& p) {
  std::vector<lang::diagnostic> errors;
  for (const lang::statement& s : p.statements) {
    const auto* symbol = std::get_if<lang::symbol_statement>(&s);
    if (symbol == nullptr) continue;
    std::string problem = exporters::latex_text::symbol_problem(symbol->latex);
    if (problem.empty()) continue;
    errors.push_back(error_at(p.source, symbol->latex_location,
                              fmt::format("symbol for '{}' {}", symbol->name, problem)));
  }
  if (!errors.empty()) throw lang::model_error(std::move(errors));
}

// The first line when it is a comment ("# Matt Mazur, ..."), else the file's name.
std::string title_of(const lang::program& p, const std::filesystem::path& file) {
  std::string_view first = line_of(p.source, 1);
  if (first.starts_with("#")) {
    first.remove_prefix(1);
    while (!first.empty() && (first.front() == ' ' || first.front() == '\t'))
      first.remove_prefix(1);
    while (!first.empty() && (first.back() == ' ' || first.back() == '\t'))
      first.remove_suffix(1);
    if (!first.empty()) return std::string(first);
  }
  return file.filename().string();
}

// Saturates instead of wrapping: the products below only need to be compared with a limit.
std::uint64_t saturating_product(std::uint64_t a, std::uint64_t b) {
  if (a != 0 && b > std::numeric_limits<std::uint64_t>::max() / a)
    return std::numeric_limits<std::uint64_t>::max();
  return a * b;
}

std::uint64_t graph_nodes(const lang::checked_model& m) {
  return m.declarations.size() + m.expressions.size();
}

// Exactly the steps trace_setting::selects() picks, without visiting every step.
std::uint64_t traced_steps(const lang::trace_setting& t, std::uint64_t total) {
  if (t.all) return total;
  std::uint64_t count = t.every == 0 ? 0 : total / t.every;
  std::vector<std::uint64_t> singles(t.steps.begin(), t.steps.end());
  if (t.first) singles.push_back(1);
  if (t.last) singles.push_back(total);
  std::sort(singles.begin(), singles.end());
  singles.erase(std::unique(singles.begin(), singles.end()), singles.end());
  for (const std::uint64_t step : singles) {
    const bool counted = t.every != 0 && step % t.every == 0;
    if (step >= 1 && step <= total && !counted) ++count;
  }
  return count;
}

// Before the graph is built: precision and size.
void check_model_limits(const lang::program& p, const lang::checked_model& m,
                        const number_settings& numbers, const run_limits& limits) {
  if (!m.precision.binary_double && m.precision.digits > limits.max_precision_digits) {
    if (numbers.precision) {
      throw settings_error(fmt::format(
          "--precision {}: over this run's limit of {} digits (--max-precision changes it)",
          *numbers.precision, limits.max_precision_digits));
    }
    throw lang::model_error({error_at(
        p.source, m.precision.location,
        fmt::format("precision {} is over this run's limit of {} digits", m.precision.digits,
                    limits.max_precision_digits),
        fmt::format("at most {} significant digits or 'double'; chainrule --max-precision "
                    "changes the limit",
                    limits.max_precision_digits))});
  }
  const std::uint64_t nodes = graph_nodes(m);
  if (nodes > limits.max_nodes) {
    throw lang::model_error({error_at(
        p.source, lang::source_location{m.file_name, 0, 0, 1},
        fmt::format("the model has {} graph nodes once vectors are written out; the limit is {}",
                    nodes, limits.max_nodes),
        "a smaller model; chainrule --max-nodes raises the limit")});
  }
}

// Before training: time (rows run forward and backward x nodes) and the size of the recorded
// worked example. A batch update runs every row of its batch and a validation every row of the
// validation set, so both count by rows, not by updates.
void check_run_limits(const lang::program& p, const lang::checked_model& m,
                      const lang::source_location& where, std::uint64_t steps,
                      std::uint64_t rows_per_step, std::uint64_t validations,
                      std::uint64_t validation_rows, const lang::trace_setting& trace,
                      const run_limits& limits) {
  const std::uint64_t nodes = graph_nodes(m);
  const std::uint64_t training_rows = saturating_product(steps, rows_per_step);
  const std::uint64_t validated_rows = saturating_product(validations, validation_rows);
  const std::uint64_t rows =
      training_rows > std::numeric_limits<std::uint64_t>::max() - validated_rows
          ? std::numeric_limits<std::uint64_t>::max()
          : training_rows + validated_rows;
  const std::uint64_t work = saturating_product(rows, nodes);
  if (work > limits.max_work) {
    std::string what = fmt::format("{} training steps", steps);
    if (rows_per_step != 1 || validations != 0) {
      what += fmt::format(" ({} rows", training_rows);
      if (rows_per_step != 1) what += fmt::format(" in batches of {}", rows_per_step);
      if (validations != 0) {
        what += fmt::format(", plus {} validation{} of {} row{}", validations,
                            validations == 1 ? "" : "s", validation_rows,
                            validation_rows == 1 ? "" : "s");
      }
      what += ")";
    }
    throw lang::model_error(
        {error_at(p.source, where,
                  fmt::format("{} over {} graph nodes is {} node evaluations; the limit is {}",
                              what, nodes, work, limits.max_work),
                  "fewer steps or a smaller model; chainrule --max-work raises the limit")});
  }
  const std::uint64_t traced = traced_steps(trace, steps);
  const std::uint64_t recorded = saturating_product(traced, nodes);
  if (recorded > limits.max_trace) {
    throw lang::model_error({error_at(
        p.source, where,
        fmt::format("tracing {} steps over {} graph nodes records {} node entries; the limit is {}",
                    traced, nodes, recorded, limits.max_trace),
        "fewer traced steps ('trace first, last' or 'trace every K' with a larger K); chainrule "
        "--max-trace raises the limit")});
  }
}

void apply(const number_settings& numbers, lang::checked_model& m) {
  if (numbers.precision) {
    const std::string& p = *numbers.precision;
    if (p == "double") {
      m.precision.binary_double = true;
      m.precision.digits = 17;
    } else {
      unsigned digits = 0;
      const auto [end, error] = std::from_chars(p.data(), p.data() + p.size(), digits);
      if (error != std::errc() || end != p.data() + p.size() ||
          digits < lang::min_precision_digits || digits > lang::max_precision_digits) {
        throw settings_error(fmt::format(
            "--precision {}: expected 'double' or a number of significant digits from {} to {}", p,
            lang::min_precision_digits, lang::max_precision_digits));
      }
      m.precision.binary_double = false;
      m.precision.digits = digits;
    }
  }
  if (numbers.decimals) {
    m.display.unit = lang::display_unit::decimals;
    m.display.count = *numbers.decimals;
  }
  if (numbers.digits) {
    m.display.unit = lang::display_unit::digits;
    m.display.count = *numbers.digits;
  }
}

// `evaluate` directives, after training, with the parameters it left in the graph.
template <class Real>
void add_evaluations(const lang::program& p, const lang::checked_model& m,
                     const lang::lowered_model<Real>& low, trace::document& doc,
                     unsigned exact_digits) {
  for (const lang::evaluate_setting& e : m.evaluations) {
    const lang::data_set* data = m.find_data_set(e.data_set);
    if (data == nullptr) {
      throw lang::model_error(
          {error_at(p.source, e.location, fmt::format("unknown data set '{}'", e.data_set))});
    }
    trace::evaluation_options options;
    options.data_set = e.data_set;
    for (const std::string& column : data->columns)
      options.data.columns.push_back(low.node(column));
    options.data.values = data->values;
    for (const std::string& output : e.outputs)
      options.outputs.push_back(low.node(output));
    options.targets = low.targets;
    options.display = low.display_format();
    options.exact_digits = exact_digits;
    try {
      doc.evaluations.push_back(trace::evaluate(*low.graph, low.objective, options));
    } catch (const usage_error& error) {
      throw lang::model_error(
          {error_at(p.source, e.location, fmt::format("cannot evaluate: {}", error.what()))});
    } catch (const evaluation_error& error) {
      throw lang::model_error(
          {error_at(p.source, e.location, fmt::format("evaluation failed: {}", error.what()))});
    }
  }
}

// `show` directives. derive() appends nodes to the graph it differentiates, so the derivatives
// are made on a second lowering of the model, which leaves the graph the document was recorded
// from as it is. A training run's derivatives are taken where its first update starts: the
// initial parameters, the first data row, update 1's dropout masks.
template <class Real>
void add_shows(const lang::program& p, const lang::checked_model& m, trace::document& doc,
               std::uint64_t max_shown_size) {
  if (m.shows.empty()) return;
  lang::lowered_model<Real> low = lang::lower<Real>(m);
  graph<Real>& g = *low.graph;
  for (const auto& [name, latex] : m.symbols) {
    if (const auto node = low.nodes.find(name); node != low.nodes.end()) {
      g.set_symbol(node->second, latex);
    }
  }
  std::string at;
  if (low.train) {
    at = "the initial parameters";
    lang::dropout_control<Real> dropout(m, low);
    if (!dropout.empty()) dropout.training(1);
    if (low.train->data_set) {
      const lang::data_set* data = m.find_data_set(*low.train->data_set);
      if (data != nullptr && data->rows() > 0) {
        at += " and the first data row";
        for (std::size_t c = 0; c < data->columns.size(); ++c) {
          g.set_value(low.node(data->columns[c]), scalar_traits<Real>::from_decimal(
                                                      std::string(data->value(0, c)), g.digits()));
        }
      }
    }
  }
  for (const lang::show_setting& s : m.shows) {
    try {
      g.forward();
      std::vector<node_id> wrt;
      for (const std::string& w : s.wrt)
        wrt.push_back(low.node(w));
      // The document's exact digits (more than the graph's in a --certify run).
      trace::shown_derivative d =
          trace::show_derivative(g, doc.quantities.size(), low.node(s.of), wrt, s.text,
                                 low.display_format(), doc.config.digits, max_shown_size);
      d.evaluated_at = at;
      doc.derivatives.push_back(std::move(d));
    } catch (const evaluation_error& e) {
      throw lang::model_error(
          {error_at(p.source, s.location, fmt::format("cannot show {}: {}", s.text, e.what()))});
    } catch (const trace::shown_too_large& e) {
      throw lang::model_error({error_at(
          p.source, s.location, fmt::format("cannot show {}: {}", s.text, e.what()),
          "a lower order, or the derivative of a named intermediate quantity (named quantities "
          "are written as their names); chainrule --max-shown-size raises the limit")});
    }
  }
}

template <class Real>
trace::document run_lowered(const lang::program& p, const lang::checked_model& m,
                            const std::string& title, const run_limits& limits,
                            const run_feedback& feedback, unsigned exact_digits) {
  lang::lowered_model<Real> low = lang::lower<Real>(m);
  graph<Real>& g = *low.graph;
  lang::dropout_control<Real> dropout(m, low);
  for (const auto& [name, latex] : m.symbols) {
    if (const auto node = low.nodes.find(name); node != low.nodes.end()) {
      g.set_symbol(node->second, latex);
    }
  }
  trace::record_options record;
  record.title = title;
  record.source = m.file_name;
  record.display = low.display_format();
  record.targets = low.targets;
  record.parameters = low.params;
  record.exact_digits = exact_digits;

  if (!low.train) {
    const lang::source_location where =
        low.differentiate ? low.differentiate->location : lang::source_location{};
    try {
      g.forward();
      g.backward(low.objective);
      trace::document doc = trace::record(g, low.objective, record);
      add_evaluations(p, m, low, doc, exact_digits);
      add_shows<Real>(p, m, doc, limits.max_shown_size);
      return doc;
    } catch (const evaluation_error& e) {
      throw lang::model_error({error_at(p.source, where, e.what())});
    }
  }

  const lang::train_setting& t = *low.train;
  trace::run_options options;
  options.record = std::move(record);
  options.optimizer.name = t.optimizer.name;
  for (const lang::named_decimal& a : t.optimizer.arguments) {
    options.optimizer.arguments.emplace_back(a.name, a.value);
  }
  options.order = t.order == lang::update_order::sequential ? update_order::sequential
                                                            : update_order::simultaneous;
  options.trace.first = t.trace.first;
  options.trace.last = t.trace.last;
  options.trace.all = t.trace.all;
  options.trace.every = t.trace.every;
  options.trace.steps = t.trace.steps;
  options.steps = t.count;
  if (t.data_set) {
    const lang::data_set* data = m.find_data_set(*t.data_set);
    if (data == nullptr) {
      throw lang::model_error(
          {error_at(p.source, t.location, fmt::format("unknown data set '{}'", *t.data_set))});
    }
    for (const std::string& column : data->columns)
      options.data.columns.push_back(low.node(column));
    options.data.values = data->values;
    options.batch_size = t.batch_size == 0 ? trace::full_batch : t.batch_size;
    options.reduction = t.reduction == lang::batch_reduction::mean ? trace::batch_reduction::mean
                                                                   : trace::batch_reduction::sum;
    if (t.unit == lang::step_unit::epochs) {
      options.steps = t.count * trace::batches_per_epoch(data->rows(), options.batch_size);
    }
  }
  std::uint64_t rows_per_step = 1;
  if (t.data_set && options.batch_size != 1) {
    const std::uint64_t rows = m.find_data_set(*t.data_set)->rows();
    rows_per_step =
        options.batch_size == trace::full_batch ? rows : std::min(options.batch_size, rows);
  }
  std::uint64_t validations = 0;
  std::uint64_t validation_rows = 0;
  if (t.validation) {
    const lang::validation_setting& v = *t.validation;
    const lang::data_set* data = m.find_data_set(v.data_set);
    if (data == nullptr) {
      throw lang::model_error(
          {error_at(p.source, v.location, fmt::format("unknown data set '{}'", v.data_set))});
    }
    trace::validation_options validation;
    validation.data_set = v.data_set;
    for (const std::string& column : data->columns)
      validation.data.columns.push_back(low.node(column));
    validation.data.values = data->values;
    const std::uint64_t per_epoch =
        t.data_set
            ? trace::batches_per_epoch(m.find_data_set(*t.data_set)->rows(), options.batch_size)
            : 1;
    validation.every = v.every_count == 0                       ? per_epoch
                       : v.every_unit == lang::step_unit::steps ? v.every_count
                                                                : v.every_count * per_epoch;
    validation.patience = v.patience;
    validation.restore_best = v.restore_best;
    validations = options.steps / validation.every;
    validation_rows = data->rows();
    options.validation = std::move(validation);
  }
  if (!dropout.empty()) {
    // Masks as written or drawn for each sample while training; validation and the final pass
    // evaluate. In a batch every row is a sample of its own and draws its own masks.
    if (options.batch_size == 1) {
      options.before_update = [&dropout](std::uint64_t k) { dropout.training(k); };
    } else {
      const std::uint64_t rows_per_batch =
          options.batch_size == trace::full_batch
              ? options.data.values.size() / options.data.columns.size()
              : options.batch_size;
      options.before_batch_row = [&dropout, rows_per_batch](std::uint64_t k, std::uint64_t row) {
        dropout.training(k, row, rows_per_batch);
      };
    }
    options.before_evaluation = [&dropout] { dropout.evaluation(); };
  }
  check_run_limits(p, m, t.location, options.steps, rows_per_step, validations, validation_rows,
                   t.trace, limits);
  options.on_progress = feedback.progress;
  try {
    trace::document doc = trace::run(g, low.objective, options);
    add_evaluations(p, m, low, doc, exact_digits);
    add_shows<Real>(p, m, doc, limits.max_shown_size);
    return doc;
  } catch (const usage_error& e) {
    throw lang::model_error({error_at(p.source, t.location, e.what())});
  } catch (const evaluation_error& e) {
    throw lang::model_error(
        {error_at(p.source, t.location, fmt::format("training failed: {}", e.what()))});
  }
}

// Lowering and the CSV reader make their diagnostics without the source at hand; give them the
// line of the model file they point at, so every error shows its line and caret.
lang::model_error with_source_lines(const lang::model_error& e, const lang::program& p) {
  std::vector<lang::diagnostic> diagnostics = e.diagnostics();
  for (lang::diagnostic& d : diagnostics) {
    if (d.source_line.empty() && d.location.known() && d.location.file == p.file_name)
      d.source_line = std::string(line_of(p.source, d.location.line));
  }
  return lang::model_error(std::move(diagnostics));
}

// `exact_digits`: as record_options::exact_digits.
trace::document run_at(const lang::program& p, const lang::checked_model& m,
                       const std::string& title, const run_limits& limits,
                       const run_feedback& feedback, unsigned exact_digits = 0) {
  return m.precision.binary_double
             ? run_lowered<double>(p, m, title, limits, feedback, exact_digits)
             : run_lowered<mp_real>(p, m, title, limits, feedback, exact_digits);
}

// Digits written beyond a certification run's own precision, so that its binary rounding error
// shows in number::exact: two runs then differ there unless the result is exact.
constexpr unsigned certify_guard_digits = 10;

unsigned certify_exact_digits(const lang::precision_setting& precision) {
  // precision.digits is 17 for double (lang::precision_setting).
  return precision.digits + certify_guard_digits;
}

std::string precision_name(const lang::precision_setting& precision) {
  return precision.binary_double ? std::string("double precision")
                                 : fmt::format("{} significant digits", precision.digits);
}

// --certify: the model at its own precision, then at twice the digits, and so on up to
// `max_digits`, until two consecutive runs certify every number shown (certify.hpp). The result
// is the more precise run of that pair; a number still uncertified at the highest precision
// shows only the digits its last two runs share, followed by "...".
trace::document run_certified(const lang::program& p, const lang::checked_model& m,
                              const std::string& title, const run_limits& limits,
                              const run_feedback& feedback, unsigned max_digits,
                              std::vector<std::string>& report) {
  const unsigned own_digits = m.precision.digits;  // 17 for double
  if (max_digits <= own_digits || max_digits > limits.max_precision_digits) {
    throw settings_error(fmt::format(
        "--certify-max-digits {}: expected more than the model's {} significant digits and at "
        "most {} (--max-precision)",
        max_digits, own_digits, limits.max_precision_digits));
  }
  // A run that fails at the model's precision (a difference that cancels to exactly zero, then
  // divides) may succeed with more digits: that is part of what certification is for.
  std::optional<trace::document> own;
  try {
    own = run_at(p, m, title, limits, feedback, certify_exact_digits(m.precision));
  } catch (const lang::model_error& e) {
    const std::string first = e.diagnostics().empty() ? "" : e.diagnostics().front().message;
    report.push_back(
        fmt::format("at the model's {} the run fails: {}", precision_name(m.precision), first));
  }
  std::optional<trace::document> lower = own;
  lang::checked_model level = m;
  // Every level shows the digits the model's own precision allows, not its own more.
  if (level.display.max_significant == 0) level.display.max_significant = m.precision.digits;
  unsigned digits = own_digits;
  while (true) {
    const lang::precision_setting lower_precision = level.precision;
    digits = std::min(max_digits, std::max(2 * digits, 34u));
    level.precision.binary_double = false;
    level.precision.digits = digits;
    const bool last = digits == max_digits;
    trace::document higher =
        run_at(p, level, title, limits, feedback, certify_exact_digits(level.precision));
    if (!lower) {
      if (last) {
        throw lang::model_error({error_at(
            p.source, m.precision.location,
            fmt::format("cannot certify: only the run at {} succeeded, and certifying needs two",
                        precision_name(level.precision)),
            "a higher --certify-max-digits")});
      }
      lower = std::move(higher);
      continue;
    }
    const precision_comparison pair = compare_runs(higher, *lower, last);
    if (!pair.same_shape) {
      if (!last) {
        lower = std::move(higher);
        continue;
      }
      throw lang::model_error({error_at(
          p.source, m.precision.location,
          fmt::format("cannot certify: the runs at {} and {} take different courses ({})",
                      precision_name(lower_precision), precision_name(level.precision),
                      pair.shape_difference),
          "a model whose course (updates made, classes predicted) does not hang on rounding")});
    }
    if (pair.uncertified > 0 && !last) {
      lower = std::move(higher);
      continue;
    }

    std::string how = fmt::format("every number shown agrees between runs at {} and {}",
                                  precision_name(lower_precision), precision_name(level.precision));
    if (pair.uncertified > 0) {
      how = fmt::format(
          "runs at {} and {} certify {} of the {} numbers shown; the other {} show only the "
          "digits both runs share, followed by an ellipsis",
          precision_name(lower_precision), precision_name(level.precision),
          pair.numbers - pair.uncertified, pair.numbers, pair.uncertified);
    }
    report.push_back("certified: " + how);
    for (const std::string& example : pair.examples)
      report.push_back("  not certified: " + example);
    if (own) {
      const precision_comparison own_errors = shown_differences(higher, *own);
      if (!own_errors.same_shape) {
        how += fmt::format("; at the model's {} the run takes another course",
                           precision_name(m.precision));
        report.push_back(fmt::format("at the model's {} the run takes another course: {}",
                                     precision_name(m.precision), own_errors.shape_difference));
      } else if (own_errors.uncertified > 0) {
        how += fmt::format("; the model's {} alone shows {} of them with other digits",
                           precision_name(m.precision), own_errors.uncertified);
        report.push_back(fmt::format(
            "the model's {} alone shows {} of the {} numbers with other digits (certified, then "
            "the model's):",
            precision_name(m.precision), own_errors.uncertified, own_errors.numbers));
        for (const std::string& example : own_errors.examples)
          report.push_back("  " + example);
      }
    }
    higher.config.certification = how;
    return higher;
  }
}

model_run run_loaded(const lang::program& p, const lang::checked_model& m,
                     const std::filesystem::path& file, const number_settings& numbers,
                     const std::optional<std::string>& title, const run_limits& limits,
                     const run_feedback& feedback) {
  model_run result;
  result.warnings = m.warnings;
  result.inputs.push_back(file);
  for (const lang::data_set& d : m.data_sets) {
    if (!d.file.empty()) result.inputs.emplace_back(d.file);
  }
  const std::string shown_title = title ? *title : title_of(p, file);
  result.document = numbers.certify_max_digits
                        ? run_certified(p, m, shown_title, limits, feedback,
                                        *numbers.certify_max_digits, result.certify_report)
                        : run_at(p, m, shown_title, limits, feedback);
  return result;
}

}  // namespace

loaded_model load_model(const std::filesystem::path& file, const number_settings& numbers,
                        const run_limits& limits) {
  loaded_model loaded{lang::parse_file(file, limits.parse), {}};
  const lang::program& p = loaded.program;
  try {
    check_symbols(p);
    loaded.model = lang::check(p);
    apply(numbers, loaded.model);
    check_model_limits(p, loaded.model, numbers, limits);
  } catch (const lang::model_error& e) {
    throw with_source_lines(e, p);
  }
  return loaded;
}

void check_training_limits(const loaded_model& loaded, const lang::trace_setting& traced,
                           const run_limits& limits) {
  const lang::checked_model& m = loaded.model;
  if (!m.train) return;
  check_run_limits(loaded.program, m, m.train->location, m.train->count, 1, 0, 0, traced, limits);
}

model_run run_model(const std::filesystem::path& file, const number_settings& numbers,
                    const std::optional<std::string>& title, const run_limits& limits,
                    const run_feedback& feedback) {
  const loaded_model loaded = load_model(file, numbers, limits);
  try {
    return run_loaded(loaded.program, loaded.model, file, numbers, title, limits, feedback);
  } catch (const lang::model_error& e) {
    throw with_source_lines(e, loaded.program);
  }
}

}  // namespace chainrule::cli
