// SPDX-License-Identifier: MIT
// One struct per op: its table entry (name, arity, symbolic forms) next to the kernel that
// computes its value and the local partial derivative with respect to each input.
//
// Kernel rules: one arithmetic operation per statement, written into `out`, `partial[k]` or a
// scratch register, so that multiprecision types compute in place and a training loop allocates
// nothing. A kernel returns nullptr, or a sentence naming the domain violation (the graph adds
// which node and which input value).
#pragma once

#include <cmath>
#include <cstddef>
#include <span>
#include <tuple>
#include <type_traits>

#include "chainrule/engine/op.hpp"
#include "chainrule/engine/scalar.hpp"

namespace chainrule {

/// Where a kernel reads its inputs and writes its results.
template <class Real>
struct kernel_io {
  const Real* values;               ///< every node's value, indexed by node
  std::span<const node_id> inputs;  ///< the node's inputs
  Real& out;                        ///< the node's value
  Real* partial;                    ///< partial[k] = d out / d inputs[k]
  Real* scratch;                    ///< kernel_scratch registers at the working precision
  const Real* units;                ///< 0, 1 and -1 at the working precision
  /// True when the node's constant partials (the 1 and -1 of add, sub, neg, sum, log_softmax) are
  /// already stored, as in every forward() after the node was made: the kernel may skip them.
  bool constant_partials_stored = false;

  const Real& x(std::size_t k) const { return values[static_cast<std::size_t>(inputs[k])]; }
  // Kernels copy these rather than assign integer literals: for MPFR a copy costs about a third of
  // converting an integer (10 ns against 25-60 ns at 50 digits, for `= 1`, `1 - x` or `x += 1`).
  const Real& zero() const { return units[0]; }
  const Real& one() const { return units[1]; }
  const Real& minus_one() const { return units[2]; }
};

inline constexpr std::size_t kernel_scratch = 3;

namespace ops {

using std::abs;
using std::cos;
using std::exp;
using std::log;
using std::log1p;
using std::pow;
using std::sin;
using std::sqrt;
using std::tanh;

// ---- leaves: no kernel is ever run for them ----

struct input_op {
  static constexpr op code = op::input;
  static constexpr op_info info{"input", 0, notation::leaf, precedence::atom, "#0", "#0", {},
                                {},      {}};
  template <class R>
  static const char* eval(kernel_io<R>&) {
    return nullptr;
  }
};

struct parameter_op {
  static constexpr op code = op::parameter;
  static constexpr op_info info{"param", 0, notation::leaf, precedence::atom, "#0", "#0", {},
                                {},      {}};
  template <class R>
  static const char* eval(kernel_io<R>&) {
    return nullptr;
  }
};

struct constant_op {
  static constexpr op code = op::constant;
  static constexpr op_info info{"const", 0, notation::leaf, precedence::atom, "#0", "#0", {},
                                {},      {}};
  template <class R>
  static const char* eval(kernel_io<R>&) {
    return nullptr;
  }
};

// ---- arithmetic ----

/// \f$ a + b \f$; partials \f$ 1, 1 \f$.
struct add_op {
  static constexpr op code = op::add;
  static constexpr op_info info{"add",     2,         notation::infix, precedence::additive,
                                "#1 + #2", "#1 + #2", {"1", "1"},      {"1", "1"},
                                {}};
  template <class R>
  static const char* eval(kernel_io<R>& io) {
    io.out = io.x(0) + io.x(1);
    if (!io.constant_partials_stored) {
      io.partial[0] = io.one();
      io.partial[1] = io.one();
    }
    return nullptr;
  }
};

/// \f$ a - b \f$; partials \f$ 1, -1 \f$.
struct sub_op {
  static constexpr op code = op::sub;
  static constexpr op_info info{"sub",     2,         notation::infix, precedence::additive,
                                "#1 - #2", "#1 - #2", {"1", "-1"},     {"1", "-1"},
                                {}};
  template <class R>
  static const char* eval(kernel_io<R>& io) {
    io.out = io.x(0) - io.x(1);
    if (!io.constant_partials_stored) {
      io.partial[0] = io.one();
      io.partial[1] = io.minus_one();
    }
    return nullptr;
  }
};

/// \f$ a b \f$; partials \f$ b, a \f$.
struct mul_op {
  static constexpr op code = op::mul;
  static constexpr op_info info{"mul",
                                2,
                                notation::infix,
                                precedence::multiplicative,
                                "#1*#2",
                                "#1 \\cdot #2",
                                {"#2", "#1"},
                                {"#2", "#1"},
                                {}};
  template <class R>
  static const char* eval(kernel_io<R>& io) {
    io.out = io.x(0) * io.x(1);
    io.partial[0] = io.x(1);
    io.partial[1] = io.x(0);
    return nullptr;
  }
};

/// \f$ a / b \f$; partials \f$ 1/b, -a/b^2 \f$.
struct div_op {
  static constexpr op code = op::div;
  static constexpr op_info info{"div",
                                2,
                                notation::infix,
                                precedence::multiplicative,
                                "#1/#2",
                                "\\frac{#1}{#2}",
                                {"1/#2", "-#1/#2^2"},
                                {"\\frac{1}{#2}", "-\\frac{#1}{#2^{2}}"},
                                {}};
  template <class R>
  static const char* eval(kernel_io<R>& io) {
    if (io.x(1) == 0) return "division by zero";
    io.out = io.x(0) / io.x(1);
    io.partial[0] = io.one() / io.x(1);
    io.partial[1] = io.out / io.x(1);
    io.partial[1] = -io.partial[1];
    return nullptr;
  }
};

/// \f$ -a \f$; partial \f$ -1 \f$.
struct neg_op {
  static constexpr op code = op::neg;
  static constexpr op_info info{
      "neg", 1, notation::prefix, precedence::unary, "-#1", "-#1", {"-1"}, {"-1"}, {}};
  template <class R>
  static const char* eval(kernel_io<R>& io) {
    io.out = -io.x(0);
    if (!io.constant_partials_stored) io.partial[0] = io.minus_one();
    return nullptr;
  }
};

/// \f$ x^y \f$ for \f$ x > 0 \f$; partials \f$ y x^{y-1}, x^y \ln x \f$.
struct pow_op {
  static constexpr op code = op::pow;
  static constexpr op_info info{"pow",
                                2,
                                notation::infix,
                                precedence::power,
                                "#1^#2",
                                "{#1}^{#2}",
                                {"#2*#1^(#2 - 1)", "#0*log(#1)"},
                                {"#2 \\, {#1}^{#2 - 1}", "#0 \\ln #1"},
                                {}};
  template <class R>
  static const char* eval(kernel_io<R>& io) {
    if (!(io.x(0) > 0))
      return "pow with a real exponent needs a positive base (use an integer exponent for x^n)";
    io.out = pow(io.x(0), io.x(1));
    io.scratch[0] = io.out / io.x(0);
    io.partial[0] = io.scratch[0] * io.x(1);
    io.partial[1] = log(io.x(0));
    io.partial[1] *= io.out;
    return nullptr;
  }
};

/// \f$ x^n \f$ for an integer constant n; partial \f$ n x^{n-1} \f$ (and 0 for the exponent).
struct powi_op {
  static constexpr op code = op::powi;
  static constexpr op_info info{"pow",
                                2,
                                notation::infix,
                                precedence::power,
                                "#1^#2",
                                "{#1}^{#2}",
                                {"#2*#1^(#2 - 1)", "0"},
                                {"#2 \\, {#1}^{#2 - 1}", "0"},
                                "the exponent is a fixed integer: its partial is 0"};
  template <class R>
  static const char* eval(kernel_io<R>& io) {
    const long n = scalar_traits<R>::to_long(io.x(1));
    if (n < 0 && io.x(0) == 0) return "zero raised to a negative power";
    io.out = pow(io.x(0), io.x(1));
    io.partial[1] = io.zero();
    if (n == 0) {
      io.partial[0] = io.zero();
      return nullptr;
    }
    io.scratch[0] = io.x(1) - io.one();
    io.scratch[1] = pow(io.x(0), io.scratch[0]);
    io.partial[0] = io.scratch[1] * io.x(1);
    return nullptr;
  }
};

// ---- elementary functions ----

/// \f$ e^x \f$; partial \f$ e^x \f$.
struct exp_op {
  static constexpr op code = op::exp;
  static constexpr op_info info{
      "exp", 1, notation::function, precedence::atom, "exp(#1)", "e^{#1}", {"#0"}, {"#0"}, {}};
  template <class R>
  static const char* eval(kernel_io<R>& io) {
    io.out = exp(io.x(0));
    io.partial[0] = io.out;
    return nullptr;
  }
};

/// \f$ \ln x \f$ for \f$ x > 0 \f$; partial \f$ 1/x \f$.
struct log_op {
  static constexpr op code = op::log;
  static constexpr op_info info{"log",
                                1,
                                notation::function,
                                precedence::atom,
                                "log(#1)",
                                "\\ln\\left(#1\\right)",
                                {"1/#1"},
                                {"\\frac{1}{#1}"},
                                {}};
  template <class R>
  static const char* eval(kernel_io<R>& io) {
    if (!(io.x(0) > 0)) return "log of a number that is not positive";
    io.out = log(io.x(0));
    io.partial[0] = io.one() / io.x(0);
    return nullptr;
  }
};

/// \f$ \sqrt{x} \f$ for \f$ x > 0 \f$; partial \f$ 1/(2\sqrt{x}) \f$.
struct sqrt_op {
  static constexpr op code = op::sqrt;
  static constexpr op_info info{"sqrt",
                                1,
                                notation::function,
                                precedence::atom,
                                "sqrt(#1)",
                                "\\sqrt{#1}",
                                {"1/(2*#0)"},
                                {"\\frac{1}{2 #0}"},
                                "sqrt(0) is an error: its derivative is infinite"};
  template <class R>
  static const char* eval(kernel_io<R>& io) {
    if (io.x(0) < 0) return "sqrt of a negative number";
    if (io.x(0) == 0) return "sqrt at 0, where its derivative is infinite";
    io.out = sqrt(io.x(0));
    io.scratch[0] = io.out * 2;
    io.partial[0] = io.one() / io.scratch[0];
    return nullptr;
  }
};

/// \f$ |x| \f$; partial \f$ \operatorname{sign} x \f$, 0 at 0.
struct abs_op {
  static constexpr op code = op::abs;
  static constexpr op_info info{"abs",
                                1,
                                notation::function,
                                precedence::atom,
                                "abs(#1)",
                                "\\left|#1\\right|",
                                {"sign(#1)"},
                                {"\\operatorname{sign}(#1)"},
                                "abs'(0) = 0"};
  template <class R>
  static const char* eval(kernel_io<R>& io) {
    io.out = abs(io.x(0));
    if (io.x(0) > 0) {
      io.partial[0] = io.one();
    } else if (io.x(0) < 0) {
      io.partial[0] = io.minus_one();
    } else {
      io.partial[0] = io.zero();
    }
    return nullptr;
  }
};

/// \f$ \sin x \f$; partial \f$ \cos x \f$.
struct sin_op {
  static constexpr op code = op::sin;
  static constexpr op_info info{"sin",
                                1,
                                notation::function,
                                precedence::atom,
                                "sin(#1)",
                                "\\sin\\left(#1\\right)",
                                {"cos(#1)"},
                                {"\\cos\\left(#1\\right)"},
                                {}};
  template <class R>
  static const char* eval(kernel_io<R>& io) {
    if constexpr (std::is_floating_point_v<R>) {
      // From a local copy the compiler makes one sincos call of the two (the store to `out`
      // could alias the input otherwise); half the time of the kernel at double.
      const R x = io.x(0);
      io.out = sin(x);
      io.partial[0] = cos(x);
    } else {
      io.out = sin(io.x(0));
      io.partial[0] = cos(io.x(0));
    }
    return nullptr;
  }
};

/// \f$ \cos x \f$; partial \f$ -\sin x \f$.
struct cos_op {
  static constexpr op code = op::cos;
  static constexpr op_info info{"cos",
                                1,
                                notation::function,
                                precedence::atom,
                                "cos(#1)",
                                "\\cos\\left(#1\\right)",
                                {"-sin(#1)"},
                                {"-\\sin\\left(#1\\right)"},
                                {}};
  template <class R>
  static const char* eval(kernel_io<R>& io) {
    if constexpr (std::is_floating_point_v<R>) {
      const R x = io.x(0);  // one sincos call, as in sin_op
      io.out = cos(x);
      io.partial[0] = -sin(x);
    } else {
      io.out = cos(io.x(0));
      io.partial[0] = sin(io.x(0));
      io.partial[0] = -io.partial[0];
    }
    return nullptr;
  }
};

/// \f$ \tanh x \f$; partial \f$ 1 - \tanh^2 x \f$.
struct tanh_op {
  static constexpr op code = op::tanh;
  static constexpr op_info info{"tanh",
                                1,
                                notation::function,
                                precedence::atom,
                                "tanh(#1)",
                                "\\tanh\\left(#1\\right)",
                                {"1 - #0^2"},
                                {"1 - {#0}^{2}"},
                                {}};
  template <class R>
  static const char* eval(kernel_io<R>& io) {
    io.out = tanh(io.x(0));
    io.partial[0] = io.out * io.out;
    io.partial[0] = io.one() - io.partial[0];
    return nullptr;
  }
};

// ---- activations ----

/// Writes sigmoid(x) into `out` without overflow for either sign of x.
template <class R>
void logistic(R& out, const R& x, R* scratch, const R& one) {
  if (x >= 0) {
    scratch[0] = -x;
    scratch[0] = exp(scratch[0]);
    scratch[0] += one;
    out = one / scratch[0];
  } else {
    scratch[0] = exp(x);
    scratch[1] = scratch[0] + one;
    out = scratch[0] / scratch[1];
  }
}

/// \f$ \sigma(x) = 1/(1 + e^{-x}) \f$; partial \f$ \sigma(x)(1 - \sigma(x)) \f$.
struct sigmoid_op {
  static constexpr op code = op::sigmoid;
  static constexpr op_info info{"sigmoid",
                                1,
                                notation::function,
                                precedence::atom,
                                "sigmoid(#1)",
                                "\\sigma\\left(#1\\right)",
                                {"#0*(1 - #0)"},
                                {"#0\\left(1 - #0\\right)"},
                                {}};
  template <class R>
  static const char* eval(kernel_io<R>& io) {
    logistic(io.out, io.x(0), io.scratch, io.one());
    io.partial[0] = io.one() - io.out;
    io.partial[0] *= io.out;
    return nullptr;
  }
};

/// \f$ \max(0, x) \f$; partial 1 for x > 0, else 0.
struct relu_op {
  static constexpr op code = op::relu;
  static constexpr op_info info{"relu",
                                1,
                                notation::function,
                                precedence::atom,
                                "relu(#1)",
                                "\\operatorname{ReLU}\\left(#1\\right)",
                                {"[#1 > 0]"},
                                {"[#1 > 0]"},
                                "relu'(0) = 0"};
  template <class R>
  static const char* eval(kernel_io<R>& io) {
    if (io.x(0) > 0) {
      io.out = io.x(0);
      io.partial[0] = io.one();
    } else {
      io.out = io.zero();
      io.partial[0] = io.zero();
    }
    return nullptr;
  }
};

/// x for x > 0, else \f$ \alpha x \f$; partials (1 or \f$\alpha\f$, 0 or x).
struct leaky_relu_op {
  static constexpr op code = op::leaky_relu;
  static constexpr op_info info{"leaky_relu",
                                2,
                                notation::function,
                                precedence::atom,
                                "leaky_relu(#1, #2)",
                                "\\operatorname{LReLU}_{#2}\\left(#1\\right)",
                                {"(#1 > 0 ? 1 : #2)", "(#1 > 0 ? 0 : #1)"},
                                {"\\begin{cases}1 & #1 > 0\\\\ #2 & #1 \\le 0\\end{cases}",
                                 "\\begin{cases}0 & #1 > 0\\\\ #1 & #1 \\le 0\\end{cases}"},
                                "slope alpha at 0"};
  template <class R>
  static const char* eval(kernel_io<R>& io) {
    if (io.x(0) > 0) {
      io.out = io.x(0);
      io.partial[0] = io.one();
      io.partial[1] = io.zero();
    } else {
      io.out = io.x(1) * io.x(0);
      io.partial[0] = io.x(1);
      io.partial[1] = io.x(0);
    }
    return nullptr;
  }
};

/// \f$ \ln(1 + e^x) \f$; partial \f$ \sigma(x) \f$.
struct softplus_op {
  static constexpr op code = op::softplus;
  static constexpr op_info info{"softplus",
                                1,
                                notation::function,
                                precedence::atom,
                                "softplus(#1)",
                                "\\ln\\left(1 + e^{#1}\\right)",
                                {"sigmoid(#1)"},
                                {"\\sigma\\left(#1\\right)"},
                                {}};
  template <class R>
  static const char* eval(kernel_io<R>& io) {
    // ln(1 + e^x) = x + ln(1 + e^-x): the form that cannot overflow for either sign.
    if (io.x(0) > 0) {
      io.scratch[2] = -io.x(0);
      io.scratch[2] = exp(io.scratch[2]);
      io.scratch[2] = log1p(io.scratch[2]);
      io.out = io.x(0) + io.scratch[2];
    } else {
      io.scratch[2] = exp(io.x(0));
      io.out = log1p(io.scratch[2]);
    }
    logistic(io.partial[0], io.x(0), io.scratch, io.one());
    return nullptr;
  }
};

/// Heaviside step: 1 for x >= 0, else 0; partial 0 (the perceptron rule does not use it).
struct step_op {
  static constexpr op code = op::step;
  static constexpr op_info info{
      "step", 1,     notation::function,      precedence::atom, "step(#1)", "H\\left(#1\\right)",
      {"0"},  {"0"}, "step(0) = 1; step' = 0"};
  template <class R>
  static const char* eval(kernel_io<R>& io) {
    if (io.x(0) >= 0) {
      io.out = io.one();
    } else {
      io.out = io.zero();
    }
    io.partial[0] = io.zero();
    return nullptr;
  }
};

/// \f$ \max(a, b) \f$; the partial goes to a on ties.
struct max_op {
  static constexpr op code = op::max;
  static constexpr op_info info{"max",
                                2,
                                notation::function,
                                precedence::atom,
                                "max(#1, #2)",
                                "\\max\\left(#1, #2\\right)",
                                {"[#1 >= #2]", "[#1 < #2]"},
                                {"[#1 \\ge #2]", "[#1 < #2]"},
                                "ties: the partial goes to the first"};
  template <class R>
  static const char* eval(kernel_io<R>& io) {
    const bool first = io.x(0) >= io.x(1);
    io.out = first ? io.x(0) : io.x(1);
    io.partial[0] = first ? io.one() : io.zero();
    io.partial[1] = first ? io.zero() : io.one();
    return nullptr;
  }
};

/// \f$ \min(a, b) \f$; the partial goes to a on ties.
struct min_op {
  static constexpr op code = op::min;
  static constexpr op_info info{"min",
                                2,
                                notation::function,
                                precedence::atom,
                                "min(#1, #2)",
                                "\\min\\left(#1, #2\\right)",
                                {"[#1 <= #2]", "[#1 > #2]"},
                                {"[#1 \\le #2]", "[#1 > #2]"},
                                "ties: the partial goes to the first"};
  template <class R>
  static const char* eval(kernel_io<R>& io) {
    const bool first = io.x(0) <= io.x(1);
    io.out = first ? io.x(0) : io.x(1);
    io.partial[0] = first ? io.one() : io.zero();
    io.partial[1] = first ? io.zero() : io.one();
    return nullptr;
  }
};

// ---- groups ----

/// \f$ \sum_j x_j \f$; every partial 1.
struct sum_op {
  static constexpr op code = op::sum;
  static constexpr op_info info{
      "sum", -1, notation::function, precedence::atom, "sum(#*)", "\\sum\\left(#*\\right)", {"1"},
      {"1"}, {}};
  template <class R>
  static const char* eval(kernel_io<R>& io) {
    io.out = io.x(0);
    for (std::size_t k = 1; k < io.inputs.size(); ++k)
      io.out += io.x(k);
    if (!io.constant_partials_stored) {
      for (std::size_t k = 0; k < io.inputs.size(); ++k)
        io.partial[k] = io.one();
    }
    return nullptr;
  }
};

/// \f$ \ln \sum_j e^{x_j} \f$; partials \f$ e^{x_k - \mathrm{lse}} \f$ (the softmax).
struct logsumexp_op {
  static constexpr op code = op::logsumexp;
  static constexpr op_info info{"logsumexp",
                                -1,
                                notation::function,
                                precedence::atom,
                                "logsumexp(#*)",
                                "\\ln \\sum e^{\\left(#*\\right)}",
                                {"exp(#k - #0)"},
                                {"e^{#k - #0}"},
                                {}};
  template <class R>
  static const char* eval(kernel_io<R>& io) {
    // Shift by the largest input so no exponential overflows.
    io.scratch[0] = io.x(0);
    for (std::size_t k = 1; k < io.inputs.size(); ++k) {
      if (io.x(k) > io.scratch[0]) io.scratch[0] = io.x(k);
    }
    // partial[k] holds e^(x_k - max) until it is divided by the sum. Taking the softmax from
    // these rather than from e^(x_k - out) avoids the rounding of `out`, which costs |out| ulps
    // (13 digits of 0.5 at double for inputs near 1000), and one exponential per input.
    io.scratch[1] = io.zero();
    for (std::size_t k = 0; k < io.inputs.size(); ++k) {
      io.partial[k] = io.x(k) - io.scratch[0];
      io.partial[k] = exp(io.partial[k]);
      io.scratch[1] += io.partial[k];
    }
    io.out = log(io.scratch[1]);
    io.out += io.scratch[0];
    for (std::size_t k = 0; k < io.inputs.size(); ++k) {
      io.partial[k] = io.partial[k] / io.scratch[1];
    }
    return nullptr;
  }
};

/// Component i of a softmax: \f$ e^{x_i - \mathrm{lse}} \f$ given the group's logsumexp node.
struct softmax_op {
  static constexpr op code = op::softmax;
  static constexpr op_info info{"softmax",
                                2,
                                notation::function,
                                precedence::atom,
                                "exp(#1 - #2)",
                                "e^{#1 - #2}",
                                {"#0", "-#0"},
                                {"#0", "-#0"},
                                {}};
  template <class R>
  static const char* eval(kernel_io<R>& io) {
    io.scratch[0] = io.x(0) - io.x(1);
    io.out = exp(io.scratch[0]);
    io.partial[0] = io.out;
    io.partial[1] = -io.out;
    return nullptr;
  }
};

/// Component i of a log-softmax: \f$ x_i - \mathrm{lse} \f$ given the group's logsumexp node.
struct log_softmax_op {
  static constexpr op code = op::log_softmax;
  static constexpr op_info info{"log_softmax",        2,           notation::infix,
                                precedence::additive, "#1 - #2",   "#1 - #2",
                                {"1", "-1"},          {"1", "-1"}, {}};
  template <class R>
  static const char* eval(kernel_io<R>& io) {
    io.out = io.x(0) - io.x(1);
    if (!io.constant_partials_stored) {
      io.partial[0] = io.one();
      io.partial[1] = io.minus_one();
    }
    return nullptr;
  }
};

/// Every op, in the order of the `op` enum (checked at compile time below).
using all = std::tuple<input_op, parameter_op, constant_op, add_op, sub_op, mul_op, div_op, neg_op,
                       pow_op, powi_op, exp_op, log_op, sqrt_op, abs_op, sin_op, cos_op, tanh_op,
                       sigmoid_op, relu_op, leaky_relu_op, softplus_op, step_op, max_op, min_op,
                       sum_op, logsumexp_op, softmax_op, log_softmax_op>;

static_assert(std::tuple_size_v<all> == op_count, "every op needs exactly one struct in ops::all");

template <std::size_t... I>
constexpr bool in_enum_order(std::index_sequence<I...>) {
  return ((static_cast<std::size_t>(std::tuple_element_t<I, all>::code) == I) && ...);
}
static_assert(in_enum_order(std::make_index_sequence<op_count>{}),
              "ops::all must follow the op enum");

template <class R>
using kernel = const char* (*)(kernel_io<R>&);

template <class R, std::size_t... I>
constexpr std::array<kernel<R>, op_count> make_kernels(std::index_sequence<I...>) {
  return {&std::tuple_element_t<I, all>::template eval<R>...};
}

/// The kernel of each op, indexed by the op's enum value.
template <class R>
inline constexpr std::array<kernel<R>, op_count> kernels =
    make_kernels<R>(std::make_index_sequence<op_count>{});

template <class T, class... U>
inline constexpr bool is_one_of = (std::is_same_v<T, U> || ...);

/// Ops whose partials are finite whenever their inputs and their value are: constants, copies of
/// an input or of the value, and bounded functions. Their partials need no test after a kernel
/// runs. The others (div, pow, powi, log, sqrt, and any op added later until it is listed here)
/// can produce an infinite partial next to a finite value, e.g. d log(x)/dx at a subnormal x.
template <class Op>
inline constexpr bool bounded_partials =
    is_one_of<Op, input_op, parameter_op, constant_op, add_op, sub_op, mul_op, neg_op, exp_op,
              abs_op, sin_op, cos_op, tanh_op, sigmoid_op, relu_op, leaky_relu_op, softplus_op,
              step_op, max_op, min_op, sum_op, logsumexp_op, softmax_op, log_softmax_op>;

/// The partial of `o` with respect to its input k when it is the constant 1 or -1 (add, sum, sub,
/// neg, log_softmax), else 0: the reverse sweep then adds or subtracts the adjoint without
/// multiplying. Must match the kernels above.
constexpr int unit_partial(op o, std::size_t k) noexcept {
  switch (o) {
    case op::add:
    case op::sum:
      return 1;
    case op::sub:
    case op::log_softmax:
      return k == 0 ? 1 : -1;
    case op::neg:
      return -1;
    default:
      return 0;
  }
}

template <class Op, class R>
[[gnu::always_inline]] inline const char* evaluate(kernel_io<R>& io) {
  // The kernel gets a copy: a kernel that is not inlined takes its address, and that would keep
  // the caller's io in memory (ten stores per node) for every op, not only for this one.
  kernel_io<R> own = io;
  if (const char* problem = Op::template eval<R>(own)) return problem;
  if (!scalar_traits<R>::is_finite(io.out)) return "the value is not finite (overflow or NaN)";
  if constexpr (!bounded_partials<Op>) {
    // One test after the loop rather than a branch per partial: the message names the node.
    bool finite = true;
    for (std::size_t k = 0; k < io.inputs.size(); ++k) {
      finite &= scalar_traits<R>::is_finite(io.partial[k]);
    }
    if (!finite) return "a local derivative is not finite";
  }
  return nullptr;
}

template <class R, std::size_t... I>
[[gnu::always_inline]] inline const char* evaluate(op o, kernel_io<R>& io,
                                                   std::index_sequence<I...>) {
  const char* problem = nullptr;
  static_cast<void>(((static_cast<std::size_t>(o) == I &&
                      (problem = evaluate<std::tuple_element_t<I, all>>(io), true)) ||
                     ...));
  return problem;
}

/// Runs the kernel of `o` and checks what it wrote: nullptr, or the problem (a domain violation
/// reported by the kernel, then a value, then a partial that is not finite).
///
/// The compiler turns the comparisons into one jump table with every kernel inlined, where
/// calling through kernels<R> could inline none: the forward sweep spends most of its time in
/// small kernels such as mul, so the call and the generic partial loop used to dominate it.
template <class R>
[[gnu::always_inline]] inline const char* evaluate(op o, kernel_io<R>& io) {
  return evaluate(o, io, std::make_index_sequence<op_count>{});
}

}  // namespace ops
}  // namespace chainrule
