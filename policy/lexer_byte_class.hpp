// What each byte is to the lexer, one table per client character set, so that the
// state machine and the fast paths in feed() ask the same question of the same
// table and cannot classify a byte differently.
#pragma once

#include <array>
#include <cstdint>

#include "policy/types.hpp"

namespace djproxy::policy::lexer_bytes {

enum : std::uint16_t {
  kSpace = 1 << 0,   // my_isspace in every supported set: 0x09-0x0D and 0x20
  kCtrl = 1 << 1,    // my_iscntrl: below 0x20, and 0x7F
  kDigit = 1 << 2,
  kIdent = 1 << 3,   // begins or continues an unquoted name
  kLead = 1 << 4,    // first byte of a two-byte character
  kTrail = 1 << 5,   // may be the second byte of one
  kHigh = 1 << 6,    // 0x80 and above: refused after "@@" and in unquoted @names
  // Outside a token, a token of its own whatever the session: no quote, no
  // comment opener, no '.' '@' '*' (their reading depends on what surrounds them).
  kPunct = 1 << 7,
};

using ByteClasses = std::array<std::uint16_t, 256>;

namespace detail {

constexpr void mark(ByteClasses& t, int lo, int hi, std::uint16_t bits) {
  for (int i = lo; i <= hi; ++i) t[static_cast<std::size_t>(i)] |= bits;
}

struct Ranges {
  int lo, hi;
};

// high_ident: whether bytes >= 0x80 are name bytes (every set but the single-byte
// ones); lead/trail: the two-byte ranges, empty for one-byte sets.
template <std::size_t L, std::size_t T>
constexpr ByteClasses build(bool high_ident, bool single_byte, const Ranges (&lead)[L], const Ranges (&trail)[T]) {
  ByteClasses t{};
  for (unsigned char c : {' ', '\t', '\n', '\v', '\f', '\r'}) t[c] |= kSpace;
  mark(t, 0x00, 0x1f, kCtrl);
  t[0x7f] |= kCtrl;
  mark(t, '0', '9', kDigit | kIdent);
  mark(t, 'a', 'z', kIdent);
  mark(t, 'A', 'Z', kIdent);
  t['_'] |= kIdent;
  t['$'] |= kIdent;
  mark(t, 0x80, 0xff, kHigh);
  if (high_ident) mark(t, 0x80, 0xff, kIdent);
  for (const Ranges& r : lead)
    if (r.lo <= r.hi) mark(t, r.lo, r.hi, kLead);
  for (const Ranges& r : trail)
    if (r.lo <= r.hi) mark(t, r.lo, r.hi, kTrail);
  for (int c = 0x21; c < 0x7f; ++c) {
    if (t[static_cast<std::size_t>(c)] & kIdent) continue;
    switch (c) {
      case '\'': case '"': case '`': case '.': case '@': case '/': case '-': case '#': case '*':
        continue;
      case '[': case ']': case '^': case '{': case '}': case '~':
        // letters in swe7: refused in every single-byte set, which does not say which
        if (single_byte) continue;
        break;
      default:
        break;
    }
    t[static_cast<std::size_t>(c)] |= kPunct;
  }
  return t;
}

constexpr Ranges kNoRange[] = {{1, 0}};

}  // namespace detail

inline constexpr ByteClasses kUtf8 = detail::build(true, false, detail::kNoRange, detail::kNoRange);
inline constexpr ByteClasses kSingleByte = detail::build(false, true, detail::kNoRange, detail::kNoRange);
inline constexpr ByteClasses kGbk = detail::build(true, false, {{0x81, 0xfe}}, {{0x40, 0x7e}, {0x80, 0xfe}});
inline constexpr ByteClasses kBig5 = detail::build(true, false, {{0xa1, 0xf9}}, {{0x40, 0x7e}, {0xa1, 0xfe}});
inline constexpr ByteClasses kSjis =
    detail::build(true, false, {{0x81, 0x9f}, {0xe0, 0xfc}}, {{0x40, 0x7e}, {0x80, 0xfc}});

// gb18030 is read with gbk's table.
inline const ByteClasses& classes_of(CharsetClass cs) {
  switch (cs) {
    case CharsetClass::gbk:
    case CharsetClass::gb18030:
      return kGbk;
    case CharsetClass::big5:
      return kBig5;
    case CharsetClass::sjis:
      return kSjis;
    case CharsetClass::single_byte:
      return kSingleByte;
    case CharsetClass::utf8:
    case CharsetClass::unsupported:
      break;
  }
  return kUtf8;
}

}  // namespace djproxy::policy::lexer_bytes
