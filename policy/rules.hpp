// The rules: from what was read to one decision for the packet.
#pragma once

#include <span>
#include <string_view>
#include <vector>

#include "policy/types.hpp"

namespace djproxy::policy {

// Whether `schema` may be used with `access`; on refusal fills `why` and `rule`.
bool schema_allowed(std::string_view schema, Access access, const PolicyConfig& config, std::string& why,
                    Rule& rule);

// Whether `schema` matches a migration scope pattern (exact name or "prefix*").
bool in_migration_scope(std::string_view schema, const Migration& migration, const PolicyConfig& config);

// DataJoint's lineage: whether the statement may write rows of a `~lineage` table (INSERT,
// REPLACE, an upsert, UPDATE, DELETE or LOAD DATA): outside a migration only bookkeeping
// tables' rows may be written, since a forged row of a user table changes how DataJoint
// matches its attributes in joins (review round 38: a plain INSERT was not judged).
bool writes_lineage_rows(const StatementInfo& s);

// DataJoint's bookkeeping: whether a DELETE or UPDATE of `~lineage` rows, by the
// `name = 'text'` conjuncts of its condition, picks only rows of a bookkeeping table
// (`table_name = '~...'`). Those may go outside a migration: populate(reserve_jobs=True)
// deletes them right after creating its job queue.
bool picks_bookkeeping_lineage_rows(std::span<const NameEquals> condition);

// The decision for a whole packet, as enforced (dry-run is applied by the caller).
Decision decide(const std::vector<StatementInfo>& statements, const SessionState& state,
                const PolicyConfig& config);

// Applies Mode::dry_run: the verdict stays, enforcement is off.
void apply_mode(Decision& decision, const PolicyConfig& config);

// A rejection with SQLSTATE 42000, the class every policy refusal belongs to.
Decision reject(std::uint16_t code, Rule rule, std::string message);

std::string_view to_string(StatementKind kind) noexcept;
std::string_view to_string(ObjectKind kind) noexcept;
std::string_view to_string(Access access) noexcept;
std::string_view to_string(Verdict verdict) noexcept;
std::string_view to_string(RewriteKind kind) noexcept;

}  // namespace djproxy::policy
