#pragma once
// Test helpers: byte strings written as hex, and packets built from payloads.
#include <cstdint>
#include <string>
#include <vector>

#include "proxy/protocol/wire.hpp"

namespace djproxy::protocol::testing {

inline std::vector<std::uint8_t> hex(const std::string& text) {
  std::vector<std::uint8_t> out;
  int high = -1;
  for (char c : text) {
    int v;
    if (c >= '0' && c <= '9') v = c - '0';
    else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
    else continue;
    if (high < 0) {
      high = v;
    } else {
      out.push_back(static_cast<std::uint8_t>(high * 16 + v));
      high = -1;
    }
  }
  return out;
}

inline std::vector<std::uint8_t> bytes(const std::string& s) { return {s.begin(), s.end()}; }

inline Bytes view(const std::vector<std::uint8_t>& v) { return Bytes(v.data(), v.size()); }
inline Bytes view(const std::string& s) { return Bytes(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()); }

}  // namespace djproxy::protocol::testing
