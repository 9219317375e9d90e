// SPDX-License-Identifier: MIT
// W1: a micrograd-style MLP 2-16-16-1 (ReLU hidden layers, linear output) on 100 two-moons
// points, hinge loss max(0, 1 - y*score) averaged plus 1e-4 times the sum of squared weights,
// 100 full-batch SGD steps at double.
//
// The hand-written side sums in the order the engine does (sum nodes left to right, the reverse
// sweep from the last node back), so the two final losses match to rounding.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <vector>

#include <fmt/core.h>

#include "workloads.hpp"

namespace chainrule::bench {
namespace {

constexpr std::size_t points = 100;
constexpr std::size_t hidden = 16;
constexpr int steps = 100;
constexpr double rate = 0.1;
constexpr double alpha = 1e-4;  // weight decay
constexpr double inv_points = 1.0 / points;

/// splitmix64: a fixed, portable sequence (std::uniform_real_distribution is not specified
/// exactly, so its numbers could differ between standard libraries).
class random_source {
 public:
  explicit random_source(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  /// Uniform in [0, 1).
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  /// Standard normal (Box-Muller).
  double normal() {
    const double u = 1.0 - uniform();
    const double v = uniform();
    return std::sqrt(-2.0 * std::log(u)) * std::cos(2.0 * std::numbers::pi * v);
  }

 private:
  std::uint64_t state_;
};

struct dataset {
  std::vector<std::array<double, 2>> x;
  std::vector<double> y;  // -1 or +1
};

/// Two interleaving half circles (as sklearn's make_moons) with Gaussian noise of sd 0.1.
dataset two_moons(random_source& rng) {
  dataset d;
  const std::size_t outer = points / 2;
  for (std::size_t i = 0; i < points; ++i) {
    const bool upper = i < outer;
    const std::size_t k = upper ? i : i - outer;
    const std::size_t n = upper ? outer : points - outer;
    const double t = std::numbers::pi * static_cast<double>(k) / static_cast<double>(n - 1);
    const double px = upper ? std::cos(t) : 1.0 - std::cos(t);
    const double py = upper ? std::sin(t) : 0.5 - std::sin(t);
    d.x.push_back({px + 0.1 * rng.normal(), py + 0.1 * rng.normal()});
    d.y.push_back(upper ? -1.0 : 1.0);
  }
  return d;
}

/// Weights and biases, row-major: w1[i*2 + j], w2[i*hidden + j], w3[j].
struct parameters {
  std::vector<double> w1, b1, w2, b2, w3;
  double b3 = 0.0;
};

parameters initial_parameters(random_source& rng) {
  parameters p;
  const auto fill = [&](std::vector<double>& v, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i)
      v.push_back(rng.uniform(-1.0, 1.0));
  };
  fill(p.w1, hidden * 2);
  p.b1.assign(hidden, 0.0);
  fill(p.w2, hidden * hidden);
  p.b2.assign(hidden, 0.0);
  fill(p.w3, hidden);
  return p;
}

class engine_mlp {
 public:
  engine_mlp(const dataset& data, const parameters& init) : init_(init) {
    const auto param = [&](double v) {
      const auto x = g_.leaf_value(op::parameter, {}, v);
      params_.push_back(x.id());
      return x;
    };
    std::vector<var<double>> w1, b1, w2, b2, w3, weights;
    for (double v : init.w1)
      w1.push_back(param(v));
    for (double v : init.b1)
      b1.push_back(param(v));
    for (double v : init.w2)
      w2.push_back(param(v));
    for (double v : init.b2)
      b2.push_back(param(v));
    for (double v : init.w3)
      w3.push_back(param(v));
    const auto b3 = param(init.b3);
    const auto one = g_.constant("1");

    std::vector<var<double>> hinges, terms, h1(hidden), h2(hidden);
    for (std::size_t p = 0; p < points; ++p) {
      const std::array<var<double>, 2> x{g_.leaf_value(op::input, {}, data.x[p][0]),
                                         g_.leaf_value(op::input, {}, data.x[p][1])};
      const auto y = g_.leaf_value(op::input, {}, data.y[p]);
      for (std::size_t i = 0; i < hidden; ++i) {
        terms.clear();
        for (std::size_t j = 0; j < 2; ++j)
          terms.push_back(w1[i * 2 + j] * x[j]);
        terms.push_back(b1[i]);
        h1[i] = relu(sum(terms));
      }
      for (std::size_t i = 0; i < hidden; ++i) {
        terms.clear();
        for (std::size_t j = 0; j < hidden; ++j)
          terms.push_back(w2[i * hidden + j] * h1[j]);
        terms.push_back(b2[i]);
        h2[i] = relu(sum(terms));
      }
      terms.clear();
      for (std::size_t j = 0; j < hidden; ++j)
        terms.push_back(w3[j] * h2[j]);
      terms.push_back(b3);
      const auto score = sum(terms);
      hinges.push_back(relu(one - y * score));
    }
    const auto data_loss = sum(hinges) * g_.constant_value(inv_points);
    terms.clear();
    for (const auto* layer : {&w1, &w2, &w3}) {
      for (const auto& w : *layer)
        terms.push_back(w * w);
    }
    const auto decay = g_.constant_value(alpha) * sum(terms);
    loss_ = (data_loss + decay).id();
  }

  std::size_t nodes() const { return g_.size(); }

  void reset() {
    std::size_t k = 0;
    for (const auto* v : {&init_.w1, &init_.b1, &init_.w2, &init_.b2, &init_.w3}) {
      for (double x : *v)
        g_.set_value(params_[k++], x);
    }
    g_.set_value(params_[k], init_.b3);
  }

  double train(int n) {
    for (int s = 0; s < n; ++s) {
      g_.forward();
      g_.backward(loss_);
      for (const node_id p : params_)
        g_.set_value(p, g_.value(p) - rate * g_.adjoint(p));
    }
    g_.forward();
    return g_.value(loss_);
  }

 private:
  graph<double> g_;
  parameters init_;
  std::vector<node_id> params_;
  node_id loss_{};
};

class hand_mlp {
 public:
  hand_mlp(const dataset& data, const parameters& init)
      : data_(data),
        init_(init),
        p_(init),
        g_(init),
        pre1_(points * hidden),
        h1_(points * hidden),
        pre2_(points * hidden),
        h2_(points * hidden),
        margin_(points),
        d1_(hidden),
        d2_(hidden) {}

  void reset() { p_ = init_; }

  double train(int n) {
    for (int s = 0; s < n; ++s) {
      forward();
      backward();
      update(p_.w1, g_.w1);
      update(p_.b1, g_.b1);
      update(p_.w2, g_.w2);
      update(p_.b2, g_.b2);
      update(p_.w3, g_.w3);
      p_.b3 = p_.b3 - rate * g_.b3;
    }
    return forward();
  }

 private:
  static void update(std::vector<double>& w, const std::vector<double>& g) {
    for (std::size_t k = 0; k < w.size(); ++k)
      w[k] = w[k] - rate * g[k];
  }

  double forward() {
    double hinge_sum = 0.0;
    for (std::size_t p = 0; p < points; ++p) {
      const auto& x = data_.x[p];
      double* pre1 = &pre1_[p * hidden];
      double* h1 = &h1_[p * hidden];
      double* pre2 = &pre2_[p * hidden];
      double* h2 = &h2_[p * hidden];
      for (std::size_t i = 0; i < hidden; ++i) {
        double acc = p_.w1[i * 2] * x[0];
        acc += p_.w1[i * 2 + 1] * x[1];
        acc += p_.b1[i];
        pre1[i] = acc;
        h1[i] = acc > 0 ? acc : 0.0;
      }
      for (std::size_t i = 0; i < hidden; ++i) {
        const double* w = &p_.w2[i * hidden];
        double acc = w[0] * h1[0];
        for (std::size_t j = 1; j < hidden; ++j)
          acc += w[j] * h1[j];
        acc += p_.b2[i];
        pre2[i] = acc;
        h2[i] = acc > 0 ? acc : 0.0;
      }
      double score = p_.w3[0] * h2[0];
      for (std::size_t j = 1; j < hidden; ++j)
        score += p_.w3[j] * h2[j];
      score += p_.b3;
      margin_[p] = 1.0 - data_.y[p] * score;
      const double hinge = margin_[p] > 0 ? margin_[p] : 0.0;
      hinge_sum = p == 0 ? hinge : hinge_sum + hinge;
    }
    double decay = 0.0;
    bool first = true;
    for (const auto* layer : {&p_.w1, &p_.w2, &p_.w3}) {
      for (double w : *layer) {
        decay = first ? w * w : decay + w * w;
        first = false;
      }
    }
    return hinge_sum * inv_points + alpha * decay;
  }

  void backward() {
    // Weight decay first and points from last to first: the engine's reverse-sweep order.
    const auto decay = [](std::vector<double>& g, const std::vector<double>& w) {
      for (std::size_t k = 0; k < w.size(); ++k) {
        g[k] = w[k] * alpha;
        g[k] += w[k] * alpha;
      }
    };
    decay(g_.w3, p_.w3);
    decay(g_.w2, p_.w2);
    decay(g_.w1, p_.w1);
    std::fill(g_.b1.begin(), g_.b1.end(), 0.0);
    std::fill(g_.b2.begin(), g_.b2.end(), 0.0);
    g_.b3 = 0.0;
    for (std::size_t p = points; p-- > 0;) {
      if (!(margin_[p] > 0)) continue;
      // d loss / d score = -y / points.
      const double d_score = data_.y[p] * -inv_points;
      const auto& x = data_.x[p];
      const double* pre1 = &pre1_[p * hidden];
      const double* h1 = &h1_[p * hidden];
      const double* pre2 = &pre2_[p * hidden];
      const double* h2 = &h2_[p * hidden];
      g_.b3 += d_score;
      for (std::size_t j = hidden; j-- > 0;) {
        g_.w3[j] += h2[j] * d_score;
        d2_[j] = pre2[j] > 0 ? p_.w3[j] * d_score : 0.0;
      }
      std::fill(d1_.begin(), d1_.end(), 0.0);
      for (std::size_t i = hidden; i-- > 0;) {
        const double d = d2_[i];
        if (d == 0.0) continue;
        g_.b2[i] += d;
        double* w_grad = &g_.w2[i * hidden];
        const double* w = &p_.w2[i * hidden];
        for (std::size_t j = hidden; j-- > 0;) {
          w_grad[j] += h1[j] * d;
          d1_[j] += w[j] * d;
        }
      }
      for (std::size_t i = hidden; i-- > 0;) {
        if (!(pre1[i] > 0)) continue;
        const double d = d1_[i];
        if (d == 0.0) continue;
        g_.b1[i] += d;
        g_.w1[i * 2 + 1] += x[1] * d;
        g_.w1[i * 2] += x[0] * d;
      }
    }
  }

  const dataset& data_;
  parameters init_, p_, g_;
  std::vector<double> pre1_, h1_, pre2_, h2_, margin_, d1_, d2_;
};

}  // namespace

bool run_mlp(const options& opt, std::vector<verdict>& verdicts) {
  random_source rng(20240607);
  const dataset data = two_moons(rng);
  const parameters init = initial_parameters(rng);
  engine_mlp engine(data, init);
  hand_mlp hand(data, init);
  fmt::print(
      "W1  MLP 2-16-16-1, {} two-moons points, hinge + 1e-4 L2, {} full-batch steps, double, "
      "best of {}\n",
      points, steps, opt.reps);

  double engine_loss = 0.0;
  double hand_loss = 0.0;
  const auto [engine_s, hand_s] = best_of(
      opt.reps,
      [&] {
        engine.reset();
        engine_loss = engine.train(steps);
      },
      [&] {
        hand.reset();
        hand_loss = hand.train(steps);
      });
  const double ratio = engine_s / hand_s;
  const double agree = agreeing_digits(engine_loss, hand_loss);
  fmt::print(
      "  graph of {} nodes; engine {:8.3f} ms/step   hand {:8.3f} ms/step   ratio {:5.2f} "
      "(target <= 15)\n",
      engine.nodes(), engine_s * 1e3 / steps, hand_s * 1e3 / steps, ratio);
  fmt::print("  final loss engine {}  hand {}  (digits agreeing {:.1f})\n", show(engine_loss, 15),
             show(hand_loss, 15), agree);
  verdicts.push_back({"W1 MLP double: engine / hand", ratio, 15.0, "x"});
  if (!(agree >= 12.0)) {
    fmt::print("  ERROR: engine and hand-written losses disagree\n");
    return false;
  }
  return true;
}

}  // namespace chainrule::bench
