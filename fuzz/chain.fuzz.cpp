// SPDX-License-Identifier: MIT
// libFuzzer target for the .chain front end and the engine behind it: parse, check, write the
// model back as source, lower to a double graph and run a forward and a backward pass.
//
// Rejection is fine (model_error is the language's way of saying no); anything else is a bug:
// a sanitizer report, a crash, a hang, or an exception of any other type escaping, which
// libFuzzer sees as an abort.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "chainrule/engine/errors.hpp"
#include "chainrule/lang/lang.hpp"

namespace {

// Larger models are legal but would spend the fuzzing time building graphs instead of finding
// bugs; the limits themselves are tested in tests/cli.
constexpr std::size_t max_fuzzed_equations = 2000;

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
