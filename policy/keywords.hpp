// Keywords the reader cares about, found without allocation.
#pragma once

#include <cstdint>
#include <string_view>

namespace djproxy::policy {

// X-macro list: every keyword the statement reader looks at.
#define DJPROXY_KEYWORDS(X)                                                                     \
  X(ADD) X(AFTER) X(AGGREGATE) X(ALGORITHM) X(ALL) X(ALTER) X(ANALYZE) X(AND) X(ANY) X(AS)      \
  X(ATOMIC) X(BACKUP) X(BEFORE) X(BEGIN) X(BINARY) X(BINLOG) X(BY) X(CACHE) X(CALL) X(CASCADE)  \
  X(CHANGE) X(CHARACTER) X(CHARSET) X(CHECK) X(CHECKSUM) X(CLONE) X(CLOSE) X(COLLATION)         \
  X(COLUMN) X(COLUMNS) X(COMMIT) X(CONCURRENT) X(CONNECTION) X(COUNT) X(CREATE) X(CROSS)         \
  X(DATA) X(DATABASE) X(DATABASES) X(DEALLOCATE) X(DEFAULT) X(DEFINER) X(DELAYED) X(DELETE)     \
  X(DESC) X(DESCRIBE) X(DIAGNOSTICS) X(DO) X(DROP) X(DUAL) X(DUMPFILE) X(EACH) X(ELSE) X(END)   \
  X(ENGINE) X(ENGINES) X(ERRORS) X(EVENT) X(EVENTS) X(EXCEPT) X(EXCHANGE) X(EXECUTE) X(EXISTS)  \
  X(EXPLAIN) X(EXTENDED) X(FIELDS) X(FLUSH) X(FOR) X(FORCE) X(FOREIGN) X(FORMAT) X(FROM)         \
  X(FULL) X(FULLTEXT) X(FUNCTION) X(GET) X(GLOBAL) X(GRANT) X(GRANTS) X(GROUP) X(HANDLER)       \
  X(HAVING) X(HELP) X(HIGH_PRIORITY) X(IF) X(IGNORE) X(IMMEDIATE) X(IMPORT) X(IN) X(INDEX)      \
  X(INDEXES) X(INFILE) X(INNER) X(INSERT) X(INSTALL) X(INSTANCE) X(INTERSECT) X(INTO) X(IS)      \
  X(JOIN) X(JSON_TABLE) X(KEY) X(KEYS) X(KILL) X(LATERAL) X(LEFT) X(LIKE) X(LIMIT) X(LOAD)      \
  X(LOCAL) X(LOCK) X(LOGFILE) X(LOW_PRIORITY) X(MASTER) X(NAMES) X(NATURAL) X(NOT)              \
  X(NO_WRITE_TO_BINLOG) X(NULL_) X(OF) X(OFFLINE) X(ON) X(ONLINE) X(OPEN) X(OPTIMIZE) X(OR)     \
  X(ORDER) X(OUTER) X(OUTFILE) X(PACKAGE) X(PARTITION) X(PARTITIONS) X(PASSWORD) X(PERSIST)     \
  X(PERSIST_ONLY) X(PLUGINS) X(PREPARE) X(PRIVILEGES) X(PROCEDURE) X(PROCESSLIST) X(PROFILE)    \
  X(PROFILES) X(PURGE) X(QUICK) X(READ) X(RECURSIVE) X(REFERENCES) X(RELEASE) X(RENAME)         \
  X(REPAIR) X(REPLACE) X(REPLICA) X(RESET) X(RESIGNAL) X(RESOURCE) X(RESTART) X(RETURNING)      \
  X(REVOKE) X(RIGHT) X(ROLE) X(ROLLBACK) X(ROW) X(SAVEPOINT) X(SCHEMA) X(SCHEMAS) X(SECURITY)   \
  X(SELECT) X(SEQUENCE) X(SERVER) X(SESSION) X(SET) X(SHOW) X(SHUTDOWN) X(SIGNAL) X(SLAVE)      \
  X(SOME) X(SPATIAL) X(SQL) X(START) X(STATEMENT) X(STATUS) X(STOP) X(STORAGE) X(STRAIGHT_JOIN) \
  X(TABLE) X(TABLES) X(TABLESPACE) X(TEMPORARY) X(TO) X(TRANSACTION) X(TRIGGER) X(TRIGGERS)     \
  X(TRUNCATE) X(UNINSTALL) X(UNION) X(UNIQUE) X(UNLOCK) X(UPDATE) X(USE) X(USER) X(USING)       \
  X(VALUE) X(VALUES) X(VARIABLES) X(VIEW) X(WARNINGS) X(WHERE) X(WINDOW) X(WITH) X(WORK)         \
  X(WRITE) X(XA) X(XML) X(XOR) X(COLLATE) X(COMMENT) X(ENCRYPTION) X(UPGRADE) X(CODE) X(NO)

enum class Kw : std::uint16_t {
  none = 0,
#define DJPROXY_KW_ENUM(name) name,
  DJPROXY_KEYWORDS(DJPROXY_KW_ENUM)
#undef DJPROXY_KW_ENUM
};

// Case-insensitive look-up of an unquoted word; Kw::none when it is not listed.
Kw lookup_keyword(std::string_view word) noexcept;

// Both facts the readers want of an unquoted word, with one look-up: its keyword id
// (as lookup_keyword) and whether MariaDB reserves it (never a name unless quoted;
// the allow-list reader's list, sql/lex.h).
struct WordFacts {
  Kw kw = Kw::none;
  bool reserved = false;
};
WordFacts lookup_word(std::string_view word) noexcept;

// Upper-case spelling of a keyword ("NULL" for Kw::NULL_).
std::string_view keyword_name(Kw kw) noexcept;

}  // namespace djproxy::policy
