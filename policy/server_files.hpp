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
  void on_token(const Token& t) noexcept;
  // The first file access seen ("" if none): a static description.
  std::string_view found() const noexcept { return found_; }

 private:
  std::string_view found_;
  Kw previous_ = Kw::none;       // the previous token, when a keyword outside a name
  bool previous_data_ = false;   // ... DATA or INDEX, before DIRECTORY
  bool load_file_ = false;       // LOAD_FILE read, '(' would call it
};

}  // namespace djproxy::policy
