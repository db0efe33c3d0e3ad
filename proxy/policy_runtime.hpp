#pragma once
// The policy settings a session decides with: an immutable snapshot, replaced as a
// whole on reload. Sessions hold the snapshot they started a command with, so a
// reload never changes the rules in the middle of a statement.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "policy/types.hpp"
#include "proxy/audit/audit_log.hpp"
#include "proxy/migration/ed25519.hpp"

namespace djproxy::proxy {

struct PolicyRuntime {
  policy::PolicyConfig config;
  std::vector<std::string> migration_users;
  std::string migration_key;
  // Ed25519 tokens are refused while null.
  std::shared_ptr<const migration::Ed25519Key> migration_public_key;
  std::chrono::seconds max_token_ttl{24 * 3600};
  std::uint64_t max_statement_bytes = 1ULL << 30;
  // Shared by the snapshots until a reload changes the audit settings; the old log
  // is flushed and closed when the last session lets go of its snapshot.
  std::shared_ptr<audit::AuditLog> audit;
};

}  // namespace djproxy::proxy
