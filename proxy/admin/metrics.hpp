#pragma once
// The proxy's counters, rendered for Prometheus. Sessions count on the hot path, so
// every count is one relaxed atomic add into a per-thread shard (workers are one per
// thread, so in practice no two cores share a cache line); a scrape sums the shards.
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "policy/rule.hpp"

namespace djproxy::audit {
class AuditLog;
}

namespace djproxy::admin {

// What happened to a command, as the `verdict` label says it.
enum class Verdict : std::uint8_t {
  allow,
  reject,
  rewrite,
  migration_token,  // SET @djproxy_migration intercepted
  would_reject,     // dry run: production would have rejected, the statement went on
};
inline constexpr std::size_t kVerdicts = 5;

enum class RewriteKind : std::uint8_t { create_if_not_exists_existing };
inline constexpr std::size_t kRewriteKinds = 1;

enum class MigrationVia : std::uint8_t { user, token };
inline constexpr std::size_t kMigrationVias = 2;

// Upper bounds of the analysis-latency buckets, in nanoseconds (10 µs .. 1 s): the
// analysis is microseconds for ordinary statements and grows with statement size.
inline constexpr std::array<std::uint64_t, 15> kLatencyBucketsNs = {
    10'000,     25'000,     50'000,      100'000,     250'000,     500'000,       1'000'000,    2'500'000,
    5'000'000,  10'000'000, 25'000'000,  50'000'000,  100'000'000, 250'000'000, 1'000'000'000,
};

class Metrics {
 public:
  static constexpr std::size_t kShards = 16;

  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // ---- hot path: one relaxed add each
  void connection_opened() noexcept {
    auto& s = shard();
    add(s.connections_open, 1);
    add(s.connections_total, 1);
  }
  void connection_closed() noexcept { add(shard().connections_closed, 1); }
  void connection_rejected() noexcept { add(shard().connections_rejected, 1); }
  void backend_connect_error() noexcept { add(shard().backend_connect_errors, 1); }
  void command(std::uint8_t command_byte) noexcept { add(shard().commands[command_byte], 1); }
  // The `rule` label is the policy's name for the rule (policy/rule.hpp), "none" for none.
  void decision(Verdict verdict, policy::Rule rule) noexcept {
    add(shard().decisions[static_cast<std::size_t>(verdict) * kRuleSlots + static_cast<std::size_t>(rule)], 1);
  }
  void rewrite(RewriteKind kind) noexcept { add(shard().rewrites[static_cast<std::size_t>(kind)], 1); }
  void migration_begun(MigrationVia via) noexcept { add(shard().migrations[static_cast<std::size_t>(via)], 1); }
  void bytes_client_to_server(std::uint64_t n) noexcept { add(shard().bytes_client_to_server, n); }
  void bytes_server_to_client(std::uint64_t n) noexcept { add(shard().bytes_server_to_client, n); }
  void analysis_latency(std::chrono::nanoseconds elapsed) noexcept;

  // Scraped for the audit counters; null detaches. The log must outlive the scrapes
  // (stop the admin server before destroying it).
  void set_audit(const audit::AuditLog* log) noexcept { audit_.store(log, std::memory_order_release); }

  // Prometheus text exposition format 0.0.4.
  std::string render_prometheus() const;

 private:
  static constexpr std::size_t kRuleSlots = policy::kRuleCount;

  using Counter = std::atomic<std::uint64_t>;
  struct alignas(64) Shard {
    // Opened and closed separately: a session may close on another shard's thread
    // than it opened on; current = opened - closed over all shards.
    Counter connections_open{0};
    Counter connections_closed{0};
    Counter connections_total{0};
    Counter connections_rejected{0};
    Counter backend_connect_errors{0};
    Counter bytes_client_to_server{0};
    Counter bytes_server_to_client{0};
    Counter latency_sum_ns{0};
    std::array<Counter, kLatencyBucketsNs.size() + 1> latency_buckets{};  // last: +Inf
    std::array<Counter, 256> commands{};
    std::array<Counter, kVerdicts * kRuleSlots> decisions{};
    std::array<Counter, kRewriteKinds> rewrites{};
    std::array<Counter, kMigrationVias> migrations{};
  };

  static void add(Counter& c, std::uint64_t n) noexcept { c.fetch_add(n, std::memory_order_relaxed); }
  Shard& shard() noexcept {
    if (tls_slot_ == kUnassigned) tls_slot_ = assign_slot();
    return shards_[tls_slot_];
  }
  static unsigned assign_slot() noexcept;
  static std::string_view rule_label(std::size_t slot) noexcept;

  static constexpr unsigned kUnassigned = ~0U;
  // Constant-initialized, so reading it costs no guard check.
  static inline thread_local unsigned tls_slot_ = kUnassigned;

  std::unique_ptr<Shard[]> shards_;
  std::atomic<const audit::AuditLog*> audit_{nullptr};
};

}  // namespace djproxy::admin
