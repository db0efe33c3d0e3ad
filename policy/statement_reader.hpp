// Reads the tokens of one statement, as they arrive, into a StatementInfo:
// its kind, object kind and every schema it touches. Keeps bounded state: a
// stack of parenthesis frames, the name being read, and small sets of names.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/container/small_vector.hpp>

#include "policy/name_arena.hpp"
#include "policy/token.hpp"
#include "policy/types.hpp"

namespace djproxy::policy {

// Reads the text of PREPARE / EXECUTE IMMEDIATE as a packet of its own: the analyser
// injects itself, so that the reader does not depend on it.
using NestedAnalysis = std::vector<StatementInfo> (*)(std::string_view text, const SessionState& state,
                                                      const PolicyConfig& config,
                                                      const std::optional<std::string>& current_schema,
                                                      int nesting);

class StatementReader {
 public:
  static constexpr std::size_t kMaxDepth = 128;
  static constexpr std::size_t kMaxRefs = 512;
  static constexpr int kMaxNesting = 2;

  // current_schema must stay unchanged until finish(). The reader writes the statement
  // into `out`, a fresh StatementInfo in its place in the caller's list: a StatementInfo
  // is costly to move (bench/RESULTS.md). `out` must outlive the reading, and the reader
  // never touches it again after finish().
  StatementReader(const SessionState& state, const PolicyConfig& config,
                  const std::optional<std::string>& current_schema, int nesting, NestedAnalysis analyse_nested,
                  StatementInfo& out);

  // Inline: it runs for each token, and most go straight on to body().
  void on_token(const Token& t) {
    if (phase_ == Phase::ignore && !failed() && t.kind == TokenKind::user_var && migration_variable(t.text) &&
        !info_.migration_token)
      return reject("@djproxy_migration may only be set by a statement of its own");
    ++tokens_;
    // Any name in a SET may be a variable it assigns: looked at before the reader may
    // stop reading the statement, and kept only as two flags.
    if (set_stmt_ && (t.kind == TokenKind::word || t.kind == TokenKind::quoted_ident)) note_set_target(t.text);
    if (phase_ == Phase::ignore) return;
    if (t.kind == TokenKind::user_var && migration_variable(t.text) &&
        !(verb_ == Kw::SET && set_step_ == SetStep::first))
      return reject("@djproxy_migration may only be set by a statement of its own: SET @djproxy_migration = '<token>'");
    if (t.kind == TokenKind::word && t.truncated) return reject("identifier too long");
    if (phase_ == Phase::head)
      head(t);
    else if (phase_ == Phase::grant_tail)
      grant_tail(t);
    else
      body(t);
    last_kind_ = t.kind;
  }
  // `out`, completed.
  StatementInfo& finish();
  // After finish(), for a DELETE or UPDATE of one table whose WHERE condition is only
  // `name = 'text'` conjuncts joined by AND: those conjuncts. Empty otherwise (a
  // condition always has one). Read on the first call: the rules ask for few statements'.
  std::span<const NameEquals> row_condition();
  bool empty() const noexcept { return tokens_ == 0; }

 private:
  enum class Pos : std::uint8_t { none, table, object, routine, schema, grant_target, show_table, show_schema, use_schema };

  // Where the reader is inside the head of its verb: each head has steps of its own.
  // CREATE / ALTER / DROP / RENAME / TRUNCATE: the object kind, then IF [NOT] EXISTS and the name.
  // alter_database_comment: ALTER DATABASE COMMENT, the option ('=' or a string follows)
  // or the name of a schema called comment (anything else follows).
  enum class DdlStep : std::uint8_t { kind, name, alter_database_comment };
  // DEFINER = user[@host] | CURRENT_USER[()] | role in the head of CREATE/ALTER: its parts
  // are read as such, never as the object kind (review round 7: DEFINER=event PROCEDURE).
  enum class DefinerStep : std::uint8_t { none, equals, user, after_user, host, close };
  // SHOW: what is shown, or after CREATE, TABLE (STATUS), CREATE DATABASE, CREATE PACKAGE.
  enum class ShowStep : std::uint8_t { what, create, table_status, create_database, create_package };
  // SET: the first word; assignments (read as a body); @djproxy_migration [:]= '<token>' | NULL;
  // after PASSWORD; after DEFAULT (ROLE). The token's steps are contiguous, token to token_value.
  enum class SetStep : std::uint8_t {
    first, assignments, token, token_colon, token_equals, token_value, password, after_default
  };
  // PREPARE name FROM 'text' | EXECUTE IMMEDIATE 'text' [USING ...] | EXECUTE name [USING ...].
  enum class DynamicStep : std::uint8_t { name, from, text, after_text };
  // BEGIN [WORK].
  enum class BeginStep : std::uint8_t { verb, work };
  // OPTIMIZE, CHECK, CHECKSUM, REPAIR, ANALYZE, DESCRIBE, EXPLAIN: the options, or the value after FORMAT.
  enum class ExplainStep : std::uint8_t { options, format_value };

  struct Frame {
    bool stmt = false;         // a query context: FROM introduces tables
    bool list = false;         // a table list: ',' expects another table
    Pos list_pos = Pos::table;
    Pos expect = Pos::none;    // the next name is a reference of this kind
    Access access = Access::read;
    bool after_table = false;  // a bare name now is an alias
    bool from_table_pos = false;  // opened where a table was expected
    bool table_fn = false;     // JSON_TABLE(...)
    bool cte = false;          // inside WITH name AS (...), ...
    bool defs = false;         // CREATE TABLE t ( definitions )
    std::uint32_t tokens = 0;  // tokens seen directly in this frame
  };

  struct CapturedToken {
    TokenKind kind = TokenKind::punct;
    char punct = 0;
    Kw kw = Kw::none;
    bool truncated = false;
    std::uint32_t off = 0;  // text in where_text_
    std::uint32_t len = 0;
  };

  // statement_reader.cpp: the frame, dispatch, the heads of the short verbs, finish()
  void reject(std::string why, std::uint16_t code = codes::not_supported);
  bool failed() const noexcept { return !info_.unsupported.empty(); }
  static bool migration_variable(std::string_view user_variable);  // djproxy_migration, in any case
  Frame& top() { return frames_.back(); }
  void to_body() { phase_ = Phase::body; }
  void expect(Pos pos, Access access, bool list = false);
  void add_schema(std::string_view name, Access access);
  void add_object(std::optional<std::string_view> schema, std::string_view name, Access access);
  void head(const Token& t);
  void start_verb(const Token& t);
  // statement_reader_ddl.cpp, _show.cpp, _set.cpp, _dynamic.cpp: the longer heads
  void ddl_head(const Token& t);
  void show_head(const Token& t);
  void set_head(const Token& t);
  void note_set_target(std::string_view name);
  void dynamic_head(const Token& t);
  void grant_tail(const Token& t);
  void add_grant_pattern(std::string_view pattern);
  bool statement_name(const Token& t);
  void nested(const std::string& text, const char* verb);
  // statement_reader_body.cpp
  void body(const Token& t);
  void keyword(const Token& t);
  void table_option(const Token& t);
  void punct(const Token& t);
  void flush_name(const Token* next);
  void declare(std::string_view name);
  void set_part(int i, std::string_view text);
  // statement_reader_lineage.cpp
  void capture(const Token& t);
  void read_row_condition();

  const SessionState& state_;
  const PolicyConfig& config_;
  const std::optional<std::string>& current_;
  int nesting_;
  NestedAnalysis analyse_nested_;
  StatementInfo& info_;

  enum class Phase : std::uint8_t { head, body, grant_tail, ignore };
  // After a GRANT / REVOKE target: TO | FROM, accounts, and at most WITH GRANT OPTION.
  // GRANT PROXY ON 'user'@'host' TO ...: proxied (its host may follow), proxied_host.
  enum class GrantTail : std::uint8_t {
    to, account, after_account, host, after_host, with, grant, done, proxied_account, proxied, proxied_host,
  };
  GrantTail grant_tail_ = GrantTail::to;
  Phase phase_ = Phase::head;
  Kw verb_ = Kw::none;
  // GRANT / REVOKE: the privileges (whose column lists hold parentheses) until ON at
  // depth 0, then the target (after an optional TABLE / FUNCTION / PROCEDURE).
  enum class GrantStep : std::uint8_t { privileges, target };
  GrantStep grant_step_ = GrantStep::privileges;
  int grant_depth_ = 0;
  bool grant_proxy_ = false;  // the privilege is PROXY: ON names an account
  DdlStep ddl_step_ = DdlStep::kind;
  ShowStep show_step_ = ShowStep::what;
  SetStep set_step_ = SetStep::first;
  DynamicStep dynamic_step_ = DynamicStep::name;
  BeginStep begin_step_ = BeginStep::verb;
  ExplainStep explain_step_ = ExplainStep::options;
  std::uint32_t tokens_ = 0;

  boost::container::small_vector<Frame, 8> frames_;
  // name being read: up to three parts, copied out of the lexer's buffer (a name
  // longer than the lexer keeps is refused before it gets here)
  struct Part {
    char text[256];
    std::uint16_t len = 0;
    std::string_view view() const noexcept { return {text, len}; }
  };
  Part parts_[3];
  int nparts_ = 0;
  bool pend_dot_ = false;
  bool pend_star_ = false;
  bool alias_next_ = false;
  bool sysvar_name_ = false;

  NameList<4> candidates_;  // qualifiers seen in expressions: a.b
  NameList<8> declared_;    // table names, aliases, CTE names

  // statement-specific state
  bool temporary_ = false;
  bool create_like_or_select_ = false;
  bool on_is_target_ = false;   // CREATE INDEX .. ON t, CREATE TRIGGER .. ON t, GRANT .. ON
  // CONNECTION or ENGINE just read in CREATE/ALTER TABLE (table_option()).
  enum class TableOption : std::uint8_t { none, connection, engine, engine_name };
  // The states in which body() has more to do than read names, keywords and punctuation,
  // tested for each token with one load (unusual()): a worker's statements are in none.
  struct Unusual {
    bool capturing = false;     // DELETE / UPDATE ... WHERE: its tokens are kept (where_)
    bool routine_body = false;  // CREATE PROCEDURE/FUNCTION/TRIGGER/EVENT
    bool create_table = false;
    bool alter_table = false;
    TableOption table_option = TableOption::none;
    std::uint8_t alter_rename = 0;  // 1: RENAME read in ALTER TABLE / EVENT
    std::uint8_t zero[2] = {};      // never set: unusual() reads all eight bytes
  };
  static_assert(sizeof(Unusual) == 8);
  bool unusual() const noexcept {
    std::uint64_t any;
    std::memcpy(&any, &unusual_, sizeof any);
    return any != 0;
  }
  Unusual unusual_;
  bool rename_list_ = false;
  bool show_mode_ = false;
  bool show_columns_ = false;
  bool show_needs_schema_ = false;
  int show_from_count_ = 0;
  std::optional<std::string> show_schema_;
  std::optional<std::string> show_table_schema_;
  std::string show_table_;
  bool set_stmt_ = false;
  bool delete_stmt_ = false;
  bool update_stmt_ = false;
  int skip_names_ = 0;
  DefinerStep definer_ = DefinerStep::none;
  bool definer_current_user_ = false;  // CURRENT_USER, which () may follow
  std::string comment_word_;           // ALTER DATABASE COMMENT: the word as written
  bool capture_overflow_ = false;
  // Heap vectors, empty for every other statement: an inline array would be initialised
  // for each one.
  std::vector<CapturedToken> where_;  // DELETE / UPDATE ... WHERE only
  NameArena where_text_;
  std::vector<NameEquals> row_condition_;
  bool condition_read_ = false;
  bool one_table_condition_ = false;  // a DELETE / UPDATE of one table with a captured WHERE
  // dynamic SQL and the migration token
  std::string literal_;
  bool literal_seen_ = false;
  bool token_null_ = false;
  TokenKind last_kind_ = TokenKind::punct;  // of the token before this one
  bool json_pending_ = false;
  bool defs_pending_ = false;
  bool had_defs_ = false;
};

}  // namespace djproxy::policy
