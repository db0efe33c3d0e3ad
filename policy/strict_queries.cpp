// Queries and table references, as MariaDB 10.11 reads them (sql/sql_yacc.yy:
// query_expression, query_specification, table_ref, join). A table position makes
// `a.b` schema.table whatever aliases or CTE names the statement declares.
#include "policy/strict_parser.hpp"

namespace djproxy::policy::strict {
bool Parser::query_starts_at(std::size_t k) const {
  while (punct('(', k)) ++k;
  return is("SELECT", k) || is("WITH", k) || is("VALUES", k) || is("TABLE", k);
}

void Parser::subquery_parens() {
  expect('(');
  query_expression();
  expect(')');
}

void Parser::query_expression() {
  enter();
  if (is("WITH")) with_clause();
  query_term();
  while (is("UNION") || is("EXCEPT") || is("INTERSECT")) {
    ++pos_;
    if (!accept("ALL")) accept("DISTINCT");
    query_term();
  }
  if (is("ORDER")) order_by();
  limit_clause();
  locking_clause();
  leave();
}

void Parser::with_clause() {
  expect("WITH");
  accept("RECURSIVE");
  do {
    ident();  // the CTE's name: it never makes `name.x` anything but schema.x in a table position
    if (punct('(')) ident_list_parens();
    expect("AS");
    subquery_parens();
  } while (accept(','));
}

void Parser::query_term() {
  enter();
  if (accept('(')) {
    query_expression();
    expect(')');
  } else if (is("SELECT")) {
    query_block();
  } else if (accept("TABLE")) {
    table_name(Access::read);  // MySQL 8's TABLE t (MariaDB answers 1064 itself)
  } else if (accept("VALUES")) {
    do {
      accept("ROW");  // MySQL 8's VALUES ROW(...)
      expect('(');
      expr_list();
      expect(')');
    } while (accept(','));
  } else {
    syntax("a query expected");
  }
  leave();
}

void Parser::query_block() {
  expect("SELECT");
  while (is("ALL") || is("DISTINCT") || is("DISTINCTROW") || is("HIGH_PRIORITY") || is("STRAIGHT_JOIN") ||
         is("SQL_SMALL_RESULT") || is("SQL_BIG_RESULT") || is("SQL_BUFFER_RESULT") || is("SQL_CACHE") ||
         is("SQL_NO_CACHE") || is("SQL_CALC_FOUND_ROWS"))
    ++pos_;
  do select_item();
  while (accept(','));
  if (is("INTO")) into_clause();
  if (accept("FROM")) {
    if (!accept("DUAL")) table_references(Access::read);
  }
  if (accept("WHERE")) expression();
  if (accept("GROUP")) {
    expect("BY");
    do {
      expression();
      if (!accept("ASC")) accept("DESC");
    } while (accept(','));
    if (is("WITH") && is("ROLLUP", 1)) pos_ += 2;
  }
  if (accept("HAVING")) expression();
  if (accept("WINDOW")) {
    do {
      ident();
      expect("AS");
      window_spec();
    } while (accept(','));
  }
  if (is("ORDER")) order_by();
  limit_clause();
  if (is("PROCEDURE")) refuse("SELECT ... PROCEDURE is not supported");
  if (is("INTO")) into_clause();
  locking_clause();
  if (is("INTO")) into_clause();
}

void Parser::select_item() {
  if (accept('*')) return;
  if (ident_at() && punct('.', 1) && punct('*', 2)) {
    pos_ += 3;  // table.*
    return;
  }
  if (ident_at() && punct('.', 1) && ident_at(2) && punct('.', 3) && punct('*', 4)) {
    Name n = qualified();  // schema.table.*
    add_schema(n.parts[0], Access::read);
    pos_ += 2;
    return;
  }
  expression();
  opt_alias();
}

// After a table the server reads WINDOW as the WINDOW clause, and `AS window` as an
// error (1064); elsewhere it is a name like any unreserved word.
void Parser::table_alias() {
  if (is("WINDOW")) syntax("WINDOW is not a table's alias");
  ident();
}

void Parser::opt_alias(bool after_table) {
  if (after_table && is("WINDOW")) return;
  if (after_table && is("AS") && is("WINDOW", 1)) {
    ++pos_;
    table_alias();
  }
  if (accept("AS")) {
    if (peek().kind == TokenKind::string && !at_end()) {
      ++pos_;
      return;
    }
    ident();
    return;
  }
  if (ident_at() || (peek().kind == TokenKind::string && !at_end())) ++pos_;
}

void Parser::into_clause() {
  expect("INTO");
  if (is("OUTFILE") || is("DUMPFILE")) {
    if (!config_.allow_server_files)
      refuse("SELECT ... INTO " + std::string(text(peek())) + " writes a file on the database server");
    // INTO OUTFILE 'file' [CHARACTER SET cs] [FIELDS ...] [LINES ...] | INTO DUMPFILE 'file'
    const bool outfile = is("OUTFILE");
    ++pos_;
    if (peek().kind != TokenKind::string || at_end()) syntax("a file name expected");
    ++pos_;
    if (!outfile) return;
    if (accept("CHARACTER")) {
      expect("SET");
      charset_name();
    } else if (accept("CHARSET")) {
      charset_name();
    }
    if (accept("FIELDS") || accept("COLUMNS")) field_terms();
    if (accept("LINES")) field_terms();
    return;
  }
  do {
    if (peek().kind != TokenKind::user_var || at_end()) refuse("SELECT ... INTO of something other than @variables");
    ++pos_;
  } while (accept(','));
}

void Parser::table_references(Access access) {
  do table_reference(access);
  while (accept(','));
}

void Parser::table_reference(Access access) {
  enter();
  table_factor(access);
  for (;;) {
    bool condition = true;
    if (is("INNER") || is("CROSS")) {
      ++pos_;
      expect("JOIN");
    } else if (accept("JOIN")) {
    } else if (accept("STRAIGHT_JOIN")) {
    } else if (is("LEFT") || is("RIGHT")) {
      ++pos_;
      accept("OUTER");
      expect("JOIN");
    } else if (accept("NATURAL")) {
      if (!accept("LEFT")) accept("RIGHT");
      accept("OUTER");
      expect("JOIN");
      condition = false;
    } else {
      break;
    }
    table_factor(access);
    if (!condition) continue;
    if (accept("ON")) {
      expression();
    } else if (accept("USING")) {
      ident_list_parens();
    }
  }
  leave();
}

void Parser::table_factor(Access access) {
  enter();
  if (punct('{')) refuse("ODBC escape syntax { ... }");
  if (punct('(')) {
    if (query_starts_at(1)) {
      subquery_parens();  // derived table
      opt_alias(true);
      if (punct('(')) ident_list_parens();
    } else {
      ++pos_;
      table_references(access);
      expect(')');
    }
    leave();
    return;
  }
  if (is("JSON_TABLE") && punct('(', 1)) {
    pos_ += 2;
    expression();
    expect(',');
    if (at_end() || peek().kind != TokenKind::string) syntax("a JSON path expected");
    ++pos_;
    json_table_columns();
    expect(')');
    opt_alias(true);
    leave();
    return;
  }
  if (is("LATERAL")) refuse("LATERAL is not supported");
  table_name(access);
  if (accept("PARTITION")) ident_list_parens();
  if (is("FOR") && is("SYSTEM_TIME", 1)) refuse("FOR SYSTEM_TIME is not supported");
  opt_alias(true);
  index_hints();
  leave();
}

// COLUMNS (name FOR ORDINALITY | name type [EXISTS] PATH '..' [on empty/error] |
// NESTED [PATH] '..' COLUMNS (...)), as sql/sql_yacc.yy's json_table_columns_clause.
void Parser::json_table_columns() {
  enter();
  expect("COLUMNS");
  expect('(');
  do {
    if (accept("NESTED")) {
      accept("PATH");
      if (at_end() || peek().kind != TokenKind::string) syntax("a JSON path expected");
      ++pos_;
      json_table_columns();
      continue;
    }
    ident();
    if (accept("FOR")) {
      expect("ORDINALITY");
      continue;
    }
    cast_type();
    accept("EXISTS");
    expect("PATH");
    if (at_end() || peek().kind != TokenKind::string) syntax("a JSON path expected");
    ++pos_;
    while (!at_end() && (is("NULL") || is("ERROR") || is("DEFAULT"))) {
      if (accept("DEFAULT")) {
        if (at_end() || peek().kind != TokenKind::string) syntax("a default value expected");
      }
      ++pos_;
      expect("ON");
      if (!accept("EMPTY")) expect("ERROR");
    }
  } while (accept(','));
  expect(')');
  leave();
}

void Parser::index_hints() {
  while ((is("USE") || is("IGNORE") || is("FORCE")) && (is("INDEX", 1) || is("KEY", 1))) {
    pos_ += 2;
    if (accept("FOR")) {
      if (!accept("JOIN")) {
        if (!accept("ORDER")) expect("GROUP");
        expect("BY");
      }
    }
    index_list_parens();
  }
}

void Parser::index_list_parens() {
  expect('(');
  if (!punct(')')) {
    do {
      if (!accept("PRIMARY")) ident();
    } while (accept(','));
  }
  expect(')');
}

void Parser::ident_list_parens() {
  expect('(');
  do ident();
  while (accept(','));
  expect(')');
}

void Parser::order_by() {
  expect("ORDER");
  expect("BY");
  do {
    expression();
    if (!accept("ASC")) accept("DESC");
  } while (accept(','));
}

void Parser::limit_clause() {
  if (accept("LIMIT")) {
    if (is("ROWS") && is("EXAMINED", 1)) {
      pos_ += 2;
      operand();
      return;
    }
    operand();
    if (accept(',') || accept("OFFSET")) operand();
    if (is("ROWS") && is("EXAMINED", 1)) {
      pos_ += 2;
      operand();
    }
    return;
  }
  if (accept("OFFSET")) {
    operand();
    if (!accept("ROW")) accept("ROWS");
  }
  if (accept("FETCH")) {
    if (!accept("FIRST")) expect("NEXT");
    if (!is("ROW") && !is("ROWS")) operand();
    if (!accept("ROW")) expect("ROWS");
    if (!accept("ONLY")) {
      expect("WITH");
      expect("TIES");
    }
  }
}

void Parser::locking_clause() {
  if (is("FOR") && is("UPDATE", 1)) {
    pos_ += 2;
  } else if (is("LOCK") && is("IN", 1)) {
    pos_ += 2;
    expect("SHARE");
    expect("MODE");
  } else {
    return;
  }
  if (accept("WAIT")) operand();
  else if (accept("NOWAIT")) {
  } else if (is("SKIP") && is("LOCKED", 1)) pos_ += 2;
}

void Parser::window_spec() {
  expect('(');
  while (!punct(')')) {
    if (at_end()) syntax("')' expected");
    if (accept(',') || accept("ROWS") || accept("RANGE") || accept("BETWEEN") || accept("AND") ||
        accept("UNBOUNDED") || accept("PRECEDING") || accept("FOLLOWING") || accept("CURRENT") || accept("ROW") ||
        accept("EXCLUDE") || accept("NO") || accept("OTHERS") || accept("TIES") || accept("GROUP") ||
        accept("ASC") || accept("DESC"))
      continue;
    if (accept("PARTITION") || accept("ORDER")) {
      expect("BY");
      continue;
    }
    expression();
  }
  expect(')');
}

}  // namespace djproxy::policy::strict
