// Recursive-descent parser over one statement's buffered tokens, used by the
// StrictReader: statements in strict_statements.cpp (DML, DDL heads) and
// strict_session_statements.cpp (SET, SHOW, transactions, ...), CREATE TABLE in
// strict_tables.cpp, queries and table references in strict_queries.cpp,
// expressions in strict_expressions.cpp, the word lists in strict_words.cpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/strict_reader.hpp"

namespace djproxy::policy::strict {

// Thrown to refuse: the statement is not one the reader models.
struct Refusal {
  std::string why;
  std::uint16_t code;
};

// Word lists, each a fact about MariaDB 10.11's grammar (sql/lex.h, sql/sql_yacc.yy).
bool reserved(std::string_view word) noexcept;
bool builtin_function(std::string_view name) noexcept;
bool session_variable(std::string_view name) noexcept;

inline bool ieq(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const char x = a[i], y = b[i];
    if (x != y && ((x | 0x20) != (y | 0x20) || static_cast<unsigned char>((x | 0x20) - 'a') > 25)) return false;
  }
  return true;
}

class Parser {
 public:
  Parser(const StrictToken* toks, std::size_t begin, std::size_t end, std::string_view arena,
         const PolicyConfig& config, const std::optional<std::string>& current, StrictResult& out, bool body)
      : toks_(toks), pos_(begin), end_(end), arena_(arena), config_(config), current_(current), out_(out),
        body_(body) {}

  void statement();  // one whole statement, to the end of the range
  void rows();       // INSERT rows: row (',' row)* to the end of the range

 private:
  // Parts of a name: views into the reader's arena, valid while the parser runs.
  struct Name {
    std::string_view parts[3];
    int n = 0;
  };

  // ---- tokens (inline: the parser asks these many times per token)
  const StrictToken& peek(std::size_t k = 0) const { return pos_ + k < end_ ? toks_[pos_ + k] : kEnd; }
  std::string_view text(const StrictToken& t) const { return {arena_.data() + t.off, t.len}; }
  bool at_end() const { return pos_ >= end_; }
  bool word(const StrictToken& t, std::string_view kw) const {
    return t.kind == TokenKind::word && !t.after_dot && t.len == kw.size() && ieq(text(t), kw);
  }
  bool is(std::string_view kw, std::size_t k = 0) const { return word(peek(k), kw); }
  bool punct(char c, std::size_t k = 0) const {
    const StrictToken& t = peek(k);
    return t.kind == TokenKind::punct && t.punct == c && c != 0;
  }
  bool accept(std::string_view kw) {
    if (!is(kw)) return false;
    ++pos_;
    return true;
  }
  bool accept(char c) {
    if (!punct(c)) return false;
    ++pos_;
    return true;
  }
  void expect(std::string_view kw);
  void expect(char c);
  bool ident_at(std::size_t k = 0) const {
    if (pos_ + k >= end_) return false;
    const StrictToken& t = toks_[pos_ + k];
    return t.kind == TokenKind::quoted_ident || (t.kind == TokenKind::word && (t.after_dot || !t.reserved));
  }
  std::string_view ident();
  [[noreturn]] void refuse(const std::string& why) const;
  [[noreturn]] void syntax(const std::string& why) const;
  std::string near() const;

  // ---- references
  void add_schema(std::string_view schema, Access access);
  void table_name(Access access);       // [schema.]table
  void schema_name(Access access);      // schema
  void charset_name();
  Name qualified();                     // ident ('.' ident){0,2}
  void written_in_body(const Name& n, Access access) const;

  // ---- statements (strict_statements.cpp)
  void dispatch();
  void select_statement();
  void insert_statement();
  void row_list(int lineage_column);
  void update_statement();
  void delete_statement();
  void set_statement();
  void set_item();
  void show_statement();
  void show_filter();
  void routine_status_filter();
  void describe_statement();
  void transaction_statement();
  void dynamic_statement();
  void call_statement();
  void load_statement();
  void field_terms();
  void maintenance_statement();
  void create_table(bool temporary);
  void column_definition();
  void table_constraint();
  void table_options();
  void drop_temporary();
  void head_only(const char* what);
  void lock_statement();
  // Which writes of a ~lineage row's table_name an assignment list may hold.
  enum class LineageWrite : std::uint8_t { none, upsert, update };
  void assignments(Access access, LineageWrite lineage = LineageWrite::none);
  void ident_list_parens();

  // ---- queries and expressions (strict_expressions.cpp)
  void query_expression();
  void query_term();
  void query_block();
  void with_clause();
  void select_item();
  void into_clause();
  void table_references(Access access);
  void table_reference(Access access);
  void table_factor(Access access);
  void index_hints();
  void index_list_parens();  // (name | PRIMARY, ...)
  void json_table_columns();
  void opt_alias(bool after_table = false);
  void table_alias();  // a name that aliases a table: never WINDOW
  void order_by();
  void limit_clause();
  void locking_clause();
  void window_spec();
  bool query_starts_at(std::size_t k) const;
  void expression();
  void expr_list();
  void predicate();
  void operand();
  void primary();
  void function_call(const Name& name);
  void function_arguments(std::string_view fn);
  void case_expression();
  void cast_type();
  void interval_unit();
  void subquery_parens();

  void enter() {
    if (++depth_ > kMaxDepth) refuse("statement nested too deeply");
  }
  void leave() { --depth_; }

  static constexpr StrictToken kEnd{};  // punct 0: past the end of the statement
  static constexpr int kMaxDepth = 200;

  const StrictToken* toks_;
  std::size_t pos_;
  std::size_t end_;
  std::string_view arena_;
  const PolicyConfig& config_;
  const std::optional<std::string>& current_;
  StrictResult& out_;
  // A stored program's body: it runs at each call with its definer's privileges (a
  // trigger's and an event's always, a routine's unless SQL SECURITY INVOKER), where
  // SHOW, KILL and information_schema see every account's threads, grants and schemas
  // and the proxy filters none of it. A worker may run these itself; a body may not.
  bool body_;
  int depth_ = 0;
};

}  // namespace djproxy::policy::strict
