// SPDX-License-Identifier: MIT
#include "chainrule/trace/evaluate.hpp"

#include <algorithm>
#include <set>

#include "chainrule/engine/decimal.hpp"
#include "chainrule/engine/errors.hpp"

namespace chainrule::trace {

namespace {

using mp_traits = scalar_traits<mp_real>;
constexpr unsigned ratio_digits = 50;

bool is_text(const std::string& value, std::string_view wanted) {
  mp_traits::precision_scope scope(ratio_digits);
  return mp_traits::from_decimal(value, ratio_digits) ==
         mp_traits::from_decimal(wanted, ratio_digits);
}

// 1..k as a whole number, or 0 when the text is anything else.
std::uint32_t class_number(const std::string& value, std::size_t k) {
  mp_traits::precision_scope scope(ratio_digits);
  const mp_real x = mp_traits::from_decimal(value, ratio_digits);
  for (std::size_t c = 1; c <= k; ++c) {
    if (x == mp_real(static_cast<unsigned long>(c), ratio_digits))
      return static_cast<std::uint32_t>(c);
  }
  return 0;
}

// numerator / denominator (0 when the denominator is 0), printed.
number ratio(std::uint64_t numerator, std::uint64_t denominator, const number_format& display) {
  mp_traits::precision_scope scope(ratio_digits);
  mp_real x(0, ratio_digits);
  if (denominator != 0) {
    x = mp_real(static_cast<unsigned long>(numerator), ratio_digits);
    x /= mp_real(static_cast<unsigned long>(denominator), ratio_digits);
  }
  return {format_decimal(x.backend().data(), number_format::significant(17)),
          format_decimal(x.backend().data(), display)};
}

number mean_of(const std::vector<number>& values, const number_format& display) {
  mp_traits::precision_scope scope(ratio_digits);
  mp_real total(0, ratio_digits);
  for (const number& v : values)
    total += mp_traits::from_decimal(v.exact, ratio_digits);
  if (!values.empty()) total /= mp_real(static_cast<unsigned long>(values.size()), ratio_digits);
  return {format_decimal(total.backend().data(), number_format::significant(17)),
          format_decimal(total.backend().data(), display)};
}

}  // namespace

std::string classifier_kind(std::size_t outputs, const std::vector<std::size_t>& target_columns,
                            std::size_t columns, const std::vector<std::string>& values) {
  if (columns == 0 || target_columns.empty()) return "";
  const std::size_t rows = values.size() / columns;
  const auto cell = [&](std::size_t r, std::size_t t) -> const std::string& {
    return values[r * columns + target_columns[t]];
  };
  if (outputs == 1 && target_columns.size() == 1) {
    for (std::size_t r = 0; r < rows; ++r) {
      if (!is_text(cell(r, 0), "0") && !is_text(cell(r, 0), "1")) return "";
    }
    return "binary";
  }
  if (outputs < 2) return "";
  if (target_columns.size() == outputs) {
    for (std::size_t r = 0; r < rows; ++r) {
      std::size_t ones = 0;
      for (std::size_t t = 0; t < outputs; ++t) {
        if (is_text(cell(r, t), "1")) {
          ++ones;
        } else if (!is_text(cell(r, t), "0")) {
          return "";
        }
      }
      if (ones != 1) return "";
    }
    return "one-hot";
  }
  if (target_columns.size() == 1) {
    for (std::size_t r = 0; r < rows; ++r) {
      if (class_number(cell(r, 0), outputs) == 0) return "";
    }
    return "class index";
  }
  return "";
}

void classification_metrics(const std::vector<std::uint32_t>& actual,
                            const std::vector<std::uint32_t>& predicted, evaluation& out,
                            const number_format& display) {
  const std::size_t k = out.classes.size();
  out.confusion.assign(k, std::vector<std::uint64_t>(k, 0));
  out.correct = 0;
  for (std::size_t r = 0; r < actual.size(); ++r) {
    ++out.confusion.at(actual[r]).at(predicted[r]);
    if (actual[r] == predicted[r]) ++out.correct;
  }
  out.accuracy = ratio(out.correct, actual.size(), display);
  out.per_class.clear();
  std::vector<number> precisions;
  std::vector<number> recalls;
  std::vector<number> f1s;
  for (std::size_t c = 0; c < k; ++c) {
    class_metrics m;
    m.label = out.classes[c];
    const std::uint64_t tp = out.confusion[c][c];
    for (std::size_t other = 0; other < k; ++other) {
      m.support += out.confusion[c][other];
      m.predicted += out.confusion[other][c];
    }
    const std::uint64_t fp = m.predicted - tp;
    const std::uint64_t fn = m.support - tp;
    m.precision = ratio(tp, m.predicted, display);
    m.recall = ratio(tp, m.support, display);
    m.f1 = ratio(2 * tp, 2 * tp + fp + fn, display);
    if (m.support != 0 || m.predicted != 0) {
      precisions.push_back(m.precision);
      recalls.push_back(m.recall);
      f1s.push_back(m.f1);
    }
    out.per_class.push_back(std::move(m));
  }
  out.macro_precision = mean_of(precisions, display);
  out.macro_recall = mean_of(recalls, display);
  out.macro_f1 = mean_of(f1s, display);
}

template <real_number Real>
evaluation evaluate(graph<Real>& g, node_id loss, const evaluation_options& options) {
  using traits = scalar_traits<Real>;
  typename traits::precision_scope scope(g.digits());
  const std::size_t n = g.size();
  const std::size_t columns = options.data.columns.size();
  if (columns == 0 || options.data.values.empty() || options.data.values.size() % columns != 0) {
    throw usage_error("evaluation data needs columns and whole rows");
  }
  for (node_id c : options.data.columns) {
    if (static_cast<std::size_t>(c) >= n || g.op_of(c) != op::input)
      throw usage_error("an evaluation data column must be an input or target node");
  }
  const auto check_node = [&](node_id id) {
    if (static_cast<std::size_t>(id) >= n) throw usage_error("evaluation of an unknown node");
  };
  check_node(loss);
  for (node_id id : options.outputs)
    check_node(id);
  // Targets compared with the outputs must come from the data, else every row has the same one.
  std::vector<std::size_t> target_columns;
  for (node_id t : options.targets) {
    check_node(t);
    const auto found = std::find(options.data.columns.begin(), options.data.columns.end(), t);
    if (found == options.data.columns.end()) {
      throw usage_error("the data set has no column for the target " + g.describe(t));
    }
    target_columns.push_back(static_cast<std::size_t>(found - options.data.columns.begin()));
  }
  const std::size_t rows = options.data.values.size() / columns;
  const number_format exact = number_format::significant(
      static_cast<int>(options.exact_digits == 0 ? g.digits() : options.exact_digits));
  const auto num = [&](const Real& x) -> number {
    return {g.format(x, exact), g.format(x, options.display)};
  };

  evaluation out;
  out.data_set = options.data_set;
  out.rows = rows;
  for (node_id id : options.outputs)
    out.outputs.push_back(static_cast<quantity_index>(id));
  for (node_id id : options.targets)
    out.targets.push_back(static_cast<quantity_index>(id));
  out.classifier =
      classifier_kind(options.outputs.size(), target_columns, columns, options.data.values);
  if (out.classifier == "binary") {
    out.classes = {"0", "1"};
  } else if (!out.classifier.empty()) {
    for (std::size_t c = 1; c <= options.outputs.size(); ++c)
      out.classes.push_back(std::to_string(c));
  }

  std::vector<Real> data;
  data.reserve(options.data.values.size());
  for (const auto& text : options.data.values)
    data.push_back(traits::from_decimal(text, g.digits()));
  const Real half = traits::from_decimal("0.5", g.digits());
  Real total = traits::zero(g.digits());
  std::vector<std::uint32_t> actual;
  std::vector<std::uint32_t> predicted;
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < columns; ++c)
      g.set_value(options.data.columns[c], data[r * columns + c]);
    g.forward();
    total += g.value(loss);
    if (!out.classifier.empty()) {
      std::uint32_t guess = 0;
      std::uint32_t truth = 0;
      if (out.classifier == "binary") {
        guess = g.value(options.outputs[0]) >= half ? 1 : 0;
        truth = is_text(options.data.values[r * columns + target_columns[0]], "1") ? 1 : 0;
      } else {
        // Argmax; the first of equal maxima wins.
        for (std::size_t k = 1; k < options.outputs.size(); ++k) {
          if (g.value(options.outputs[k]) > g.value(options.outputs[guess]))
            guess = static_cast<std::uint32_t>(k);
        }
        if (out.classifier == "one-hot") {
          for (std::size_t k = 0; k < target_columns.size(); ++k) {
            if (is_text(options.data.values[r * columns + target_columns[k]], "1"))
              truth = static_cast<std::uint32_t>(k);
          }
        } else {
          truth = class_number(options.data.values[r * columns + target_columns[0]],
                               options.outputs.size()) -
                  1;
        }
      }
      actual.push_back(truth);
      predicted.push_back(guess);
    }
    if (rows <= options.listed_rows) {
      evaluation_row row;
      row.row = r + 1;
      for (node_id id : options.outputs)
        row.outputs.push_back(num(g.value(id)));
      for (node_id id : options.targets)
        row.targets.push_back(num(g.value(id)));
      row.loss = num(g.value(loss));
      if (!out.classifier.empty()) {
        row.predicted = predicted.back();
        row.actual = actual.back();
      }
      out.predictions.push_back(std::move(row));
    }
  }
  total /= traits::from_decimal(std::to_string(rows), g.digits());
  out.mean_loss = num(total);
  if (!out.classifier.empty()) classification_metrics(actual, predicted, out, options.display);
  return out;
}

template evaluation evaluate<double>(graph<double>&, node_id, const evaluation_options&);
template evaluation evaluate<mp_real>(graph<mp_real>&, node_id, const evaluation_options&);

}  // namespace chainrule::trace
