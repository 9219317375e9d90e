// SPDX-License-Identifier: MIT
// libFuzzer target for the .chain front end and the engine behind it: parse, check, write the
// model back as source, lower to a double graph and run a forward and a backward pass.
//
// Rejection is fine (model_error is the language's way of saying no); anything else is a bug:
// a sanitizer report, a crash, a hang, or an exception of any other type escaping, which
// libFuzzer sees as an abort.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

#include "chainrule/engine/errors.hpp"
#include "chainrule/lang/lang.hpp"

namespace {

// Larger models are legal but would spend the fuzzing time building graphs instead of finding
// bugs; the limits themselves are tested in tests/cli.
constexpr std::size_t max_fuzzed_equations = 2000;

// Likewise for the checker itself: `param W[100000][10] = 0.5` is legal (a million elements is
// the language's limit) and takes seconds to write out, longer than the fuzzer's hang timeout
// under its instrumentation. Declared sizes and layer widths are capped here so the time goes to
// finding bugs; how long the largest legal models take is measured in tests/cli.
constexpr double max_fuzzed_declared_scalars = 2000;
constexpr double max_fuzzed_layer_number = 50;

bool small_enough(const chainrule::lang::program& program) {
  double declared = 0;
  for (const chainrule::lang::statement& s : program.statements) {
    if (const auto* d = std::get_if<chainrule::lang::declaration>(&s)) {
      double elements = 1;
      for (const std::size_t n : d->shape)
        elements *= static_cast<double>(n);
      declared += elements;
    } else if (const auto* layer = std::get_if<chainrule::lang::layer_statement>(&s)) {
      for (const chainrule::lang::layer_argument& a : layer->arguments) {
        const auto* number = std::get_if<chainrule::lang::number_literal>(&a.value);
        if (number != nullptr &&
            std::strtod(number->text.c_str(), nullptr) > max_fuzzed_layer_number)
          return false;
      }
    }
  }
  return declared <= max_fuzzed_declared_scalars;
}

void differentiate_once(const chainrule::lang::checked_model& model) {
  auto lowered = chainrule::lang::lower<double>(model);
  try {
    lowered.graph->forward();
    lowered.graph->backward(lowered.objective);
  } catch (const chainrule::evaluation_error&) {
    // A value that cannot be computed (log 0 after an update, overflow) is a proper rejection.
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const chainrule::lang::program program = chainrule::lang::parse(text, "fuzz.chain");
    if (!small_enough(program)) return 0;
    const chainrule::lang::checked_model model = chainrule::lang::check(program);
    // The scalar source of a checked model must itself be a valid model.
    const std::string scalar_source = chainrule::lang::to_source(model);
    (void)chainrule::lang::check(chainrule::lang::parse(scalar_source, "scalar.chain"));
    if (model.equations.size() + model.declarations.size() <= max_fuzzed_equations)
      differentiate_once(model);
  } catch (const chainrule::lang::model_error&) {
  }
  return 0;
}
