// The session statements production forwards: SET of listed session variables (every
// item of the list), SHOW of the project's schemas, DESCRIBE and EXPLAIN, transactions,
// table locks, prepared statements and table maintenance (sql/sql_yacc.yy).
#include "policy/strict_parser.hpp"

namespace djproxy::policy::strict {

// ---------------------------------------------------------------- SET

void Parser::set_statement() {
  ++pos_;
  if (is("TRANSACTION") || ((is("SESSION") || is("LOCAL")) && is("TRANSACTION", 1))) {
    if (!is("TRANSACTION")) ++pos_;
    ++pos_;
    do {
      if (accept("ISOLATION")) {
        expect("LEVEL");
        if (accept("READ")) {
          if (!accept("COMMITTED")) expect("UNCOMMITTED");
        } else if (accept("REPEATABLE")) {
          expect("READ");
        } else {
          expect("SERIALIZABLE");
        }
      } else {
        expect("READ");
        if (!accept("ONLY")) expect("WRITE");
      }
    } while (accept(','));
    return;
  }
  do set_item();
  while (accept(','));
}

void Parser::set_item() {
  const StrictToken& t = peek();
  if (at_end()) syntax("a variable expected");
  const auto assign = [&] {
    if (!accept('=')) {
      expect(':');
      expect('=');
    }
  };
  if (t.kind == TokenKind::user_var) {
    ++pos_;
    assign();
    return expression();
  }
  bool scoped = false;
  if (t.kind == TokenKind::sys_var) {
    ++pos_;
    if (is("GLOBAL") || is("PERSIST") || is("PERSIST_ONLY") || is("DEFAULT"))
      refuse("SET of a global variable");
    if ((is("SESSION") || is("LOCAL")) && punct('.', 1)) pos_ += 2;
    scoped = true;
  } else if (is("GLOBAL") || is("PERSIST") || is("PERSIST_ONLY")) {
    refuse("SET of a global variable");
  } else if (is("SESSION") || is("LOCAL")) {
    ++pos_;
    scoped = true;
  }
  if (!scoped) {
    if (accept("NAMES")) {
      if (!accept("DEFAULT")) {
        charset_name();
        if (accept("COLLATE")) charset_name();
      }
      return;
    }
    if (accept("CHARSET") || (is("CHARACTER") && is("SET", 1) && (pos_ += 2))) {
      if (!accept("DEFAULT")) charset_name();
      return;
    }
    if (is("PASSWORD") || is("ROLE") || is("DEFAULT") || is("STATEMENT") || is("TRANSACTION"))
      refuse("SET " + std::string(text(peek())) + " is not supported");
  }
  if (!ident_at() || peek().kind != TokenKind::word) syntax("a variable expected");
  const std::string_view name = ident();
  if (punct('.')) refuse("SET of a structured variable");
  if (!session_variable(name))
    refuse("SET of `" + std::string(name.substr(0, 64)) + "`: djproxy forwards SET of listed session variables only");
  assign();
  // set_expr_or_default: DEFAULT, ON, ALL and BINARY (the binary character set) are
  // values of their own there; elsewhere BINARY starts an expression (BINARY 'x').
  if ((is("ON") || is("OFF") || is("DEFAULT") || is("ALL") || is("BINARY")) && (punct(',', 1) || pos_ + 1 >= end_)) {
    ++pos_;
    return;
  }
  expression();
}

// ---------------------------------------------------------------- SHOW, DESCRIBE

void Parser::show_filter() {
  if (accept("LIKE")) {
    if (peek().kind != TokenKind::string || at_end()) syntax("LIKE needs a string");
    ++pos_;
  } else if (accept("WHERE")) {
    expression();
  }
}

// Routine listings span every schema the account can see; only the one-schema form
// mariadb-dump sends (WHERE Db = 'x') is forwarded, with that schema checked.
void Parser::routine_status_filter() {
  if (!(accept("WHERE") && accept("DB") && accept('=')) || at_end() || peek().kind != TokenKind::string)
    refuse("SHOW ... STATUS is forwarded only as WHERE Db = '<schema>'");
  const StrictToken& name = peek();
  if (name.truncated) refuse("name too long");
  ++pos_;
  if (!at_end()) refuse("SHOW ... STATUS is forwarded only as WHERE Db = '<schema>'");
  add_schema(text(name), Access::read);
}

void Parser::show_statement() {
  ++pos_;
  const auto from_schema = [&](bool current_if_absent) {
    if (accept("FROM") || accept("IN"))
      schema_name(Access::read);
    else if (current_if_absent && current_)
      add_schema(*current_, Access::read);
  };
  if (accept("DATABASES") || accept("SCHEMAS")) return show_filter();
  accept("EXTENDED");
  const bool full = accept("FULL");
  if (accept("TABLES") || (is("OPEN") && is("TABLES", 1) && (pos_ += 2)) ||
      (is("TABLE") && is("STATUS", 1) && (pos_ += 2)) || (!full && (accept("TRIGGERS") || accept("EVENTS")))) {
    from_schema(true);
    return show_filter();
  }
  if (accept("COLUMNS") || accept("FIELDS") || accept("INDEX") || accept("INDEXES") || accept("KEYS")) {
    if (!accept("FROM")) expect("IN");
    table_name(Access::read);
    from_schema(false);
    return show_filter();
  }
  if (full) {
    if (accept("PROCESSLIST")) return;
    syntax("SHOW FULL of what");
  }
  if (accept("CREATE")) {
    if (accept("TABLE") || accept("VIEW") || accept("SEQUENCE") || accept("PROCEDURE") || accept("FUNCTION") ||
        accept("TRIGGER") || accept("EVENT")) {
      return table_name(Access::read);
    }
    if (accept("PACKAGE")) {
      accept("BODY");
      return table_name(Access::read);
    }
    if (accept("DATABASE") || accept("SCHEMA")) {
      if (accept("IF")) {
        expect("NOT");
        expect("EXISTS");
      }
      return schema_name(Access::read);
    }
    refuse("SHOW CREATE " + std::string(text(peek()).substr(0, 32)) + " is not supported (it can reveal account secrets)");
  }
  if (is("GLOBAL") || is("SESSION") || is("LOCAL")) {
    ++pos_;
    if (!accept("VARIABLES")) expect("STATUS");
    return show_filter();
  }
  if (accept("VARIABLES") || accept("STATUS") || accept("COLLATION") || accept("CHARSET")) return show_filter();
  if (is("CHARACTER") && is("SET", 1)) {
    pos_ += 2;
    return show_filter();
  }
  if (accept("WARNINGS") || accept("ERRORS")) return limit_clause();
  if (accept("COUNT")) {
    expect('(');
    expect('*');
    expect(')');
    if (!accept("WARNINGS")) expect("ERRORS");
    return;
  }
  if (accept("STORAGE")) return expect("ENGINES");
  if (accept("ENGINES") || accept("PRIVILEGES") || accept("PROCESSLIST") || accept("PROFILES")) return;
  if (accept("PLUGINS")) {
    if (is("SONAME")) refuse("SHOW PLUGINS SONAME is not supported");
    return;
  }
  if (accept("GRANTS")) {
    if (!accept("FOR")) return;
    if (accept("CURRENT_USER")) {
      if (accept('(')) expect(')');
      return;
    }
    refuse("SHOW GRANTS FOR another account reveals its credentials");
  }
  if (accept("PROCEDURE") || accept("FUNCTION") || (accept("PACKAGE") && (accept("BODY") || true))) {
    expect("STATUS");
    return routine_status_filter();
  }
  refuse("SHOW " + std::string(at_end() ? "" : text(peek()).substr(0, 32)) + " is not supported");
}

void Parser::describe_statement() {
  ++pos_;
  while (accept("EXTENDED") || accept("PARTITIONS")) {
  }
  if (accept("FORMAT")) {
    expect('=');
    ident();
  }
  if (is("FOR") && is("CONNECTION", 1)) {
    // Another connection's plan shows its query's text: a definer's body would show any account's.
    if (body_) refuse("EXPLAIN FOR CONNECTION in a stored program's body (it would run with the program's definer's privileges)");
    pos_ += 2;
    return expression();
  }
  if (is("SELECT") || is("WITH") || is("VALUES") || punct('(')) return query_expression();
  if (is("INSERT") || is("REPLACE")) return insert_statement();
  if (is("UPDATE")) return update_statement();
  if (is("DELETE")) return delete_statement();
  table_name(Access::read);
  if (!at_end()) {
    if (peek().kind == TokenKind::string) ++pos_;
    else ident();
  }
}

// ---------------------------------------------------------------- transactions, locks, dynamic SQL

void Parser::transaction_statement() {
  const std::string_view w = text(peek());
  ++pos_;
  if (ieq(w, "START")) {
    expect("TRANSACTION");
    if (at_end()) return;
    do {
      if (accept("WITH")) {
        expect("CONSISTENT");
        expect("SNAPSHOT");
      } else {
        expect("READ");
        if (!accept("ONLY")) expect("WRITE");
      }
    } while (accept(','));
    return;
  }
  if (ieq(w, "BEGIN")) {
    accept("WORK");
    return;
  }
  if (ieq(w, "SAVEPOINT")) {
    ident();
    return;
  }
  if (ieq(w, "RELEASE")) {
    expect("SAVEPOINT");
    ident();
    return;
  }
  accept("WORK");  // COMMIT | ROLLBACK
  if (ieq(w, "ROLLBACK") && accept("TO")) {
    accept("SAVEPOINT");
    ident();
    return;
  }
  if (accept("AND")) {
    accept("NO");
    expect("CHAIN");
  }
  accept("NO");
  accept("RELEASE");
}

void Parser::lock_statement() {
  const bool lock = is("LOCK");
  ++pos_;
  if (!accept("TABLES")) expect("TABLE");
  if (!lock) return;
  do {
    const std::size_t at = pos_;
    table_name(Access::read);
    if (accept("AS") || (ident_at() && !is("READ") && !is("WRITE") && !is("LOW_PRIORITY"))) table_alias();
    if (accept("READ")) {
      accept("LOCAL");
    } else {
      accept("LOW_PRIORITY");
      expect("WRITE");
      accept("CONCURRENT");
      const std::size_t after = pos_;
      pos_ = at;
      table_name(Access::write);
      pos_ = after;
    }
  } while (accept(','));
  if (accept("WAIT")) operand();
  else accept("NOWAIT");
}

void Parser::dynamic_statement() {
  const std::string_view w = text(peek());
  ++pos_;
  const auto text_literal = [&] {
    // The text is analysed as a statement of its own by the analyser.
    if (peek().kind != TokenKind::string || at_end())
      refuse(std::string(w) + " of text djproxy cannot see (a variable or an expression)");
    ++pos_;
    if (!at_end() && peek().kind == TokenKind::string) refuse(std::string(w) + " of concatenated literals");
  };
  if (ieq(w, "PREPARE")) {
    ident();
    expect("FROM");
    return text_literal();
  }
  if (ieq(w, "EXECUTE")) {
    if (accept("IMMEDIATE")) text_literal();
    else ident();
    if (accept("USING")) expr_list();
    return;
  }
  expect("PREPARE");  // DEALLOCATE PREPARE | DROP PREPARE
  ident();
}

void Parser::maintenance_statement() {
  const bool reads = is("CHECK") || is("CHECKSUM");
  ++pos_;
  if (!accept("NO_WRITE_TO_BINLOG")) accept("LOCAL");
  if (!accept("TABLE")) expect("TABLES");
  do table_name(reads ? Access::read : Access::write);
  while (accept(','));
  while (!is("USE_FRM") && (accept("QUICK") || accept("FAST") || accept("MEDIUM") || accept("EXTENDED") || accept("CHANGED") || (is("FOR") && is("UPGRADE", 1) && (pos_ += 2)))) {
  }
  if (is("USE_FRM")) refuse("REPAIR ... USE_FRM rebuilds a table from its definition file");
  if (accept("PERSISTENT")) {  // ANALYZE TABLE t PERSISTENT FOR ALL | COLUMNS (..) INDEXES (..)
    expect("FOR");
    if (accept("ALL")) return;
    if (accept("COLUMNS")) {
      expect('(');
      if (!punct(')')) {
        do ident();
        while (accept(','));
      }
      expect(')');
    }
    if (accept("INDEXES")) index_list_parens();
  }
}

}  // namespace djproxy::policy::strict
