// Expressions, as MariaDB 10.11 reads them (sql/sql_yacc.yy: expr, simple_expr,
// function_call_*). Precedence does not matter here; what matters is that every
// name is read in the position the server reads it in: in an expression `a.b` is
// table.column, `a.b.c` is schema.table.column, a call `a.b(` is schema.function,
// and the argument of NEXTVAL/LASTVAL/SETVAL and NEXT VALUE FOR is a table.
#include "policy/strict_parser.hpp"

namespace djproxy::policy::strict {
namespace {

bool one_of(std::string_view w, std::initializer_list<std::string_view> list) {
  for (auto x : list)
    if (ieq(w, x)) return true;
  return false;
}

// Every word primary() reads as something other than a name: a literal's or a constant's,
// or the keyword of a construct. Any other word (but a _charset introducer, or a reserved
// word called as a function) is a column or function name, and primary() reads it as one
// at once instead of comparing it with each of these (a point select's column names cost
// a third of the allow-list reader's instructions). A word primary() tests must be here.
bool special_primary_word(std::string_view w) {
  switch (w.size()) {
    case 1: return one_of(w, {"X", "B", "N"});
    case 3: return one_of(w, {"ANY", "ALL", "ROW"});
    case 4: return one_of(w, {"NULL", "TRUE", "SOME", "CASE", "DATE", "TIME", "NEXT"});
    case 5: return one_of(w, {"FALSE", "MATCH"});
    case 6: return ieq(w, "EXISTS");
    case 7: return one_of(w, {"DEFAULT", "UNKNOWN"});
    case 8: return one_of(w, {"UTC_DATE", "UTC_TIME", "INTERVAL", "PREVIOUS"});
    case 9: return one_of(w, {"LOCALTIME", "TIMESTAMP"});
    case 12: return one_of(w, {"CURRENT_DATE", "CURRENT_TIME", "CURRENT_USER", "CURRENT_ROLE"});
    case 13: return ieq(w, "UTC_TIMESTAMP");
    case 14: return ieq(w, "LOCALTIMESTAMP");
    case 17: return ieq(w, "CURRENT_TIMESTAMP");
    default: return false;
  }
}

// The words expression() reads after an operand; any other word ends the expression.
bool operator_word(std::string_view w) {
  switch (w.size()) {
    case 2: return one_of(w, {"OR", "IN", "IS"});
    case 3: return one_of(w, {"NOT", "AND", "XOR", "DIV", "MOD"});
    case 4: return ieq(w, "LIKE");
    case 5: return ieq(w, "RLIKE");
    case 6: return one_of(w, {"SOUNDS", "ESCAPE", "REGEXP"});
    case 7: return one_of(w, {"BETWEEN", "COLLATE"});
    default: return false;
  }
}

bool interval_unit_word(std::string_view w) {
  return one_of(w, {"MICROSECOND", "SECOND", "MINUTE", "HOUR", "DAY", "WEEK", "MONTH", "QUARTER", "YEAR",
                    "SECOND_MICROSECOND", "MINUTE_MICROSECOND", "MINUTE_SECOND", "HOUR_MICROSECOND",
                    "HOUR_SECOND", "HOUR_MINUTE", "DAY_MICROSECOND", "DAY_SECOND", "DAY_MINUTE", "DAY_HOUR",
                    "YEAR_MONTH", "SQL_TSI_SECOND", "SQL_TSI_MINUTE", "SQL_TSI_HOUR", "SQL_TSI_DAY",
                    "SQL_TSI_WEEK", "SQL_TSI_MONTH", "SQL_TSI_QUARTER", "SQL_TSI_YEAR"});
}

// A binary operator's first byte, and the bytes that continue it (<=, <>, <=>, ||, &&,
// >>, !=): switches, where string_view::find would call memchr for each operator.
bool operator_start(char c) {
  switch (c) {
    case '=': case '<': case '>': case '!': case '+': case '-': case '*': case '/': case '%': case '&': case '|':
    case '^':
      return true;
    default:
      return false;
  }
}

bool operator_more(char c) { return c == '=' || c == '<' || c == '>' || c == '|' || c == '&'; }

}  // namespace

void Parser::expr_list() {
  do expression();
  while (accept(','));
}

void Parser::expression() {
  enter();
  operand();
  bool after_like = false;
  for (;;) {
    const StrictToken& t = peek();
    if (at_end()) break;
    if (t.kind == TokenKind::punct) {
      if (t.punct == ':' && punct('=', 1) && !peek(1).space_before) {
        pos_ += 2;
      } else if (operator_start(t.punct)) {
        ++pos_;
        while (!at_end() && peek().kind == TokenKind::punct && !peek().space_before && operator_more(peek().punct))
          ++pos_;
      } else {
        break;
      }
      after_like = false;
      operand();
      continue;
    }
    if (t.kind != TokenKind::word || t.after_dot) break;
    const std::string_view w = text(t);
    if (!operator_word(w)) break;  // FROM, WHERE, AS, an alias ...: most words end it
    if (ieq(w, "NOT")) {
      if (!(is("LIKE", 1) || is("IN", 1) || is("BETWEEN", 1) || is("REGEXP", 1) || is("RLIKE", 1))) break;
      ++pos_;
      continue;
    }
    if (ieq(w, "SOUNDS")) {
      if (!is("LIKE", 1)) break;
      pos_ += 2;
      operand();
      continue;
    }
    if (ieq(w, "ESCAPE")) {
      if (!after_like) break;
      ++pos_;
      after_like = false;
      operand();
      continue;
    }
    if (one_of(w, {"AND", "OR", "XOR", "DIV", "MOD", "LIKE", "REGEXP", "RLIKE", "BETWEEN", "IN", "IS", "COLLATE"})) {
      after_like = ieq(w, "LIKE");
      ++pos_;
      operand();
      continue;
    }
    break;
  }
  leave();
}

void Parser::operand() {
  enter();
  for (;;) {
    if (punct('-') || punct('+') || punct('~') || punct('!')) {
      ++pos_;
      continue;
    }
    if (is("NOT") || (is("BINARY") && !punct('(', 1))) {
      ++pos_;
      continue;
    }
    break;
  }
  primary();
  leave();
}

void Parser::primary() {
  if (at_end()) syntax("a value expected");
  const StrictToken& t = peek();
  switch (t.kind) {
    case TokenKind::number:
      ++pos_;
      return;
    case TokenKind::string:
      while (!at_end() && peek().kind == TokenKind::string) ++pos_;  // 'a' 'b' is one literal
      return;
    case TokenKind::user_var:
      ++pos_;
      if (punct(':') && punct('=', 1) && !peek(1).space_before) {
        pos_ += 2;
        expression();
      }
      return;
    case TokenKind::sys_var:
      ++pos_;
      ident();  // @@[global|session|local.]name: reading a variable changes nothing
      if (accept('.')) ident();
      return;
    case TokenKind::punct:
      if (t.punct == '?') {
        ++pos_;
        return;
      }
      if (t.punct == '(') {
        if (query_starts_at(1)) return subquery_parens();
        ++pos_;
        expr_list();
        expect(')');
        return;
      }
      if (t.punct == '{') refuse("ODBC escape syntax { ... }");
      syntax("a value expected");
    case TokenKind::quoted_ident: {
      Name n = qualified();
      if (punct('(')) return function_call(n);
      if (n.n == 3) add_schema(n.parts[0], Access::read);
      return;
    }
    case TokenKind::word:
      break;
  }
  const std::string_view w = text(t);
  const bool call = punct('(', 1);
  if (!t.after_dot && (special_primary_word(w) || (w.size() > 1 && w[0] == '_') || (call && reserved(w)))) {
    if (!call && one_of(w, {"NULL", "TRUE", "FALSE", "DEFAULT", "UNKNOWN"})) {
      ++pos_;
      return;
    }
    if (!call && one_of(w, {"CURRENT_DATE", "CURRENT_TIME", "CURRENT_TIMESTAMP", "LOCALTIME", "LOCALTIMESTAMP",
                            "UTC_DATE", "UTC_TIME", "UTC_TIMESTAMP", "CURRENT_USER", "CURRENT_ROLE"})) {
      ++pos_;
      return;
    }
    const StrictToken& next = peek(1);
    const bool string_next = pos_ + 1 < end_ && next.kind == TokenKind::string;
    // x'..', b'..', n'..' (adjacent), _charset'..' and DATE/TIME/TIMESTAMP '..' literals
    if (string_next && !next.space_before && one_of(w, {"X", "B", "N"})) {
      pos_ += 2;
      return;
    }
    if (w.size() > 1 && w[0] == '_' && pos_ + 1 < end_ &&
        (next.kind == TokenKind::string || next.kind == TokenKind::number)) {
      pos_ += 2;
      return;
    }
    // _charset X'..' and _charset B'..' (UNDERSCORE_CHARSET hex_or_bin_String; review round 23):
    // the server's lexer reads x' and b' as a literal's start only with a single quote.
    if (w.size() > 1 && w[0] == '_' && pos_ + 2 < end_ && next.kind == TokenKind::word && !next.after_dot &&
        one_of(text(next), {"X", "B"}) && peek(2).kind == TokenKind::string && peek(2).quote == '\'' &&
        !peek(2).space_before) {
      pos_ += 3;
      return;
    }
    if (string_next && one_of(w, {"DATE", "TIME", "TIMESTAMP"})) {
      pos_ += 2;
      return;
    }
    if (ieq(w, "EXISTS")) {
      ++pos_;
      return subquery_parens();
    }
    if (one_of(w, {"ANY", "SOME", "ALL"}) && call && query_starts_at(2)) {
      ++pos_;
      return subquery_parens();
    }
    if (ieq(w, "CASE")) return case_expression();
    if (ieq(w, "INTERVAL") && !call) {
      ++pos_;
      for (;;) {
        operand();
        if (!(punct('+') || punct('-') || punct('*') || punct('/'))) break;
        ++pos_;
      }
      return interval_unit();
    }
    if (ieq(w, "ROW") && call) {
      ++pos_;
      expect('(');
      expr_list();
      expect(')');
      return;
    }
    if (ieq(w, "MATCH") && call) {
      ++pos_;
      expect('(');
      expr_list();
      expect(')');
      expect("AGAINST");
      expect('(');
      operand();  // a bit_expr: IN starts the search modifier
      if (accept("IN")) {
        if (accept("BOOLEAN")) {
          expect("MODE");
        } else {
          expect("NATURAL");
          expect("LANGUAGE");
          expect("MODE");
        }
      }
      if (accept("WITH")) {
        expect("QUERY");
        expect("EXPANSION");
      }
      expect(')');
      return;
    }
    if ((ieq(w, "NEXT") || ieq(w, "PREVIOUS")) && is("VALUE", 1) && is("FOR", 2)) {
      pos_ += 3;
      return table_name(Access::write);  // the sequence: a table reference
    }
    if (call && reserved(w)) {
      Name n;
      n.parts[0] = w;
      n.n = 1;
      ++pos_;
      return function_call(n);
    }
  }
  Name n = qualified();
  if (punct('(')) return function_call(n);
  if (n.n == 3) add_schema(n.parts[0], Access::read);
}

void Parser::function_call(const Name& name) {
  enter();
  if (name.n == 3) syntax("three-part function name");
  if (name.n == 2) {
    add_schema(name.parts[0], Access::write);  // a stored function of that schema
    function_arguments({});
    leave();
    return;
  }
  const std::string_view fn = name.parts[0];
  if (ieq(fn, "NEXTVAL") || ieq(fn, "LASTVAL") || ieq(fn, "SETVAL")) {
    expect('(');
    table_name(Access::write);  // the sequence
    while (accept(',')) expression();
    expect(')');
    leave();
    return;
  }
  if (ieq(fn, "LOAD_FILE")) {
    if (!config_.allow_server_files) refuse("LOAD_FILE reads files on the database server");
    function_arguments(fn);
    leave();
    return;
  }
  if (ieq(fn, "CAST") || ieq(fn, "CONVERT")) {
    expect('(');
    expression();
    if (accept("USING")) {
      charset_name();
    } else {
      if (!accept("AS")) expect(',');
      cast_type();
    }
    expect(')');
    leave();
    return;
  }
  if (!builtin_function(fn))
    refuse("unknown function `" + std::string(fn.substr(0, 64)) +
           "`: djproxy reads built-in functions and schema-qualified stored functions only");
  function_arguments(fn);
  if (accept("WITHIN")) {
    expect("GROUP");
    expect('(');
    order_by();
    expect(')');
  }
  if (accept("OVER")) {
    if (punct('('))
      window_spec();
    else
      ident();
  }
  leave();
}

void Parser::function_arguments(std::string_view fn) {
  expect('(');
  if (accept(')')) return;
  if (ieq(fn, "COUNT") && accept('*')) return expect(')');
  for (;;) {
    while (is("DISTINCT") || is("ALL") || is("LEADING") || is("TRAILING") || is("BOTH")) ++pos_;
    if (!at_end() && peek().kind == TokenKind::word && interval_unit_word(text(peek())) &&
        (punct(',', 1) || is("FROM", 1)))
      ++pos_;  // EXTRACT(YEAR FROM ..), TIMESTAMPADD(MINUTE, ..)
    else if (!is("FROM"))
      expression();
    if (accept(',') || accept("FROM") || accept("FOR")) continue;
    if (accept("USING")) {
      charset_name();
    } else if (accept("AS")) {
      cast_type();
    } else if (is("ORDER")) {
      order_by();
    }
    if (accept("SEPARATOR")) {
      if (peek().kind != TokenKind::string || at_end()) syntax("SEPARATOR needs a string");
      ++pos_;
    }
    if (accept("LIMIT")) {
      operand();
      if (accept(',') || accept("OFFSET")) operand();
    }
    if (accept(',')) continue;
    break;
  }
  expect(')');
}

void Parser::cast_type() {
  bool any = false;
  while (!at_end() && peek().kind == TokenKind::word && !is("USING") && !is("AS") && !is("EXISTS") &&
         !is("PATH")) {
    if (is("CHARACTER") || is("CHARSET") || is("COLLATE")) {
      if (accept("CHARACTER")) expect("SET");
      else ++pos_;
      charset_name();
      continue;
    }
    ++pos_;
    any = true;
    if (accept('(')) {
      while (!at_end() && (peek().kind == TokenKind::number || punct(','))) ++pos_;
      expect(')');
    }
  }
  if (!any) syntax("a type expected");
}

void Parser::interval_unit() {
  if (at_end() || peek().kind != TokenKind::word || !interval_unit_word(text(peek()))) syntax("an interval unit expected");
  ++pos_;
}

void Parser::case_expression() {
  expect("CASE");
  if (!is("WHEN")) expression();
  if (!is("WHEN")) syntax("WHEN expected");
  while (accept("WHEN")) {
    expression();
    expect("THEN");
    expression();
  }
  if (accept("ELSE")) expression();
  expect("END");
}

}  // namespace djproxy::policy::strict
