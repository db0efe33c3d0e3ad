// Copies of the few bytes of a name: a call into the C library costs more than the
// copy itself, and the readers copy every name they keep.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace djproxy::policy {

// Copies n bytes from `from` to `to` (not overlapping), reading and writing no byte
// outside [from, from + n) and [to, to + n).
inline void copy_short(char* to, const char* from, std::size_t n) noexcept {
  if (n >= 8) {
    if (n > 16) {
      std::memcpy(to, from, n);
      return;
    }
    std::uint64_t a, b;  // two 8-byte pieces that overlap in the middle
    std::memcpy(&a, from, 8);
    std::memcpy(&b, from + n - 8, 8);
    std::memcpy(to, &a, 8);
    std::memcpy(to + n - 8, &b, 8);
    return;
  }
  if (n >= 4) {
    std::uint32_t a, b;
    std::memcpy(&a, from, 4);
    std::memcpy(&b, from + n - 4, 4);
    std::memcpy(to, &a, 4);
    std::memcpy(to + n - 4, &b, 4);
    return;
  }
  if (n > 0) {  // 1..3 bytes: first, middle, last
    to[0] = from[0];
    to[n / 2] = from[n / 2];
    to[n - 1] = from[n - 1];
  }
}

}  // namespace djproxy::policy
