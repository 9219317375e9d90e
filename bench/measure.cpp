// SPDX-License-Identifier: MIT
#include "measure.hpp"

#include <gmp.h>
#include <malloc.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <new>

namespace {
// The benchmark is single-threaded; plain counters keep the counting itself out of the timings.
std::size_t cxx_allocations = 0;
std::size_t gmp_allocations = 0;

void* gmp_allocate(std::size_t n) {
  ++gmp_allocations;
  void* p = std::malloc(n);
  if (p == nullptr) std::abort();
  return p;
}
void* gmp_reallocate(void* p, std::size_t /*old_size*/, std::size_t n) {
  ++gmp_allocations;
  void* q = std::realloc(p, n);
  if (q == nullptr) std::abort();
  return q;
}
void gmp_free(void* p, std::size_t /*size*/) {
  std::free(p);
}
}  // namespace

// Counting replacements of the global allocation functions (the array and nothrow forms of
// libstdc++ forward to these).
void* operator new(std::size_t n) {
  ++cxx_allocations;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t /*size*/) noexcept {
  std::free(p);
}

namespace chainrule::bench {

allocation_count allocations() {
  return {cxx_allocations, gmp_allocations};
}

void count_gmp_allocations() {
  mp_set_memory_functions(gmp_allocate, gmp_reallocate, gmp_free);
}

memory_use memory_in_use() {
  memory_use m;
  if (std::FILE* f = std::fopen("/proc/self/statm", "r")) {
    unsigned long size = 0;
    unsigned long resident = 0;
    if (std::fscanf(f, "%lu %lu", &size, &resident) == 2) {
      m.resident = resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    }
    std::fclose(f);
  }
  const struct mallinfo2 info = mallinfo2();
  m.heap = info.uordblks + info.hblkhd;
  return m;
}

}  // namespace chainrule::bench
