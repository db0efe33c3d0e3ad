#include "policy/statement_reader.hpp"

#include <algorithm>

#include "policy/lexer.hpp"
#include "policy/short_copy.hpp"

namespace djproxy::policy {
namespace {

bool ieq(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// Keywords that steer the reader inside a statement body; every other word is a name.
bool structural(Kw k) {
  switch (k) {
    case Kw::FROM: case Kw::JOIN: case Kw::STRAIGHT_JOIN: case Kw::INNER: case Kw::CROSS:
    case Kw::LEFT: case Kw::RIGHT: case Kw::OUTER: case Kw::NATURAL: case Kw::ON: case Kw::USING:
    case Kw::WHERE: case Kw::GROUP: case Kw::HAVING: case Kw::ORDER: case Kw::LIMIT: case Kw::WINDOW:
    case Kw::UNION: case Kw::EXCEPT: case Kw::INTERSECT: case Kw::INTO: case Kw::AS: case Kw::SELECT:
    case Kw::WITH: case Kw::VALUES: case Kw::VALUE: case Kw::TABLE: case Kw::SET: case Kw::REFERENCES:
    case Kw::LIKE: case Kw::LATERAL: case Kw::DUAL: case Kw::TO: case Kw::FOR: case Kw::LOCK:
    case Kw::READ: case Kw::WRITE: case Kw::LOCAL: case Kw::LOW_PRIORITY: case Kw::HIGH_PRIORITY:
    case Kw::DELAYED: case Kw::QUICK: case Kw::IGNORE: case Kw::RETURNING: case Kw::PARTITION:
    case Kw::USE: case Kw::FORCE: case Kw::UPDATE: case Kw::DELETE: case Kw::INSERT: case Kw::REPLACE:
    case Kw::RENAME: case Kw::IN: case Kw::BEGIN: case Kw::IF: case Kw::NOT: case Kw::EXISTS:
    case Kw::AND: case Kw::OR: case Kw::XOR: case Kw::IS: case Kw::NULL_: case Kw::ALL: case Kw::ANY:
    case Kw::SOME: case Kw::DEFAULT:
      return true;
    default:
      return false;
  }
}

bool is_name(const Token& t) {
  if (t.kind == TokenKind::quoted_ident) return true;
  return t.kind == TokenKind::word && (t.after_dot || !structural(t.kw));
}

std::optional<std::string_view> view(const std::optional<std::string>& s) {
  return s ? std::optional<std::string_view>(*s) : std::nullopt;
}

bool is_word(const Token& t, Kw k) { return t.kind == TokenKind::word && !t.after_dot && t.kw == k; }
bool is_punct(const Token& t, char c) { return t.kind == TokenKind::punct && t.punct == c; }

}  // namespace

StatementReader::StatementReader(const SessionState& state, const PolicyConfig& config,
                                 const std::optional<std::string>& current_schema, int nesting)
    : state_(state), config_(config), current_(current_schema), nesting_(nesting) {
  frames_.push_back(Frame{});
}

void StatementReader::reject(std::string why, std::uint16_t code) {
  if (info_.unsupported.empty()) {
    info_.unsupported = std::move(why);
    info_.unsupported_code = code;
  }
  phase_ = Phase::ignore;
}

void StatementReader::expect(Pos pos, Access access, bool list) {
  Frame& f = top();
  f.expect = pos;
  f.access = access;
  if (list) {
    f.list = true;
    f.list_pos = pos;
  }
}

void StatementReader::declare(std::string_view name) {
  if (std::find(declared_.begin(), declared_.end(), name) != declared_.end()) return;
  if (declared_.size() >= kMaxRefs) return reject("too many table names in one statement");
  declared_.push_back(std::string(name));
}

void StatementReader::add_schema(std::string_view name, Access access) {
  for (const auto& s : info_.schemas)
    if (s.name == name && s.access == access) return;
  if (info_.schemas.size() >= kMaxRefs) return reject("too many schema references in one statement");
  if (info_.schemas.empty()) info_.schemas.reserve(4);  // grow once for the usual few
  info_.schemas.push_back(SchemaUse{std::string(name), access});
}

void StatementReader::add_object(std::optional<std::string_view> schema, std::string_view name, Access access) {
  if (schema) add_schema(*schema, access);
  const std::string_view in = schema.value_or(std::string_view());
  // Compared before anything is copied: most references repeat one already kept.
  for (const auto& o : info_.objects)
    if (o.schema == in && o.name == name && o.access == access) return;
  if (info_.objects.size() >= kMaxRefs) return reject("too many object references in one statement");
  if (info_.objects.empty()) info_.objects.reserve(4);
  info_.objects.push_back(ObjectRef{std::string(in), std::string(name), access});
}

void StatementReader::set_part(int i, std::string_view text) {
  static_assert(sizeof(Part::text) >= Lexer::kIdentCap, "the lexer keeps longer names than a part holds");
  Part& p = parts_[i];
  copy_short(p.text, text.data(), text.size());
  p.len = static_cast<std::uint16_t>(text.size());
}

void StatementReader::on_token(const Token& t) {
  if (phase_ == Phase::ignore && !failed() && t.kind == TokenKind::user_var &&
      ieq(t.text, "djproxy_migration") && !info_.migration_token)
    return reject("@djproxy_migration may only be set by a statement of its own");
  ++tokens_;
  // Any name in a SET may be a variable it assigns: looked at before the reader may
  // stop reading the statement, and kept only as two flags.
  if (set_stmt_ && (t.kind == TokenKind::word || t.kind == TokenKind::quoted_ident)) note_set_target(t.text);
  if (phase_ == Phase::ignore) return;
  if (t.kind == TokenKind::user_var && ieq(t.text, "djproxy_migration") &&
      !(verb_ == Kw::SET && step_ == 1))
    return reject("@djproxy_migration may only be set by a statement of its own: SET @djproxy_migration = '<token>'");
  if (t.kind == TokenKind::word && t.truncated) return reject("identifier too long");
  if (phase_ == Phase::head)
    head(t);
  else
    body(t);
  last_kind_ = t.kind;
}

// ------------------------------------------------------------------ heads

void StatementReader::start_verb(const Token& t) {
  if (t.kind == TokenKind::punct && t.punct == '(') {
    info_.kind = StatementKind::query;
    if (info_.verb.empty()) info_.verb = "SELECT";
    to_body();
    top().stmt = true;
    return body(t);
  }
  if (t.kind != TokenKind::word) return reject("a statement must start with a keyword");
  verb_ = t.kw;
  step_ = 1;
  const auto append_verb = [&](std::string_view v) {
    if (!info_.verb.empty()) info_.verb += ' ';
    info_.verb += v;
  };
  Frame& f = top();
  switch (t.kw) {
    case Kw::SELECT: case Kw::VALUES:
      info_.kind = StatementKind::query;
      append_verb(keyword_name(t.kw));
      to_body();
      return body(t);
    case Kw::WITH:
      info_.kind = StatementKind::query;
      append_verb("WITH");
      f.cte = true;
      f.stmt = true;
      return to_body();
    case Kw::TABLE:
      info_.kind = StatementKind::query;
      append_verb("TABLE");
      f.stmt = true;
      expect(Pos::table, Access::read);
      return to_body();
    case Kw::DO:
      info_.kind = StatementKind::query;
      append_verb("DO");
      return to_body();
    case Kw::INSERT: case Kw::REPLACE:
      info_.kind = StatementKind::dml;
      append_verb(keyword_name(t.kw));
      expect(Pos::table, Access::write);
      return to_body();
    case Kw::UPDATE:
      info_.kind = StatementKind::dml;
      append_verb("UPDATE");
      update_stmt_ = true;
      f.stmt = true;
      expect(Pos::table, Access::write, true);
      return to_body();
    case Kw::DELETE:
      info_.kind = StatementKind::dml;
      append_verb("DELETE");
      f.stmt = true;
      delete_stmt_ = true;
      expect(Pos::table, Access::write, true);
      return to_body();
    case Kw::LOAD:
      append_verb("LOAD");
      return;
    case Kw::CALL:
      info_.kind = StatementKind::dml;
      info_.object = ObjectKind::procedure;
      append_verb("CALL");
      expect(Pos::routine, Access::write);
      return to_body();
    case Kw::HANDLER:
      info_.kind = StatementKind::dml;
      append_verb("HANDLER");
      expect(Pos::table, Access::read);
      return to_body();
    case Kw::USE:
      info_.kind = StatementKind::use;
      append_verb("USE");
      expect(Pos::use_schema, Access::read);
      return to_body();
    case Kw::CREATE: case Kw::ALTER: case Kw::DROP: case Kw::RENAME: case Kw::TRUNCATE:
      info_.kind = StatementKind::ddl;
      append_verb(keyword_name(t.kw));
      return;
    case Kw::GRANT: case Kw::REVOKE:
      info_.kind = StatementKind::ddl;
      info_.object = ObjectKind::privilege;
      append_verb(keyword_name(t.kw));
      return;
    case Kw::SET:
      info_.kind = StatementKind::set;
      append_verb("SET");
      set_stmt_ = true;
      return;
    case Kw::SHOW:
      info_.kind = StatementKind::show;
      append_verb("SHOW");
      return;
    case Kw::DESCRIBE: case Kw::DESC: case Kw::EXPLAIN:
      info_.kind = StatementKind::describe;
      append_verb(keyword_name(t.kw));
      return;
    case Kw::ANALYZE:
      append_verb("ANALYZE");
      return;
    case Kw::OPTIMIZE: case Kw::CHECK: case Kw::CHECKSUM: case Kw::REPAIR:
      info_.kind = StatementKind::maintenance;
      append_verb(keyword_name(t.kw));
      return;
    case Kw::LOCK: case Kw::UNLOCK:
      info_.kind = StatementKind::transaction;
      append_verb(keyword_name(t.kw));
      return;
    case Kw::START:
      append_verb("START");
      return;
    case Kw::BEGIN:
      info_.kind = StatementKind::transaction;
      append_verb("BEGIN");
      return;
    case Kw::COMMIT: case Kw::ROLLBACK: case Kw::SAVEPOINT: case Kw::RELEASE: case Kw::XA:
      info_.kind = StatementKind::transaction;
      append_verb(keyword_name(t.kw));
      phase_ = Phase::ignore;
      return;
    case Kw::PREPARE:
      info_.kind = StatementKind::dynamic_sql;
      append_verb("PREPARE");
      return;
    case Kw::EXECUTE:
      info_.kind = StatementKind::dynamic_sql;
      append_verb("EXECUTE");
      return;
    case Kw::DEALLOCATE:
      info_.kind = StatementKind::dynamic_sql;
      append_verb("DEALLOCATE");
      phase_ = Phase::ignore;
      return;
    case Kw::KILL: case Kw::HELP:
      info_.kind = StatementKind::administrative;
      append_verb(keyword_name(t.kw));
      phase_ = Phase::ignore;
      return;
    case Kw::SIGNAL: case Kw::RESIGNAL: case Kw::GET:
      info_.kind = StatementKind::query;
      append_verb(keyword_name(t.kw));
      phase_ = Phase::ignore;
      return;
    case Kw::FLUSH: case Kw::RESET: case Kw::PURGE: case Kw::CHANGE: case Kw::STOP: case Kw::SHUTDOWN:
    case Kw::INSTALL: case Kw::UNINSTALL: case Kw::BINLOG: case Kw::CACHE: case Kw::IMPORT:
    case Kw::CLONE: case Kw::RESTART: case Kw::BACKUP:
      info_.kind = StatementKind::administrative;
      append_verb(keyword_name(t.kw));
      phase_ = Phase::ignore;
      return;
    default:
      return reject("unknown statement `" + std::string(t.text.substr(0, 64)) + "`");
  }
}

void StatementReader::head(const Token& t) {
  if (verb_ == Kw::none) return start_verb(t);
  switch (verb_) {
    case Kw::CREATE: case Kw::ALTER: case Kw::DROP: case Kw::RENAME: case Kw::TRUNCATE:
      return ddl_head(t);
    case Kw::SHOW:
      return show_head(t);
    case Kw::SET:
      return set_head(t);
    case Kw::PREPARE: case Kw::EXECUTE:
      return dynamic_head(t);
    case Kw::GRANT: case Kw::REVOKE:
      if (is_punct(t, '(')) ++step_;
      else if (is_punct(t, ')')) --step_;
      else if (step_ == 1 && is_word(t, Kw::ON)) {
        step_ = 100;
      } else if (step_ == 100) {
        if (is_word(t, Kw::TABLE) || is_word(t, Kw::FUNCTION) || is_word(t, Kw::PROCEDURE)) return;
        on_is_target_ = true;
        expect(Pos::grant_target, Access::ddl);
        to_body();
        return body(t);
      }
      return;
    case Kw::LOAD:
      if (is_word(t, Kw::DATA) || is_word(t, Kw::XML)) {
        info_.kind = StatementKind::dml;
        info_.verb += t.kw == Kw::DATA ? " DATA" : " XML";
        top().access = Access::write;
        return to_body();
      }
      info_.kind = StatementKind::administrative;  // LOAD INDEX INTO CACHE
      phase_ = Phase::ignore;
      return;
    case Kw::START:
      if (is_word(t, Kw::TRANSACTION)) {
        info_.kind = StatementKind::transaction;
        info_.verb += " TRANSACTION";
      } else {
        info_.kind = StatementKind::administrative;
      }
      phase_ = Phase::ignore;
      return;
    case Kw::BEGIN:
      if (step_ == 1 && is_word(t, Kw::WORK)) {
        step_ = 2;
        return;
      }
      return reject("BEGIN ... END compound statements are not supported");
    case Kw::LOCK: case Kw::UNLOCK:
      if (is_word(t, Kw::TABLES) || is_word(t, Kw::TABLE)) {
        info_.verb += " TABLES";
        if (verb_ == Kw::UNLOCK) {
          phase_ = Phase::ignore;
          return;
        }
        top().stmt = false;
        expect(Pos::table, Access::read, true);
        return to_body();
      }
      info_.kind = StatementKind::administrative;  // LOCK INSTANCE FOR BACKUP
      phase_ = Phase::ignore;
      return;
    case Kw::OPTIMIZE: case Kw::CHECK: case Kw::CHECKSUM: case Kw::REPAIR: case Kw::ANALYZE:
    case Kw::DESCRIBE: case Kw::DESC: case Kw::EXPLAIN: {
      const bool explain = verb_ == Kw::DESCRIBE || verb_ == Kw::DESC || verb_ == Kw::EXPLAIN;
      if (step_ == 2) {  // FORMAT = value
        if (is_punct(t, '=')) return;
        step_ = 1;
        return;
      }
      if (is_word(t, Kw::NO_WRITE_TO_BINLOG) || is_word(t, Kw::LOCAL)) return;
      if (!explain && (is_word(t, Kw::TABLE) || is_word(t, Kw::TABLES))) {
        info_.kind = StatementKind::maintenance;
        info_.verb += " TABLE";
        const bool reads = verb_ == Kw::CHECK || verb_ == Kw::CHECKSUM;
        expect(Pos::table, reads ? Access::read : Access::write, true);
        return to_body();
      }
      if (verb_ != Kw::ANALYZE && !explain) return reject(info_.verb + " without TABLE");
      if (is_word(t, Kw::EXTENDED) || is_word(t, Kw::PARTITIONS) || (explain && is_word(t, Kw::ANALYZE)))
        return;
      if (is_word(t, Kw::FORMAT)) {
        step_ = 2;
        return;
      }
      if (is_word(t, Kw::FOR)) {  // EXPLAIN FOR CONNECTION n
        info_.kind = StatementKind::describe;
        phase_ = Phase::ignore;
        return;
      }
      if (is_punct(t, '(') || is_word(t, Kw::SELECT) || is_word(t, Kw::WITH) || is_word(t, Kw::INSERT) ||
          is_word(t, Kw::REPLACE) || is_word(t, Kw::UPDATE) || is_word(t, Kw::DELETE) ||
          is_word(t, Kw::TABLE) || is_word(t, Kw::VALUES)) {
        verb_ = Kw::none;
        return start_verb(t);
      }
      if (verb_ == Kw::ANALYZE) return reject("ANALYZE of an unknown statement");
      info_.kind = StatementKind::describe;
      expect(Pos::table, Access::read);
      to_body();
      return body(t);
    }
    default:
      to_body();
      return body(t);
  }
}

void StatementReader::ddl_head(const Token& t) {
  if (step_ == 1) {
    if (verb_ == Kw::TRUNCATE && !is_word(t, Kw::TABLE)) {
      info_.object = ObjectKind::table;
      info_.verb += " TABLE";
      expect(Pos::object, Access::ddl);
      to_body();
      return body(t);
    }
    if (skip_names_ > 0) {  // ALGORITHM = x, SQL SECURITY x
      --skip_names_;
      return;
    }
    if (t.kind != TokenKind::word || t.after_dot) {
      if (definer_skip_) return;
      return reject("cannot read the head of " + info_.verb);
    }
    const auto set_kind = [&](ObjectKind k, std::string_view word) {
      info_.object = k;
      info_.verb += ' ';
      info_.verb += word;
      step_ = 2;
      definer_skip_ = false;
    };
    switch (t.kw) {
      case Kw::OR: return;
      case Kw::REPLACE: info_.or_replace = true; return;
      case Kw::TEMPORARY: temporary_ = true; return;
      case Kw::DEFINER: definer_skip_ = true; return;
      case Kw::ALGORITHM: skip_names_ = 2; return;
      case Kw::SQL: skip_names_ = 2; return;  // SQL SECURITY {DEFINER|INVOKER}
      case Kw::ONLINE: case Kw::OFFLINE: case Kw::IGNORE: case Kw::UNIQUE: case Kw::FULLTEXT:
      case Kw::SPATIAL: case Kw::AGGREGATE:
        return;
      case Kw::TABLE: case Kw::TABLES:
        set_kind(temporary_ ? ObjectKind::temporary_table : ObjectKind::table, "TABLE");
        create_table_ = verb_ == Kw::CREATE;
        alter_table_ = verb_ == Kw::ALTER;
        rename_list_ = verb_ == Kw::RENAME;
        return;
      case Kw::VIEW: return set_kind(ObjectKind::view, "VIEW");
      case Kw::INDEX: case Kw::KEY:
        set_kind(ObjectKind::index, "INDEX");
        on_is_target_ = true;
        skip_names_ = 1;
        return;
      case Kw::DATABASE: case Kw::SCHEMA: return set_kind(ObjectKind::database, "DATABASE");
      case Kw::PROCEDURE:
        routine_body_ = verb_ == Kw::CREATE;
        return set_kind(ObjectKind::procedure, "PROCEDURE");
      case Kw::FUNCTION:
        routine_body_ = verb_ == Kw::CREATE;
        return set_kind(ObjectKind::function, "FUNCTION");
      case Kw::TRIGGER:
        routine_body_ = verb_ == Kw::CREATE;
        on_is_target_ = true;
        declared_.push_back("NEW");
        declared_.push_back("OLD");
        declared_.push_back("new");
        declared_.push_back("old");
        return set_kind(ObjectKind::trigger, "TRIGGER");
      case Kw::EVENT:
        routine_body_ = verb_ == Kw::CREATE || verb_ == Kw::ALTER;
        return set_kind(ObjectKind::event, "EVENT");
      case Kw::SEQUENCE: return set_kind(ObjectKind::sequence, "SEQUENCE");
      case Kw::USER: case Kw::ROLE: case Kw::SERVER: case Kw::TABLESPACE: case Kw::LOGFILE: case Kw::RESOURCE:
        set_kind(t.kw == Kw::USER ? ObjectKind::user
                 : t.kw == Kw::ROLE ? ObjectKind::role
                 : t.kw == Kw::SERVER ? ObjectKind::server
                                      : ObjectKind::tablespace,
                 keyword_name(t.kw));
        info_.global_scope = true;
        phase_ = Phase::ignore;
        return;
      case Kw::PREPARE:
        if (verb_ == Kw::DROP) {
          info_.kind = StatementKind::dynamic_sql;
          info_.verb = "DROP PREPARE";
          phase_ = Phase::ignore;
          return;
        }
        return reject("unknown object kind after " + info_.verb);
      case Kw::INSTANCE:
        info_.kind = StatementKind::administrative;
        info_.verb += " INSTANCE";
        phase_ = Phase::ignore;
        return;
      default:
        if (definer_skip_) return;
        return reject("unknown object kind `" + std::string(t.text.substr(0, 64)) + "` after " + info_.verb);
    }
  }
  // step 2: IF [NOT] EXISTS, then the object name
  if (is_word(t, Kw::IF) || is_word(t, Kw::NOT) || is_word(t, Kw::EXISTS)) {
    if (t.kw == Kw::NOT) info_.if_not_exists = true;
    return;
  }
  to_body();
  const bool list = verb_ == Kw::DROP || verb_ == Kw::RENAME;
  switch (info_.object) {
    case ObjectKind::index:
      break;  // the index name is skipped; ON names the table
    case ObjectKind::database:
      if (verb_ == Kw::ALTER && t.kind == TokenKind::word && t.kw != Kw::none) {
        if (!current_) return reject("ALTER DATABASE without a name and without a current schema");
        add_schema(*current_, Access::ddl);
        phase_ = Phase::ignore;
        return;
      }
      expect(Pos::schema, Access::ddl);
      break;
    default:
      expect(Pos::object, Access::ddl, list);
      break;
  }
  body(t);
}

void StatementReader::show_head(const Token& t) {
  if (step_ == 5) {  // SHOW CREATE PACKAGE [BODY] <name>: the name may be quoted
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
  if (step_ == 1) {
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
        step_ = 3;
        return;
      case Kw::COLUMNS: case Kw::FIELDS: case Kw::INDEX: case Kw::INDEXES: case Kw::KEYS:
        info_.verb += ' ';
        info_.verb += keyword_name(t.kw);
        show_columns_ = true;
        return go_body();
      case Kw::CREATE:
        info_.verb += " CREATE";
        step_ = 2;
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
  if (step_ == 3) {  // SHOW TABLE STATUS
    if (t.kw != Kw::STATUS) return reject("cannot read this SHOW TABLE statement");
    show_needs_schema_ = true;
    return go_body();
  }
  // SHOW CREATE <kind>
  switch (t.kw) {
    case Kw::PACKAGE:
      info_.verb += " PACKAGE";
      step_ = 5;
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
      step_ = 4;
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

void StatementReader::note_set_target(std::string_view name) {
  // NAMES and CHARACTER SET may be any item of the list, not only the first.
  if (ieq(name, "sql_mode") || ieq(name, "character_set_client") || ieq(name, "names") || ieq(name, "charset") ||
      ieq(name, "character"))
    info_.changes_lexing = true;
  constexpr std::string_view kTracking = "session_track_";
  if (name.size() >= kTracking.size() && ieq(name.substr(0, kTracking.size()), kTracking)) {
    info_.changes_tracking = true;
  }
}

void StatementReader::set_head(const Token& t) {
  if (step_ == 1) {
    if (t.kind == TokenKind::user_var && ieq(t.text, "djproxy_migration")) {
      info_.migration_token = true;
      info_.verb = "SET @djproxy_migration";
      step_ = 10;
      return;
    }
    if (t.kind == TokenKind::word && !t.after_dot) {
      switch (t.kw) {
        case Kw::GLOBAL: case Kw::PERSIST: case Kw::PERSIST_ONLY:
          info_.kind = StatementKind::administrative;
          info_.verb = "SET GLOBAL";
          phase_ = Phase::ignore;
          return;
        case Kw::PASSWORD:
          step_ = 20;
          return;
        case Kw::TRANSACTION:
          info_.kind = StatementKind::transaction;
          info_.verb = "SET TRANSACTION";
          phase_ = Phase::ignore;
          return;
        case Kw::NAMES: case Kw::CHARACTER: case Kw::CHARSET:
          info_.changes_lexing = true;
          phase_ = Phase::ignore;
          return;
        case Kw::ROLE:
          phase_ = Phase::ignore;
          return;
        case Kw::DEFAULT:
          step_ = 30;
          return;
        case Kw::STATEMENT:
          return reject("SET STATEMENT ... FOR is not supported");
        default:
          break;
      }
    }
    step_ = 2;
    to_body();
    return body(t);
  }
  if (step_ >= 10 && step_ < 20) {  // SET @djproxy_migration = '<token>' | NULL
    if (step_ == 10 && is_punct(t, ':')) {
      step_ = 11;
      return;
    }
    if ((step_ == 10 || step_ == 11) && is_punct(t, '=')) {
      step_ = 12;
      return;
    }
    if (step_ == 12 && t.kind == TokenKind::string && !t.truncated) {
      literal_.assign(t.text);
      step_ = 13;
      return;
    }
    if (step_ == 12 && is_word(t, Kw::NULL_)) {
      token_null_ = true;
      step_ = 13;
      return;
    }
    return reject("malformed SET @djproxy_migration: expected SET @djproxy_migration = '<token>' or = NULL");
  }
  if (step_ == 20) {  // SET PASSWORD [FOR user]: account management, whose ever the account
    info_.kind = StatementKind::ddl;
    info_.object = ObjectKind::user;
    info_.verb = is_word(t, Kw::FOR) ? "SET PASSWORD FOR" : "SET PASSWORD";
    info_.global_scope = true;
    phase_ = Phase::ignore;
    return;
  }
  if (step_ == 30) {
    if (is_word(t, Kw::ROLE)) {
      info_.kind = StatementKind::ddl;
      info_.object = ObjectKind::role;
      info_.verb = "SET DEFAULT ROLE";
      info_.global_scope = true;
      phase_ = Phase::ignore;
      return;
    }
    return reject("cannot read SET DEFAULT ...");
  }
}

// The server finds a prepared statement by its name without letter case (a utf8
// case-insensitive hash); only ASCII names are compared here, by the same rule.
bool StatementReader::statement_name(const Token& t) {
  if (!is_name(t) || t.truncated) {
    reject(info_.verb + " needs a statement name");
    return false;
  }
  std::string name(t.text);
  for (char& c : name) {
    if (static_cast<unsigned char>(c) >= 0x80) {
      reject(info_.verb + " of a statement whose name is not ASCII");
      return false;
    }
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  info_.statement_name = std::move(name);
  return true;
}

void StatementReader::dynamic_head(const Token& t) {
  // PREPARE name FROM 'text'   |   EXECUTE IMMEDIATE 'text' [USING ...]   |   EXECUTE name [USING ...]
  if (verb_ == Kw::EXECUTE && step_ == 1) {
    if (is_word(t, Kw::IMMEDIATE)) {
      info_.verb += " IMMEDIATE";
      step_ = 3;
      return;
    }
    // EXECUTE of a statement prepared earlier: the analyser lets it through only when
    // it read that statement's text (SessionState::prepared_names).
    if (!statement_name(t)) return;
    phase_ = Phase::ignore;
    return;
  }
  if (verb_ == Kw::PREPARE && step_ == 1) {
    if (!statement_name(t)) return;
    step_ = 2;
    return;
  }
  if (verb_ == Kw::PREPARE && step_ == 2) {
    if (!is_word(t, Kw::FROM)) return reject("PREPARE needs FROM");
    step_ = 3;
    return;
  }
  if (step_ == 3) {
    if (t.kind != TokenKind::string)
      return reject(info_.verb + " of text djproxy cannot see (a variable or an expression)");
    if (t.truncated) return reject(info_.verb + " text too long to analyse");
    literal_.assign(t.text);
    literal_seen_ = true;
    step_ = 4;
    return;
  }
  if (step_ == 4 && verb_ == Kw::EXECUTE && is_word(t, Kw::USING)) {
    phase_ = Phase::ignore;
    return;
  }
  return reject(info_.verb + " of text djproxy cannot see (an expression)");
}

// ------------------------------------------------------------------ body

void StatementReader::capture(const Token& t) {
  if (where_.size() >= 64) {
    capture_overflow_ = true;
    return;
  }
  if (where_.empty()) where_.reserve(16);
  where_.push_back(CapturedToken{t.kind, t.punct, t.after_dot ? Kw::none : t.kw, t.truncated, std::string(t.text)});
}

void StatementReader::body(const Token& t) {
  Frame* f = &top();
  ++f->tokens;
  if (capturing_) capture(t);
  // A stored program's dynamic SQL runs text that exists only when it is called (a
  // parameter, a variable): every later CALL would run what no one read (found by review).
  if (routine_body_ && t.kind == TokenKind::word && !t.after_dot && (t.kw == Kw::PREPARE || t.kw == Kw::EXECUTE))
    return reject("dynamic SQL (PREPARE, EXECUTE) in a stored program");

  if (alter_rename_ == 1) {
    if (t.kind == TokenKind::word && !t.after_dot &&
        (t.kw == Kw::COLUMN || t.kw == Kw::INDEX || t.kw == Kw::KEY)) {
      alter_rename_ = 0;
      f->expect = Pos::none;
      return;
    }
    if (is_word(t, Kw::TO) || is_word(t, Kw::AS)) return;
    alter_rename_ = 0;
  }

  if (t.kind == TokenKind::sys_var) {
    if (nparts_ > 0) flush_name(&t);
    sysvar_name_ = true;
    return;
  }
  if (is_name(t) || (t.kind == TokenKind::punct && t.punct == '*' && f->expect == Pos::grant_target && nparts_ == 0)) {
    std::string_view text = t.kind == TokenKind::punct ? std::string_view("*") : t.text;
    if (t.truncated) return reject("identifier too long");
    if (nparts_ > 0 && pend_dot_) {
      if (nparts_ >= 3) return reject("name with more than three parts");
      set_part(nparts_++, text);
      pend_dot_ = false;
      return;
    }
    if (nparts_ > 0) flush_name(&t);
    if (failed()) return;
    set_part(0, text);
    nparts_ = 1;
    return;
  }
  if (t.kind == TokenKind::punct && t.punct == '.') {
    if (nparts_ > 0 && !pend_dot_ && !pend_star_) {
      pend_dot_ = true;
      return;
    }
    return reject("'.' that does not join two names", codes::parse_error);
  }
  if (t.kind == TokenKind::punct && t.punct == '*' && pend_dot_) {
    pend_dot_ = false;
    pend_star_ = true;
    flush_name(nullptr);
    return;
  }
  if (t.kind == TokenKind::number && t.punct == '.' &&
      (last_kind_ == TokenKind::word || last_kind_ == TokenKind::quoted_ident))
    return reject("a name followed by '." + std::string(t.text.substr(1, 16)) + "' is read differently by servers");
  if (pend_dot_) return reject("name expected after '.'", codes::parse_error);
  if (nparts_ > 0) flush_name(&t);
  if (failed()) return;
  f = &top();

  if (f->expect == Pos::grant_target && t.kind != TokenKind::punct) {
    info_.global_scope = true;  // GRANT PROXY ON 'user' ...
    phase_ = Phase::ignore;
    return;
  }
  if (f->expect == Pos::table && f->tokens > 0 && t.kind == TokenKind::user_var) {
    f->expect = Pos::none;  // SELECT ... INTO @var
    return;
  }

  if (t.kind == TokenKind::word) return keyword(t);
  if (t.kind == TokenKind::punct) return punct(t);
}

void StatementReader::keyword(const Token& t) {
  Frame& f = top();
  const bool d0 = frames_.size() == 1;
  switch (t.kw) {
    case Kw::SELECT:
      f.stmt = true;
      f.list = false;
      f.expect = Pos::none;
      f.after_table = false;
      f.access = Access::read;
      f.cte = false;
      if (create_table_ && d0) create_like_or_select_ = true;
      return;
    case Kw::VALUES: case Kw::VALUE:
      if (f.tokens == 1) f.stmt = true;
      f.list = false;
      f.expect = Pos::none;
      f.after_table = false;
      f.cte = false;
      return;
    case Kw::TABLE:
      if (f.expect != Pos::table) {
        f.expect = Pos::table;
        f.access = Access::read;
      }
      f.after_table = false;
      f.cte = false;
      if (f.tokens == 1) f.stmt = true;
      if (create_table_ && d0) create_like_or_select_ = true;
      return;
    case Kw::WITH:
      if (f.tokens == 1) {
        f.cte = true;
        f.stmt = true;
      }
      return;
    case Kw::FROM: case Kw::IN:
      if (show_mode_ && d0) {
        ++show_from_count_;
        if (show_columns_ && show_from_count_ == 1)
          f.expect = Pos::show_table;
        else
          f.expect = Pos::show_schema;
        return;
      }
      if (t.kw == Kw::FROM && f.stmt) {
        f.expect = Pos::table;
        f.list = true;
        f.list_pos = Pos::table;
        f.after_table = false;
      }
      return;
    case Kw::JOIN: case Kw::STRAIGHT_JOIN:
      f.expect = Pos::table;
      f.list = true;
      f.list_pos = Pos::table;
      f.after_table = false;
      return;
    case Kw::ON:
      if (on_is_target_ && d0) {
        expect(Pos::object, Access::ddl);
        return;
      }
      f.expect = Pos::none;
      f.after_table = false;
      return;
    case Kw::USING:
      if (delete_stmt_ && d0 && f.list) {
        f.expect = Pos::table;
        f.after_table = false;
        return;
      }
      f.expect = Pos::none;
      f.after_table = false;
      return;
    case Kw::WHERE: case Kw::GROUP: case Kw::HAVING: case Kw::ORDER: case Kw::LIMIT: case Kw::WINDOW:
    case Kw::RETURNING: case Kw::UNION: case Kw::EXCEPT: case Kw::INTERSECT: case Kw::SET: case Kw::FOR:
    case Kw::LOCK: case Kw::LIKE:
      if (t.kw == Kw::LIKE && create_table_ &&
          (d0 || (frames_.size() == 2 && f.defs && f.tokens == 1))) {
        f.expect = Pos::table;
        f.access = Access::read;
        create_like_or_select_ = true;
        return;
      }
      if (d0 && show_mode_ && (t.kw == Kw::LIKE || t.kw == Kw::WHERE)) show_mode_ = false;
      f.list = false;
      f.expect = Pos::none;
      f.after_table = false;
      if (t.kw == Kw::WHERE && d0 && (delete_stmt_ || update_stmt_) && !capturing_) capturing_ = true;
      return;
    case Kw::INTO:
      f.expect = Pos::table;
      f.after_table = false;
      f.list = false;
      return;
    case Kw::AS:
      if (f.after_table) alias_next_ = true;
      return;
    case Kw::REFERENCES:
      f.expect = Pos::table;
      f.access = Access::read;
      return;
    case Kw::DUAL:
      if (f.expect == Pos::table) {
        f.expect = Pos::none;
        f.after_table = true;
      }
      return;
    case Kw::TO:
      if (rename_list_ && d0) {
        expect(Pos::object, Access::ddl);
        return;
      }
      f.after_table = false;
      return;
    case Kw::RENAME:
      if (alter_table_ && d0) {
        alter_rename_ = 1;
        expect(Pos::object, Access::ddl);
      }
      return;
    case Kw::UPDATE: case Kw::DELETE: case Kw::INSERT: case Kw::REPLACE:
      if (d0 && t.kw == Kw::UPDATE && !f.cte && !routine_body_ && (verb_ == Kw::INSERT || verb_ == Kw::REPLACE))
        upsert_ = true;  // INSERT ... ON DUPLICATE KEY UPDATE
      if (d0 && (f.cte || routine_body_)) {
        if (f.cte) info_.kind = StatementKind::dml;
        f.cte = false;
        f.stmt = true;
        if (t.kw == Kw::DELETE) delete_stmt_ = true;
        expect(Pos::table, Access::write, t.kw == Kw::UPDATE || t.kw == Kw::DELETE);
      }
      return;
    case Kw::BEGIN:
      if (routine_body_) reject("compound statements (BEGIN ... END) in stored programs are not supported");
      return;
    default:
      f.after_table = false;
      return;
  }
}

void StatementReader::punct(const Token& t) {
  Frame& f = top();
  switch (t.punct) {
    case '(': {
      if (frames_.size() >= kMaxDepth) return reject("parentheses nested too deeply");
      Frame nf;
      if (f.expect == Pos::table) {
        nf.from_table_pos = true;
        nf.stmt = true;
        nf.list = true;
        nf.list_pos = Pos::table;
        nf.expect = Pos::table;
        nf.access = Access::read;
        f.expect = Pos::none;
      }
      if (json_pending_) {
        nf.table_fn = true;
        json_pending_ = false;
      }
      if (defs_pending_) {
        nf.defs = true;
        defs_pending_ = false;
      }
      frames_.push_back(nf);
      return;
    }
    case ')': {
      if (frames_.size() == 1) return reject("unbalanced parentheses", codes::parse_error);
      const Frame closed = frames_.back();
      frames_.pop_back();
      if (closed.from_table_pos || closed.table_fn) top().after_table = true;
      return;
    }
    case ',':
      if (f.list) {
        f.expect = f.list_pos;
        f.after_table = false;
      }
      alias_next_ = false;
      return;
    default:
      f.after_table = false;
      return;
  }
}

void StatementReader::flush_name(const Token* next) {
  const int n = nparts_;
  const bool star = pend_star_;
  nparts_ = 0;
  pend_star_ = false;
  pend_dot_ = false;
  if (n == 0) return;
  Frame& f = top();
  const std::string_view p0 = parts_[0].view();
  const std::string_view p1 = parts_[1].view();
  const bool call = next && next->kind == TokenKind::punct && next->punct == '(';

  if (sysvar_name_) {
    sysvar_name_ = false;
    if (set_stmt_ && n >= 2 && (ieq(p0, "global") || ieq(p0, "persist") || ieq(p0, "persist_only"))) {
      info_.kind = StatementKind::administrative;
      info_.verb = "SET GLOBAL";
    }
    return;
  }
  if (skip_names_ > 0) {
    --skip_names_;
    return;
  }
  if (alias_next_) {
    alias_next_ = false;
    f.after_table = false;
    if (n != 1 || star) return reject("qualified alias");
    return declare(p0);
  }
  const Pos pos = f.expect;
  if (pos == Pos::none) {
    if (f.cte && n == 1 && !star) return declare(p0);
    if (f.after_table && n == 1 && !call && !star) {
      f.after_table = false;
      return declare(p0);
    }
    f.after_table = false;
    if (star) {
      if (n == 2) add_object(p0, p1, Access::read);
      else if (n >= 3) return reject("name with more than three parts");
      return;
    }
    if (call) {
      if (n == 2) add_object(p0, p1, Access::read);  // db.func(...)
      else if (n == 3) return reject("three-part function name");
      return;
    }
    if (n == 3) add_object(p0, p1, Access::read);  // db.table.column
    else if (n == 2) {
      if (std::find(candidates_.begin(), candidates_.end(), p0) == candidates_.end()) {
        if (candidates_.size() >= kMaxRefs) return reject("too many qualified names in one statement");
        candidates_.push_back(std::string(p0));
      }
    }
    return;
  }
  f.expect = Pos::none;
  switch (pos) {
    case Pos::table: case Pos::object: case Pos::routine: {
      if (star) {  // DELETE t.* FROM ..., db.t.*
        if (n == 2) add_object(p0, p1, f.access);
        return;
      }
      if (pos == Pos::table && n == 1 && call && ieq(p0, "JSON_TABLE")) {
        json_pending_ = true;
        return;
      }
      if (n == 3) return reject("three-part table name");
      const std::optional<std::string_view> schema = n == 2 ? std::optional<std::string_view>(p0) : view(current_);
      const std::string_view name = n == 2 ? p1 : p0;
      add_object(schema, name, f.access);
      declare(name);
      if (pos == Pos::table) f.after_table = true;
      if (create_table_ && call && frames_.size() == 1) {
        defs_pending_ = true;
        had_defs_ = true;
      }
      return;
    }
    case Pos::schema: case Pos::use_schema: case Pos::show_schema:
      if (n != 1 || star) return reject("qualified schema name");
      if (pos == Pos::show_schema) {
        show_schema_ = std::string(p0);
        return;
      }
      add_schema(p0, f.access);
      if (pos == Pos::use_schema) info_.new_current_schema = std::string(p0);
      return;
    case Pos::show_table:
      show_table_schema_ = n == 2 ? std::optional<std::string>(p0) : std::nullopt;
      show_table_ = parts_[n - 1].view();
      if (n == 3 || star) return reject("cannot read this SHOW name");
      return;
    case Pos::grant_target: {
      phase_ = Phase::ignore;
      if (n == 1 && !star) {
        if (p0 == "*") {
          if (!current_) return reject("GRANT ON * without a current schema");
          return add_schema(*current_, Access::ddl);
        }
        return add_object(view(current_), p0, Access::ddl);
      }
      if (n == 1 && star) {  // x.*
        if (p0 == "*") {
          info_.global_scope = true;
          return add_schema("*", Access::ddl);
        }
        return add_schema(p0, Access::ddl);
      }
      if (n == 2 && !star) return add_object(p0, p1, Access::ddl);
      return reject("cannot read the GRANT target");
    }
    case Pos::none:
      return;
  }
}

bool StatementReader::lineage_condition_ok() const {
  // Accepts: conjuncts joined by AND (parentheses ignored), each `name = 'text'`,
  // at least one of them `table_name = '~...'`.
  bool bookkeeping = false;
  std::size_t i = 0;
  const auto skip_parens = [&] {
    while (i < where_.size() && where_[i].kind == TokenKind::punct && (where_[i].punct == '(' || where_[i].punct == ')'))
      ++i;
  };
  i = 0;
  while (true) {
    skip_parens();
    if (i + 3 > where_.size()) return false;
    const auto& a = where_[i];
    const auto& eq = where_[i + 1];
    const auto& b = where_[i + 2];
    const bool a_name = a.kind == TokenKind::quoted_ident || (a.kind == TokenKind::word && a.kw == Kw::none);
    const bool b_name = b.kind == TokenKind::quoted_ident || (b.kind == TokenKind::word && b.kw == Kw::none);
    if (!(eq.kind == TokenKind::punct && eq.punct == '=')) return false;
    const CapturedToken* name = nullptr;
    const CapturedToken* value = nullptr;
    if (a_name && b.kind == TokenKind::string) {
      name = &a;
      value = &b;
    } else if (b_name && a.kind == TokenKind::string) {
      name = &b;
      value = &a;
    } else {
      return false;
    }
    if (value->truncated) return false;
    if (ieq(name->text, "table_name") && !value->text.empty() && value->text[0] == '~') bookkeeping = true;
    i += 3;
    skip_parens();
    if (i == where_.size()) break;
    if (where_[i].kind == TokenKind::word && where_[i].kw == Kw::AND) {
      ++i;
      continue;
    }
    return false;
  }
  return bookkeeping;
}

void StatementReader::nested(const std::string& text, const char* verb) {
  if (nesting_ >= kMaxNesting) return reject("dynamic SQL nested too deeply");
  auto inner = analyse_nested(text, state_, config_, current_, nesting_ + 1);
  if (inner.size() != 1) return reject(std::string(verb) + " text must hold exactly one statement");
  StatementInfo s = std::move(inner.front());
  if (s.migration_token) return reject("@djproxy_migration may only be set by a statement of its own");
  if (s.kind == StatementKind::use) return reject("USE inside dynamic SQL is not supported");
  // EXECUTE of a prepared SET of sql_mode or of the character set would change how the
  // server reads the statements after it in the same packet, unseen by the reader.
  if (s.changes_lexing && std::string_view(verb) == "PREPARE")
    return reject("PREPARE of a SET of sql_mode or of the character set is not supported; send the SET itself");
  s.via_prepare = true;
  s.verb = std::string(verb) + " " + s.verb;
  s.statement_name = std::move(info_.statement_name);
  info_ = std::move(s);
}

StatementInfo StatementReader::finish() {
  if (!failed() && phase_ != Phase::ignore) {
    if (pend_dot_) reject("name expected after '.'", codes::parse_error);
    if (!failed()) flush_name(nullptr);
    if (!failed() && frames_.size() != 1) reject("unbalanced parentheses", codes::parse_error);
    if (!failed() && phase_ == Phase::head && verb_ != Kw::none) {
      if (verb_ == Kw::GRANT || verb_ == Kw::REVOKE) info_.global_scope = true;  // GRANT role TO user
      const bool complete = (verb_ == Kw::BEGIN) || verb_ == Kw::GRANT || verb_ == Kw::REVOKE || (verb_ == Kw::SET && step_ == 13) ||
                            (verb_ == Kw::PREPARE && step_ == 4) || (verb_ == Kw::EXECUTE && step_ == 4);
      if (!complete) reject("incomplete " + info_.verb + " statement");
    }
  }
  if (!failed() && info_.migration_token && step_ != 13) reject("malformed SET @djproxy_migration");
  if (!failed() && info_.migration_token) {
    if (token_null_) info_.token_value.reset();
    else info_.token_value = literal_;
  }
  if (!failed() && info_.kind == StatementKind::show) {
    if (!show_table_.empty()) {
      const std::optional<std::string>& schema =
          show_schema_ ? show_schema_ : show_table_schema_ ? show_table_schema_ : current_;
      add_object(view(schema), show_table_, Access::read);
    } else if (show_schema_) {
      add_schema(*show_schema_, Access::read);
    } else if (show_needs_schema_ && current_) {
      add_schema(*current_, Access::read);
    }
  }
  if (!failed()) {
    for (const auto& c : candidates_)
      if (std::find(declared_.begin(), declared_.end(), c) == declared_.end()) add_schema(c, Access::read);
  }
  // DELETE and UPDATE of ~lineage rows, REPLACE and INSERT ... ON DUPLICATE KEY UPDATE
  // into it: each can remove or change the lineage of existing user tables.
  if (!failed() && (delete_stmt_ || update_stmt_ || upsert_ || verb_ == Kw::REPLACE || verb_ == Kw::LOAD)) {
    for (const auto& o : info_.objects)
      if (o.access == Access::write && (ieq(o.name, "~lineage"))) info_.lineage_delete = true;
    info_.lineage_condition_bookkeeping_only = info_.lineage_delete && (delete_stmt_ || update_stmt_) &&
                                               info_.objects.size() == 1 && capturing_ && !capture_overflow_ &&
                                               lineage_condition_ok();
  }
  if (!failed() && create_table_) info_.create_plain = had_defs_ && !create_like_or_select_;
  if (!failed() && literal_seen_) nested(literal_, verb_ == Kw::PREPARE ? "PREPARE" : "EXECUTE IMMEDIATE");
  if (tokens_ == 0) info_.kind = StatementKind::empty;
  if (failed()) {
    info_.kind = info_.kind == StatementKind::empty ? StatementKind::unknown : info_.kind;
  }
  return std::move(info_);
}

}  // namespace djproxy::policy
