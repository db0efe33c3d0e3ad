// The statement shapes production forwards (sql/sql_yacc.yy is the reference for
// each). Anything else is refused here, or left to the rules as a statement they
// must refuse (schema and account changes, administration).
#include "policy/strict_parser.hpp"

namespace djproxy::policy::strict {

void Parser::statement() {
  if (at_end()) return;
  dispatch();
  if (!at_end()) syntax("unexpected text");
}

void Parser::rows() {
  do {
    expect('(');
    if (!punct(')')) expr_list();
    expect(')');
  } while (accept(','));
  if (!at_end()) syntax("unexpected text in VALUES");
}

void Parser::head_only(const char* what) {
  (void)what;
  out_.head_only = true;
  pos_ = end_;
}

void Parser::dispatch() {
  if (punct('(')) return query_expression();
  const StrictToken& t = peek();
  if (t.kind != TokenKind::word) syntax("a statement must start with a keyword");
  const std::string_view w = text(t);
  if (ieq(w, "SELECT") || ieq(w, "WITH") || ieq(w, "VALUES") || ieq(w, "TABLE")) return query_expression();
  if (ieq(w, "INSERT") || ieq(w, "REPLACE")) return insert_statement();
  if (ieq(w, "UPDATE")) return update_statement();
  if (ieq(w, "DELETE")) return delete_statement();
  if (ieq(w, "SET")) return set_statement();
  if (ieq(w, "SHOW")) return show_statement();
  if (ieq(w, "USE")) {
    ++pos_;
    return schema_name(Access::read);
  }
  if (ieq(w, "DESCRIBE") || ieq(w, "DESC") || ieq(w, "EXPLAIN")) return describe_statement();
  if (ieq(w, "ANALYZE")) {
    if (is("TABLE", 1) || is("NO_WRITE_TO_BINLOG", 1) || is("LOCAL", 1)) return maintenance_statement();
    return describe_statement();  // ANALYZE <statement> runs it and reports the plan
  }
  if (ieq(w, "CHECK") || ieq(w, "CHECKSUM") || ieq(w, "OPTIMIZE") || ieq(w, "REPAIR")) return maintenance_statement();
  if (ieq(w, "START") || ieq(w, "BEGIN") || ieq(w, "COMMIT") || ieq(w, "ROLLBACK") || ieq(w, "SAVEPOINT") ||
      ieq(w, "RELEASE"))
    return transaction_statement();
  if (ieq(w, "LOCK") || ieq(w, "UNLOCK")) return lock_statement();
  if (ieq(w, "PREPARE") || ieq(w, "EXECUTE") || ieq(w, "DEALLOCATE")) return dynamic_statement();
  if (ieq(w, "CALL")) return call_statement();
  if (ieq(w, "DO")) {
    ++pos_;
    return expr_list();
  }
  if (ieq(w, "LOAD")) return load_statement();
  if (ieq(w, "KILL")) {
    ++pos_;
    if (!accept("HARD")) accept("SOFT");
    if (is("USER")) refuse("KILL USER is not supported");
    if (!accept("CONNECTION")) accept("QUERY");
    accept("ID");
    return expression();
  }
  if (ieq(w, "HELP")) {
    ++pos_;
    if (peek().kind != TokenKind::string || at_end()) syntax("HELP needs a string");
    ++pos_;
    return;
  }
  if (ieq(w, "CREATE")) {
    std::size_t k = 1;
    if (is("OR", k) && is("REPLACE", k + 1)) k += 2;
    const bool temporary = is("TEMPORARY", k);
    if (temporary) ++k;
    if (is("TABLE", k)) {
      const std::size_t start = pos_;
      try {
        pos_ += k + 1;
        create_table(temporary);
        if (!at_end()) syntax("unexpected text");
      } catch (const Refusal&) {
        pos_ = start;
        return head_only("CREATE TABLE");  // the rules refuse it unless fully read
      }
      return;
    }
    return head_only("CREATE");
  }
  if (ieq(w, "DROP")) {
    if (is("TEMPORARY", 1)) return drop_temporary();
    if (is("PREPARE", 1)) return dynamic_statement();
    return head_only("DROP");
  }
  if (ieq(w, "ALTER") || ieq(w, "RENAME") || ieq(w, "TRUNCATE") || ieq(w, "GRANT") || ieq(w, "REVOKE"))
    return head_only("schema or account change");
  if (ieq(w, "FLUSH") || ieq(w, "RESET") || ieq(w, "PURGE") || ieq(w, "CHANGE") || ieq(w, "STOP") ||
      ieq(w, "SHUTDOWN") || ieq(w, "INSTALL") || ieq(w, "UNINSTALL") || ieq(w, "BINLOG") || ieq(w, "CACHE") ||
      ieq(w, "BACKUP"))
    return head_only("administration");
  if (ieq(w, "HANDLER")) {
    ++pos_;
    table_name(Access::read);
    if (accept("OPEN")) {
      if (accept("AS") || ident_at()) ident();
      return;
    }
    if (accept("CLOSE")) return;
    expect("READ");
    if (!(is("FIRST") || is("NEXT") || is("PREV") || is("LAST"))) {
      if (ident_at() && !is("WHERE") && !is("LIMIT")) ident();  // the index
    }
    if (accept("FIRST") || accept("NEXT") || accept("PREV") || accept("LAST")) {
    } else if (!at_end() && peek().kind == TokenKind::punct && peek().punct != '(') {
      while (!at_end() && peek().kind == TokenKind::punct && peek().punct != '(') ++pos_;  // = >= <= < >
      expect('(');
      expr_list();
      expect(')');
    }
    if (accept("WHERE")) expression();
    return limit_clause();
  }
  if (ieq(w, "XA")) {
    ++pos_;
    const auto xid = [&] {
      if (at_end() || peek().kind != TokenKind::string) syntax("an XA transaction id expected");
      ++pos_;
      if (accept(',')) {
        if (at_end() || peek().kind != TokenKind::string) syntax("a branch qualifier expected");
        ++pos_;
        if (accept(',')) operand();
      }
    };
    if (accept("START") || accept("BEGIN")) {
      xid();
      if (!accept("JOIN")) accept("RESUME");
    } else if (accept("END")) {
      xid();
      if (accept("SUSPEND") && accept("FOR")) expect("MIGRATE");
    } else if (accept("PREPARE") || accept("ROLLBACK")) {
      xid();
    } else if (accept("COMMIT")) {
      xid();
      if (accept("ONE")) expect("PHASE");
    } else {
      expect("RECOVER");
      if (accept("FORMAT")) {
        expect('=');
        if (at_end() || peek().kind != TokenKind::string) syntax("a format expected");
        ++pos_;
      }
    }
    return;
  }
  if ( ieq(w, "SIGNAL") || ieq(w, "RESIGNAL") || ieq(w, "GET") ||
      ieq(w, "IMPORT") || ieq(w, "CLONE") || ieq(w, "RESTART") || ieq(w, "BEGIN"))
    refuse(std::string(w.substr(0, 32)) + " statements are not supported");
  syntax("unknown statement");
}

// ---------------------------------------------------------------- DML

void Parser::assignments(Access access) {
  do {
    Name n = qualified();
    if (n.n == 3) add_schema(n.parts[0], access);
    if (!accept('=')) {
      expect(':');
      expect('=');
    }
    expression();
  } while (accept(','));
}

void Parser::insert_statement() {
  ++pos_;  // INSERT | REPLACE
  while (is("LOW_PRIORITY") || is("DELAYED") || is("HIGH_PRIORITY") || is("IGNORE")) ++pos_;
  accept("INTO");
  table_name(Access::write);
  if (accept("PARTITION")) ident_list_parens();
  if (punct('(') && !query_starts_at(1)) {
    ++pos_;
    if (!punct(')')) {
      do {
        Name n = qualified();
        if (n.n == 3) add_schema(n.parts[0], Access::write);
      } while (accept(','));
    }
    expect(')');
  }
  if (accept("VALUES") || accept("VALUE")) {
    do {
      expect('(');
      if (!punct(')')) expr_list();
      expect(')');
    } while (accept(','));
  } else if (accept("SET")) {
    assignments(Access::write);
  } else if (is("SELECT") || is("WITH") || punct('(')) {
    query_expression();
  } else {
    syntax("VALUES, SET or SELECT expected");
  }
  if (accept("ON")) {
    expect("DUPLICATE");
    expect("KEY");
    expect("UPDATE");
    assignments(Access::write);
  }
  if (accept("RETURNING")) {
    do select_item();
    while (accept(','));
  }
}

void Parser::update_statement() {
  ++pos_;
  while (is("LOW_PRIORITY") || is("IGNORE")) ++pos_;
  table_references(Access::write);
  expect("SET");
  assignments(Access::write);
  if (accept("WHERE")) expression();
  if (is("ORDER")) order_by();
  limit_clause();
}

void Parser::delete_statement() {
  ++pos_;
  while (is("LOW_PRIORITY") || is("QUICK") || is("IGNORE")) ++pos_;
  // The targets of a multi-table DELETE may be aliases of any table it names, so
  // every table of such a DELETE counts as written.
  const auto target = [&] {
    Name n = qualified();
    if (punct('.') && punct('*', 1)) pos_ += 2;
    if (n.n == 3) syntax("three-part table name");
    if (n.n == 2) add_schema(n.parts[0], Access::write);
    else if (current_) add_schema(*current_, Access::write);
  };
  if (accept("FROM")) {
    std::size_t targets = 0;
    do {
      target();
      ++targets;
    } while (accept(','));
    if (accept("USING")) {
      table_references(Access::write);
    } else {
      if (targets > 1) syntax("USING expected");
      if (accept("PARTITION")) ident_list_parens();
      if (accept("AS") || (ident_at() && !is("WHERE"))) ident();
    }
  } else {
    do target();
    while (accept(','));
    expect("FROM");
    table_references(Access::write);
  }
  if (accept("WHERE")) expression();
  if (is("ORDER")) order_by();
  limit_clause();
  if (accept("RETURNING")) {
    do select_item();
    while (accept(','));
  }
}

void Parser::call_statement() {
  ++pos_;
  table_name(Access::write);  // [schema.]procedure
  if (accept('(')) {
    if (!punct(')')) expr_list();
    expect(')');
  }
}

void Parser::load_statement() {
  ++pos_;
  if (!accept("DATA") && !accept("XML")) return head_only("LOAD INDEX");
  while (is("LOW_PRIORITY") || is("CONCURRENT")) ++pos_;
  if (!accept("LOCAL"))
    refuse("LOAD DATA without LOCAL reads a file on the database server");
  expect("INFILE");
  if (peek().kind != TokenKind::string || at_end()) syntax("a file name expected");
  ++pos_;
  if (!accept("REPLACE")) accept("IGNORE");
  expect("INTO");
  expect("TABLE");
  table_name(Access::write);
  if (accept("PARTITION")) ident_list_parens();
  const auto string_value = [&] {
    if (peek().kind != TokenKind::string || at_end()) syntax("a string expected");
    ++pos_;
  };
  for (;;) {
    if (accept("CHARACTER")) {
      expect("SET");
      ident();
    } else if (accept("CHARSET")) {
      ident();
    } else if (accept("ROWS")) {
      expect("IDENTIFIED");
      expect("BY");
      string_value();
    } else if (accept("FIELDS") || accept("COLUMNS") || accept("LINES")) {
      while (is("TERMINATED") || is("OPTIONALLY") || is("ENCLOSED") || is("ESCAPED") || is("STARTING")) {
        accept("OPTIONALLY");
        ++pos_;
        expect("BY");
        string_value();
      }
    } else if (accept("IGNORE")) {
      operand();
      if (!accept("LINES")) expect("ROWS");
    } else {
      break;
    }
  }
  if (accept('(')) {
    if (!punct(')')) {
      do {
        if (peek().kind == TokenKind::user_var && !at_end()) ++pos_;
        else ident();
      } while (accept(','));
    }
    expect(')');
  }
  if (accept("SET")) assignments(Access::write);
}

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
        if (peek().kind == TokenKind::string && !at_end()) ++pos_;
        else ident();
        if (accept("COLLATE")) {
          if (peek().kind == TokenKind::string && !at_end()) ++pos_;
          else ident();
        }
      }
      return;
    }
    if (accept("CHARSET") || (is("CHARACTER") && is("SET", 1) && (pos_ += 2))) {
      if (!accept("DEFAULT")) {
        if (peek().kind == TokenKind::string && !at_end()) ++pos_;
        else ident();
      }
      return;
    }
    if (is("PASSWORD") || is("ROLE") || is("DEFAULT") || is("STATEMENT") || is("TRANSACTION"))
      refuse("SET " + std::string(text(peek())) + " is not supported");
  }
  if (!ident_at() || peek().kind != TokenKind::word) syntax("a variable expected");
  const std::string name = ident();
  if (punct('.')) refuse("SET of a structured variable");
  if (!session_variable(name))
    refuse("SET of `" + name.substr(0, 64) + "`: djproxy forwards SET of listed session variables only");
  assign();
  if ((is("ON") || is("OFF") || is("DEFAULT") || is("ALL")) && (punct(',', 1) || pos_ + 1 >= end_)) {
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
    return show_filter();
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
    if (accept("AS") || (ident_at() && !is("READ") && !is("WRITE") && !is("LOW_PRIORITY"))) ident();
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
  while (accept("QUICK") || accept("FAST") || accept("MEDIUM") || accept("EXTENDED") || accept("CHANGED") ||
         accept("USE_FRM") || (is("FOR") && is("UPGRADE", 1) && (pos_ += 2))) {
  }
}

}  // namespace djproxy::policy::strict
