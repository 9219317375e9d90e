// SPDX-License-Identifier: MIT
// What the benchmark measures besides time: heap allocations and memory in use.
#pragma once

#include <time.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "chainrule/engine/engine.hpp"

namespace chainrule::bench {

/// Options shared by every workload.
struct options {
  bool quick = false;  ///< fewer repetitions and a shorter chain: a smoke run, not a measurement
  int reps = 5;        ///< repetitions per side; the best is reported
};

/// One line of the final summary: a measured figure against its target.
struct verdict {
  std::string what;
  double measured;
  double target;
  std::string unit;
  bool met() const { return measured <= target; }
};

/// Heap allocations since start-up: C++ `new` and GMP/MPFR limbs (counted separately because
/// MPFR's own transcendental functions allocate scratch limbs that no caller can avoid).
struct allocation_count {
  std::size_t cxx = 0;
  std::size_t gmp = 0;
};
allocation_count allocations();
/// Installs the counting allocator into GMP; must run before the first MPFR number exists.
void count_gmp_allocations();

/// Bytes the process holds: resident set, and malloc's own total (arena + mmapped blocks).
struct memory_use {
  std::size_t resident = 0;
  std::size_t heap = 0;
};
memory_use memory_in_use();

/// CPU time of this thread in seconds. Used instead of wall time because the benchmark runs on
/// machines shared with other jobs: time spent descheduled is not the code's cost.
inline double cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

/// Runs `engine_run` and `hand_run` alternately `reps` times each and keeps each side's best,
/// so that load from other processes hits both sides alike.
template <class E, class H>
std::pair<double, double> best_of(int reps, E&& engine_run, H&& hand_run) {
  double engine = std::numeric_limits<double>::infinity();
  double hand = engine;
  for (int r = 0; r < reps; ++r) {
    double start = cpu_seconds();
    engine_run();
    engine = std::min(engine, cpu_seconds() - start);
    start = cpu_seconds();
    hand_run();
    hand = std::min(hand, cpu_seconds() - start);
  }
  return {engine, hand};
}

inline double to_double(double x) {
  return x;
}
inline double to_double(const mp_real& x) {
  return mpfr_get_d(x.backend().data(), MPFR_RNDN);
}

/// Number of leading significant decimal digits on which `a` and `b` agree
/// (-log10 of the relative difference; infinity when they are equal).
template <class Real>
double agreeing_digits(const Real& a, const Real& b) {
  if (a == b) return std::numeric_limits<double>::infinity();
  Real rel = a - b;
  rel /= b;
  return -std::log10(std::abs(to_double(rel)));
}

template <class Real>
std::string show(const Real& x, int significant) {
  return scalar_traits<Real>::format(x, number_format::significant(significant));
}

}  // namespace chainrule::bench
