#include "policy/lexer.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

#include "policy/short_copy.hpp"

namespace djproxy::policy {
namespace {

// ' ', '\t', '\n', '\v', '\f', '\r': one table look-up per byte between tokens.
constexpr auto kSpace = [] {
  std::array<bool, 256> t{};
  for (unsigned char c : {' ', '\t', '\n', '\v', '\f', '\r'}) t[c] = true;
  return t;
}();
bool is_space(unsigned char c) { return kSpace[c]; }
bool is_ctrl(unsigned char c) { return c < 0x20 || c == 0x7f; }
bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
bool is_hex(unsigned char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

using ByteClass = std::array<std::uint8_t, 256>;

constexpr ByteClass range(ByteClass t, int lo, int hi) {
  for (int i = lo; i <= hi; ++i) t[static_cast<std::size_t>(i)] = 1;
  return t;
}

constexpr ByteClass kNone{};
constexpr ByteClass kGbkLead = range(kNone, 0x81, 0xfe);
constexpr ByteClass kGbkTrail = range(range(kNone, 0x40, 0x7e), 0x80, 0xfe);
constexpr ByteClass kBig5Lead = range(kNone, 0xa1, 0xf9);
constexpr ByteClass kBig5Trail = range(range(kNone, 0x40, 0x7e), 0xa1, 0xfe);
constexpr ByteClass kSjisLead = range(range(kNone, 0x81, 0x9f), 0xe0, 0xfc);
constexpr ByteClass kSjisTrail = range(range(kNone, 0x40, 0x7e), 0x80, 0xfc);

constexpr ByteClass ascii_ident() {
  ByteClass t = range(range(range(kNone, 'a', 'z'), 'A', 'Z'), '0', '9');
  t['_'] = 1;
  t['$'] = 1;
  return t;
}
constexpr ByteClass kIdentAscii = ascii_ident();
constexpr ByteClass kIdentHigh = range(ascii_ident(), 0x80, 0xff);

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

// Whether a complete unquoted word is a number literal rather than an identifier.
bool word_is_number(std::string_view w, bool all_digits, bool truncated) {
  if (all_digits) return true;
  if (w.empty() || !is_digit(static_cast<unsigned char>(w[0]))) return false;
  // A hex or bit literal longer than the lexer keeps (a client's 0x... blob) stays a
  // literal: were its unseen tail not hex, the server would read a name in the same
  // place, which no reader position turns into a schema.
  if (truncated && !(w.size() > 2 && w[0] == '0' && (w[1] == 'x' || w[1] == 'b'))) return false;
  if (w.size() > 2 && w[0] == '0' && (w[1] == 'x' || w[1] == 'b')) {
    for (std::size_t i = 2; i < w.size(); ++i) {
      auto c = static_cast<unsigned char>(w[i]);
      if (w[1] == 'x' ? !is_hex(c) : (c != '0' && c != '1')) return false;
    }
    return true;
  }
  // digits [eE] digits
  std::size_t i = 0;
  while (i < w.size() && is_digit(static_cast<unsigned char>(w[i]))) ++i;
  if (i == w.size() || (w[i] != 'e' && w[i] != 'E')) return false;
  ++i;
  if (i == w.size()) return false;
  for (; i < w.size(); ++i)
    if (!is_digit(static_cast<unsigned char>(w[i]))) return false;
  return true;
}

}  // namespace

Lexer::Lexer(const LexOptions& options, TokenSink& sink)
    : opt_(options), sink_(sink), lead_(kNone.data()), trail_(kNone.data()), ident_(kIdentHigh.data()) {
  switch (opt_.charset) {
    case CharsetClass::gbk:
    case CharsetClass::gb18030:
      lead_ = kGbkLead.data();
      trail_ = kGbkTrail.data();
      break;
    case CharsetClass::big5:
      lead_ = kBig5Lead.data();
      trail_ = kBig5Trail.data();
      break;
    case CharsetClass::sjis:
      lead_ = kSjisLead.data();
      trail_ = kSjisTrail.data();
      break;
    default:
      break;
  }
  if (opt_.charset == CharsetClass::single_byte) ident_ = kIdentAscii.data();
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

void Lexer::begin_token() {
  len_ = 0;
  truncated_ = false;
}

void Lexer::append(const unsigned char* from, std::size_t n, std::size_t cap) {
  if (len_ < cap) {
    const std::size_t k = std::min(n, cap - len_);
    copy_short(buf_.data() + len_, reinterpret_cast<const char*>(from), k);
    len_ += k;
    if (k < n) truncated_ = true;
  } else if (n > 0) {
    truncated_ = true;
  }
}

void Lexer::put(unsigned char c, std::size_t cap) {
  if (len_ < cap)
    buf_[len_++] = static_cast<char>(c);
  else
    truncated_ = true;
}

void Lexer::emit(TokenKind kind, char punct) {
  Token t;
  t.kind = kind;
  t.punct = punct;
  t.space_before = space_before_;
  t.after_dot = after_dot_;
  t.truncated = truncated_;
  if (kind == TokenKind::string || kind == TokenKind::quoted_ident) t.quote = static_cast<char>(quote_);
  if (kind != TokenKind::punct) t.text = std::string_view(buf_.data(), len_);
  if (kind == TokenKind::word && !truncated_) {
    const WordFacts w = lookup_word(t.text);
    t.kw = w.kw;
    t.reserved = w.reserved;
  }
  space_before_ = false;
  after_dot_ = (kind == TokenKind::punct && punct == '.');
  last_was_name_ = (kind == TokenKind::word || kind == TokenKind::quoted_ident);
  last_adjacent_ok_ = last_was_name_;
  sysvar_name_ = (kind == TokenKind::sys_var);
  len_ = 0;
  truncated_ = false;
  sink_.on_token(t);
}

void Lexer::emit_word() {
  const std::string_view w(buf_.data(), len_);
  if (!word_forced_ident_ && word_is_number(w, word_all_digits_, truncated_))
    emit(TokenKind::number);
  else
    emit(TokenKind::word);
}

void Lexer::start_word(unsigned char c) {
  if (sysvar_name_ && c >= 0x80) return sysvar_high_byte();
  begin_token();
  word_all_digits_ = is_digit(c);
  word_forced_ident_ = ident_sep_;
  ident_sep_ = false;
  put(c, kIdentCap);
  st_ = is_lead(c) ? St::word_trail : St::word;
}

void Lexer::decide_exec() {
  // The version check of an executable comment, as sql_lex.cc does it, refusing
  // every form whose reading is not certain for the announced server.
  //
  // MariaDB (verified on 10.11): "/*!" or "/*M!" followed by 5 digits, or by 6
  // when a sixth digit follows, is a version comment; with fewer digits it is
  // run and the digits are code. "/*M!" runs when version <= the server's;
  // "/*!" runs when version <= the server's and the version is below 50700 or
  // above 99999. 50700..99999 are MySQL's versions and are skipped -- except
  // 99997, which a Galera node runs (its consistency check) -- so that range is
  // refused, as are "/*!" with six digits (MySQL reads only five of them), "/*M!"
  // with five, 1-4 digits, and every version of seven digits or more.
  // MySQL: "/*!" and five digits runs when version <= the server's; "/*M!" is an
  // ordinary comment.
  const bool mysql = opt_.flavour == ServerFlavour::mysql;
  const std::uint32_t v = exec_version_;
  const int n = exec_digits_;
  const char* form = exec_mariadb_ ? "/*M!" : "/*!";
  bool active = false;
  if (n == 0) {
    active = true;
  } else if (n < 5) {
    return fail(codes::not_supported,
                std::string("executable comment ") + form + " with fewer than 5 version digits");
  } else if (exec_mariadb_) {
    // Five digits run on every MariaDB that has "/*M!" (verified), but a version
    // of MySQL's shape in a MariaDB comment is refused like the other odd forms.
    if (n != 6) return fail(codes::not_supported, "executable comment /*M! with a version that is not 6 digits");
    active = v <= opt_.server_version;
  } else if (n != 5) {
    return fail(codes::not_supported, "executable comment /*! with a version that is not 5 digits");
  } else if (!mysql && v >= 50700) {
    return fail(codes::not_supported,
                "executable comment /*!" + std::to_string(v) +
                    ": MariaDB skips MySQL's versions 50700-99999, except that Galera runs 99997");
  } else {
    active = v <= opt_.server_version;
  }
  if (active) {
    in_exec_ = true;
    st_ = St::normal;
  } else {
    st_ = St::vcomment;
  }
  space_before_ = true;
}

bool Lexer::step(unsigned char c) {
  switch (st_) {
    case St::normal: {
      if (is_space(c)) {
        space_before_ = true;
        ident_sep_ = false;
        last_adjacent_ok_ = false;
        return true;
      }
      if (ident_[c]) {
        start_word(c);
        return true;
      }
      const bool adjacent_name = last_adjacent_ok_;
      last_adjacent_ok_ = false;
      ident_sep_ = false;
      switch (c) {
        case '\'':
          begin_token();
          quote_ = c;
          target_ = Target::token;
          st_ = St::str;
          return true;
        case '"':
          begin_token();
          quote_ = c;
          target_ = Target::token;
          st_ = opt_.sql_mode.ansi_quotes ? St::qident : St::str;
          return true;
        case '`':
          begin_token();
          quote_ = c;
          target_ = Target::token;
          st_ = St::qident;
          return true;
        case '.':
          if (adjacent_name) {
            emit_punct('.');
            ident_sep_ = true;
            return true;
          }
          st_ = St::dot;
          return true;
        case '@':
          st_ = St::at;
          return true;
        case '/':
          st_ = St::slash;
          return true;
        case '-':
          st_ = St::dash;
          return true;
        case '#':
          st_ = St::line_comment;
          return true;
        case '*':
          if (in_exec_) {
            st_ = St::exec_star;
            return true;
          }
          emit_punct('*');
          return true;
        default:
          if (is_ctrl(c)) {
            // 0x09-0x0D and 0x20 are the only spaces in every client character set
            // (and 0xA0 in latin1, refused below); a NUL ends the statement or is a
            // syntax error; any other control byte is a one-byte token, an error.
            fail(codes::parse_error, "control byte outside a literal");
            return true;
          }
          if (opt_.charset == CharsetClass::single_byte &&
              (c == '[' || c == ']' || c == '^' || c == '{' || c == '}' || c == '~')) {
            swe7_letter(c);
            return true;
          }
          if (c >= 0x80) {
            fail(codes::not_supported, "non-ASCII byte outside a literal in a single-byte character set");
            return true;
          }
          emit_punct(static_cast<char>(c));
          return true;
      }
    }
    case St::word:
      if (ident_[c]) {
        if (sysvar_name_ && c >= 0x80) {
          sysvar_high_byte();
          return true;
        }
        if (!is_digit(c)) word_all_digits_ = false;
        put(c, kIdentCap);
        if (is_lead(c)) st_ = St::word_trail;
        return true;
      }
      if (c == '.' && word_all_digits_ && !word_forced_ident_) {
        put(c, kIdentCap);
        st_ = St::num_frac;
        number_dot_start_ = false;
        return true;
      }
      emit_word();
      st_ = St::normal;
      return false;
    case St::word_trail:
      st_ = St::word;
      if (is_trail(c)) {
        word_all_digits_ = false;
        put(c, kIdentCap);
        return true;
      }
      return false;
    case St::dot:
      if (is_digit(c)) {
        begin_token();
        put('.', kIdentCap);
        put(c, kIdentCap);
        number_dot_start_ = true;
        st_ = St::num_frac;
        return true;
      }
      emit_punct('.');
      st_ = St::normal;
      return false;
    case St::num_frac:
      if (is_digit(c)) {
        put(c, kIdentCap);
        return true;
      }
      if (c == 'e' || c == 'E') {
        st_ = St::num_exp_e;
        return true;
      }
      emit(TokenKind::number, number_dot_start_ ? '.' : 0);
      st_ = St::normal;
      return false;
    case St::num_exp_e:
      if (is_digit(c)) {
        st_ = St::num_exp_digits;
        return true;
      }
      if (c == '+' || c == '-') {
        exp_sign_ = static_cast<char>(c);
        st_ = St::num_exp_sign;
        return true;
      }
      // "1.e": the number ends before the 'e', which starts a word.
      emit(TokenKind::number, number_dot_start_ ? '.' : 0);
      ident_sep_ = false;
      start_word('e');
      return false;
    case St::num_exp_sign:
      if (is_digit(c)) {
        st_ = St::num_exp_digits;
        return true;
      }
      emit(TokenKind::number, number_dot_start_ ? '.' : 0);
      begin_token();
      put('e', kIdentCap);
      emit(TokenKind::word);
      emit_punct(exp_sign_);
      st_ = St::normal;
      return false;
    case St::num_exp_digits:
      if (is_digit(c)) return true;
      emit(TokenKind::number, number_dot_start_ ? '.' : 0);
      st_ = St::normal;
      return false;
    case St::str:
      if (c == quote_) {
        st_ = St::str_quote;
      } else if (c == '\\' && !opt_.sql_mode.no_backslash_escapes) {
        st_ = St::str_esc;
      } else {
        put(c, kStringCap);
        if (is_lead(c)) st_ = St::str_trail;
      }
      return true;
    case St::str_trail:
      st_ = St::str;
      if (is_trail(c)) {
        put(c, kStringCap);
        return true;
      }
      return false;
    case St::str_esc: {
      unsigned char d = c;
      switch (c) {
        case '0': d = 0; break;
        case 'b': d = 8; break;
        case 'n': d = '\n'; break;
        case 'r': d = '\r'; break;
        case 't': d = '\t'; break;
        case 'Z': d = 26; break;
        case '%':
        case '_': put('\\', kStringCap); break;
        default: break;
      }
      put(d, kStringCap);
      // A backslash escapes one byte, even a lead byte: the server's get_text()
      // skips exactly one byte after '\', so the next byte is read on its own
      // (in gbk "'\\\x81\\'" the second backslash escapes the quote).
      st_ = St::str;
      return true;
    }
    case St::str_quote:
      if (c == quote_) {  // doubled quote
        put(c, kStringCap);
        st_ = St::str;
        return true;
      }
      if (target_ == Target::user_var) {
        emit(TokenKind::user_var);
      } else {
        emit(TokenKind::string);
      }
      st_ = St::normal;
      return false;
    case St::qident:
      if (c == quote_) {
        st_ = St::qident_quote;
      } else if (c == 0) {
        // The server's scan_ident_delimited() stops at a NUL byte.
        fail(codes::parse_error, "NUL byte in a quoted identifier");
      } else {
        put(c, kIdentCap);
        if (is_lead(c)) st_ = St::qident_trail;
      }
      return true;
    case St::qident_trail:
      st_ = St::qident;
      if (is_trail(c)) {
        put(c, kIdentCap);
        return true;
      }
      return false;
    case St::qident_quote:
      if (c == quote_) {
        put(c, kIdentCap);
        st_ = St::qident;
        return true;
      }
      if (target_ == Target::user_var) {
        emit(TokenKind::user_var);
      } else {
        emit(TokenKind::quoted_ident);
      }
      st_ = St::normal;
      return false;
    case St::at:
      if (c == '@') {
        begin_token();
        emit(TokenKind::sys_var);
        st_ = St::normal;
        return true;
      }
      begin_token();
      if (c == '\'' || c == '"' || c == '`') {
        quote_ = c;
        target_ = Target::user_var;
        st_ = (c == '`' || (c == '"' && opt_.sql_mode.ansi_quotes)) ? St::qident : St::str;
        return true;
      }
      if (ident_[c] || c == '.') {
        if (c >= 0x80) {
          user_var_high_byte();
          return true;
        }
        put(c, kIdentCap);
        st_ = St::user_var;
        return true;
      }
      emit_punct('@');
      st_ = St::normal;
      return false;
    case St::user_var:
      if (ident_[c] || c == '.') {
        if (c >= 0x80) {
          user_var_high_byte();
          return true;
        }
        put(c, kIdentCap);
        return true;
      }
      emit(TokenKind::user_var);
      st_ = St::normal;
      return false;
    case St::slash:
      if (c == '*') {
        st_ = St::comment_open;
        return true;
      }
      emit_punct('/');
      st_ = St::normal;
      return false;
    case St::comment_open:
      if (in_exec_) {
        fail(codes::not_supported, "comment nested inside an executable comment");
        return true;
      }
      space_before_ = true;
      last_adjacent_ok_ = false;
      ident_sep_ = false;
      if (c == '!') {
        exec_mariadb_ = false;
        exec_digits_ = 0;
        exec_version_ = 0;
        st_ = St::exec_digits;
        return true;
      }
      if (c == '+') {
        st_ = St::hint;
        return true;
      }
      if (c == 'M') {
        st_ = St::comment_m;
        return true;
      }
      st_ = St::comment;
      return false;
    case St::comment_m:
      if (c == '!' && opt_.flavour == ServerFlavour::mariadb) {
        exec_mariadb_ = true;
        exec_digits_ = 0;
        exec_version_ = 0;
        st_ = St::exec_digits;
        return true;
      }
      st_ = St::comment;
      return false;
    case St::exec_digits:
      if (is_digit(c)) {
        if (exec_digits_ < 9) exec_version_ = exec_version_ * 10 + static_cast<std::uint32_t>(c - '0');
        ++exec_digits_;
        return true;
      }
      decide_exec();
      return false;
    case St::comment:
      if (c == '*') st_ = St::comment_star;
      return true;
    case St::comment_star:
      if (c == '/') {
        st_ = St::normal;
        space_before_ = true;
      } else if (c != '*') {
        st_ = St::comment;
      }
      return true;
    // A skipped version comment: the server's consume_comment(1) lets one level
    // of "/* */" nest inside, so the first "*/" after a nested "/*" does not end it.
    case St::vcomment:
      if (c == '*') st_ = St::vcomment_star;
      else if (c == '/') st_ = St::vcomment_slash;
      return true;
    case St::vcomment_star:
      if (c == '/') {
        st_ = St::normal;
        space_before_ = true;
        return true;
      }
      st_ = St::vcomment;
      return false;
    case St::vcomment_slash:
      if (c == '*') {
        st_ = St::vnested;  // "/*/" opens the nested comment; the '/' is inside it
        return true;
      }
      st_ = St::vcomment;
      return false;
    case St::vnested:
      if (c == '*') st_ = St::vnested_star;
      return true;
    case St::vnested_star:
      if (c == '/') {
        st_ = St::vcomment;
        return true;
      }
      st_ = St::vnested;
      return false;
    case St::hint:
      if (c == '\'' || c == '"' || c == '`') {
        fail(codes::not_supported, "quote inside an optimizer hint comment");
        return true;
      }
      if (c == '*') st_ = St::hint_star;
      return true;
    case St::hint_star:
      if (c == '/') {
        st_ = St::normal;
        space_before_ = true;
        return true;
      }
      if (c != '*') st_ = St::hint;
      return c == '*' ? true : false;
    case St::dash:
      if (c == '-') {
        st_ = St::dash_dash;
        return true;
      }
      emit_punct('-');
      st_ = St::normal;
      return false;
    case St::dash_dash:
      // "--" starts a comment when the next byte is my_isspace() or my_iscntrl()
      // in the client character set. That byte is not consumed: "--\n" is a
      // comment that ends right there, and the next line is code.
      if (opt_.charset == CharsetClass::single_byte && (c == 0x7f || c >= 0x80)) {
        // latin1 counts 0xA0 as a space, cp1251 does not count 0x7F as a control
        fail(codes::not_supported, "\"--\" followed by a byte whose class differs between single-byte character sets");
        return true;
      }
      if (is_space(c) || is_ctrl(c)) {
        st_ = St::line_comment;
        space_before_ = true;
        last_adjacent_ok_ = false;
        return false;
      }
      emit_punct('-');
      st_ = St::dash;  // the second dash may still start a comment
      return false;
    case St::line_comment:
      // Ends at '\n' only ('\r' does not end it). The server also ends it at a NUL
      // byte, which then ends the statement or is a syntax error: refused.
      if (c == '\n') {
        st_ = St::normal;
        space_before_ = true;
        last_adjacent_ok_ = false;
      } else if (c == 0) {
        fail(codes::parse_error, "NUL byte in a comment");
      }
      return true;
    case St::exec_star:
      if (c == '/') {
        in_exec_ = false;
        st_ = St::normal;
        space_before_ = true;
        last_adjacent_ok_ = false;
        ident_sep_ = false;
        return true;
      }
      emit_punct('*');
      st_ = St::normal;
      return false;
  }
  return true;
}

bool Lexer::inside_string() const noexcept {
  switch (st_) {
    case St::str: case St::str_esc: case St::str_trail:
      return target_ == Target::token;
    default:
      return false;
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
    // Between tokens, the most frequent state, there is no fast path: straight to step().
    if (st_ == St::normal) {
      if (step(*p)) ++p;
      continue;
    }
    // Fast paths for the bulk of large statements: string bodies and comments.
    // Each must decide exactly as step() would (tests run both ways).
    if (st_ == St::str) {
      const bool esc = !opt_.sql_mode.no_backslash_escapes;
      const bool mb = opt_.charset == CharsetClass::gbk || opt_.charset == CharsetClass::big5 ||
                      opt_.charset == CharsetClass::sjis || opt_.charset == CharsetClass::gb18030;
      const auto* s = p;
      if (!mb) {
        // Escapes are decoded here too, so dense blobs stay on the fast path.
        const unsigned char q = quote_;
        const unsigned char e = esc ? '\\' : q;
        while (true) {
          while (p < end && *p != q && *p != e) ++p;
          if (p + 1 < end && *p == e && e != q && len_ >= kStringCap) {
            truncated_ = true;
            p += 2;
            s = p;
            continue;
          }
          break;
        }
      } else {
        while (p < end && *p != quote_ && !(esc && *p == '\\') && !is_lead(*p)) ++p;
      }
      append(s, static_cast<std::size_t>(p - s), kStringCap);
      if (p == end) break;
    } else if (st_ == St::word) {
      // Names and keywords, the bulk of ordinary statements: a table look-up per byte.
      const auto* s = p;
      bool digits = word_all_digits_;
      // After "@@" only ASCII stays on the fast path; step() refuses the rest.
      const std::uint8_t* const ident = sysvar_name_ ? kIdentAscii.data() : ident_;
      while (p < end && ident[*p] && !lead_[*p]) {
        digits = digits && is_digit(*p);
        ++p;
      }
      word_all_digits_ = digits;
      append(s, static_cast<std::size_t>(p - s), kIdentCap);
      if (p == end) break;
    } else if (st_ == St::qident) {
      const auto* s = p;
      const unsigned char q = quote_;
      if (lead_ == kNone.data()) {
        p = find_byte_or_nul(p, end, q);  // a NUL goes to step(), which refuses it
      } else {
        while (p < end && *p != q && *p != 0 && !lead_[*p]) ++p;
      }
      append(s, static_cast<std::size_t>(p - s), kIdentCap);
      if (p == end) break;
      // The closing quote with the byte after it in this chunk: finish the name
      // here instead of two more trips through step().
      if (*p == q && p + 1 < end) {
        if (p[1] == q) {
          put(q, kIdentCap);
          p += 2;
          continue;
        }
        emit(target_ == Target::user_var ? TokenKind::user_var : TokenKind::quoted_ident);
        st_ = St::normal;
        ++p;
        continue;
      }
    } else if (st_ == St::comment) {
      const void* hit = std::memchr(p, '*', static_cast<std::size_t>(end - p));
      if (!hit) break;
      p = static_cast<const unsigned char*>(hit);
    } else if (st_ == St::line_comment) {
      // Up to the newline, or to a NUL before it, which step() refuses.
      p = find_byte_or_nul(p, end, '\n');
      if (p == end) break;
    } else if (st_ == St::vcomment) {
      while (p < end && *p != '*' && *p != '/') ++p;
      if (p == end) break;
    } else if (st_ == St::vnested) {
      const void* hit = std::memchr(p, '*', static_cast<std::size_t>(end - p));
      if (!hit) break;
      p = static_cast<const unsigned char*>(hit);
    }
    if (step(*p)) ++p;
  }
}

void Lexer::finish() {
  if (!error_.empty()) return;
  switch (st_) {
    case St::normal:
    case St::line_comment:
      break;
    case St::word:
    case St::word_trail:
      emit_word();
      break;
    case St::num_frac:
    case St::num_exp_digits:
      emit(TokenKind::number, number_dot_start_ ? '.' : 0);
      break;
    case St::num_exp_e:
      emit(TokenKind::number, number_dot_start_ ? '.' : 0);
      begin_token();
      put('e', kIdentCap);
      emit(TokenKind::word);
      break;
    case St::num_exp_sign:
      emit(TokenKind::number, number_dot_start_ ? '.' : 0);
      begin_token();
      put('e', kIdentCap);
      emit(TokenKind::word);
      emit_punct(exp_sign_);
      break;
    case St::dot:
      emit_punct('.');
      break;
    case St::str_quote:
      if (target_ == Target::user_var) emit(TokenKind::user_var);
      else emit(TokenKind::string);
      break;
    case St::qident_quote:
      if (target_ == Target::user_var) emit(TokenKind::user_var);
      else emit(TokenKind::quoted_ident);
      break;
    case St::at:
      emit_punct('@');
      break;
    case St::user_var:
      emit(TokenKind::user_var);
      break;
    case St::slash:
      emit_punct('/');
      break;
    case St::dash:
      emit_punct('-');
      break;
    case St::dash_dash:
      break;  // "--" at the very end: the server reads a comment
    case St::exec_star:
      emit_punct('*');
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
  }
  if (in_exec_) return fail(codes::parse_error, "unterminated executable comment");
  st_ = St::normal;
}

}  // namespace djproxy::policy
