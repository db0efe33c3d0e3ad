// The session and configuration a case's flags stand for (tests/policy/policy_cases.hpp),
// shared by the table-driven tests and the equivalence dump.
#pragma once

#include "policy/analyser.hpp"
#include "tests/policy/policy_cases.hpp"

namespace djproxy::policy::test {

// Default: MariaDB 10.11.19, utf8mb4, current schema `myproject_full`, prefix
// `myproject_`, production (create_tables=false), enforce, no migration.
inline SessionState session_for(std::uint32_t f) {
  SessionState s;
  s.current_schema = "myproject_full";
  if (f & kNoDb) s.current_schema.reset();
  s.sql_mode.ansi_quotes = f & kAnsi;
  s.sql_mode.no_backslash_escapes = f & kNbe;
  s.sql_mode.pipes_as_concat = f & kPipes;
  // A case's sql_mode is exactly the modes its flags name (test_explain_agreement sets it
  // so on the server), which leaves NO_AUTO_CREATE_USER out. (A template, so that the
  // equivalence dump still builds against a base revision from before the flag.)
  [&]<class M>(M& m) {
    if constexpr (requires { m.auto_create_user; }) m.auto_create_user = f & (kAnsi | kNbe | kPipes | kAutoCreate);
  }(s.sql_mode);
  if (f & kMysql8) {
    s.flavour = ServerFlavour::mysql;
    s.server_version = 80036;
  }
  if (f & kOldMaria) s.server_version = 100500;
  if (f & kGbk) s.charset = CharsetClass::gbk;
  if (f & kSjis) s.charset = CharsetClass::sjis;
  if (f & kLatin1) s.charset = CharsetClass::single_byte;
  // (A template for the same reason as above.)
  [&]<class S>(S& st) {
    if constexpr (requires { st.dynamic_text_converted; }) st.dynamic_text_converted = f & kConnLatin1;
  }(s);
  s.multi_statements = f & kMulti;
  if (f & kMigUser) s.migration.kind = MigrationKind::by_user;
  if (f & kMigToken) {
    s.migration.kind = MigrationKind::by_token;
    s.migration.scope = {"myproject_a*", "myproject_full"};
  }
  return s;
}

inline PolicyConfig config_for(std::uint32_t f) {
  PolicyConfig c;
  c.schema_prefix = (f & kNoPrefix) ? "" : "myproject_";
  c.create_tables = f & kDev;
  c.mode = (f & kDry) ? Mode::dry_run : Mode::enforce;
  c.lower_case_table_names = (f & kLctn1) ? 1 : 0;
  c.allow_temporary_tables = !(f & kNoTemp);
  c.allow_bookkeeping_tables = !(f & kNoBook);
  c.allow_server_files = f & kFiles;
  return c;
}

inline Command command_for(std::uint32_t f) { return (f & kPrepare) ? Command::stmt_prepare : Command::query; }

}  // namespace djproxy::policy::test
