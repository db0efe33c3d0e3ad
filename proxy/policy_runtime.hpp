#pragma once
// The policy settings a session decides with: an immutable snapshot, replaced as a
// whole on reload. Sessions hold the snapshot they started a command with, so a
// reload never changes the rules in the middle of a statement.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "policy/types.hpp"
#include "proxy/audit/audit_log.hpp"

namespace djproxy::proxy {

struct PolicyRuntime {
  policy::PolicyConfig config;
  std::vector<std::string> migration_users;
  std::string migration_key;
  std::chrono::seconds max_token_ttl{24 * 3600};
  std::uint64_t max_statement_bytes = 1ULL << 30;
  // Shared by the snapshots until a reload changes the audit settings; the old log
  // is flushed and closed when the last session lets go of its snapshot.
  std::shared_ptr<audit::AuditLog> audit;
};

// Readers check a generation number (one relaxed load per command) and take the lock
// only when it changed, so the common path costs nothing.
class PolicyHolder {
 public:
  explicit PolicyHolder(std::shared_ptr<const PolicyRuntime> initial) : current_(std::move(initial)) {}

  void replace(std::shared_ptr<const PolicyRuntime> next) {
    std::lock_guard lock(mutex_);
    current_ = std::move(next);
    generation_.fetch_add(1, std::memory_order_release);
  }
  std::uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
  std::shared_ptr<const PolicyRuntime> get() const {
    std::lock_guard lock(mutex_);
    return current_;
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const PolicyRuntime> current_;
  std::atomic<std::uint64_t> generation_{1};
};

}  // namespace djproxy::proxy
