// Inputs and outputs of the policy engine: the session's state, the immutable
// configuration, what was read from a statement, and the decision.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/container/small_vector.hpp>

#include "policy/rule.hpp"

namespace djproxy::policy {

// ---------------------------------------------------------------- inputs

// sql_mode flags that change how a statement is read.
struct SqlMode {
  bool ansi_quotes = false;           // "x" is an identifier
  bool no_backslash_escapes = false;  // '\' is an ordinary character in strings
  bool pipes_as_concat = false;       // || is concatenation, not OR
  bool ignore_space = false;          // space allowed between a function name and '('
  // No NO_AUTO_CREATE_USER: a GRANT to an account that does not exist creates it. Not a
  // reading flag: the rules ask it of GRANT. False in the server's default sql_mode.
  bool auto_create_user = false;
};

enum class ServerFlavour : std::uint8_t { mysql, mariadb };

// How the client's character set is scanned byte by byte.
enum class CharsetClass : std::uint8_t {
  utf8,         // utf8mb3/utf8mb4/ascii/binary: every byte >= 0x80 is part of an identifier
  single_byte,  // latin1 & co: bytes >= 0x80 outside literals are refused (not read with certainty)
  gbk,          // multi-byte charsets whose trail bytes can be 0x5C ('\') or 0x60 ('`')
  big5,
  sjis,         // sjis and cp932
  gb18030,
  unsupported,  // anything else: every statement is refused
};

enum class MigrationKind : std::uint8_t { none, by_user, by_token };

struct Migration {
  MigrationKind kind = MigrationKind::none;
  // For by_token: schemas the token covers, exact names or "prefix*". Empty = none.
  std::vector<std::string> scope;
};

// A statement the session prepared with SQL PREPARE from text djproxy read.
struct PreparedName {
  std::string name;    // ASCII lower case: the server compares statement names without case
  bool calls = false;  // its text is a CALL: executing it may prepare any name
  // The client character set its text was read in: when a table it uses changes, the
  // server prepares it again from its text, read in the client character set of that
  // EXECUTE (Prepared_statement::reprepare keeps sql_mode and schema, not the character
  // set; review round 13).
  CharsetClass charset = CharsetClass::utf8;
  friend bool operator==(const PreparedName&, const PreparedName&) = default;
};

struct SessionState {
  std::optional<std::string> current_schema;
  SqlMode sql_mode;
  ServerFlavour flavour = ServerFlavour::mariadb;
  // 10.11.19 -> 101119, 8.0.36 -> 80036. 0: not known, and then no executable comment
  // with a version, and no "/*M!", is read (which server runs it is not known).
  std::uint32_t server_version = 101119;
  CharsetClass charset = CharsetClass::utf8;
  // character_set_connection is another character set than character_set_client (or is
  // not known): the server converts the text of PREPARE ... FROM '...' and EXECUTE
  // IMMEDIATE '...' to it and back before reading it (sql_prepare.cc,
  // get_dynamic_sql_string), and in sjis or ujis that round trip moves backslashes
  // (review round 12). Such text is not read, and so not forwarded.
  bool dynamic_text_converted = false;
  bool multi_statements = false;
  Migration migration;
  // EXECUTE of any other name runs text djproxy never read: a stored procedure, called
  // in this session, can prepare a statement under any name (found by review).
  std::vector<PreparedName> prepared_names;
};

enum class Mode : std::uint8_t { enforce, dry_run };

struct PolicyConfig {
  bool create_tables = false;  // false = production
  std::string schema_prefix;   // empty = no prefix rule
  Mode mode = Mode::enforce;
  bool allow_temporary_tables = true;
  bool allow_bookkeeping_tables = true;
  // Production forwards statements that read or write the database server's files
  // (policy/server_files.hpp) only when set.
  bool allow_server_files = false;
  int lower_case_table_names = 0;  // 0, 1 or 2, as the server reports it
  std::vector<std::string> extra_readable_schemas;
};

// ---------------------------------------------------------------- statement facts

enum class StatementKind : std::uint8_t {
  unknown,
  query,           // SELECT, WITH, TABLE, VALUES, DO
  dml,             // INSERT, REPLACE, UPDATE, DELETE, LOAD DATA, CALL, HANDLER
  ddl,             // schema changes, GRANT/REVOKE, user management
  transaction,     // START TRANSACTION, BEGIN, COMMIT, ROLLBACK, SAVEPOINT, XA, LOCK/UNLOCK
  set,             // SET
  show,            // SHOW
  use,             // USE db
  describe,        // DESCRIBE/EXPLAIN of a table
  maintenance,     // ANALYZE/OPTIMIZE/CHECK/CHECKSUM/REPAIR TABLE
  administrative,  // FLUSH, RESET, KILL, replication, plugins, ...
  dynamic_sql,     // PREPARE, EXECUTE, DEALLOCATE
  empty,           // only comments / whitespace
};

enum class ObjectKind : std::uint8_t {
  none,
  table,
  temporary_table,
  view,
  index,
  database,
  procedure,
  function,
  trigger,
  event,
  sequence,
  server,
  tablespace,
  user,
  role,
  privilege,
  other,
};

enum class Access : std::uint8_t { read, write, ddl };

struct SchemaUse {
  std::string name;
  Access access = Access::read;
  friend bool operator==(const SchemaUse&, const SchemaUse&) = default;
};

struct ObjectRef {
  std::string schema;  // empty when unqualified and no current schema
  std::string name;
  Access access = Access::read;
  friend bool operator==(const ObjectRef&, const ObjectRef&) = default;
};

// One conjunct `name = 'text'` of a WHERE condition read whole (the reader's fact; the
// rules judge it). Views into the reader's storage, valid until its next statement.
struct NameEquals {
  std::string_view name;
  std::string_view value;
};

// Most statements name a few schemas and objects. Kept inside the statement's record,
// they cost no heap allocation: with the statement list and the allow-list reader's own
// list, these were four of the seven allocations of a relayed point select
// (bench/RESULTS.md).
using SchemaUses = boost::container::small_vector<SchemaUse, 4>;
using ObjectRefs = boost::container::small_vector<ObjectRef, 4>;

struct StatementInfo {
  StatementKind kind = StatementKind::unknown;
  ObjectKind object = ObjectKind::none;
  std::string verb;  // leading keyword(s), upper case, e.g. "CREATE TABLE"
  SchemaUses schemas;
  ObjectRefs objects;

  bool if_not_exists = false;
  bool or_replace = false;
  bool create_plain = false;     // CREATE TABLE ... ( definitions ) with no SELECT/LIKE
  bool show_databases = false;   // SHOW DATABASES / SCHEMAS (listed as the server lists it)
  bool global_scope = false;     // GRANT ON *.*, user/role/server/tablespace objects
  bool lineage_condition_bookkeeping_only = false;
  bool via_prepare = false;      // analysed from PREPARE/EXECUTE IMMEDIATE text
  bool migration_token = false;  // SET @djproxy_migration = ...
  // SET of sql_mode or of the client character set (SET NAMES, SET CHARACTER SET,
  // character_set_client): the server reads the statements after it differently.
  bool changes_lexing = false;
  // SET of a session_track_* variable: the proxy follows the schema and sql_mode
  // through the server's session tracking and must not lose it.
  bool changes_tracking = false;
  std::optional<std::string> token_value;  // nullopt with migration_token = NULL
  std::optional<std::string> new_current_schema;  // USE db
  std::string statement_name;  // PREPARE name / EXECUTE name, ASCII lower case
  std::string unsupported;  // non-empty: not read with certainty, and why
  std::uint16_t unsupported_code = 0;  // 1064 for malformed, else 1235
  // The allow-list reader's verdict (policy/strict_reader.hpp): in production,
  // outside a migration, a statement is forwarded only when it read it whole.
  std::string strict_refusal;  // non-empty: a construct it does not model, and why
  std::uint16_t strict_code = 0;  // 1064 where the text is not valid SQL, else 1235
  bool strict_head_only = false;  // only the head was read: the rules must refuse it
  // Reads or writes a file on the database server (policy/server_files.hpp): what, or "".
  std::string_view server_file;
  friend bool operator==(const StatementInfo&, const StatementInfo&) = default;
};

// ---------------------------------------------------------------- decision

enum class Verdict : std::uint8_t { allow, reject, rewrite, migration_token };

enum class RewriteKind : std::uint8_t {
  none,
  create_if_not_exists_existing,  // ask the server whether schema.table exists
};

namespace codes {
inline constexpr std::uint16_t table_access_denied = 1142;  // ER_TABLEACCESS_DENIED_ERROR
inline constexpr std::uint16_t db_access_denied = 1044;     // ER_DBACCESS_DENIED_ERROR
inline constexpr std::uint16_t specific_access_denied = 1227;
inline constexpr std::uint16_t parse_error = 1064;
inline constexpr std::uint16_t not_supported = 1235;
inline constexpr std::uint16_t table_exists = 1050;  // warning for the rewrite
}  // namespace codes

struct Decision {
  Verdict verdict = Verdict::allow;
  // false in dry-run: the verdict is what production would do, the session forwards.
  bool enforced = true;
  // reject (or, for create_if_not_exists_existing, the answer when the table is missing)
  std::uint16_t code = 0;
  std::string sqlstate;
  std::string message;
  Rule rule = Rule::none;
  // rewrite
  RewriteKind rewrite = RewriteKind::none;
  std::string rewrite_schema;
  std::string rewrite_table;
  // migration_token: nullopt = "= NULL" (leave the migration)
  std::optional<std::string> token;
  // allowed but worth an audit line (bookkeeping table created in production)
  bool audit = false;
  std::string audit_note;
  friend bool operator==(const Decision&, const Decision&) = default;
};

struct Analysis {
  std::vector<StatementInfo> statements;
  Decision decision;
  // Current schema after the packet ran (USE inside the packet), for the caller.
  std::optional<std::string> current_schema_after;
  // SessionState::prepared_names once the command ran, when it changes them: all of it
  // ran (the server's answer is not an ERR), or it stopped at an error, when a PREPARE
  // of the packet may not have run and the server may still hold another statement
  // under its name (found by review: `SELECT nocol FROM t; PREPARE a FROM 'SELECT 1'`).
  std::optional<std::vector<PreparedName>> prepared_names_after;
  std::optional<std::vector<PreparedName>> prepared_names_after_error;
  // A user variable of the text is @djproxy_migration (any case, any quoting).
  bool names_token_variable = false;
  friend bool operator==(const Analysis&, const Analysis&) = default;
};

}  // namespace djproxy::policy
