// SPDX-License-Identifier: MIT
// A small PNG decoder for tests (8-bit grey, grey+alpha, RGB and RGBA, not interlaced: what cairo
// and pdftoppm write), so rendered images can be checked for content, not just for a header.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace chainrule::test {

struct png_image {
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  unsigned channels = 0;           // 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA
  std::vector<std::uint8_t> data;  // rows top to bottom, unfiltered, channels bytes per pixel

  // The pixel as opaque RGB over white, packed 0xRRGGBB.
  std::uint32_t rgb(std::uint32_t x, std::uint32_t y) const {
    const std::uint8_t* p = &data[(static_cast<std::size_t>(y) * width + x) * channels];
    unsigned r = p[0], g = p[0], b = p[0], a = 255;
    if (channels >= 3) {
      g = p[1];
      b = p[2];
    }
    if (channels == 2) a = p[1];
    if (channels == 4) a = p[3];
    const auto over_white = [a](unsigned c) { return (c * a + 255 * (255 - a)) / 255; };
    return (over_white(r) << 16) | (over_white(g) << 8) | over_white(b);
  }
};

inline std::uint32_t png_u32(std::string_view bytes, std::size_t at) {
  const auto byte = [&](std::size_t k) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[at + k]));
  };
  return (byte(0) << 24) | (byte(1) << 16) | (byte(2) << 8) | byte(3);
}

inline png_image decode_png(std::string_view bytes) {
  constexpr std::string_view signature = "\x89PNG\r\n\x1a\n";
  if (bytes.substr(0, 8) != signature) throw std::runtime_error("not a PNG: bad signature");
  png_image image;
  unsigned bit_depth = 0, colour_type = 0, interlace = 0;
  std::string compressed;
  for (std::size_t at = 8; at + 12 <= bytes.size();) {
    const std::uint32_t length = png_u32(bytes, at);
    const std::string_view type = bytes.substr(at + 4, 4);
    if (at + 12 + length > bytes.size()) throw std::runtime_error("PNG chunk runs past the end");
    const std::string_view body = bytes.substr(at + 8, length);
    if (type == "IHDR") {
      image.width = png_u32(body, 0);
      image.height = png_u32(body, 4);
      bit_depth = static_cast<unsigned char>(body[8]);
      colour_type = static_cast<unsigned char>(body[9]);
      interlace = static_cast<unsigned char>(body[12]);
    } else if (type == "IDAT") {
      compressed.append(body);
    } else if (type == "IEND") {
      break;
    }
    at += 12 + length;
  }
  if (bit_depth != 8 || interlace != 0) throw std::runtime_error("unsupported PNG layout");
  switch (colour_type) {
    case 0:
      image.channels = 1;
      break;
    case 4:
      image.channels = 2;
      break;
    case 2:
      image.channels = 3;
      break;
    case 6:
      image.channels = 4;
      break;
    default:
      throw std::runtime_error("unsupported PNG colour type");
  }
  const std::size_t stride = static_cast<std::size_t>(image.width) * image.channels;
  std::vector<std::uint8_t> raw((stride + 1) * image.height);
  uLongf raw_size = static_cast<uLongf>(raw.size());
  if (uncompress(raw.data(), &raw_size, reinterpret_cast<const Bytef*>(compressed.data()),
                 static_cast<uLong>(compressed.size())) != Z_OK ||
      raw_size != raw.size()) {
    throw std::runtime_error("PNG image data does not inflate to width x height");
  }
  // Undo the per-row filters (PNG spec, section 9).
  image.data.resize(stride * image.height);
  const std::size_t bpp = image.channels;
  for (std::size_t row = 0; row < image.height; ++row) {
    const std::uint8_t filter = raw[row * (stride + 1)];
    const std::uint8_t* in = &raw[row * (stride + 1) + 1];
    std::uint8_t* out = &image.data[row * stride];
    const std::uint8_t* up = row > 0 ? &image.data[(row - 1) * stride] : nullptr;
    for (std::size_t i = 0; i < stride; ++i) {
      const int a = i >= bpp ? out[i - bpp] : 0;
      const int b = up != nullptr ? up[i] : 0;
      const int c = (i >= bpp && up != nullptr) ? up[i - bpp] : 0;
      int predictor = 0;
      switch (filter) {
        case 0:
          predictor = 0;
          break;
        case 1:
          predictor = a;
          break;
        case 2:
          predictor = b;
          break;
        case 3:
          predictor = (a + b) / 2;
          break;
        case 4: {
          const int p = a + b - c;
          const int pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
          predictor = (pa <= pb && pa <= pc) ? a : (pb <= pc ? b : c);
          break;
        }
        default:
          throw std::runtime_error("bad PNG filter type");
      }
      out[i] = static_cast<std::uint8_t>((in[i] + predictor) & 0xFF);
    }
  }
  return image;
}

}  // namespace chainrule::test
