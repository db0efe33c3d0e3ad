// The rules a decision names: one enum, one name table, so that the audit log, the
// metrics and `explain` all say the same names and none can go missing.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace djproxy::policy {

enum class Rule : std::uint8_t {
  none,             // allowed, nothing to say
  prefix,           // a schema outside database.schema_prefix
  system_schema,    // mysql, performance_schema, sys; information_schema written to
  schema_change,    // DDL outside a migration session
  migration_scope,  // DDL in a token's migration outside the token's scope
  migration_token,  // SET @djproxy_migration, intercepted
  migration,        // a migration session begun, ended or refused (the token's check)
  fail_closed,      // not read with certainty, or not something the proxy can carry out
  bookkeeping,      // DataJoint's ~ tables created in production
  lineage,          // ~lineage rows of user tables changed outside a migration
  administrative,   // FLUSH, RESET, replication, plugins ... in production
  command,          // a protocol command the proxy does not forward
  server_files,     // a file on the database server read or written, in production
};
inline constexpr std::size_t kRuleCount = 13;

// The stable name: "" for none, else e.g. "schema-change", "fail-closed".
std::string_view to_string(Rule rule) noexcept;
std::optional<Rule> rule_from_name(std::string_view name) noexcept;

// Every rule, in enum order (for label sets and tests).
const std::array<Rule, kRuleCount>& all_rules() noexcept;

}  // namespace djproxy::policy
