// SPDX-License-Identifier: MIT
// W2: Matt Mazur's 2-2-2 sigmoid network, 10,000 simultaneous SGD steps (lr 0.5, biases fixed).
//
// The hand-written side performs the same operations in the same order as the engine's kernels
// and reverse sweep, so both must end on the same E_total to the last few bits; at multiprecision
// every statement is one in-place MPFR operation on storage allocated up front.
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <string>
#include <string_view>

#include <fmt/core.h>

#include "workloads.hpp"

namespace chainrule::bench {
namespace {

constexpr int steps = 10000;
constexpr std::array<std::string_view, 8> weight_names{"w1", "w2", "w3", "w4",
                                                       "w5", "w6", "w7", "w8"};
constexpr std::array<std::string_view, 8> initial_weights{"0.15", "0.20", "0.25", "0.30",
                                                          "0.40", "0.45", "0.50", "0.55"};
// tests/reference/mazur.ref, E_total_after_10000_steps.dps80 (mpmath at 80 digits).
constexpr std::string_view reference_error =
    "0.0000351018778297884587423401817371257094072547204790576263991189";

template <class Real>
Real number(std::string_view text, unsigned digits) {
  return scalar_traits<Real>::from_decimal(text, digits);
}

template <class Real>
class engine_net {
 public:
  explicit engine_net(unsigned digits)
      : g_(digits),
        rate_(number<Real>("0.5", digits)),
        step_(scalar_traits<Real>::zero(digits)),
        next_(scalar_traits<Real>::zero(digits)) {
    const auto i1 = g_.input("i1", "0.05");
    const auto i2 = g_.input("i2", "0.10");
    const auto t1 = g_.input("t1", "0.01");
    const auto t2 = g_.input("t2", "0.99");
    const auto b1 = g_.constant("b1", "0.35");
    const auto b2 = g_.constant("b2", "0.60");
    const auto half = g_.constant("0.5");
    std::array<var<Real>, 8> w;
    for (std::size_t k = 0; k < w.size(); ++k) {
      w[k] = g_.parameter(weight_names[k], initial_weights[k]);
      params_[k] = w[k].id();
    }
    const auto h1 = sigmoid(w[0] * i1 + w[1] * i2 + b1);
    const auto h2 = sigmoid(w[2] * i1 + w[3] * i2 + b1);
    const auto o1 = sigmoid(w[4] * h1 + w[5] * h2 + b2);
    const auto o2 = sigmoid(w[6] * h1 + w[7] * h2 + b2);
    const auto d1 = t1 - o1;
    const auto d2 = t2 - o2;
    error_ = (half * d1 * d1 + half * d2 * d2).id();
  }

  void reset() {
    for (std::size_t k = 0; k < params_.size(); ++k)
      g_.set_value(params_[k], initial_weights[k]);
  }

  /// `n` steps, then the error at the final weights.
  const Real& train(int n) {
    for (int s = 0; s < n; ++s) {
      g_.forward();
      g_.backward(error_);
      for (const node_id w : params_) {
        step_ = g_.adjoint(w) * rate_;
        next_ = g_.value(w) - step_;
        g_.set_value(w, next_);
      }
    }
    g_.forward();
    return g_.value(error_);
  }

 private:
  graph<Real> g_;
  std::array<node_id, 8> params_{};
  node_id error_{};
  Real rate_, step_, next_;
};

template <class Real>
class hand_net {
 public:
  explicit hand_net(unsigned digits)
      : digits_(digits),
        i1_(number<Real>("0.05", digits)),
        i2_(number<Real>("0.10", digits)),
        t1_(number<Real>("0.01", digits)),
        t2_(number<Real>("0.99", digits)),
        b1_(number<Real>("0.35", digits)),
        b2_(number<Real>("0.60", digits)),
        half_(number<Real>("0.5", digits)),
        one_(number<Real>("1", digits)),
        rate_(number<Real>("0.5", digits)) {
    const Real zero = scalar_traits<Real>::zero(digits);
    w_.fill(zero);
    grad_.fill(zero);
    for (Real* r : {&a_, &b_, &s_, &net_, &h1_, &h2_, &o1_, &o2_, &d1_, &d2_, &e_, &delta_o1_,
                    &delta_o2_, &delta_h1_, &delta_h2_}) {
      *r = zero;
    }
  }

  void reset() {
    for (std::size_t k = 0; k < w_.size(); ++k)
      w_[k] = number<Real>(initial_weights[k], digits_);
  }

  const Real& train(int n) {
    typename scalar_traits<Real>::precision_scope scope(digits_);
    for (int s = 0; s < n; ++s) {
      forward();
      backward();
      for (std::size_t k = 0; k < w_.size(); ++k) {
        a_ = grad_[k] * rate_;
        w_[k] -= a_;
      }
    }
    forward();
    return e_;
  }

 private:
  void logistic(Real& out, const Real& x) {
    using std::exp;
    if (x >= 0) {
      s_ = -x;
      s_ = exp(s_);
      s_ += one_;
      out = one_ / s_;
    } else {
      s_ = exp(x);
      out = s_ + one_;
      out = s_ / out;
    }
  }

  void neuron(Real& out, const Real& wa, const Real& xa, const Real& wb, const Real& xb,
              const Real& bias) {
    a_ = wa * xa;
    b_ = wb * xb;
    net_ = a_ + b_;
    net_ += bias;
    logistic(out, net_);
  }

  void forward() {
    neuron(h1_, w_[0], i1_, w_[1], i2_, b1_);
    neuron(h2_, w_[2], i1_, w_[3], i2_, b1_);
    neuron(o1_, w_[4], h1_, w_[5], h2_, b2_);
    neuron(o2_, w_[6], h1_, w_[7], h2_, b2_);
    d1_ = t1_ - o1_;
    d2_ = t2_ - o2_;
    a_ = half_ * d1_;
    a_ *= d1_;
    b_ = half_ * d2_;
    b_ *= d2_;
    e_ = a_ + b_;
  }

  /// delta = dE/dnet for a sigmoid unit with output `out` and dE/dout = `upstream`.
  void through_sigmoid(Real& delta, const Real& out, const Real& upstream) {
    s_ = one_ - out;
    s_ *= out;
    delta = s_ * upstream;
  }

  void backward() {
    // dE/dout_o = -(t - out_o): 1/2 (t - out)^2 differentiates to (t - out) times the -1 of the
    // subtraction.
    a_ = o1_ - t1_;
    through_sigmoid(delta_o1_, o1_, a_);
    a_ = o2_ - t2_;
    through_sigmoid(delta_o2_, o2_, a_);
    grad_[4] = delta_o1_ * h1_;
    grad_[5] = delta_o1_ * h2_;
    grad_[6] = delta_o2_ * h1_;
    grad_[7] = delta_o2_ * h2_;
    // dE/dout_h sums over both output units (latest first, the engine's accumulation order).
    a_ = w_[6] * delta_o2_;
    b_ = w_[4] * delta_o1_;
    a_ += b_;
    through_sigmoid(delta_h1_, h1_, a_);
    a_ = w_[7] * delta_o2_;
    b_ = w_[5] * delta_o1_;
    a_ += b_;
    through_sigmoid(delta_h2_, h2_, a_);
    grad_[0] = delta_h1_ * i1_;
    grad_[1] = delta_h1_ * i2_;
    grad_[2] = delta_h2_ * i1_;
    grad_[3] = delta_h2_ * i2_;
  }

  unsigned digits_;
  Real i1_, i2_, t1_, t2_, b1_, b2_, half_, one_, rate_;
  std::array<Real, 8> w_, grad_;
  Real a_, b_, s_, net_, h1_, h2_, o1_, o2_, d1_, d2_, e_, delta_o1_, delta_o2_, delta_h1_,
      delta_h2_;
};

/// One precision's engine and hand-written nets, their best times so far and their results.
class contest {
 public:
  virtual ~contest() = default;
  /// One timed engine run and one timed hand-written run (each reset, then trained).
  virtual void run_pair() = 0;
  /// Prints the figures, counts allocations, appends the verdict; false if the results disagree.
  virtual bool report(std::vector<verdict>& verdicts) = 0;
};

template <class Real>
class contest_at final : public contest {
 public:
  explicit contest_at(unsigned digits)
      : digits_(digits),
        engine_(digits),
        hand_(digits),
        engine_error_(scalar_traits<Real>::zero(digits)),
        hand_error_(scalar_traits<Real>::zero(digits)) {}

  void run_pair() override {
    double start = cpu_seconds();
    engine_.reset();
    engine_error_ = engine_.train(steps);
    engine_s_ = std::min(engine_s_, cpu_seconds() - start);
    start = cpu_seconds();
    hand_.reset();
    hand_error_ = hand_.train(steps);
    hand_s_ = std::min(hand_s_, cpu_seconds() - start);
  }

  bool report(std::vector<verdict>& verdicts) override {
    const bool multiprecision = scalar_traits<Real>::has_runtime_precision;
    const std::string label = multiprecision ? fmt::format("{} digits", digits_) : "double";

    // Allocations per step, counted on a separate untimed run of each side.
    engine_.reset();
    hand_.reset();
    const auto before_engine = allocations();
    engine_.train(steps);
    const auto after_engine = allocations();
    hand_.train(steps);
    const auto after_hand = allocations();

    const double ratio = engine_s_ / hand_s_;
    const double target = multiprecision ? 1.2 : 4.0;
    const double agree = agreeing_digits(engine_error_, hand_error_);
    const double needed = multiprecision ? 40.0 : 12.0;
    const Real reference = number<Real>(reference_error, digits_);
    const double vs_reference = agreeing_digits(engine_error_, reference);

    const double per_step = 1e6 / steps;
    fmt::print(
        "  {:<10}  engine {:9.3f} us/step   hand {:9.3f} us/step   ratio {:5.2f} (target <= {})\n",
        label, engine_s_ * per_step, hand_s_ * per_step, ratio, target);
    fmt::print("              E_total engine {}  hand {}\n", show(engine_error_, 15),
               show(hand_error_, 15));
    fmt::print(
        "              digits agreeing: engine vs hand {:.1f} (need >= {}), engine vs mpmath "
        "{:.1f}\n",
        agree, needed, vs_reference);
    fmt::print(
        "              allocations per step: engine {} new + {:.2f} GMP, hand {} new + {:.2f} "
        "GMP\n",
        static_cast<double>(after_engine.cxx - before_engine.cxx) / steps,
        static_cast<double>(after_engine.gmp - before_engine.gmp) / steps,
        static_cast<double>(after_hand.cxx - after_engine.cxx) / steps,
        static_cast<double>(after_hand.gmp - after_engine.gmp) / steps);
    verdicts.push_back({"W2 Mazur " + label + ": engine / hand", ratio, target, "x"});
    if (!(agree >= needed)) {
      fmt::print("  ERROR: engine and hand-written results disagree at {}\n", label);
      return false;
    }
    return true;
  }

 private:
  unsigned digits_;
  engine_net<Real> engine_;
  hand_net<Real> hand_;
  Real engine_error_, hand_error_;
  double engine_s_ = std::numeric_limits<double>::infinity();
  double hand_s_ = std::numeric_limits<double>::infinity();
};

}  // namespace

bool run_mazur(const options& opt, std::vector<verdict>& verdicts) {
  // A double run takes milliseconds, so it gets four pairs per round. The rounds visit the three
  // precisions in turn, which spreads each one's repetitions over the whole measurement: load
  // from other jobs comes in bursts of about a second, longer than all of the double runs.
  constexpr int double_pairs = 4;
  fmt::print("W2  Mazur 2-2-2 sigmoid net, {} SGD steps (lr 0.5), best of {} ({} at double)\n",
             steps, opt.reps, double_pairs * opt.reps);
  contest_at<double> at_double(17);
  contest_at<mp_real> at_50(50);
  contest_at<mp_real> at_100(100);
  for (int r = 0; r < opt.reps; ++r) {
    for (int k = 0; k < double_pairs; ++k)
      at_double.run_pair();
    at_50.run_pair();
    at_100.run_pair();
  }
  bool ok = at_double.report(verdicts);
  ok = at_50.report(verdicts) && ok;
  ok = at_100.report(verdicts) && ok;
  return ok;
}

}  // namespace chainrule::bench
