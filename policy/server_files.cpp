#include "policy/server_files.hpp"

#include "policy/strict_parser.hpp"

namespace djproxy::policy {

void ServerFileScan::on_name(const Token& t) noexcept {
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
