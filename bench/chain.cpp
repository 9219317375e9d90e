// SPDX-License-Identifier: MIT
// W3: a chain of scalar nodes x -> 2x -> sin -> x/2 -> sin -> 2x -> ... at double: time per node
// for forward() + backward(), and memory per node.
//
// The factors 2 and 1/2 make each four-node period a map with derivative 1 at the origin, so the
// values shrink only like 1/sqrt(n) and the adjoints stay normal numbers over 10 million nodes:
// a contracting chain would underflow its adjoints to zero, and the reverse sweep skips zeros,
// which would flatter the engine.
#include <cmath>
#include <memory>
#include <vector>

#include <fmt/core.h>

#include "workloads.hpp"

namespace chainrule::bench {
namespace {

struct chain_result {
  double output = 0.0;
  double gradient = 0.0;  // d output / d x0
};

/// The same chain by hand: the forward sweep keeps each sine's derivative, as a tape must.
class hand_chain {
 public:
  explicit hand_chain(std::size_t periods) : cosines_(2 * periods) {}

  chain_result run(double x0) {
    double x = x0;
    for (std::size_t k = 0; k < cosines_.size(); k += 2) {
      x *= 2.0;
      cosines_[k] = std::cos(x);
      x = std::sin(x);
      x *= 0.5;
      cosines_[k + 1] = std::cos(x);
      x = std::sin(x);
    }
    double a = 1.0;
    for (std::size_t k = cosines_.size(); k > 0; k -= 2) {
      a *= cosines_[k - 1];
      a *= 0.5;
      a *= cosines_[k - 2];
      a *= 2.0;
    }
    return {x, a};
  }

 private:
  std::vector<double> cosines_;
};

}  // namespace

bool run_chain(const options& opt, std::vector<verdict>& verdicts) {
  const std::size_t nodes = opt.quick ? 1'000'000 : 10'000'000;
  const int reps = opt.quick ? 2 : 3;
  fmt::print("W3  scalar chain x -> 2x -> sin -> x/2 -> sin ..., {} nodes, double, best of {}\n",
             nodes, reps);

  const memory_use before = memory_in_use();
  const double build_start = cpu_seconds();
  auto g = std::make_unique<graph<double>>();
  // Each period is two products (two inputs each) and two sines (one input).
  g->reserve(nodes, nodes / 4 * 6);
  auto x = g->input("x0", "1");
  const auto two = g->constant("2");
  const auto half = g->constant("0.5");
  const node_id first = x.id();
  std::size_t periods = 0;
  for (; g->size() + 4 <= nodes; ++periods) {
    x = x * two;
    x = sin(x);
    x = x * half;
    x = sin(x);
  }
  const double build_s = cpu_seconds() - build_start;
  const node_id out = x.id();
  g->backward(out);  // sizes the adjoints, which count towards the memory per node
  const memory_use after = memory_in_use();

  hand_chain hand(periods);
  chain_result by_hand;
  const auto [engine_s, hand_s] = best_of(
      reps,
      [&] {
        g->forward();
        g->backward(out);
      },
      [&] { by_hand = hand.run(1.0); });

  const double n = static_cast<double>(g->size());
  std::size_t edges = 0;
  for (std::size_t i = 0; i < g->size(); ++i)
    edges += g->inputs(static_cast<node_id>(i)).size();
  // One op byte, one 4-byte arg_begin, a value and an adjoint per node; an id and a partial per
  // edge.
  const double theoretical = (static_cast<double>(g->size()) * (1 + 4 + 2 * sizeof(double)) +
                              static_cast<double>(edges) * (sizeof(node_id) + sizeof(double))) /
                             n;
  const double resident = static_cast<double>(after.resident - before.resident) / n;
  const double heap = static_cast<double>(after.heap - before.heap) / n;
  const double ns_per_node = engine_s * 1e9 / n;

  fmt::print(
      "  build {:.1f} ns/node; forward+backward engine {:.2f} ns/node   hand {:.2f} ns/node   "
      "ratio {:.2f}\n",
      build_s * 1e9 / n, ns_per_node, hand_s * 1e9 / n, engine_s / hand_s);
  fmt::print(
      "  bytes per node: resident {:.1f}, malloc {:.1f}, struct of arrays {:.1f} "
      "({:.2f} edges/node)\n",
      resident, heap, theoretical, static_cast<double>(edges) / n);
  const double engine_out = g->value(out);
  const double engine_grad = g->adjoint(first);
  const double agree_out = agreeing_digits(engine_out, by_hand.output);
  const double agree_grad = agreeing_digits(engine_grad, by_hand.gradient);
  fmt::print("  output engine {} hand {}; d/dx0 engine {} hand {}\n", show(engine_out, 15),
             show(by_hand.output, 15), show(engine_grad, 15), show(by_hand.gradient, 15));
  verdicts.push_back({"W3 chain: forward+backward per node", ns_per_node, 30.0, "ns"});
  verdicts.push_back({"W3 chain: memory per node (malloc)", heap, 48.0, "B"});
  if (!(agree_out >= 12.0 && agree_grad >= 12.0 && engine_grad != 0.0)) {
    fmt::print("  ERROR: engine and hand-written chain disagree\n");
    return false;
  }
  return true;
}

}  // namespace chainrule::bench
