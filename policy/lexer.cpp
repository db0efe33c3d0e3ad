// The lexer's driver: feed() runs the fast paths over the bulk of the bytes and
// hands every byte that may change the state to step(); finish() ends what the
// input left open.
#include "policy/lexer.hpp"

#include <bit>
#include <cstring>

namespace djproxy::policy {
namespace {

// The first byte in [p, end) that is `stop` or NUL, or end: eight bytes at a
// time with no library call, for the short spans of quoted names and line
// comments. The lowest flagged byte of the zero-byte test is always a real zero.
inline const unsigned char* find_byte_or_nul(const unsigned char* p, const unsigned char* end, unsigned char stop) {
  if constexpr (std::endian::native == std::endian::little) {
    constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
    constexpr std::uint64_t kHighs = 0x8080808080808080ULL;
    const std::uint64_t pattern = kOnes * stop;
    for (; end - p >= 8; p += 8) {
      std::uint64_t v;
      std::memcpy(&v, p, 8);
      const std::uint64_t x = v ^ pattern;
      const std::uint64_t hit = ((x - kOnes) & ~x & kHighs) | ((v - kOnes) & ~v & kHighs);
      if (hit) return p + (std::countr_zero(hit) >> 3);
    }
  }
  while (p < end && *p != stop && *p != 0) ++p;
  return p;
}

}  // namespace

using namespace lexer_bytes;

Lexer::Lexer(const LexOptions& options, TokenSink& sink)
    : opt_(options), sink_(sink), cls_(classes_of(options.charset).data()) {
  multibyte_ = opt_.charset == CharsetClass::gbk || opt_.charset == CharsetClass::big5 ||
               opt_.charset == CharsetClass::sjis || opt_.charset == CharsetClass::gb18030;
  if (opt_.charset == CharsetClass::unsupported)
    fail(codes::not_supported, "the client character set is not supported by djproxy's reader");
}

void Lexer::fail(std::uint16_t code, std::string message) {
  if (error_.empty()) {
    error_ = std::move(message);
    error_code_ = code;
  }
}

void Lexer::swe7_letter(unsigned char c) {
  // swe7 spells letters with these bytes: there they are part of a name. The
  // single-byte class does not say which charset it is, so they are refused.
  fail(codes::not_supported, std::string("'") + static_cast<char>(c) +
                                 "' outside a literal in a single-byte character set (a letter in swe7)");
}

void Lexer::sysvar_high_byte() {
  // The server reads the name after "@@" byte by byte, with no multi-byte
  // characters (get_7bit_or_8bit_ident), and no variable has such a name.
  fail(codes::not_supported, "non-ASCII byte in a @@variable name");
}

void Lexer::user_var_high_byte() {
  // The server reads an unquoted @name with my_isalnum() byte by byte: in gbk and
  // sjis a lead byte may end the name, and its trail byte may be a quote.
  fail(codes::not_supported, "non-ASCII byte in an unquoted @variable name");
}

bool Lexer::inside_string() const noexcept {
  switch (st_) {
    case St::str: case St::str_esc: case St::str_trail:
      return target_ == Target::token;
    default:
      return false;
  }
}

// Between tokens: spaces and one-byte operators stay here, names, strings and
// quoted names are read on to their ends; everything else is step()'s.
const unsigned char* Lexer::run_normal(const unsigned char* p, const unsigned char* end) {
  while (p < end) {
    const unsigned char c = *p;
    const std::uint16_t k = cls_[c];
    if (k & kSpace) {
      on_space();
      ++p;
    } else if (k & kPunct) {
      on_punct(c);
      ++p;
    } else if (k & kIdent) {
      start_word(c);
      ++p;
      if (st_ != St::word) return p;  // a lead byte, or refused
      p = run_word(p, end);
      if (st_ != St::normal) return p;
    } else if (c == '`' || c == '\'' || c == '"') {
      open_quoted(c);
      ++p;
      p = st_ == St::qident ? run_quoted_name(p, end) : run_string(p, end);
      if (st_ != St::normal) return p;
    } else {
      if (step_normal_special(c)) ++p;
      if (st_ != St::normal || !error_.empty()) return p;
    }
  }
  return p;
}

const unsigned char* Lexer::run_word(const unsigned char* p, const unsigned char* end) {
  // After "@@" only ASCII stays on the fast path; step() refuses the rest.
  const std::uint16_t stop = sysvar_name_ ? (kIdent | kLead | kHigh) : (kIdent | kLead);
  const auto* s = p;
  if (word_all_digits_) {
    bool digits = true;
    while (p < end && (cls_[*p] & stop) == kIdent) {
      digits = digits && (cls_[*p] & kDigit);
      ++p;
    }
    word_all_digits_ = digits;
  } else {
    // Most words: no digit test per byte (the word is no number already).
    while (p < end && (cls_[*p] & stop) == kIdent) ++p;
  }
  append(s, static_cast<std::size_t>(p - s), kIdentCap);
  if (p == end) return p;
  if (!word_goes_on(*p)) {
    end_word();
    return p;
  }
  return step(*p) ? p + 1 : p;
}

// String bodies, the bulk of large statements: escapes are decoded here too, so
// dense blobs stay on the fast path.
const unsigned char* Lexer::run_string(const unsigned char* p, const unsigned char* end) {
  const unsigned char q = quote_;
  const bool esc = !opt_.sql_mode.no_backslash_escapes;
  const unsigned char e = esc ? '\\' : q;
  if (len_ >= kStringCap && !multibyte_ && e != q) {
    // Past the cap nothing more is kept: a blob's bulk only hops over escapes.
    const auto* from = p;
    while (true) {
      while (p < end && *p != q && *p != e) ++p;
      if (p + 1 < end && *p == e) {
        p += 2;
        continue;
      }
      break;
    }
    if (p != from) truncated_ = true;  // what any put would say
  }
  const auto* s = p;
  while (true) {
    if (!multibyte_) {
      while (p < end && *p != q && *p != e) ++p;
    } else {
      while (p < end && *p != q && *p != e && !is_lead(*p)) ++p;
    }
    if (p + 1 >= end) break;
    if (*p == e && e != q) {
      if (len_ < kStringCap) {
        append(s, static_cast<std::size_t>(p - s), kStringCap);
        put_escaped(p[1]);
      } else {
        truncated_ = true;  // what any put would say; the bytes are not kept
      }
      p += 2;
      s = p;
      continue;
    }
    if (*p == q && p[1] == q) {
      append(s, static_cast<std::size_t>(p - s), kStringCap);
      put(q, kStringCap);
      p += 2;
      s = p;
      continue;
    }
    break;
  }
  append(s, static_cast<std::size_t>(p - s), kStringCap);
  if (p == end) return p;
  if (*p == q && p + 1 < end) {  // the closing quote, and a byte after it that is not one
    end_string();
    return p + 1;
  }
  return step(*p) ? p + 1 : p;
}

const unsigned char* Lexer::run_quoted_name(const unsigned char* p, const unsigned char* end) {
  const unsigned char q = quote_;
  while (true) {
    const auto* s = p;
    if (!multibyte_) {
      p = find_byte_or_nul(p, end, q);  // a NUL goes to step(), which refuses it
    } else {
      while (p < end && *p != q && *p != 0 && !is_lead(*p)) ++p;
    }
    append(s, static_cast<std::size_t>(p - s), kIdentCap);
    if (p == end) return p;
    if (*p != q || p + 1 == end) return step(*p) ? p + 1 : p;
    if (p[1] != q) {
      end_quoted_name();
      return p + 1;
    }
    put(q, kIdentCap);  // a doubled quote
    p += 2;
  }
}

void Lexer::feed(std::string_view chunk) {
  const auto* p = reinterpret_cast<const unsigned char*>(chunk.data());
  const auto* const end = p + chunk.size();
  if (!opt_.fast_paths) {
    while (p < end && error_.empty())
      if (step(*p)) ++p;
    return;
  }
  while (p < end && error_.empty()) {
    switch (st_) {
      case St::normal:
        p = run_normal(p, end);
        continue;
      case St::word:
        p = run_word(p, end);
        continue;
      case St::str:
        p = run_string(p, end);
        continue;
      case St::qident:
        p = run_quoted_name(p, end);
        continue;
      // Comment bodies: on to the first byte that may end them.
      case St::comment:
      case St::vnested: {
        const void* hit = std::memchr(p, '*', static_cast<std::size_t>(end - p));
        if (!hit) return;
        p = static_cast<const unsigned char*>(hit);
        break;
      }
      case St::line_comment:
        p = find_byte_or_nul(p, end, '\n');  // or a NUL before it, which step() refuses
        if (p == end) return;
        break;
      case St::vcomment:
        while (p < end && *p != '*' && *p != '/') ++p;
        if (p == end) return;
        break;
      default:
        break;
    }
    if (step(*p)) ++p;
  }
}

void Lexer::finish() {
  if (!error_.empty()) return;
  switch (st_) {
    case St::normal:
    case St::line_comment:
    case St::dash_dash:  // "--" at the very end: the server reads a comment
      break;
    case St::str:
    case St::str_esc:
    case St::str_trail:
      return fail(codes::parse_error, "unterminated string literal");
    case St::qident:
    case St::qident_trail:
      return fail(codes::parse_error, "unterminated quoted identifier");
    case St::comment_open:
    case St::comment_m:
    case St::exec_digits:
    case St::comment:
    case St::comment_star:
    case St::hint:
    case St::hint_star:
    case St::vcomment:
    case St::vcomment_star:
    case St::vcomment_slash:
    case St::vnested:
    case St::vnested_star:
      return fail(codes::parse_error, "unterminated comment");
    default:
      close_token();
      break;
  }
  if (in_exec_) return fail(codes::parse_error, "unterminated executable comment");
  st_ = St::normal;
}

}  // namespace djproxy::policy
