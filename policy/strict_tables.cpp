// CREATE [TEMPORARY] TABLE and DROP TEMPORARY TABLE, read whole: production
// forwards them for temporary tables and DataJoint's bookkeeping tables. Only
// the table options and column attributes that change nothing outside the table
// are modelled; DATA DIRECTORY, UNION, CONNECTION, engines that reach files or
// other servers, and partitioning are refused.
#include "policy/strict_parser.hpp"

namespace djproxy::policy::strict {
namespace {

bool engine_allowed(std::string_view e) {
  return ieq(e, "InnoDB") || ieq(e, "MyISAM") || ieq(e, "Aria") || ieq(e, "MEMORY") || ieq(e, "HEAP");
}

}  // namespace

void Parser::create_table(bool temporary) {
  (void)temporary;
  if (accept("IF")) {
    expect("NOT");
    expect("EXISTS");
  }
  table_name(Access::ddl);
  if (accept("LIKE")) return table_name(Access::read);
  if (punct('(') && is("LIKE", 1)) {
    pos_ += 2;
    table_name(Access::read);
    return expect(')');
  }
  if (punct('(') && !query_starts_at(1)) {
    ++pos_;
    do {
      if (is("CONSTRAINT") || is("PRIMARY") || is("UNIQUE") || is("KEY") || is("INDEX") || is("FULLTEXT") ||
          is("SPATIAL") || is("FOREIGN") || (is("CHECK") && punct('(', 1)))
        table_constraint();
      else
        column_definition();
    } while (accept(','));
    expect(')');
  }
  table_options();
  if (is("PARTITION")) refuse("partitioned tables are not supported");
  if (!accept("IGNORE")) accept("REPLACE");
  accept("AS");
  if (!at_end()) query_expression();
}

void Parser::column_definition() {
  ident();
  // the type: a word, DOUBLE PRECISION / CHARACTER VARYING, then (n[,m]) or ('a','b')
  if (at_end() || peek().kind != TokenKind::word) syntax("a column type expected");
  ++pos_;
  while (accept("PRECISION") || accept("VARYING")) {
  }
  if (accept('(')) {
    do {
      if (at_end() || (peek().kind != TokenKind::number && peek().kind != TokenKind::string))
        syntax("a type argument expected");
      ++pos_;
    } while (accept(','));
    expect(')');
  }
  const auto name_or_string = [&] {
    if (peek().kind == TokenKind::string && !at_end()) ++pos_;
    else ident();
  };
  const auto string_value = [&] {
    if (peek().kind != TokenKind::string || at_end()) syntax("a string expected");
    ++pos_;
  };
  for (;;) {
    if (accept("NOT")) {
      expect("NULL");
    } else if (accept("NULL") || accept("AUTO_INCREMENT") || accept("UNSIGNED") || accept("SIGNED") ||
               accept("ZEROFILL") || accept("BINARY") || accept("ASCII") || accept("UNICODE") ||
               accept("INVISIBLE") || accept("VIRTUAL") || accept("PERSISTENT") || accept("STORED")) {
    } else if (accept("DEFAULT")) {
      if (punct('(')) {
        ++pos_;
        expression();
        expect(')');
      } else {
        operand();
      }
    } else if (accept("ON")) {
      expect("UPDATE");
      operand();
    } else if (accept("PRIMARY")) {
      expect("KEY");
    } else if (accept("UNIQUE")) {
      accept("KEY");
    } else if (accept("KEY")) {
    } else if (accept("COMMENT")) {
      string_value();
    } else if (accept("COLLATE") || accept("CHARSET")) {
      name_or_string();
    } else if (accept("CHARACTER")) {
      expect("SET");
      name_or_string();
    } else if (accept("CHECK")) {
      expect('(');
      expression();
      expect(')');
    } else if (accept("GENERATED") || accept("AS")) {
      if (word(toks_[pos_ - 1], "GENERATED")) {  // GENERATED ALWAYS AS (..)
        expect("ALWAYS");
        expect("AS");
      }
      expect('(');
      expression();
      expect(')');
    } else if (is("REFERENCES")) {
      refuse("a foreign key ties the table to another: a schema change for a migration session");
    } else {
      break;
    }
  }
}

void Parser::table_constraint() {
  if (accept("CONSTRAINT")) {
    if (ident_at() && !is("PRIMARY") && !is("UNIQUE") && !is("FOREIGN") && !is("CHECK")) ident();
  }
  if (accept("CHECK")) {
    expect('(');
    expression();
    return expect(')');
  }
  if (is("FOREIGN")) refuse("a foreign key ties the table to another: a schema change for a migration session");
  if (accept("PRIMARY")) {
    expect("KEY");
  } else {
    if (!accept("UNIQUE") && !accept("FULLTEXT")) accept("SPATIAL");
    if (!accept("KEY")) accept("INDEX");
  }
  if (ident_at() && !is("USING")) ident();
  if (accept("USING")) ident();
  expect('(');
  do {
    ident();
    if (accept('(')) {
      if (peek().kind != TokenKind::number || at_end()) syntax("a prefix length expected");
      ++pos_;
      expect(')');
    }
    if (!accept("ASC")) accept("DESC");
  } while (accept(','));
  expect(')');
  for (;;) {
    if (accept("USING")) {
      ident();
    } else if (accept("COMMENT")) {
      if (peek().kind != TokenKind::string || at_end()) syntax("a string expected");
      ++pos_;
    } else if (accept("KEY_BLOCK_SIZE")) {
      accept('=');
      operand();
    } else if (accept("VISIBLE") || accept("INVISIBLE") || accept("IGNORED")) {
    } else {
      break;
    }
  }
}

void Parser::table_options() {
  for (;;) {
    accept(',');
    if (accept("DEFAULT")) {
      if (!(is("CHARSET") || is("CHARACTER") || is("COLLATE"))) syntax("CHARSET or COLLATE expected");
    }
    if (accept("ENGINE") || accept("TYPE")) {
      accept('=');
      const std::string engine(ident());
      if (!engine_allowed(engine)) refuse("ENGINE=" + engine.substr(0, 32) + " is not supported");
    } else if (accept("CHARSET") || accept("COLLATE") || (is("CHARACTER") && is("SET", 1) && (pos_ += 2))) {
      accept('=');
      if (peek().kind == TokenKind::string && !at_end()) ++pos_;
      else ident();
    } else if (accept("COMMENT")) {
      accept('=');
      if (peek().kind != TokenKind::string || at_end()) syntax("a string expected");
      ++pos_;
    } else if (accept("AUTO_INCREMENT") || accept("AVG_ROW_LENGTH") || accept("MAX_ROWS") || accept("MIN_ROWS") ||
               accept("KEY_BLOCK_SIZE") || accept("PACK_KEYS") || accept("CHECKSUM") || accept("DELAY_KEY_WRITE") ||
               accept("STATS_AUTO_RECALC") || accept("STATS_PERSISTENT") || accept("STATS_SAMPLE_PAGES") ||
               accept("PAGE_CHECKSUM") || accept("TRANSACTIONAL") || accept("ROW_FORMAT")) {
      accept('=');
      if (peek().kind == TokenKind::number && !at_end()) ++pos_;
      else if (!accept("DEFAULT")) ident();
    } else {
      return;
    }
  }
}

void Parser::drop_temporary() {
  pos_ += 2;  // DROP TEMPORARY
  if (!accept("TABLE")) expect("TABLES");
  if (accept("IF")) expect("EXISTS");
  do table_name(Access::ddl);
  while (accept(','));
  if (!accept("RESTRICT")) accept("CASCADE");
}

}  // namespace djproxy::policy::strict
