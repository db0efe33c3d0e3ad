#pragma once
// The proxy's counters, rendered for Prometheus. Sessions count on the hot path, so
// every count is one relaxed atomic add into a per-thread shard (workers are one per
// thread, so in practice no two cores share a cache line); a scrape sums the shards.
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
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

  // Rejects by user. The first kMaxUsers distinct user names the server accepted get
  // a label of their own and every later one shares "other", so a scrape stays
  // bounded whatever names clients send. A name the server has not accepted yet
  // (authenticated = false) gets only a label it already has, else "other": a client
  // cannot fill the set with names it merely claims. Takes a lock: call it once per
  // session (or per change of user), not per command.
  using UserId = std::uint8_t;
  static constexpr std::size_t kMaxUsers = 100;
  UserId user_id(std::string_view user, bool authenticated);

  // ---- hot path: one relaxed add each
  void connection_opened() noexcept {
    auto& s = shard();
    add(s.connections_open, 1);
    add(s.connections_total, 1);
  }
  void connection_closed() noexcept { add(shard().connections_closed, 1); }
  void connection_rejected() noexcept { add(shard().connections_rejected, 1); }
  // Handshakes from accept to authentication (proxy/handshake_slots.hpp).
  void handshake_begun() noexcept { add(shard().handshakes_begun, 1); }
  void handshake_ended() noexcept { add(shard().handshakes_ended, 1); }
  void handshake_refused() noexcept { add(shard().handshakes_refused, 1); }
  void backend_connect_error() noexcept { add(shard().backend_connect_errors, 1); }
  void command(std::uint8_t command_byte) noexcept { add(shard().commands[command_byte], 1); }
  // The `rule` label is the policy's name for the rule (policy/rule.hpp), "none" for none.
  void decision(Verdict verdict, policy::Rule rule) noexcept {
    add(shard().decisions[static_cast<std::size_t>(verdict) * kRuleSlots + static_cast<std::size_t>(rule)], 1);
  }
  void rewrite(RewriteKind kind) noexcept { add(shard().rewrites[static_cast<std::size_t>(kind)], 1); }
  void migration_begun(MigrationVia via) noexcept { add(shard().migrations[static_cast<std::size_t>(via)], 1); }
  void rejected_by_user(UserId user) noexcept { add(shard().rejects_by_user[user <= kOtherUser ? user : kOtherUser], 1); }
  void bytes_client_to_server(std::uint64_t n) noexcept { add(shard().bytes_client_to_server, n); }
  void bytes_server_to_client(std::uint64_t n) noexcept { add(shard().bytes_server_to_client, n); }
  void analysis_latency(std::chrono::nanoseconds elapsed) noexcept;

  // The configured limits, exported as gauges so alerts can compare the counts with
  // them; set at start and on every reload.
  void set_limits(std::uint64_t max_connections, std::uint64_t max_handshakes) noexcept {
    connections_max_.store(max_connections, std::memory_order_relaxed);
    handshakes_max_.store(max_handshakes, std::memory_order_relaxed);
  }

  // Scraped for the audit counters; null detaches. The log must outlive the scrapes
  // (stop the admin server before destroying it).
  void set_audit(const audit::AuditLog* log) noexcept { audit_.store(log, std::memory_order_release); }

  // Prometheus text exposition format 0.0.4. backend_up: what the admin server's
  // backend probe (the one /readyz uses) found; nullopt leaves the gauge out.
  std::string render_prometheus(std::optional<bool> backend_up = std::nullopt) const;

 private:
  static constexpr std::size_t kRuleSlots = policy::kRuleCount;
  static constexpr UserId kOtherUser = kMaxUsers;

  using Counter = std::atomic<std::uint64_t>;
  struct alignas(64) Shard {
    // Opened and closed separately: a session may close on another shard's thread
    // than it opened on; current = opened - closed over all shards.
    Counter connections_open{0};
    Counter connections_closed{0};
    Counter connections_total{0};
    Counter connections_rejected{0};
    Counter backend_connect_errors{0};
    Counter handshakes_begun{0};  // begun and ended apart, like connections
    Counter handshakes_ended{0};
    Counter handshakes_refused{0};
    Counter bytes_client_to_server{0};
    Counter bytes_server_to_client{0};
    Counter latency_sum_ns{0};
    std::array<Counter, kLatencyBucketsNs.size() + 1> latency_buckets{};  // last: +Inf
    std::array<Counter, 256> commands{};
    std::array<Counter, kVerdicts * kRuleSlots> decisions{};
    std::array<Counter, kRewriteKinds> rewrites{};
    std::array<Counter, kMigrationVias> migrations{};
    std::array<Counter, kMaxUsers + 1> rejects_by_user{};  // last: "other"
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
  mutable std::mutex users_mutex_;
  std::vector<std::string> user_labels_;  // by UserId, as valid UTF-8 (see user_label)
  std::atomic<const audit::AuditLog*> audit_{nullptr};
  std::atomic<std::uint64_t> connections_max_{0};
  std::atomic<std::uint64_t> handshakes_max_{0};
};

}  // namespace djproxy::admin
