// SPDX-License-Identifier: MIT
// Very deep graphs: forward() and backward() are loops over the tape, so depth costs memory and
// time but never stack. A recursive sweep would overflow the stack long before 10 million nodes.
#include <array>
#include <span>
#include <string>

#include "chainrule/engine/engine.hpp"
#include "support/reference.hpp"

using namespace chainrule;
using chainrule::testing::agrees_to;
using chainrule::testing::reference;

TEST_CASE("a 10-million-node chain at double: forward and backward match the closed form",
          "[deep]") {
  // x_{k+1} = x_k * c with c = 1 + 2^-24 (exact in binary), so x_N = x_0 c^N,
  // dx_N/dx_0 = c^N and dx_N/dc = N x_0 c^(N-1): engine.ref has them from mpmath.
  const auto& ref = reference("engine.ref");
  const std::size_t n = std::stoul(ref["mul_chain.N"]);
  REQUIRE(n == 10'000'000);

  graph<double> g;
  const auto x0 = g.parameter("x0", ref["mul_chain.x0"]);
  const auto c = g.parameter("c", ref["mul_chain.c"]);
  // apply() on ids rather than `x = x * c`: the operator's handle checks and its vector of ids
  // add a tenth to a build that dominates this test's time in a Debug build.
  std::array<node_id, 2> factors{x0.id(), c.id()};
  var<double> x;
  for (std::size_t k = 0; k < n; ++k) {
    x = g.apply(op::mul, std::span<const node_id>(factors));
    factors[0] = x.id();
  }
  REQUIRE(g.size() == n + 2);

  // Each of the N roundings costs at most 2^-53 relative, so at most N 2^-53 = 1.1e-9 in all;
  // 8 digits is what the worst case guarantees.
  constexpr int agree = 8;
  CHECK_THAT(x.value(), agrees_to(ref["mul_chain.value"], agree));
  g.backward(x);
  CHECK_THAT(x0.adjoint(), agrees_to(ref["mul_chain.d/dx0"], agree));
  CHECK_THAT(c.adjoint(), agrees_to(ref["mul_chain.d/dc"], agree));

  SECTION("forward() recomputes the chain in place after set_value") {
    g.set_value(x0.id(), "1.5");  // twice 0.75: exactly twice every value and derivative
    g.forward();
    g.backward(x);
    CHECK_THAT(x.value() / 2, agrees_to(ref["mul_chain.value"], agree));
    CHECK_THAT(x0.adjoint(), agrees_to(ref["mul_chain.d/dx0"], agree));
    CHECK_THAT(c.adjoint() / 2, agrees_to(ref["mul_chain.d/dc"], agree));
    CHECK(g.size() == n + 2);
  }
}

TEST_CASE("a 100,000-node sin chain at 50 digits matches mpmath", "[deep][mp]") {
  // x_{k+1} = sin(x_k) from x_0 = 1; dx_N/dx_0 is the product of the cosines, which engine.ref
  // iterates at 80 digits. Each of the N steps rounds by at most about 10^-50 relative, so the
  // result keeps 50 - log10(N) = 45 digits at worst; 42 leaves room for the constant.
  const auto& ref = reference("engine.ref");
  const std::size_t n = std::stoul(ref["sin_chain.N"]);
  REQUIRE(n == 100'000);
  graph<mp_real> g(50);
  const auto x0 = g.parameter("x0", ref["sin_chain.x0"]);
  var<mp_real> x = x0;
  for (std::size_t k = 0; k < n; ++k)
    x = sin(x);
  REQUIRE(g.size() == n + 1);
  CHECK_THAT(x.value(), agrees_to(ref["sin_chain.value"], 42));
  g.backward(x);
  CHECK_THAT(x0.adjoint(), agrees_to(ref["sin_chain.d/dx0"], 42));
}
