// The state machine over one byte, for everything but comments: words, numbers,
// strings, quoted names and variables. It decides every change of state; the fast
// paths in feed() only skip the bytes it would consume without one.
#include "policy/lexer.hpp"

namespace djproxy::policy {
namespace {

bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

}  // namespace

using namespace lexer_bytes;

bool Lexer::step(unsigned char c) {
  switch (st_) {
    case St::normal: {
      const std::uint16_t k = cls_[c];
      if (k & kSpace) {
        on_space();
        return true;
      }
      if (k & kIdent) {
        start_word(c);
        return true;
      }
      if (k & kPunct) {
        on_punct(c);
        return true;
      }
      return step_normal_special(c);
    }
    case St::word:
      if (!word_goes_on(c)) {
        end_word();
        return false;
      }
      if (c == '.') {
        put(c, kIdentCap);
        st_ = St::num_frac;
        number_dot_start_ = false;
        return true;
      }
      if (sysvar_name_ && c >= 0x80) {
        sysvar_high_byte();
        return true;
      }
      if (!is_digit(c)) word_all_digits_ = false;
      put(c, kIdentCap);
      if (is_lead(c)) st_ = St::word_trail;
      return true;
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
      close_token();
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
      end_number();
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
      end_number_before_e();
      return false;
    case St::num_exp_sign:
      if (is_digit(c)) {
        st_ = St::num_exp_digits;
        return true;
      }
      end_number_e_sign();
      return false;
    case St::num_exp_digits:
      if (is_digit(c)) return true;
      end_number();
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
    case St::str_esc:
      // A backslash escapes one byte, even a lead byte: the server's get_text()
      // skips exactly one byte after '\', so the next byte is read on its own
      // (in gbk "'\\\x81\\'" the second backslash escapes the quote).
      put_escaped(c);
      st_ = St::str;
      return true;
    case St::str_quote:
      if (c == quote_) {  // doubled quote
        put(c, kStringCap);
        st_ = St::str;
        return true;
      }
      end_string();
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
      end_quoted_name();
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
      if ((cls_[c] & kIdent) || c == '.') {
        if (c >= 0x80) {
          user_var_high_byte();
          return true;
        }
        put(c, kIdentCap);
        st_ = St::user_var;
        return true;
      }
      close_token();
      return false;
    case St::user_var:
      if ((cls_[c] & kIdent) || c == '.') {
        if (c >= 0x80) {
          user_var_high_byte();
          return true;
        }
        put(c, kIdentCap);
        return true;
      }
      end_user_var();
      return false;
    default:
      return step_comment(c);
  }
}

// State normal, a byte that is neither space nor a name byte nor an operator of
// its own: quotes, comment openers, '.', '@', '*', and the bytes refused there.
bool Lexer::step_normal_special(unsigned char c) {
  if (c == '\'' || c == '"' || c == '`') {
    open_quoted(c);
    return true;
  }
  const bool adjacent_name = last_adjacent_ok_;
  last_adjacent_ok_ = false;
  ident_sep_ = false;
  switch (c) {
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
      break;
  }
  if (cls_[c] & kCtrl) {
    // 0x09-0x0D and 0x20 are the only spaces in every client character set
    // (and 0xA0 in latin1, refused below); a NUL ends the statement or is a
    // syntax error; any other control byte is a one-byte token, an error.
    fail(codes::parse_error, "control byte outside a literal");
    return true;
  }
  if (c >= 0x80) {
    fail(codes::not_supported, "non-ASCII byte outside a literal in a single-byte character set");
    return true;
  }
  // What is left, in a single-byte set, is one of [ ] ^ { } ~ (kPunct says the rest).
  swe7_letter(c);
  return true;
}

}  // namespace djproxy::policy
