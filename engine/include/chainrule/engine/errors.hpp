// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace chainrule {

/// A misuse of the graph API: a handle from another graph, a wrong number of inputs, a duplicate
/// name. Always a programming error in the caller.
class usage_error : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

/// A value that cannot be computed: an input outside an op's domain, or NaN/infinity produced.
/// Names the first node where it happened.
class evaluation_error : public std::runtime_error {
 public:
  evaluation_error(const std::string& message, std::uint32_t node)
      : std::runtime_error(message), node_(node) {}
  /// Index of the node whose evaluation failed.
  std::uint32_t node() const noexcept { return node_; }

 private:
  std::uint32_t node_;
};

}  // namespace chainrule
