// The state machine over one byte inside comments and at what may open or close
// one: "/* */", optimizer hints, executable comments "/*!" and "/*M!" with their
// versions, "--" and "#".
#include <string>

#include "policy/lexer.hpp"

namespace djproxy::policy {

using namespace lexer_bytes;

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
  } else if (opt_.server_version == 0) {
    return fail(codes::not_supported,
                std::string("executable comment ") + form + " with a version: the server's version is not known");
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

bool Lexer::step_comment(unsigned char c) {
  switch (st_) {
    case St::slash:
      if (c == '*') {
        st_ = St::comment_open;
        return true;
      }
      close_token();
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
      if (c == '!' && opt_.server_version == 0) {
        fail(codes::not_supported, "executable comment /*M!: the server's flavour is not known");
        return true;
      }
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
      if (cls_[c] & kDigit) {
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
      if (c == '*') return true;
      st_ = St::hint;
      return false;
    case St::dash:
      if (c == '-') {
        st_ = St::dash_dash;
        return true;
      }
      close_token();
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
      if (cls_[c] & (kSpace | kCtrl)) {
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
      close_token();
      return false;
    default:
      return true;
  }
}

}  // namespace djproxy::policy
