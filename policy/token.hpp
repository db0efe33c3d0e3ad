// A token as the lexer hands it to the statement reader. The text lives in the
// lexer's own bounded buffer and is valid only during the callback.
#pragma once

#include <cstdint>
#include <string_view>

#include "policy/keywords.hpp"

namespace djproxy::policy {

enum class TokenKind : std::uint8_t {
  word,          // unquoted identifier or keyword
  quoted_ident,  // `x`, or "x" under ANSI_QUOTES
  string,        // '...' or "..." (decoded text, possibly truncated)
  number,        // integer, decimal, float, 0x.., 0b..
  user_var,      // @name, @'name', @`name` (text = name)
  sys_var,       // @@ (the variable name follows as ordinary tokens)
  punct,         // one operator/punctuation byte in `punct`
};

struct Token {
  TokenKind kind = TokenKind::punct;
  char punct = 0;
  char quote = 0;            // opening quote of a string or quoted identifier
  Kw kw = Kw::none;          // for words: keyword id
  bool space_before = false; // whitespace or a comment precedes this token
  bool after_dot = false;    // word read right after '.' (always an identifier)
  bool truncated = false;    // text longer than the lexer keeps
  bool reserved = false;     // for words: MariaDB reserves it (lookup_word)
  std::string_view text;
};

}  // namespace djproxy::policy
