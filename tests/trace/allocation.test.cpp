// SPDX-License-Identifier: MIT
// Untraced training steps allocate nothing: neither the C++ heap (operator new is replaced in this
// test executable to count) nor GMP/MPFR (their memory functions are replaced before main).
#include <gmp.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <new>
#include <vector>

#include "chainrule/engine/engine.hpp"
#include "chainrule/engine/optimizer.hpp"
#include "chainrule/trace/train.hpp"

namespace {

std::atomic<bool> counting{false};
std::atomic<long> cxx_allocations{0};
std::atomic<long> gmp_allocations{0};

void* counted_gmp_alloc(std::size_t n) {
  if (counting) ++gmp_allocations;
  return std::malloc(n);
}
void* counted_gmp_realloc(void* p, std::size_t, std::size_t n) {
  if (counting) ++gmp_allocations;
  return std::realloc(p, n);
}
void counted_gmp_free(void* p, std::size_t) {
  std::free(p);
}

// MPFR caches GMP's memory functions on first use, so they are replaced before anything runs.
const bool installed = [] {
  mp_set_memory_functions(counted_gmp_alloc, counted_gmp_realloc, counted_gmp_free);
  return true;
}();

struct counter {
  counter() {
    cxx_allocations = 0;
    gmp_allocations = 0;
    counting = true;
  }
  ~counter() { counting = false; }
};

}  // namespace

// ASan and UBSan bring their own operator new, which some allocations in the executable still reach
// (those made during static initialisation among them), so a replacement here would free memory
// it did not allocate. The sanitizer build counts GMP/MPFR allocations only.
#ifndef CHAINRULE_SANITIZED_BUILD
constexpr bool counts_cxx_allocations = true;
// These replacements pair malloc with free on purpose; GCC cannot see that new and delete were
// both replaced and warns that free() is called on memory from operator new.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t n) {
  if (counting) ++cxx_allocations;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
#pragma GCC diagnostic pop
#else
constexpr bool counts_cxx_allocations = false;
#endif

using namespace chainrule;
using namespace chainrule::trace;

TEST_CASE("Untraced training steps allocate nothing", "[trace][train][allocation]") {
  REQUIRE(installed);
  const auto order = GENERATE(update_order::simultaneous, update_order::sequential);
  const std::string name = GENERATE("sgd", "momentum", "rmsprop", "adagrad", "adam");
  INFO(name << (order == update_order::sequential ? ", sequential" : ", simultaneous"));
  graph<mp_real> g(50);
  auto i1 = g.input("i1", "0.05");
  auto t1 = g.input("t1", "0.01");
  auto w1 = g.parameter("w1", "0.15");
  auto w2 = g.parameter("w2", "0.4");
  auto h = sigmoid(w1 * i1).named("h");
  auto o = sigmoid(w2 * h).named("o");
  auto loss = (g.constant("0.5") * pow(t1 - o, 2)).named("E");
  run_options options;
  options.optimizer = {name, {}};
  options.order = order;
  // MPFR's exp allocates scratch of its own (a few blocks per call), so the graph's forward and
  // backward pass is measured first; the training steps must add nothing to it.
  g.forward();
  g.backward(loss);
  long graph_only = 0;
  {
    counter c;
    for (int k = 0; k < 20; ++k) {
      g.forward();
      g.backward(loss);
    }
    graph_only = gmp_allocations;
    if (counts_cxx_allocations) CHECK(cxx_allocations == 0);
  }
  trainer<mp_real> t(g, loss.id(), options);
  t.step();
  {
    counter c;
    for (int k = 0; k < 20; ++k)
      t.step();
    if (counts_cxx_allocations) CHECK(cxx_allocations == 0);
    CHECK(gmp_allocations == graph_only);
  }
}

TEST_CASE("Optimizer updates allocate nothing at MPFR precision", "[trace][train][allocation]") {
  const std::string name = GENERATE("sgd", "momentum", "rmsprop", "adagrad", "adam", "perceptron");
  INFO(name);
  optimizer<mp_real> opt({name, {}}, 3, 50);
  const mp_real g = scalar_traits<mp_real>::from_decimal("0.125", 50);
  std::array<mp_real, 3> w{g, g, g};
  counter c;
  for (int k = 0; k < 50; ++k) {
    opt.begin_step();
    for (std::size_t j = 0; j < 3; ++j) {
      if (name == "perceptron") {
        opt.update_perceptron(j, w[j], g, g);
      } else {
        opt.update(j, w[j], g);
      }
    }
  }
  CHECK(cxx_allocations == 0);
  CHECK(gmp_allocations == 0);
}

TEST_CASE("Adam's bias correction matches a correctly rounded power",
          "[trace][optimizer][allocation]") {
  // 1 - 0.999^t against MPFR's correctly rounded pow, after many steps.
  optimizer<mp_real> opt({"adam", {}}, 1, 50);
  using traits = scalar_traits<mp_real>;
  traits::precision_scope scope(50);
  mp_real w = traits::from_decimal("1", 50);
  const mp_real g = traits::from_decimal("0.5", 50);
  for (int k = 0; k < 5000; ++k)
    opt.begin_step();
  opt.update(0, w, g);
  // v_hat = v / (1 - beta2^t) with v = (1 - beta2) g^2 after one update from v = 0; 0.999^5000 is
  // about 0.0067, so the correction matters.
  const mp_real beta2 = traits::from_decimal("0.999", 50);
  mp_real t = 5000;
  mp_real correction = pow(beta2, t);
  correction = 1 - correction;
  mp_real v = 1 - beta2;
  v *= g;
  v *= g;
  mp_real expected = v / correction;
  CHECK(traits::format(opt.line_value(0, 3), number_format::significant(50)) ==
        traits::format(expected, number_format::significant(50)));
}

TEST_CASE("Untraced batch updates allocate nothing", "[trace][train][allocation][batch]") {
  REQUIRE(installed);
  // Batches of 3 of 4 rows: a full batch and a short one, so both divisors of `mean` are used.
  const auto reduction = GENERATE(batch_reduction::sum, batch_reduction::mean);
  const std::uint64_t batch = GENERATE(std::uint64_t{3}, full_batch);
  INFO((reduction == batch_reduction::mean ? "mean" : "sum") << ", batch " << batch);
  graph<mp_real> g(50);
  auto i1 = g.input("i1", "0.05");
  auto t1 = g.input("t1", "0.01");
  auto w1 = g.parameter("w1", "0.15");
  auto w2 = g.parameter("w2", "0.4");
  // Polynomial on purpose: how much scratch MPFR's exp allocates depends on its argument, which
  // the updates keep changing, so a baseline with sigmoids would not be exact.
  auto h = (w1 * i1).named("h");
  auto o = (w2 * h).named("o");
  auto loss = (g.constant("0.5") * pow(t1 - o, 2)).named("E");
  run_options options;
  options.optimizer = {"adam", {}};
  options.data.columns = {i1.id(), t1.id()};
  options.data.values = {"0.05", "0.01", "0.1", "0.2", "-0.3", "0.7", "0.4", "0.9"};
  options.batch_size = batch;
  options.reduction = reduction;
  // As above: the graph's own passes over the same rows are the baseline.
  std::vector<mp_real> rows;
  for (const auto& text : options.data.values)
    rows.push_back(scalar_traits<mp_real>::from_decimal(text, 50));
  const auto pass = [&](int k) {
    const auto r = static_cast<std::size_t>(k % 4);
    g.set_value(i1.id(), rows[2 * r]);
    g.set_value(t1.id(), rows[2 * r + 1]);
    g.forward();
    g.backward(loss);
  };
  for (int k = 0; k < 4; ++k)
    pass(k);
  long graph_only = 0;
  {
    counter c;
    for (int k = 0; k < 20 * 4; ++k)
      pass(k);
    graph_only = gmp_allocations;
  }
  trainer<mp_real> t(g, loss.id(), options);
  // Whole passes over the data, so the same number of rows runs as in the baseline.
  const int updates_per_pass = batch == 3 ? 2 : 1;
  for (int k = 0; k < updates_per_pass; ++k)
    t.step();
  {
    counter c;
    for (int k = 0; k < 20 * updates_per_pass; ++k)
      t.step();
    if (counts_cxx_allocations) CHECK(cxx_allocations == 0);
    CHECK(gmp_allocations == graph_only);
  }
}
