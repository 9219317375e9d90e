// SPDX-License-Identifier: MIT
// Switching a lowered model's dropouts between training and evaluation.
//
// `d = dropout(h, rate = p, ...)` checks to `d = mask_d*h/(1 - rate_d)` with the consts rate_d
// and mask_d... (docs/language.md, "Dropout"). A training update uses the mask as written, or for
// a seeded dropout the mask drawn for that update; evaluation sets every mask to 1 and every rate
// to 0, which makes each dropout the identity.
#pragma once

#include <chainrule/engine/engine.hpp>
#include <cstdint>
#include <memory>
#include <vector>

#include "chainrule/lang/lower.hpp"
#include "chainrule/lang/model.hpp"

namespace chainrule::lang {

template <class Real>
class dropout_control {
 public:
  /// `lowered` must be lower(model) and outlive this object.
  dropout_control(const checked_model& model, lowered_model<Real>& lowered);
  ~dropout_control();
  dropout_control(const dropout_control&) = delete;
  dropout_control& operator=(const dropout_control&) = delete;

  /// True when the model has no dropout.
  [[nodiscard]] bool empty() const noexcept;
  /// Sets the masks and rates for training update `step` (1-based) of one row.
  void training(std::uint64_t step);
  /// The same for row `row` (0-based) of update `step` in updates of `rows` rows each: a seeded
  /// mask is the one of draw (step - 1)*rows + row + 1, so every row of every batch has its own
  /// (training(step) is draw `step`, the per-sample case).
  void training(std::uint64_t step, std::uint64_t row, std::uint64_t rows);
  /// Sets every mask to 1 and every rate to 0.
  void evaluation();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

extern template class dropout_control<double>;
extern template class dropout_control<chainrule::mp_real>;

}  // namespace chainrule::lang
