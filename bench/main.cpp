// SPDX-License-Identifier: MIT
// chainrule_bench [--quick] [--reps N] [--only w1|w2|w3]: the engine against hand-written
// forward/backward code of the same math; docs/performance.md records and explains the figures.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/core.h>

#include "workloads.hpp"

namespace {

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(colon + 2);
    }
  }
  return "unknown CPU";
}

int usage(const char* program) {
  std::fprintf(stderr, "usage: %s [--quick] [--reps N] [--only w1|w2|w3]\n", program);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  // Before any MPFR number exists, so that every limb allocation is counted.
  chainrule::bench::count_gmp_allocations();

  chainrule::bench::options opt;
  std::string only;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--quick") {
      opt.quick = true;
      opt.reps = 2;
    } else if (arg == "--reps" && i + 1 < argc) {
      opt.reps = std::atoi(argv[++i]);
      if (opt.reps < 1) return usage(argv[0]);
    } else if (arg == "--only" && i + 1 < argc) {
      only = argv[++i];
      if (only != "w1" && only != "w2" && only != "w3") return usage(argv[0]);
    } else {
      return usage(argv[0]);
    }
  }

#ifdef __OPTIMIZE__
  const char* build = "optimised";
#else
  const char* build = "NOT optimised (use a Release build)";
#endif
  fmt::print("chainrule_bench: {}, g++ {}.{}, {} build{}\n\n", cpu_model(), __GNUC__,
             __GNUC_MINOR__, build, opt.quick ? ", --quick (smoke run, not a measurement)" : "");

  std::vector<chainrule::bench::verdict> verdicts;
  bool ok = true;
  if (only.empty() || only == "w1") ok = chainrule::bench::run_mlp(opt, verdicts) && ok;
  if (only.empty() || only == "w2") ok = chainrule::bench::run_mazur(opt, verdicts) && ok;
  if (only.empty() || only == "w3") ok = chainrule::bench::run_chain(opt, verdicts) && ok;

  fmt::print("\nSummary\n");
  for (const auto& v : verdicts) {
    fmt::print("  {:<40} {:8.2f} {:<2}  target <= {:<5} {}\n", v.what, v.measured, v.unit, v.target,
               v.met() ? "met" : "MISSED");
  }
  if (!ok) {
    fmt::print("\nFAILED: the engine and the hand-written code disagree (see ERROR above)\n");
    return 1;
  }
  return 0;
}
