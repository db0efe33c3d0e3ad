#pragma once
// Little-endian field readers and writers of the MySQL protocol. A Reader never reads
// past its end: a short field sets it failed and every later read returns zero/empty,
// so a parser checks ok() once at the end instead of after every field.
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace djproxy::protocol {

using Bytes = std::span<const std::uint8_t>;

inline std::string_view as_chars(Bytes b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

class Reader {
 public:
  explicit Reader(Bytes data) : data_(data) {}

  bool ok() const { return ok_; }
  bool at_end() const { return pos_ >= data_.size(); }
  std::size_t remaining() const { return ok_ ? data_.size() - pos_ : 0; }
  std::size_t position() const { return pos_; }

  std::uint64_t fixed(std::size_t width) {
    if (!take(width)) return 0;
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < width; ++i) v |= std::uint64_t{data_[pos_ - width + i]} << (8 * i);
    return v;
  }
  std::uint8_t u8() { return static_cast<std::uint8_t>(fixed(1)); }
  std::uint16_t u16() { return static_cast<std::uint16_t>(fixed(2)); }
  std::uint32_t u24() { return static_cast<std::uint32_t>(fixed(3)); }
  std::uint32_t u32() { return static_cast<std::uint32_t>(fixed(4)); }

  // Length-encoded integer. 0xFB (NULL) and 0xFF are not integers: they fail the reader.
  std::uint64_t lenenc() {
    const std::uint8_t first = u8();
    if (!ok_) return 0;
    if (first < 0xFB) return first;
    if (first == 0xFC) return fixed(2);
    if (first == 0xFD) return fixed(3);
    if (first == 0xFE) return fixed(8);
    ok_ = false;
    return 0;
  }

  Bytes bytes(std::size_t n) {
    if (!take(n)) return {};
    return data_.subspan(pos_ - n, n);
  }
  Bytes lenenc_bytes() {
    const std::uint64_t n = lenenc();
    if (!ok_ || n > remaining()) {
      ok_ = false;
      return {};
    }
    return bytes(static_cast<std::size_t>(n));
  }
  // NUL-terminated; the NUL is consumed but not returned.
  Bytes nul_terminated() {
    if (!ok_) return {};
    const void* nul = std::memchr(data_.data() + pos_, 0, data_.size() - pos_);
    if (nul == nullptr) {
      ok_ = false;
      return {};
    }
    const std::size_t n = static_cast<const std::uint8_t*>(nul) - (data_.data() + pos_);
    Bytes out = data_.subspan(pos_, n);
    pos_ += n + 1;
    return out;
  }
  Bytes rest() {
    if (!ok_) return {};
    Bytes out = data_.subspan(pos_);
    pos_ = data_.size();
    return out;
  }
  void skip(std::size_t n) { take(n); }

 private:
  bool take(std::size_t n) {
    if (!ok_ || n > data_.size() - pos_) {
      ok_ = false;
      return false;
    }
    pos_ += n;
    return true;
  }

  Bytes data_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

// Appends protocol fields to a byte string. The caller reserves the header space
// (see packet.hpp) so that building a packet is one buffer and one write.
class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}

  void fixed(std::uint64_t v, std::size_t width) {
    for (std::size_t i = 0; i < width; ++i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  }
  void u8(std::uint8_t v) { fixed(v, 1); }
  void u16(std::uint16_t v) { fixed(v, 2); }
  void u24(std::uint32_t v) { fixed(v, 3); }
  void u32(std::uint32_t v) { fixed(v, 4); }
  void lenenc(std::uint64_t v) {
    if (v < 0xFB) {
      u8(static_cast<std::uint8_t>(v));
    } else if (v <= 0xFFFF) {
      u8(0xFC);
      fixed(v, 2);
    } else if (v <= 0xFFFFFF) {
      u8(0xFD);
      fixed(v, 3);
    } else {
      u8(0xFE);
      fixed(v, 8);
    }
  }
  void bytes(std::string_view s) { out_.append(s); }
  void bytes(Bytes b) { out_.append(as_chars(b)); }
  void lenenc_bytes(std::string_view s) {
    lenenc(s.size());
    bytes(s);
  }
  void nul_terminated(std::string_view s) {
    bytes(s);
    out_.push_back('\0');
  }
  void zeros(std::size_t n) { out_.append(n, '\0'); }

 private:
  std::string& out_;
};

}  // namespace djproxy::protocol
