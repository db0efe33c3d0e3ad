// One input read by the lexer in every way a client's bytes can reach it: whole,
// one byte at a time, in fixed and random pieces, and by the state machine alone
// (LexOptions::fast_paths = false). Each reading is recorded with every field of
// every token, the error and whether the input ended inside a string, so a fast
// path that ends a token differently (a flag, a truncation, a keyword) shows.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "policy/lexer.hpp"

namespace djproxy::policy::test {

struct FullRecord final : TokenSink {
  std::string out;
  void on_token(const Token& t) override {
    char head[64];
    std::snprintf(head, sizeof head, "[%d %d %d %d %c%c%c%c ", static_cast<int>(t.kind), t.punct, t.quote,
                  static_cast<int>(t.kw), t.space_before ? 's' : '-', t.after_dot ? 'd' : '-',
                  t.truncated ? 't' : '-', t.reserved ? 'r' : '-');
    out += head;
    for (unsigned char c : t.text) {
      if (c >= 0x20 && c < 0x7f && c != '\\' && c != ']') {
        out += static_cast<char>(c);
      } else {
        char hex[5];
        std::snprintf(hex, sizeof hex, "\\x%02x", c);
        out += hex;
      }
    }
    out += "]";
  }
};

// pieces: where each feed() ends; empty means the whole input at once.
inline std::string read_fully(std::string_view bytes, const LexOptions& o, const std::vector<std::size_t>& pieces) {
  FullRecord r;
  Lexer lexer(o, r);
  std::size_t at = 0;
  for (std::size_t cut : pieces) {
    lexer.feed(bytes.substr(at, cut - at));
    at = cut;
  }
  lexer.feed(bytes.substr(at));
  r.out += lexer.inside_string() ? " <in string>" : "";
  lexer.finish();
  if (lexer.failed()) r.out += " !" + std::to_string(lexer.error_code()) + " " + lexer.error();
  return r.out;
}

inline std::vector<std::size_t> every(std::size_t n, std::size_t size) {
  std::vector<std::size_t> cuts;
  for (std::size_t i = n; i < size; i += n) cuts.push_back(i);
  return cuts;
}

// Expects every reading of `bytes` under `o` to equal the whole one; `seed` picks
// the random cuts. Returns the whole reading.
inline std::string expect_readings_agree(std::string_view bytes, const LexOptions& o, std::uint64_t seed = 1) {
  const std::string whole = read_fully(bytes, o, {});
  auto shown = [&] {
    std::string s;
    for (unsigned char c : bytes.substr(0, 200)) {
      char hex[5];
      std::snprintf(hex, sizeof hex, c >= 0x20 && c < 0x7f ? "%c" : "\\x%02x", c);
      s += hex;
    }
    return s;
  };
  LexOptions slow = o;
  slow.fast_paths = false;
  EXPECT_EQ(read_fully(bytes, slow, {}), whole) << "state machine alone: " << shown();
  EXPECT_EQ(read_fully(bytes, slow, every(1, bytes.size())), whole) << "state machine, bytewise: " << shown();
  for (std::size_t n : {1u, 2u, 3u, 5u, 8u, 13u})
    EXPECT_EQ(read_fully(bytes, o, every(n, bytes.size())), whole) << "pieces of " << n << ": " << shown();
  for (int round = 0; round < 4; ++round) {
    std::vector<std::size_t> cuts;
    for (std::size_t i = 0; i < bytes.size();) {
      seed ^= seed << 13;
      seed ^= seed >> 7;
      seed ^= seed << 17;
      i += 1 + seed % 24;
      if (i < bytes.size()) cuts.push_back(i);
    }
    std::string where;
    for (std::size_t c : cuts) where += std::to_string(c) + ",";
    EXPECT_EQ(read_fully(bytes, o, cuts), whole) << "cut at " << where << ": " << shown();
  }
  return whole;
}

}  // namespace djproxy::policy::test
