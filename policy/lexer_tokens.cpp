// Building tokens, and the one place each kind of token ends: step(), the fast
// paths in feed() and finish() all end a token through these, so a token ended on
// the fast path is the token the state machine would have handed on.
#include <string_view>

#include "policy/lexer.hpp"

namespace djproxy::policy {
namespace {

bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
bool is_hex(unsigned char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

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
  last_adjacent_ok_ = (kind == TokenKind::word || kind == TokenKind::quoted_ident);
  sysvar_name_ = (kind == TokenKind::sys_var);
  len_ = 0;
  truncated_ = false;
  sink_.on_token(t);
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

void Lexer::end_word() {
  const std::string_view w(buf_.data(), len_);
  // Only a word that begins with a digit can be a number: most words ask no more.
  if (!word_forced_ident_ && is_digit(static_cast<unsigned char>(buf_[0])) &&
      word_is_number(w, word_all_digits_, truncated_))
    emit(TokenKind::number);
  else
    emit(TokenKind::word);
  st_ = St::normal;
}

void Lexer::end_number() {
  emit(TokenKind::number, number_dot_start_ ? '.' : 0);
  st_ = St::normal;
}

void Lexer::end_number_before_e() {
  end_number();
  ident_sep_ = false;
  start_word('e');
}

void Lexer::end_number_e_sign() {
  end_number_before_e();
  end_word();
  emit_punct(exp_sign_);
}

void Lexer::end_string() {
  emit(target_ == Target::user_var ? TokenKind::user_var : TokenKind::string);
  st_ = St::normal;
}

void Lexer::end_quoted_name() {
  emit(target_ == Target::user_var ? TokenKind::user_var : TokenKind::quoted_ident);
  st_ = St::normal;
}

void Lexer::end_user_var() {
  emit(TokenKind::user_var);
  st_ = St::normal;
}

void Lexer::close_token() {
  switch (st_) {
    case St::word:
    case St::word_trail:
      return end_word();
    case St::num_frac:
    case St::num_exp_digits:
      return end_number();
    case St::num_exp_e:
      end_number_before_e();
      return end_word();
    case St::num_exp_sign:
      return end_number_e_sign();
    case St::str_quote:
      return end_string();
    case St::qident_quote:
      return end_quoted_name();
    case St::user_var:
      return end_user_var();
    // a byte that may begin a longer token, and did not
    case St::dot:
      emit_punct('.');
      break;
    case St::at:
      emit_punct('@');
      break;
    case St::slash:
      emit_punct('/');
      break;
    case St::dash:
      emit_punct('-');
      break;
    case St::exec_star:
      emit_punct('*');
      break;
    default:
      return;
  }
  st_ = St::normal;
}

void Lexer::put_escaped(unsigned char c) {
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
}

}  // namespace djproxy::policy
