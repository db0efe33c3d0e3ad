// The head of CREATE, ALTER, DROP, RENAME and TRUNCATE: the options before the
// object kind, the object kind, IF [NOT] EXISTS, and where the object's name goes.
#include "policy/statement_reader.hpp"

#include "policy/statement_reader_words.hpp"

namespace djproxy::policy {
using namespace reader_words;

void StatementReader::ddl_head(const Token& t) {
  if (definer_ == DefinerStep::after_user) {
    definer_ = DefinerStep::none;
    if (t.kind == TokenKind::user_var) return;  // @host, as the lexer reads it after a name
    if (is_punct(t, '@')) {
      definer_ = DefinerStep::host;
      return;
    }
    if (is_punct(t, '(') && definer_current_user_) {
      definer_ = DefinerStep::close;
      return;
    }
  } else if (definer_ != DefinerStep::none) {
    const bool part = t.kind == TokenKind::word || t.kind == TokenKind::quoted_ident || t.kind == TokenKind::string;
    switch (definer_) {
      case DefinerStep::equals:
        if (!is_punct(t, '=')) return reject("DEFINER without '='", codes::parse_error);
        definer_ = DefinerStep::user;
        return;
      case DefinerStep::user:
        if (!part || t.after_dot) return reject("cannot read the DEFINER of " + info_.verb);
        definer_current_user_ = t.kind == TokenKind::word && ieq(t.text, "CURRENT_USER");
        definer_ = DefinerStep::after_user;
        return;
      case DefinerStep::host:
        if (!part && t.kind != TokenKind::number) return reject("cannot read the DEFINER of " + info_.verb);
        definer_ = DefinerStep::none;
        return;
      default:  // close
        if (!is_punct(t, ')')) return reject("cannot read the DEFINER of " + info_.verb);
        definer_ = DefinerStep::none;
        return;
    }
  }
  if (ddl_step_ == DdlStep::alter_database_comment) {
    // ALTER DATABASE COMMENT [=] 'text' changes the current schema; ALTER DATABASE comment
    // <option> changes the schema named comment (checked on MariaDB 10.11).
    ddl_step_ = DdlStep::name;
    to_body();
    if (is_punct(t, '=') || t.kind == TokenKind::string) {
      if (!current_) return reject("ALTER DATABASE without a name and without a current schema");
      add_schema(*current_, Access::ddl);
    } else {
      add_schema(comment_word_, Access::ddl);
    }
    phase_ = Phase::ignore;
    return;
  }
  if (ddl_step_ == DdlStep::kind) {
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
    if (t.kind != TokenKind::word || t.after_dot) return reject("cannot read the head of " + info_.verb);
    const auto set_kind = [&](ObjectKind k, std::string_view word) {
      info_.object = k;
      info_.verb += ' ';
      info_.verb += word;
      ddl_step_ = DdlStep::name;
    };
    switch (t.kw) {
      case Kw::OR: return;
      case Kw::REPLACE: info_.or_replace = true; return;
      case Kw::TEMPORARY: temporary_ = true; return;
      case Kw::DEFINER: definer_ = DefinerStep::equals; return;
      case Kw::ALGORITHM: skip_names_ = 2; return;
      case Kw::SQL: skip_names_ = 2; return;  // SQL SECURITY {DEFINER|INVOKER}
      case Kw::ONLINE: case Kw::OFFLINE: case Kw::IGNORE: case Kw::UNIQUE: case Kw::FULLTEXT:
      case Kw::SPATIAL: case Kw::AGGREGATE:
        return;
      case Kw::TABLE: case Kw::TABLES:
        set_kind(temporary_ ? ObjectKind::temporary_table : ObjectKind::table, "TABLE");
        unusual_.create_table = verb_ == Kw::CREATE;
        unusual_.alter_table = verb_ == Kw::ALTER;
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
        unusual_.routine_body = verb_ == Kw::CREATE;
        return set_kind(ObjectKind::procedure, "PROCEDURE");
      case Kw::FUNCTION:
        unusual_.routine_body = verb_ == Kw::CREATE;
        return set_kind(ObjectKind::function, "FUNCTION");
      case Kw::TRIGGER:
        unusual_.routine_body = verb_ == Kw::CREATE;
        on_is_target_ = true;
        declared_.push_back("NEW");
        declared_.push_back("OLD");
        declared_.push_back("new");
        declared_.push_back("old");
        return set_kind(ObjectKind::trigger, "TRIGGER");
      case Kw::EVENT:
        unusual_.routine_body = verb_ == Kw::CREATE || verb_ == Kw::ALTER;
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
        return reject("unknown object kind `" + std::string(t.text.substr(0, 64)) + "` after " + info_.verb);
    }
  }
  // DdlStep::name: IF [NOT] EXISTS, then the object name
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
      // ALTER DATABASE [name] options: only the reserved words that begin an option, and
      // COMMENT before '=' or a string, leave the name out; any other word is the name
      // (review round 7: `ALTER DATABASE backup ...` was read as the current schema's).
      if (verb_ == Kw::ALTER && is_word(t, Kw::COMMENT)) {
        phase_ = Phase::head;
        ddl_step_ = DdlStep::alter_database_comment;
        comment_word_ = std::string(t.text);
        return;
      }
      if (verb_ == Kw::ALTER && (is_word(t, Kw::CHARACTER) || is_word(t, Kw::COLLATE) || is_word(t, Kw::DEFAULT))) {
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

// A database-level grant names a pattern, not a schema: the server matches `_` and `%`
// as wildcards, so `myproject_a.*` also grants `myprojectXa` (found by review). Only a
// pattern with every wildcard escaped names one schema, the one it is read as here.
void StatementReader::add_grant_pattern(std::string_view pattern) {
  std::string name;
  name.reserve(pattern.size());
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size() && (pattern[i + 1] == '_' || pattern[i + 1] == '%')) {
      name += pattern[++i];
      continue;
    }
    if (c == '_' || c == '%' || c == '\\')
      return reject("a database-level GRANT / REVOKE on a name with an unescaped '_' or '%', a pattern that "
                    "matches other schemas (write myproject\\_a.*)");
    name += c;
  }
  add_schema(name, Access::ddl);
}

// What follows the target is allowed only as accounts: IDENTIFIED, REQUIRE, resource
// limits and PUBLIC change or reach accounts beyond the grant (found by review).
void StatementReader::grant_tail(const Token& t) {
  auto refuse = [this] {
    reject("GRANT / REVOKE is read only as ... TO | FROM accounts [WITH GRANT | ADMIN OPTION]; IDENTIFIED, REQUIRE, "
           "resource limits and PUBLIC change accounts");
  };
  const bool account_word = (t.kind == TokenKind::word && t.kw == Kw::none && !ieq(t.text, "PUBLIC")) ||
                            t.kind == TokenKind::quoted_ident || t.kind == TokenKind::string;
  switch (grant_tail_) {
    case GrantTail::to:
      if (is_word(t, Kw::TO) || is_word(t, Kw::FROM)) {
        grant_tail_ = GrantTail::account;
        return;
      }
      return refuse();
    case GrantTail::account:
      if (!account_word || ieq(t.text, "CURRENT_USER")) return refuse();
      grant_tail_ = GrantTail::after_account;
      return;
    case GrantTail::after_account:
    case GrantTail::after_host:
      if (grant_tail_ == GrantTail::after_account && t.kind == TokenKind::user_var) {  // 'u'@'h' reads as 'u' @'h'
        grant_tail_ = GrantTail::after_host;
        return;
      }
      if (grant_tail_ == GrantTail::after_account && is_punct(t, '@')) {
        grant_tail_ = GrantTail::host;
        return;
      }
      if (is_punct(t, ',')) {
        grant_tail_ = GrantTail::account;
        return;
      }
      if (is_word(t, Kw::WITH)) {
        grant_tail_ = GrantTail::with;
        return;
      }
      return refuse();
    case GrantTail::host:
      if (!account_word) return refuse();
      grant_tail_ = GrantTail::after_host;
      return;
    case GrantTail::proxied_account:
      if (!account_word) return refuse();
      grant_tail_ = GrantTail::proxied;
      return;
    case GrantTail::proxied:
      if (t.kind == TokenKind::user_var) {  // 'u'@'h' reads as 'u' @'h'
        grant_tail_ = GrantTail::to;
        return;
      }
      if (is_punct(t, '@')) {
        grant_tail_ = GrantTail::proxied_host;
        return;
      }
      grant_tail_ = GrantTail::to;
      return grant_tail(t);
    case GrantTail::proxied_host:
      if (!account_word) return refuse();
      grant_tail_ = GrantTail::to;
      return;
    case GrantTail::with:  // WITH GRANT OPTION, or a role's WITH ADMIN OPTION
      if (!is_word(t, Kw::GRANT) && !(t.kind == TokenKind::word && ieq(t.text, "ADMIN"))) return refuse();
      grant_tail_ = GrantTail::grant;
      return;
    case GrantTail::grant:
      if (t.kind != TokenKind::word || !ieq(t.text, "OPTION")) return refuse();
      grant_tail_ = GrantTail::done;
      return;
    case GrantTail::done:
      return refuse();
  }
}

}  // namespace djproxy::policy
