// Whether a statement reads or writes a file on the database server: SELECT ... INTO
// OUTFILE / DUMPFILE, LOAD DATA / XML without LOCAL, LOAD_FILE(), and a table's DATA or
// INDEX DIRECTORY. The server does these with its own account's rights, wherever
// secure_file_priv lets it, so no prefix confines them.
//
// Found on the token stream, not the grammar: in a migration session the statement is
// read by the lenient reader, which does not follow every clause, and a stored
// program's body or PREPARE text carries the same words. Each sign is one that the
// server's grammar reads only as file access (sql/sql_yacc.yy): OUTFILE and INFILE are
// reserved; DUMPFILE is not, so only INTO DUMPFILE counts; LOAD_FILE names the native
// function quoted or not, with any space before '(' (checked on MariaDB 10.11), but a
// schema-qualified s.load_file( is a stored function.
#pragma once

#include <string_view>

#include "policy/token.hpp"

namespace djproxy::policy {

class ServerFileScan {
 public:
  void reset() noexcept { *this = ServerFileScan{}; }
  // Inline for the tokens that are neither words nor quoted names, most of a statement's:
  // they only clear the state (or call LOAD_FILE).
  void on_token(const Token& t) noexcept {
    if (t.kind == TokenKind::word || t.kind == TokenKind::quoted_ident) return on_name(t);
    if (load_file_ && found_.empty() && t.kind == TokenKind::punct && t.punct == '(')
      found_ = "LOAD_FILE() reads a file on the database server";
    load_file_ = false;
    previous_ = Kw::none;
    previous_data_ = false;
  }
  // The first file access seen ("" if none): a static description.
  std::string_view found() const noexcept { return found_; }

 private:
  void on_name(const Token& t) noexcept;

  std::string_view found_;
  Kw previous_ = Kw::none;       // the previous token, when a keyword outside a name
  bool previous_data_ = false;   // ... DATA or INDEX, before DIRECTORY
  bool load_file_ = false;       // LOAD_FILE read, '(' would call it
};

}  // namespace djproxy::policy
