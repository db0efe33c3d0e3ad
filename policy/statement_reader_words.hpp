// Tests on tokens and names shared by the files of the token-by-token reader
// (policy/statement_reader*.cpp); internal to it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "policy/keywords.hpp"
#include "policy/token.hpp"

namespace djproxy::policy::reader_words {

inline bool ieq(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// Keywords that steer the reader inside a statement body; every other word is a name.
inline bool structural(Kw k) {
  switch (k) {
    case Kw::FROM: case Kw::JOIN: case Kw::STRAIGHT_JOIN: case Kw::INNER: case Kw::CROSS:
    case Kw::LEFT: case Kw::RIGHT: case Kw::OUTER: case Kw::NATURAL: case Kw::ON: case Kw::USING:
    case Kw::WHERE: case Kw::GROUP: case Kw::HAVING: case Kw::ORDER: case Kw::LIMIT: case Kw::WINDOW:
    case Kw::UNION: case Kw::EXCEPT: case Kw::INTERSECT: case Kw::INTO: case Kw::AS: case Kw::SELECT:
    case Kw::WITH: case Kw::VALUES: case Kw::VALUE: case Kw::TABLE: case Kw::SET: case Kw::REFERENCES:
    case Kw::LIKE: case Kw::LATERAL: case Kw::DUAL: case Kw::TO: case Kw::FOR: case Kw::LOCK:
    case Kw::READ: case Kw::WRITE: case Kw::LOCAL: case Kw::LOW_PRIORITY: case Kw::HIGH_PRIORITY:
    case Kw::DELAYED: case Kw::QUICK: case Kw::IGNORE: case Kw::RETURNING: case Kw::PARTITION:
    case Kw::USE: case Kw::FORCE: case Kw::UPDATE: case Kw::DELETE: case Kw::INSERT: case Kw::REPLACE:
    case Kw::RENAME: case Kw::IN: case Kw::BEGIN: case Kw::IF: case Kw::NOT: case Kw::EXISTS:
    case Kw::AND: case Kw::OR: case Kw::XOR: case Kw::IS: case Kw::NULL_: case Kw::ALL: case Kw::ANY:
    case Kw::SOME: case Kw::DEFAULT:
      return true;
    default:
      return false;
  }
}

inline bool is_name(const Token& t) {
  if (t.kind == TokenKind::quoted_ident) return true;
  return t.kind == TokenKind::word && (t.after_dot || !structural(t.kw));
}

inline std::optional<std::string_view> view(const std::optional<std::string>& s) {
  return s ? std::optional<std::string_view>(*s) : std::nullopt;
}

inline bool is_word(const Token& t, Kw k) { return t.kind == TokenKind::word && !t.after_dot && t.kw == k; }
inline bool is_punct(const Token& t, char c) { return t.kind == TokenKind::punct && t.punct == c; }

}  // namespace djproxy::policy::reader_words
