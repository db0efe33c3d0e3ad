// The head of SHOW: which listing or SHOW CREATE, and where its table or schema
// is named (finish() resolves them).
#include "policy/statement_reader.hpp"

#include "policy/statement_reader_words.hpp"

namespace djproxy::policy {
using namespace reader_words;

void StatementReader::show_head(const Token& t) {
  if (show_step_ == ShowStep::create_package) {  // SHOW CREATE PACKAGE [BODY] <name>: the name may be quoted
    expect(Pos::object, Access::read);
    to_body();
    if (t.kind == TokenKind::word && !t.after_dot && ieq(t.text, "BODY")) return;
    return body(t);
  }
  if (t.kind != TokenKind::word || t.after_dot) return reject("cannot read this SHOW statement");
  const auto go_body = [&] {
    show_mode_ = true;
    to_body();
  };
  if (show_step_ == ShowStep::what) {
    switch (t.kw) {
      case Kw::FULL: case Kw::EXTENDED: case Kw::GLOBAL: case Kw::SESSION: case Kw::OPEN:
        return;
      case Kw::DATABASES: case Kw::SCHEMAS:
        info_.show_databases = true;
        info_.verb += " DATABASES";
        return go_body();
      case Kw::TABLES: case Kw::TRIGGERS: case Kw::EVENTS:
        info_.verb += ' ';
        info_.verb += keyword_name(t.kw);
        show_needs_schema_ = true;
        return go_body();
      case Kw::TABLE:  // TABLE STATUS
        info_.verb += " TABLE STATUS";
        show_step_ = ShowStep::table_status;
        return;
      case Kw::COLUMNS: case Kw::FIELDS: case Kw::INDEX: case Kw::INDEXES: case Kw::KEYS:
        info_.verb += ' ';
        info_.verb += keyword_name(t.kw);
        show_columns_ = true;
        return go_body();
      case Kw::CREATE:
        info_.verb += " CREATE";
        show_step_ = ShowStep::create;
        return;
      case Kw::VARIABLES: case Kw::STATUS: case Kw::WARNINGS: case Kw::ERRORS: case Kw::COUNT:
      case Kw::ENGINES: case Kw::ENGINE: case Kw::CHARACTER: case Kw::CHARSET: case Kw::COLLATION:
      case Kw::GRANTS: case Kw::PRIVILEGES: case Kw::PROCESSLIST: case Kw::PLUGINS: case Kw::PROFILE:
      case Kw::PROFILES: case Kw::MASTER: case Kw::BINARY: case Kw::BINLOG: case Kw::SLAVE:
      case Kw::REPLICA: case Kw::STORAGE: case Kw::PROCEDURE: case Kw::FUNCTION: case Kw::PACKAGE:
        info_.verb += ' ';
        info_.verb += keyword_name(t.kw);
        phase_ = Phase::ignore;
        return;
      default:
        return reject("SHOW " + std::string(t.text.substr(0, 64)) + " is not supported");
    }
  }
  if (show_step_ == ShowStep::table_status) {  // SHOW TABLE STATUS
    if (t.kw != Kw::STATUS) return reject("cannot read this SHOW TABLE statement");
    show_needs_schema_ = true;
    return go_body();
  }
  // SHOW CREATE <kind>
  switch (t.kw) {
    case Kw::PACKAGE:
      info_.verb += " PACKAGE";
      show_step_ = ShowStep::create_package;
      return;
    case Kw::TABLE: case Kw::VIEW: case Kw::SEQUENCE:
      info_.verb += ' ';
      info_.verb += keyword_name(t.kw);
      expect(Pos::table, Access::read);
      return to_body();
    case Kw::PROCEDURE: case Kw::FUNCTION: case Kw::TRIGGER: case Kw::EVENT:
      info_.verb += ' ';
      info_.verb += keyword_name(t.kw);
      expect(Pos::object, Access::read);
      return to_body();
    case Kw::DATABASE: case Kw::SCHEMA:
      info_.verb += " DATABASE";
      show_step_ = ShowStep::create_database;
      expect(Pos::schema, Access::read);
      return to_body();
    case Kw::USER:
      info_.verb += " USER";
      phase_ = Phase::ignore;
      return;
    default:
      return reject("SHOW CREATE " + std::string(t.text.substr(0, 64)) + " is not supported");
  }
}

}  // namespace djproxy::policy
