// SPDX-License-Identifier: MIT
#include "source_text.hpp"

#include <fmt/format.h>
#include <algorithm>

#include "chainrule/lang/parser.hpp"

namespace chainrule::lang::detail {
namespace {

bool is_continuation(unsigned char c) noexcept {
  return (c & 0xC0u) == 0x80u;
}

// Length of the valid UTF-8 sequence starting at s[i], or 0 if it is not valid (overlong forms,
// surrogates and code points above U+10FFFF are rejected, as RFC 3629 requires).
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) noexcept {
  const auto b0 = static_cast<unsigned char>(s[i]);
  const auto at = [&](std::size_t k) -> unsigned {
    return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0u;
  };
  if (b0 < 0x80u) return 1;
  if (b0 >= 0xC2u && b0 <= 0xDFu) return is_continuation(static_cast<unsigned char>(at(1))) ? 2 : 0;
  if (b0 >= 0xE0u && b0 <= 0xEFu) {
    const unsigned b1 = at(1);
    const unsigned lo = b0 == 0xE0u ? 0xA0u : 0x80u;
    const unsigned hi = b0 == 0xEDu ? 0x9Fu : 0xBFu;
    if (b1 < lo || b1 > hi) return 0;
    return is_continuation(static_cast<unsigned char>(at(2))) ? 3 : 0;
  }
  if (b0 >= 0xF0u && b0 <= 0xF4u) {
    const unsigned b1 = at(1);
    const unsigned lo = b0 == 0xF0u ? 0x90u : 0x80u;
    const unsigned hi = b0 == 0xF4u ? 0x8Fu : 0xBFu;
    if (b1 < lo || b1 > hi) return 0;
    if (!is_continuation(static_cast<unsigned char>(at(2)))) return 0;
    return is_continuation(static_cast<unsigned char>(at(3))) ? 4 : 0;
  }
  return 0;
}

}  // namespace

std::size_t count_code_points(std::string_view s) noexcept {
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return !is_continuation(static_cast<unsigned char>(c)); }));
}

std::string describe_byte_limit(std::size_t bytes) {
  constexpr std::size_t mebibyte = 1024u * 1024u;
  if (bytes >= mebibyte && bytes % mebibyte == 0)
    return fmt::format("{} bytes, {} MiB", bytes, bytes / mebibyte);
  return fmt::format("{} bytes", bytes);
}

model_error file_too_large(const std::string& file, std::string_view what, std::uintmax_t size,
                           std::size_t max_bytes) {
  return model_error({diagnostic{severity::error,
                                 source_location{file, 0, 0, 1},
                                 fmt::format("{} is too large ({} bytes; the limit is {})", what,
                                             size, describe_byte_limit(max_bytes)),
                                 "a smaller file; chainrule --max-file-size raises the limit",
                                 {},
                                 {}}});
}

source_text::source_text(std::string file, std::string_view text, std::string_view what,
                         std::size_t max_bytes)
    : file_(std::move(file)), text_(text) {
  if (text.size() > max_bytes) throw file_too_large(file_, what, text.size(), max_bytes);
  line_starts_.push_back(0);
  for (std::size_t i = 0; i < text.size();) {
    const char c = text[i];
    if (c == '\n') {
      line_starts_.push_back(i + 1);
      ++i;
      continue;
    }
    if (c == '\0') {
      auto where = location(i);
      auto d = make(severity::error, where,
                    fmt::format("{} contains a NUL byte (is it a binary file?)", what));
      d.source_line = std::string(text.substr(line_starts_.back(), i - line_starts_.back()));
      throw model_error({std::move(d)});
    }
    const std::size_t n = utf8_sequence_length(text, i);
    if (n == 0) {
      auto where = location(i);
      auto d = make(
          severity::error, where,
          fmt::format("invalid UTF-8 in {} (byte 0x{:02X})", what, static_cast<unsigned char>(c)));
      // The line may hold the bad byte itself; show the valid part only.
      d.source_line = std::string(text.substr(line_starts_.back(), i - line_starts_.back()));
      throw model_error({std::move(d)});
    }
    i += n;
  }
}

source_location source_text::location(std::size_t offset, std::size_t length_bytes) const {
  offset = std::min(offset, text_.size());
  const auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
  const auto line = static_cast<std::uint32_t>(it - line_starts_.begin());
  const std::size_t line_start = line_starts_[line - 1];
  std::uint32_t column = 0;
  if (line == cached_line_ && offset >= cached_offset_ && cached_offset_ >= line_start) {
    column = cached_column_ + static_cast<std::uint32_t>(count_code_points(
                                  text_.substr(cached_offset_, offset - cached_offset_)));
  } else {
    column = 1 + static_cast<std::uint32_t>(
                     count_code_points(text_.substr(line_start, offset - line_start)));
  }
  cached_line_ = line;
  cached_offset_ = offset;
  cached_column_ = column;
  const auto length = count_code_points(text_.substr(offset, length_bytes));
  return source_location{file_, line, column,
                         static_cast<std::uint32_t>(std::max<std::size_t>(length, 1))};
}

source_location source_text::end_location() const {
  return location(text_.size(), 0);
}

std::string_view source_text::line_text(std::uint32_t line) const {
  if (line == 0 || line > line_starts_.size()) return {};
  const std::size_t start = line_starts_[line - 1];
  std::size_t end = text_.find('\n', start);
  if (end == std::string_view::npos) end = text_.size();
  if (end > start && text_[end - 1] == '\r') --end;
  return text_.substr(start, end - start);
}

diagnostic source_text::make(severity level, const source_location& where, std::string message,
                             std::string expected) const {
  return diagnostic{level,
                    where,
                    std::move(message),
                    std::move(expected),
                    {},
                    std::string(line_text(where.line))};
}

diagnostic_note source_text::note(const source_location& where, std::string message) const {
  return diagnostic_note{where, std::move(message), std::string(line_text(where.line))};
}

}  // namespace chainrule::lang::detail
