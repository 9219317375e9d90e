// SPDX-License-Identifier: MIT
// libFuzzer target for the student-answers parser of `chainrule check`: any bytes must give
// answers or diagnostics, never a crash, a hang or an exception (parse_answers promises not to
// throw, so an escaping exception is a finding too).
//
// The checker evaluates each working line's postfix program with a stack, so the parser must only
// ever produce well-formed programs: that is checked here as well.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "chainrule/check/answers.hpp"

namespace {

bool is_well_formed(const chainrule::check::working& w) {
  using kind = chainrule::check::working_node::kind;
  long depth = 0;
  for (const auto& node : w.postfix) {
    switch (node.op) {
      case kind::number:
      case kind::euler:
        ++depth;
        break;
      case kind::neg:
      case kind::function:
        if (depth < 1) return false;
        break;
      case kind::add:
      case kind::sub:
      case kind::mul:
      case kind::div:
      case kind::pow:
        if (depth < 2) return false;
        --depth;
        break;
    }
  }
  return depth == 1;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const chainrule::check::answers_file parsed =
      chainrule::check::parse_answers(text, "fuzz.answers");
  if (!parsed.ok()) return 0;
  for (const auto& answer : parsed.answers) {
    if (answer.number.empty()) std::abort();
    for (const auto& w : answer.workings)
      if (!is_well_formed(w)) std::abort();
  }
  return 0;
}
