#include "policy/server_files.hpp"

#include "policy/strict_parser.hpp"

namespace djproxy::policy {

void ServerFileScan::on_token(const Token& t) noexcept {
  // Most tokens are neither words nor a '(' after LOAD_FILE: they only clear the state.
  if (t.kind != TokenKind::word && t.kind != TokenKind::quoted_ident) {
    if (load_file_ && found_.empty() && t.kind == TokenKind::punct && t.punct == '(')
      found_ = "LOAD_FILE() reads a file on the database server";
    load_file_ = false;
    previous_ = Kw::none;
    previous_data_ = false;
    return;
  }
  const bool word = t.kind == TokenKind::word && !t.after_dot;
  const Kw kw = word ? t.kw : Kw::none;
  if (found_.empty()) {
    if (kw == Kw::OUTFILE) {
      found_ = "INTO OUTFILE writes a file on the database server";
    } else if (kw == Kw::DUMPFILE && previous_ == Kw::INTO) {
      found_ = "INTO DUMPFILE writes a file on the database server";
    } else if (kw == Kw::INFILE && previous_ != Kw::LOCAL) {
      found_ = "LOAD DATA or LOAD XML without LOCAL reads a file on the database server";
    } else if (word && previous_data_ && strict::ieq(t.text, "DIRECTORY")) {
      found_ = "DATA or INDEX DIRECTORY puts a table's files at a path on the database server";
    }
  }
  load_file_ = !t.after_dot && strict::ieq(t.text, "LOAD_FILE");
  previous_ = kw;
  previous_data_ = kw == Kw::DATA || kw == Kw::INDEX;
}

}  // namespace djproxy::policy
