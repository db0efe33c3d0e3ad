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
  row_list(-2);
  if (!at_end()) syntax("unexpected text in VALUES");
}

// (values), (values), ... ; lineage_column >= 0: the value there must be a string
// naming a bookkeeping table ('~...'), else the rows count as other tables' lineage.
void Parser::row_list(int lineage_column) {
  do {
    expect('(');
    int column = 0;
    if (!punct(')')) {
      do {
        if (column == lineage_column) {
          const StrictToken& v = peek();
          const bool bookkeeping = !at_end() && v.kind == TokenKind::string && v.first == '~' &&
                                   (punct(',', 1) || punct(')', 1));
          if (!bookkeeping) out_.lineage_rows = StrictResult::LineageRows::other;
        }
        expression();
        ++column;
      } while (accept(','));
    }
    if (lineage_column >= column || lineage_column == -1) out_.lineage_rows = StrictResult::LineageRows::other;
    expect(')');
  } while (accept(','));
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
  if (body_ && (ieq(w, "SHOW") || ieq(w, "KILL")))
    refuse(std::string(w) + " in a stored program's body (it would run with the program's definer's privileges)");
  // Production reads CREATE TABLE and DROP TEMPORARY TABLE whole, for the rules to judge;
  // in a body the rules never see them again: each CALL would change the schema outside
  // any migration (review round 7: CREATE PROCEDURE p() CREATE OR REPLACE TABLE t ...).
  if (body_ && (ieq(w, "CREATE") || (ieq(w, "DROP") && !is("PREPARE", 1))))
    refuse(std::string(w) + " in a stored program's body (it would change the schema at each call, outside any "
                            "migration)");
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
      if (accept("AS") || ident_at()) table_alias();
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

void Parser::assignments(Access access, LineageWrite lineage) {
  do {
    Name n = qualified();
    if (n.n == 3) add_schema(n.parts[0], access);
    if (!accept('=')) {
      expect(':');
      expect('=');
    }
    const std::size_t value = pos_;
    expression();
    // An assignment to a ~lineage row's table_name (however the column is written:
    // qualified, quoted, any case, with = or :=) can turn a bookkeeping row into a user
    // table's (review round 38). An upsert may only keep the value the row brought,
    // VALUES(table_name) or its synonym VALUE(table_name); an UPDATE may only set a string
    // that names a bookkeeping table ('~...').
    if (lineage != LineageWrite::none && ieq(n.parts[n.n - 1], "table_name")) {
      const std::size_t used = pos_ - value;
      const StrictToken& v = toks_[value];
      bool kept;
      if (lineage == LineageWrite::upsert) {
        kept = used == 4 && (word(v, "VALUES") || word(v, "VALUE")) && toks_[value + 1].kind == TokenKind::punct &&
               toks_[value + 1].punct == '(' &&
               (toks_[value + 2].kind == TokenKind::quoted_ident ||
                (toks_[value + 2].kind == TokenKind::word && !toks_[value + 2].after_dot)) &&
               ieq(text(toks_[value + 2]), "table_name") && toks_[value + 3].kind == TokenKind::punct &&
               toks_[value + 3].punct == ')';
      } else {
        kept = used == 1 && v.kind == TokenKind::string && v.first == '~';
      }
      if (!kept) out_.lineage_rows = StrictResult::LineageRows::other;
    }
  } while (accept(','));
}

void Parser::insert_statement() {
  ++pos_;  // INSERT | REPLACE
  while (is("LOW_PRIORITY") || is("DELAYED") || is("HIGH_PRIORITY") || is("IGNORE")) ++pos_;
  accept("INTO");
  table_name(Access::write);
  // DataJoint's ~lineage: which rows an upsert or REPLACE may overwrite is read from
  // the table_name value of each row (the rules allow only bookkeeping tables' rows).
  const bool lineage = (toks_[pos_ - 1].kind == TokenKind::word || toks_[pos_ - 1].kind == TokenKind::quoted_ident) &&
                       ieq(text(toks_[pos_ - 1]), "~lineage");
  int table_name_column = 0;
  if (accept("PARTITION")) ident_list_parens();
  if (punct('(') && !query_starts_at(1)) {
    ++pos_;
    table_name_column = -1;
    if (!punct(')')) {
      int column = 0;
      do {
        Name n = qualified();
        if (n.n == 3) add_schema(n.parts[0], Access::write);
        if (ieq(n.parts[n.n - 1], "table_name")) table_name_column = column;
        ++column;
      } while (accept(','));
    }
    expect(')');
  }
  // Rows already checked in chunks (StrictReader::check_rows) counted as other tables':
  // the rows read here never lower that (review round 38: a REPLACE of 600 rows, the
  // first a user table's, overwrote it).
  if (lineage && out_.lineage_rows == StrictResult::LineageRows::none)
    out_.lineage_rows = StrictResult::LineageRows::bookkeeping;
  if (accept("VALUES") || accept("VALUE")) {
    row_list(lineage ? table_name_column : -2);
  } else if (accept("SET")) {
    if (lineage) out_.lineage_rows = StrictResult::LineageRows::other;
    assignments(Access::write);
  } else if (is("SELECT") || is("WITH") || punct('(')) {
    if (lineage) out_.lineage_rows = StrictResult::LineageRows::other;
    query_expression();
  } else {
    syntax("VALUES, SET or SELECT expected");
  }
  if (accept("ON")) {
    expect("DUPLICATE");
    expect("KEY");
    expect("UPDATE");
    assignments(Access::write, lineage ? LineageWrite::upsert : LineageWrite::none);
  }
  if (accept("RETURNING")) {
    do select_item();
    while (accept(','));
  }
}

void Parser::update_statement() {
  ++pos_;
  while (is("LOW_PRIORITY") || is("IGNORE")) ++pos_;
  const std::size_t tables = pos_;
  table_references(Access::write);
  // An UPDATE that names ~lineage among its tables: its SET of table_name is checked.
  bool lineage = false;
  for (std::size_t i = tables; i < pos_; ++i)
    if ((toks_[i].kind == TokenKind::word || toks_[i].kind == TokenKind::quoted_ident) &&
        ieq(text(toks_[i]), "~lineage"))
      lineage = true;
  expect("SET");
  assignments(Access::write, lineage ? LineageWrite::update : LineageWrite::none);
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
    written_in_body(n, Access::write);
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
      if (accept("AS") || (ident_at() && !is("WHERE"))) table_alias();
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

// FIELDS / COLUMNS / LINES: [OPTIONALLY] ENCLOSED | TERMINATED | ESCAPED | STARTING BY 'text' ...
void Parser::field_terms() {
  while (is("TERMINATED") || is("OPTIONALLY") || is("ENCLOSED") || is("ESCAPED") || is("STARTING")) {
    accept("OPTIONALLY");
    ++pos_;
    expect("BY");
    if (peek().kind != TokenKind::string || at_end()) syntax("a string expected");
    ++pos_;
  }
}

void Parser::load_statement() {
  ++pos_;
  if (!accept("DATA") && !accept("XML")) return head_only("LOAD INDEX");
  while (is("LOW_PRIORITY") || is("CONCURRENT")) ++pos_;
  if (!accept("LOCAL") && !config_.allow_server_files)
    refuse("LOAD DATA without LOCAL reads a file on the database server");
  expect("INFILE");
  if (peek().kind != TokenKind::string || at_end()) syntax("a file name expected");
  ++pos_;
  if (!accept("REPLACE")) accept("IGNORE");
  expect("INTO");
  expect("TABLE");
  table_name(Access::write);
  // Loading into ~lineage can overwrite (REPLACE) any table's lineage rows.
  if ((toks_[pos_ - 1].kind == TokenKind::word || toks_[pos_ - 1].kind == TokenKind::quoted_ident) &&
      ieq(text(toks_[pos_ - 1]), "~lineage"))
    out_.lineage_rows = StrictResult::LineageRows::other;
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
      field_terms();
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

}  // namespace djproxy::policy::strict
