// The MySQL/MariaDB lexer: one resumable state machine over bytes. Feed it
// chunks of any size (one byte at a time works); it emits tokens to a sink and
// keeps only bounded state. String literal contents are decoded into a small
// buffer up to a cap and otherwise skipped, never stored whole.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "policy/lexer_byte_class.hpp"
#include "policy/short_copy.hpp"
#include "policy/token.hpp"
#include "policy/types.hpp"

namespace djproxy::policy {

class TokenSink {
 public:
  virtual void on_token(const Token& token) = 0;

 protected:
  ~TokenSink() = default;
};

struct LexOptions {
  SqlMode sql_mode;
  ServerFlavour flavour = ServerFlavour::mariadb;
  std::uint32_t server_version = 101119;
  CharsetClass charset = CharsetClass::utf8;
  // false: every byte goes through the state machine, none through the fast
  // paths in feed(). Tests compare the two readings.
  bool fast_paths = true;
};

class Lexer {
 public:
  static constexpr std::size_t kIdentCap = 256;   // longest identifier kept (MySQL: 64 chars)
  static constexpr std::size_t kStringCap = 4096; // longest string literal kept decoded

  Lexer(const LexOptions& options, TokenSink& sink);

  void feed(std::string_view chunk);
  void finish();

  bool failed() const noexcept { return !error_.empty(); }
  // True when the input so far ends inside a string literal: the statement
  // digest reads a truncated statement and still wants that literal.
  bool inside_string() const noexcept;
  const std::string& error() const noexcept { return error_; }
  std::uint16_t error_code() const noexcept { return error_code_; }

 private:
  enum class St : std::uint8_t {
    normal, word, word_trail, num_frac, num_exp_e, num_exp_sign, num_exp_digits, dot,
    str, str_esc, str_quote, str_trail,
    qident, qident_quote, qident_trail,
    at, user_var,
    slash, comment_open, comment_m, exec_digits, comment, comment_star, hint, hint_star,
    // a version comment the server skips: one level of /* */ nests inside it
    vcomment, vcomment_star, vcomment_slash, vnested, vnested_star,
    dash, dash_dash, line_comment, exec_star,
  };
  enum class Target : std::uint8_t { token, user_var };

  void fail(std::uint16_t code, std::string message);
  // Refusals with a message: kept out of line, off the hot path.
  [[gnu::cold, gnu::noinline]] void swe7_letter(unsigned char c);
  [[gnu::cold, gnu::noinline]] void sysvar_high_byte();
  [[gnu::cold, gnu::noinline]] void user_var_high_byte();

  // lexer_tokens.cpp: building tokens, and the one place each kind of token ends.
  // step(), the fast paths in feed() and finish() end tokens only through these.
  void emit(TokenKind kind, char punct = 0);
  void emit_punct(char c) { emit(TokenKind::punct, c); }
  void start_word(unsigned char c);
  void end_word();               // a name or keyword, or a number spelled like a word
  void end_number();             // digits with a '.' or an exponent
  void end_number_before_e();    // "1.e" and no exponent: the 'e' begins a word
  void end_number_e_sign();      // "1.e+" and no digit: number, word e, sign
  void end_string();             // after the closing quote
  void end_quoted_name();        // after the closing quote
  void end_user_var();
  void close_token();            // the token the state holds, as the end of input ends it
  void put_escaped(unsigned char c);

  // lexer_step.cpp and lexer_comments.cpp: one byte in the current state; false when
  // the byte must be read again in the new state.
  bool step(unsigned char c);
  bool step_normal_special(unsigned char c);
  bool step_comment(unsigned char c);
  void decide_exec();

  // lexer.cpp: the fast paths, each consuming the bytes step() would consume
  // without a change of state, and ending tokens through the helpers above.
  const unsigned char* run_normal(const unsigned char* p, const unsigned char* end);
  const unsigned char* run_word(const unsigned char* p, const unsigned char* end);
  const unsigned char* run_string(const unsigned char* p, const unsigned char* end);
  const unsigned char* run_quoted_name(const unsigned char* p, const unsigned char* end);

  // What step() and the fast paths share, inline so the fast paths pay no call.
  bool is_lead(unsigned char c) const noexcept { return (cls_[c] & lexer_bytes::kLead) != 0; }
  bool is_trail(unsigned char c) const noexcept { return (cls_[c] & lexer_bytes::kTrail) != 0; }
  void begin_token() noexcept {
    len_ = 0;
    truncated_ = false;
  }
  void put(unsigned char c, std::size_t cap) noexcept {
    if (len_ < cap)
      buf_[len_++] = static_cast<char>(c);
    else
      truncated_ = true;
  }
  void append(const unsigned char* from, std::size_t n, std::size_t cap) noexcept {
    if (len_ < cap) {
      const std::size_t k = n < cap - len_ ? n : cap - len_;
      copy_short(buf_.data() + len_, reinterpret_cast<const char*>(from), k);
      len_ += k;
      if (k < n) truncated_ = true;
    } else if (n > 0) {
      truncated_ = true;
    }
  }
  // Whitespace, and an operator byte that is a token by itself, in state normal.
  void on_space() noexcept {
    space_before_ = true;
    ident_sep_ = false;
    last_adjacent_ok_ = false;
  }
  void on_punct(unsigned char c) {
    last_adjacent_ok_ = false;
    ident_sep_ = false;
    emit_punct(static_cast<char>(c));
  }
  // A quote in state normal: a string, or a quoted name under its sql_mode.
  void open_quoted(unsigned char c) noexcept {
    last_adjacent_ok_ = false;
    ident_sep_ = false;
    begin_token();
    quote_ = c;
    target_ = Target::token;
    st_ = (c == '`' || (c == '"' && opt_.sql_mode.ansi_quotes)) ? St::qident : St::str;
  }
  // Whether `c` goes on with the unquoted word being read: a name byte, or the '.'
  // that makes a run of digits a decimal number.
  bool word_goes_on(unsigned char c) const noexcept {
    return (cls_[c] & lexer_bytes::kIdent) || (c == '.' && word_all_digits_ && !word_forced_ident_);
  }

  LexOptions opt_;
  TokenSink& sink_;
  St st_ = St::normal;
  std::string error_;
  std::uint16_t error_code_ = 0;

  // token under construction; only the first len_ bytes are ever read
  std::array<char, kStringCap> buf_;
  std::size_t len_ = 0;
  bool truncated_ = false;
  bool space_before_ = true;
  bool after_dot_ = false;
  bool ident_sep_ = false;   // '.' right after an identifier: next word is an identifier
  bool last_adjacent_ok_ = false;  // the last token was a name, with nothing since
  bool word_all_digits_ = false;
  bool word_forced_ident_ = false;
  bool sysvar_name_ = false;  // the word being read, or next, names a @@variable
  bool number_dot_start_ = false;
  unsigned char quote_ = 0;
  Target target_ = Target::token;
  bool in_exec_ = false;
  bool exec_mariadb_ = false;  // /*M!
  std::uint32_t exec_version_ = 0;
  int exec_digits_ = 0;
  char exp_sign_ = 0;

  // the client character set: its byte classes, chosen once
  const std::uint16_t* cls_;
  bool multibyte_ = false;
};

}  // namespace djproxy::policy
