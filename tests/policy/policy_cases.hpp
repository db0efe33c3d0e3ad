// The specification of the policy as a table: (session variant, statement, expected decision).
#pragma once

#include <cstdint>
#include <string_view>

namespace djproxy::policy::test {

enum Flags : std::uint32_t {
  kNone = 0,
  kAnsi = 1u << 0,         // sql_mode ANSI_QUOTES
  kNbe = 1u << 1,          // sql_mode NO_BACKSLASH_ESCAPES
  kMigUser = 1u << 2,      // migration session by user
  kDev = 1u << 3,          // create_tables = true
  kNoDb = 1u << 4,         // no current schema
  kMysql8 = 1u << 5,       // MySQL 8.0.36 instead of MariaDB 10.11.19
  kMulti = 1u << 6,        // multi-statements on
  kDry = 1u << 7,          // dry-run
  kGbk = 1u << 8,          // client charset gbk
  kMigToken = 1u << 9,     // migration by token, scope myproject_a*, myproject_full
  kNoPrefix = 1u << 10,    // schema_prefix empty
  kLctn1 = 1u << 11,       // lower_case_table_names = 1
  kSjis = 1u << 12,        // client charset sjis
  kPipes = 1u << 13,       // PIPES_AS_CONCAT
  kOldMaria = 1u << 14,    // MariaDB 10.5.0
  kLatin1 = 1u << 15,      // single-byte client charset
  kNoTemp = 1u << 16,      // allow_temporary_tables = false
  kNoBook = 1u << 17,      // allow_bookkeeping_tables = false
  kPrepare = 1u << 18,     // COM_STMT_PREPARE
  kFiles = 1u << 19,       // allow_server_files = true
  kAutoCreate = 1u << 20,  // sql_mode without NO_AUTO_CREATE_USER
  kConnLatin1 = 1u << 21,  // character_set_connection latin1, the client's another set
};

enum class Expect : std::uint8_t { allow, audit, reject, rewrite_create, token, token_null };

struct Case {
  const char* rule;  // which rule the case exercises, for counting
  std::uint32_t flags;
  std::string_view sql;
  Expect expect;
  std::uint16_t code = 0;  // for reject; 0 = any
};

}  // namespace djproxy::policy::test
