#include "policy/rules.hpp"

#include <cassert>
#include <string>

namespace djproxy::policy {
namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool ieq(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

// Name comparison the way the server compares schema names.
bool name_starts_with(std::string_view name, std::string_view prefix, int lctn) {
  if (name.size() < prefix.size()) return false;
  const auto head = name.substr(0, prefix.size());
  return lctn == 0 ? head == prefix : ieq(head, prefix);
}

bool name_equals(std::string_view a, std::string_view b, int lctn) {
  return lctn == 0 ? a == b : ieq(a, b);
}

bool has_non_ascii(std::string_view s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) >= 0x80) return true;
  return false;
}

std::string quoted(std::string_view s) {
  std::string out(1, '`');
  out.append(s).append(1, '`');
  return out;
}

std::string object_text(const ObjectRef& o) {
  return o.schema.empty() ? quoted(o.name) : quoted(o.schema) + "." + quoted(o.name);
}

// "CREATE TABLE `s`.`t`": the statement and its main object, for messages.
std::string subject(const StatementInfo& s, std::string_view schema = {}) {
  std::string out = s.verb.empty() ? std::string("statement") : s.verb;
  const ObjectRef* pick = nullptr;
  for (const auto& o : s.objects) {
    if (!schema.empty() && o.schema != schema) continue;
    if (!pick || (o.access == Access::ddl && pick->access != Access::ddl)) pick = &o;
  }
  if (pick) return out + " " + object_text(*pick);
  if (!schema.empty()) return out + " " + quoted(schema);
  for (const auto& u : s.schemas)
    if (u.access == Access::ddl) return out + " " + quoted(u.name);
  return out;
}

bool table_level(ObjectKind k) {
  switch (k) {
    case ObjectKind::database: case ObjectKind::server: case ObjectKind::tablespace: case ObjectKind::user:
    case ObjectKind::role: case ObjectKind::privilege:
      return false;
    default:
      return true;
  }
}

std::string verb_of(const StatementInfo& s) { return s.verb.empty() ? std::string("statement") : s.verb; }

Decision decide_read(const StatementInfo& s, const SessionState& state, const PolicyConfig& config) {
  if (!s.unsupported.empty()) {
    if (s.strict_code == codes::parse_error)  // answered as the server answers a typo
      return reject(codes::parse_error, Rule::fail_closed, "djproxy: " + verb_of(s) + " rejected: " + s.strict_refusal);
    return reject(s.unsupported_code ? s.unsupported_code : codes::not_supported, Rule::fail_closed,
                  "djproxy: " + verb_of(s) + " rejected: djproxy cannot read it with certainty (" + s.unsupported +
                      ")");
  }
  if (s.migration_token) {
    Decision d;
    d.verdict = Verdict::migration_token;
    d.token = s.token_value;
    d.rule = Rule::migration_token;
    return d;
  }
  for (const auto& u : s.schemas) {
    std::string why;
    Rule rule = Rule::none;
    if (!schema_allowed(u.name, u.access, config, why, rule))
      return reject(codes::db_access_denied, rule, "djproxy: " + subject(s, u.name) + " rejected: " + why);
  }
  if (!s.server_file.empty() && !config.create_tables && !config.allow_server_files)
    return reject(codes::specific_access_denied, Rule::server_files,
                  "djproxy: " + verb_of(s) + " rejected: " + std::string(s.server_file) +
                      "; production allows it only with policy.server_files = true");
  if (s.kind == StatementKind::administrative && s.verb != "KILL" && s.verb != "HELP" && !config.create_tables) {
    return reject(codes::specific_access_denied, Rule::administrative,
                  "djproxy: " + s.verb + " rejected: administrative statements are not allowed in production "
                  "(create_tables=false)");
  }
  if (s.kind == StatementKind::ddl) {
    if (config.create_tables) return {};
    if (s.object == ObjectKind::temporary_table && config.allow_temporary_tables) return {};
    bool bookkeeping = s.verb == "CREATE TABLE" && s.if_not_exists && s.create_plain && !s.objects.empty();
    for (const auto& o : s.objects)
      if (o.access == Access::ddl && (o.name.empty() || o.name[0] != '~')) bookkeeping = false;
    if (bookkeeping && config.allow_bookkeeping_tables) {
      Decision d;
      d.audit = true;
      d.rule = Rule::bookkeeping;
      // Allowed as bookkeeping in or out of a migration: the note says which (review
      // round 26: inside a token's migration it said "outside"), and not that the table
      // was created, which the server decides (review round 27: it may exist already).
      d.audit_note = "DataJoint bookkeeping table " + object_text(s.objects.front()) +
                     (state.migration.kind == MigrationKind::none
                          ? ": CREATE TABLE IF NOT EXISTS allowed outside a migration session"
                          : ": CREATE TABLE IF NOT EXISTS allowed as bookkeeping in a migration session, whatever "
                            "its scope");
      return d;
    }
    if (state.migration.kind == MigrationKind::by_user) return {};
    if (state.migration.kind == MigrationKind::by_token) {
      // Without NO_AUTO_CREATE_USER the server creates, with no password, an account a
      // GRANT names that does not exist: a token may not mint logins (review round 6).
      if (s.object == ObjectKind::privilege && s.verb.ends_with("GRANT") && state.sql_mode.auto_create_user)
        return reject(codes::specific_access_denied, Rule::migration_scope,
                      "djproxy: " + verb_of(s) +
                          " rejected: in a token's migration GRANT needs sql_mode NO_AUTO_CREATE_USER (without it the "
                          "server creates an account the GRANT names that does not exist)");
      bool ok = !s.global_scope;
      std::string outside;
      for (const auto& u : s.schemas)
        if (!in_migration_scope(u.name, state.migration, config) && u.access != Access::read) {
          ok = false;
          outside = u.name;
        }
      if (s.schemas.empty()) ok = false;
      if (ok) return {};
      return reject(table_level(s.object) ? codes::table_access_denied : codes::db_access_denied, Rule::migration_scope,
                    "djproxy: " + subject(s) + " rejected: " +
                        (outside.empty() ? std::string("outside the migration token's scope")
                                         : "schema " + quoted(outside) + " is outside the migration token's scope"));
    }
    const std::uint16_t code = table_level(s.object) ? codes::table_access_denied : codes::db_access_denied;
    const std::string message = "djproxy: " + subject(s) +
                                " rejected: schema changes need an authorized migration session (create_tables=false)";
    if (s.verb == "CREATE TABLE" && s.if_not_exists && s.create_plain && s.objects.size() >= 1 &&
        s.objects.front().access == Access::ddl && !s.objects.front().schema.empty()) {
      Decision d = reject(code, Rule::schema_change, message);
      d.verdict = Verdict::rewrite;
      d.rewrite = RewriteKind::create_if_not_exists_existing;
      d.rewrite_schema = s.objects.front().schema;
      d.rewrite_table = s.objects.front().name;
      return d;
    }
    return reject(code, Rule::schema_change, message);
  }
  // The server converts string literals from character_set_client to character_set_connection
  // before it stores or compares them: in swe7, which has no '~', '~x' becomes '?x', so the
  // rows the reader judged are not the rows written (review round 39).
  if (!config.create_tables && writes_lineage_rows(s) && state.migration.kind == MigrationKind::none &&
      state.dynamic_text_converted) {
    return reject(codes::not_supported, Rule::lineage,
                  "djproxy: " + subject(s) +
                      " rejected: character_set_connection differs from character_set_client, and the server "
                      "converts the table names between them before it writes; SET NAMES to one character set "
                      "first");
  }
  if (!config.create_tables && writes_lineage_rows(s) && state.migration.kind == MigrationKind::none &&
      !s.lineage_condition_bookkeeping_only) {
    return reject(codes::table_access_denied, Rule::lineage,
                  "djproxy: " + subject(s) +
                      " rejected: lineage rows of user tables may only be written or deleted in a migration "
                      "session (DataJoint writes them when it declares a table, and deletes them just before a DROP "
                      "TABLE)");
  }
  return {};
}

// Production outside a migration forwards only what the allow-list reader read
// whole: it vetoes every verdict that would forward the statement.
// Every path returns `d`, so that the decision is built in the caller's object
// rather than moved there (a Decision is seven strings).
Decision decide_one(const StatementInfo& s, const SessionState& state, const PolicyConfig& config) {
  Decision d = decide_read(s, state, config);
  // decide() returns a packet's only statement's decision as it is, and the loop's
  // plain allow is the default Decision: decide_read returns a plain allow only as `{}`.
  assert(d.verdict != Verdict::allow || d.audit || d == Decision{});
  // A migration authorizes schema changes, nothing else: its other statements are read as
  // in production (review round 6: SHOW GRANTS FOR other accounts, SET sql_log_bin and
  // SHOW ENGINE INNODB STATUS were forwarded in migrations).
  if (config.create_tables || (state.migration.kind != MigrationKind::none && s.kind == StatementKind::ddl)) return d;
  if (d.verdict != Verdict::allow) return d;
  if (!s.strict_refusal.empty()) {
    if (s.strict_code == codes::parse_error)
      d = reject(codes::parse_error, Rule::fail_closed, "djproxy: " + verb_of(s) + " rejected: " + s.strict_refusal);
    else
      d = reject(codes::not_supported, Rule::fail_closed,
                 "djproxy: " + verb_of(s) + " rejected: production forwards only what djproxy reads whole: " +
                     s.strict_refusal);
  } else if (s.strict_head_only) {
    d = reject(codes::not_supported, Rule::fail_closed,
               "djproxy: " + verb_of(s) +
                   " rejected: production forwards only what djproxy reads whole, and it reads only the head of "
                   "this statement");
  }
  return d;
}

}  // namespace

bool schema_allowed(std::string_view schema, Access access, const PolicyConfig& config, std::string& why,
                    Rule& rule) {
  // Development mode with no prefix is meant to be transparent: a developer's own
  // server, where the proxy confines nothing (mariadb-test's start-up runs `use mysql`).
  if (config.create_tables && config.schema_prefix.empty()) return true;
  if (schema == "*") {
    why = "global privilege level *.* is outside every schema";
    rule = Rule::prefix;
    return false;
  }
  if (config.lower_case_table_names != 0 && has_non_ascii(schema)) {
    why = "non-ASCII schema names are not compared with certainty under lower_case_table_names";
    rule = Rule::fail_closed;
    return false;
  }
  if (ieq(schema, "information_schema")) {
    if (access == Access::read) return true;
    why = "information_schema is read-only";
    rule = Rule::system_schema;
    return false;
  }
  if (ieq(schema, "mysql") || ieq(schema, "performance_schema") || ieq(schema, "sys")) {
    why = "system schema " + quoted(schema) + " is not accessible through djproxy";
    rule = Rule::system_schema;
    return false;
  }
  if (access == Access::read)
    for (const auto& r : config.extra_readable_schemas)
      if (name_equals(schema, r, config.lower_case_table_names)) return true;
  if (!config.schema_prefix.empty() &&
      !name_starts_with(schema, config.schema_prefix, config.lower_case_table_names)) {
    why = "schema is outside the prefix " + quoted(config.schema_prefix) + " (database.schema_prefix)";
    rule = Rule::prefix;
    return false;
  }
  return true;
}

bool in_migration_scope(std::string_view schema, const Migration& migration, const PolicyConfig& config) {
  if (migration.kind == MigrationKind::by_user) return true;
  if (migration.kind == MigrationKind::none) return false;
  for (const auto& p : migration.scope) {
    if (!p.empty() && p.back() == '*') {
      if (name_starts_with(schema, std::string_view(p).substr(0, p.size() - 1), config.lower_case_table_names))
        return true;
    } else if (name_equals(schema, p, config.lower_case_table_names)) {
      return true;
    }
  }
  return false;
}

bool writes_lineage_rows(const StatementInfo& s) {
  for (const auto& o : s.objects)
    if (o.access == Access::write && ieq(o.name, "~lineage")) return true;
  return false;
}

bool picks_bookkeeping_lineage_rows(std::span<const NameEquals> condition) {
  for (const NameEquals& c : condition)
    if (ieq(c.name, "table_name") && !c.value.empty() && c.value[0] == '~') return true;
  return false;
}

Decision decide(const std::vector<StatementInfo>& statements, const SessionState& state,
                const PolicyConfig& config) {
  // The loop below, for one statement, returns its decision (see decide_one): built
  // here in the caller's object, never moved.
  if (statements.size() == 1) return decide_one(statements.front(), state, config);
  std::size_t real = 0;
  for (const auto& s : statements)
    if (s.kind != StatementKind::empty) ++real;
  // A token's migration lasts as long as the token, checked before each packet: a schema
  // change behind other statements (DO SLEEP(70); CREATE TABLE ...) would run after it
  // (review of 2026-12-06, round 5).
  // EXECUTE of a name counts too: its text may be a schema change prepared earlier (round 6).
  if (real > 1 && state.migration.kind == MigrationKind::by_token && !config.create_tables)
    for (const auto& s : statements)
      if (s.kind == StatementKind::ddl || (s.kind == StatementKind::dynamic_sql && s.verb == "EXECUTE"))
        return reject(codes::not_supported, Rule::migration_scope,
                      "djproxy: " + verb_of(s) +
                          " rejected: in a token's migration a schema change must be the only statement of its "
                          "packet (the token's expiry is checked before each packet)");
  Decision result;
  for (const auto& s : statements) {
    Decision d = decide_one(s, state, config);
    if (d.verdict == Verdict::reject) return d;
    if (real > 1 && (d.verdict == Verdict::rewrite || d.verdict == Verdict::migration_token)) {
      return reject(s.migration_token ? codes::parse_error : codes::not_supported, Rule::fail_closed,
                    "djproxy: " + s.verb + " rejected: it must be the only statement in its packet");
    }
    if (d.verdict != Verdict::allow || (d.audit && !result.audit)) {
      if (result.verdict == Verdict::allow) result = std::move(d);
    }
  }
  return result;
}

void apply_mode(Decision& decision, const PolicyConfig& config) {
  decision.enforced = config.mode == Mode::enforce;
}

Decision reject(std::uint16_t code, Rule rule, std::string message) {
  Decision d;
  d.verdict = Verdict::reject;
  d.code = code;
  d.sqlstate = "42000";
  d.rule = rule;
  d.message = std::move(message);
  return d;
}

std::string_view to_string(StatementKind k) noexcept {
  switch (k) {
    case StatementKind::unknown: return "unknown";
    case StatementKind::query: return "query";
    case StatementKind::dml: return "dml";
    case StatementKind::ddl: return "ddl";
    case StatementKind::transaction: return "transaction";
    case StatementKind::set: return "set";
    case StatementKind::show: return "show";
    case StatementKind::use: return "use";
    case StatementKind::describe: return "describe";
    case StatementKind::maintenance: return "maintenance";
    case StatementKind::administrative: return "administrative";
    case StatementKind::dynamic_sql: return "dynamic_sql";
    case StatementKind::empty: return "empty";
  }
  return "unknown";
}

std::string_view to_string(ObjectKind k) noexcept {
  switch (k) {
    case ObjectKind::none: return "none";
    case ObjectKind::table: return "table";
    case ObjectKind::temporary_table: return "temporary_table";
    case ObjectKind::view: return "view";
    case ObjectKind::index: return "index";
    case ObjectKind::database: return "database";
    case ObjectKind::procedure: return "procedure";
    case ObjectKind::function: return "function";
    case ObjectKind::trigger: return "trigger";
    case ObjectKind::event: return "event";
    case ObjectKind::sequence: return "sequence";
    case ObjectKind::server: return "server";
    case ObjectKind::tablespace: return "tablespace";
    case ObjectKind::user: return "user";
    case ObjectKind::role: return "role";
    case ObjectKind::privilege: return "privilege";
    case ObjectKind::other: return "other";
  }
  return "other";
}

std::string_view to_string(Access a) noexcept {
  switch (a) {
    case Access::read: return "read";
    case Access::write: return "write";
    case Access::ddl: return "ddl";
  }
  return "read";
}

std::string_view to_string(Verdict v) noexcept {
  switch (v) {
    case Verdict::allow: return "allow";
    case Verdict::reject: return "reject";
    case Verdict::rewrite: return "rewrite";
    case Verdict::migration_token: return "migration_token";
  }
  return "reject";
}

std::string_view to_string(RewriteKind k) noexcept {
  switch (k) {
    case RewriteKind::none: return "none";
    case RewriteKind::create_if_not_exists_existing: return "create_if_not_exists_existing";
  }
  return "none";
}

}  // namespace djproxy::policy
