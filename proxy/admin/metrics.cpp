#include "proxy/admin/metrics.hpp"

#include <algorithm>
#include <iterator>

#include <fmt/format.h>

#include "proxy/audit/audit_log.hpp"

namespace djproxy::admin {

namespace {

// Names from the MySQL and MariaDB client/server protocol docs. Only these are always
// exported (as zero, so rate() works from the first scrape); another byte shows up
// once it has been seen.
constexpr std::array<std::string_view, 0x20> kCommandNames = {
    "COM_SLEEP",         "COM_QUIT",          "COM_INIT_DB",          "COM_QUERY",
    "COM_FIELD_LIST",    "COM_CREATE_DB",     "COM_DROP_DB",          "COM_REFRESH",
    "COM_SHUTDOWN",      "COM_STATISTICS",    "COM_PROCESS_INFO",     "COM_CONNECT",
    "COM_PROCESS_KILL",  "COM_DEBUG",         "COM_PING",             "COM_TIME",
    "COM_DELAYED_INSERT", "COM_CHANGE_USER",  "COM_BINLOG_DUMP",      "COM_TABLE_DUMP",
    "COM_CONNECT_OUT",   "COM_REGISTER_SLAVE", "COM_STMT_PREPARE",    "COM_STMT_EXECUTE",
    "COM_STMT_SEND_LONG_DATA", "COM_STMT_CLOSE", "COM_STMT_RESET",   "COM_SET_OPTION",
    "COM_STMT_FETCH",    "COM_DAEMON",        "COM_BINLOG_DUMP_GTID", "COM_RESET_CONNECTION",
};
constexpr std::uint8_t kStmtBulkExecute = 0xFA;  // MariaDB

constexpr std::array<std::string_view, kVerdicts> kVerdictNames = {
    "allow", "reject", "rewrite", "migration_token", "would_reject",
};
constexpr std::array<std::string_view, kRewriteKinds> kRewriteNames = {
    "create_if_not_exists_existing",
};
constexpr std::array<std::string_view, kMigrationVias> kViaNames = {"user", "token"};

// `le` labels as written, so they read the same as the bounds in the docs.
constexpr std::array<std::string_view, kLatencyBucketsNs.size()> kBucketLabels = {
    "1e-05", "2.5e-05", "5e-05", "0.0001", "0.00025", "0.0005", "0.001", "0.0025",
    "0.005", "0.01",    "0.025", "0.05",   "0.1",     "0.25",   "1",
};

std::string command_label(unsigned byte) {
  if (byte < kCommandNames.size()) return std::string(kCommandNames[byte]);
  if (byte == kStmtBulkExecute) return "COM_STMT_BULK_EXECUTE";
  return fmt::format("0x{:02x}", byte);
}

void escape_label(std::string& out, std::string_view value) {
  for (const char c : value) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
}

// Length of the well-formed UTF-8 sequence at the start of `s`, 0 if there is none
// (RFC 3629: no overlongs, no surrogates, nothing past U+10FFFF).
std::size_t utf8_sequence(std::string_view s) {
  const auto byte = [&s](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char b0 = byte(0);
  if (b0 < 0x80) return 1;
  std::size_t n = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (s.size() < n || byte(1) < lo || byte(1) > hi) return 0;
  for (std::size_t i = 2; i < n; ++i) {
    if (byte(i) < 0x80 || byte(i) > 0xBF) return 0;
  }
  return n;
}

// Prometheus label values are UTF-8; a user name is whatever bytes the client's
// character set made of it. Bytes that are not UTF-8 are written as the text \xNN.
std::string user_label(std::string_view user) {
  std::string out;
  while (!user.empty()) {
    const std::size_t n = utf8_sequence(user);
    if (n == 0) {
      out += fmt::format("\\x{:02X}", static_cast<unsigned char>(user[0]));
      user.remove_prefix(1);
    } else {
      out.append(user.substr(0, n));
      user.remove_prefix(n);
    }
  }
  return out;
}

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}

  void header(std::string_view name, std::string_view type, std::string_view help) {
    fmt::format_to(std::back_inserter(out_), "# HELP djproxy_{} {}\n# TYPE djproxy_{} {}\n", name, help, name, type);
  }
  template <typename Value>
  void sample(std::string_view name, Value value) {
    fmt::format_to(std::back_inserter(out_), "djproxy_{} {}\n", name, value);
  }
  // labels: alternating name, value.
  template <typename Value>
  void sample(std::string_view name, std::initializer_list<std::string_view> labels, Value value) {
    fmt::format_to(std::back_inserter(out_), "djproxy_{}{{", name);
    bool first = true;
    for (auto it = labels.begin(); it != labels.end(); it += 2) {
      if (!first) out_ += ',';
      first = false;
      out_ += *it;
      out_ += "=\"";
      escape_label(out_, *(it + 1));
      out_ += '"';
    }
    fmt::format_to(std::back_inserter(out_), "}} {}\n", value);
  }

 private:
  std::string& out_;
};

}  // namespace

Metrics::Metrics() : shards_(std::make_unique<Shard[]>(kShards)) {}

Metrics::~Metrics() = default;

unsigned Metrics::assign_slot() noexcept {
  static std::atomic<unsigned> next{0};
  return next.fetch_add(1, std::memory_order_relaxed) % kShards;
}

Metrics::UserId Metrics::user_id(std::string_view user, bool authenticated) {
  // Compared as labels: two names written alike share one series rather than make a
  // scrape with two equal ones, which Prometheus would refuse.
  const std::string label = user_label(user);
  if (label == "other") return kOtherUser;
  const std::lock_guard lock(users_mutex_);
  for (std::size_t i = 0; i < user_labels_.size(); ++i) {
    if (user_labels_[i] == label) return static_cast<UserId>(i);
  }
  if (!authenticated || user_labels_.size() >= kMaxUsers) return kOtherUser;
  user_labels_.push_back(label);
  return static_cast<UserId>(user_labels_.size() - 1);
}

std::string_view Metrics::rule_label(std::size_t slot) noexcept {
  const auto name = policy::to_string(static_cast<policy::Rule>(slot));
  return name.empty() ? std::string_view("none") : name;
}

void Metrics::analysis_latency(std::chrono::nanoseconds elapsed) noexcept {
  const auto ns = static_cast<std::uint64_t>(std::max<std::int64_t>(elapsed.count(), 0));
  const auto bucket = static_cast<std::size_t>(
      std::lower_bound(kLatencyBucketsNs.begin(), kLatencyBucketsNs.end(), ns) - kLatencyBucketsNs.begin());
  auto& s = shard();
  add(s.latency_buckets[bucket], 1);
  add(s.latency_sum_ns, ns);
}

std::string Metrics::render_prometheus(std::optional<bool> backend_up) const {
  auto sum = [this](auto member) {
    std::uint64_t total = 0;
    for (std::size_t i = 0; i < kShards; ++i) total += member(shards_[i]).load(std::memory_order_relaxed);
    return total;
  };
  auto field = [&sum](Counter Shard::*member) { return sum([member](const Shard& s) -> const Counter& { return s.*member; }); };

  std::string out;
  out.reserve(8192);
  Writer w(out);

  // Closed read first: a session that closes between the two reads must not make the
  // gauge negative.
  const auto closed = field(&Shard::connections_closed);
  const auto opened = field(&Shard::connections_open);
  w.header("connections_current", "gauge", "Client connections open now.");
  w.sample("connections_current", opened >= closed ? opened - closed : 0);
  w.header("connections_total", "counter", "Client connections accepted.");
  w.sample("connections_total", field(&Shard::connections_total));
  w.header("connections_rejected_total", "counter", "Client connections refused at the connection limit.");
  w.sample("connections_rejected_total", field(&Shard::connections_rejected));
  w.header("connections_max", "gauge", "Client connections allowed at once (limits.max_connections).");
  w.sample("connections_max", connections_max_.load(std::memory_order_relaxed));
  const auto handshakes_ended = field(&Shard::handshakes_ended);
  const auto handshakes_begun = field(&Shard::handshakes_begun);
  w.header("handshakes_in_progress", "gauge",
           "Client connections between accept and authentication, each holding a server connection.");
  w.sample("handshakes_in_progress", handshakes_begun >= handshakes_ended ? handshakes_begun - handshakes_ended : 0);
  w.header("handshakes_max", "gauge", "Handshakes allowed in progress at once (limits.max_handshakes).");
  w.sample("handshakes_max", handshakes_max_.load(std::memory_order_relaxed));
  w.header("handshakes_refused_total", "counter",
           "Client connections refused (1040) because limits.max_handshakes handshakes were in progress.");
  w.sample("handshakes_refused_total", field(&Shard::handshakes_refused));
  w.header("backend_connect_errors_total", "counter", "Failed connection attempts to the backend server.");
  w.sample("backend_connect_errors_total", field(&Shard::backend_connect_errors));

  w.header("commands_total", "counter", "Client commands received, by protocol command.");
  for (unsigned b = 0; b < 256; ++b) {
    const auto n = sum([b](const Shard& s) -> const Counter& { return s.commands[b]; });
    if (n == 0 && b >= kCommandNames.size()) continue;
    w.sample("commands_total", {"command", command_label(b)}, n);
  }

  w.header("decisions_total", "counter", "Policy decisions, by verdict and rule.");
  for (std::size_t v = 0; v < kVerdicts; ++v) {
    for (std::size_t r = 0; r < kRuleSlots; ++r) {
      const auto n = sum([i = v * kRuleSlots + r](const Shard& s) -> const Counter& { return s.decisions[i]; });
      if (n == 0) continue;
      w.sample("decisions_total", {"verdict", kVerdictNames[v], "rule", rule_label(r)}, n);
    }
  }

  w.header("rewrites_total", "counter", "Statements answered or changed by the proxy instead of forwarded as sent.");
  for (std::size_t k = 0; k < kRewriteKinds; ++k) {
    w.sample("rewrites_total", {"kind", kRewriteNames[k]},
             sum([k](const Shard& s) -> const Counter& { return s.rewrites[k]; }));
  }

  w.header("migration_sessions_total", "counter", "Sessions that became migration sessions, by how.");
  for (std::size_t k = 0; k < kMigrationVias; ++k) {
    w.sample("migration_sessions_total", {"via", kViaNames[k]},
             sum([k](const Shard& s) -> const Counter& { return s.migrations[k]; }));
  }

  w.header("rejects_by_user_total", "counter",
           "Commands refused (enforced), by user: the first 100 user names the server accepted, the rest as other.");
  {
    std::vector<std::string> labels;
    {
      const std::lock_guard lock(users_mutex_);
      labels = user_labels_;
    }
    for (std::size_t u = 0; u < labels.size(); ++u) {
      w.sample("rejects_by_user_total", {"user", labels[u]},
               sum([u](const Shard& s) -> const Counter& { return s.rejects_by_user[u]; }));
    }
    w.sample("rejects_by_user_total", {"user", "other"},
             sum([](const Shard& s) -> const Counter& { return s.rejects_by_user[kOtherUser]; }));
  }

  if (backend_up) {
    w.header("backend_up", "gauge", "1 when the backend accepted a TCP connection at the last probe (as /readyz), else 0.");
    w.sample("backend_up", *backend_up ? 1 : 0);
  }

  w.header("bytes_total", "counter", "Bytes relayed, by direction.");
  w.sample("bytes_total", {"direction", "client_to_server"}, field(&Shard::bytes_client_to_server));
  w.sample("bytes_total", {"direction", "server_to_client"}, field(&Shard::bytes_server_to_client));

  const audit::AuditLog* log = audit_.load(std::memory_order_acquire);
  w.header("audit_events_dropped_total", "counter", "Audit events lost because the audit writer did not keep up.");
  w.sample("audit_events_dropped_total", log != nullptr ? log->dropped() : 0);
  w.header("audit_write_errors_total", "counter", "Audit lines the destination refused (full disk, read-only file).");
  w.sample("audit_write_errors_total", log != nullptr ? log->write_errors() : 0);

  w.header("analysis_duration_seconds", "histogram", "Time the policy took to analyse a command.");
  std::uint64_t cumulative = 0;
  for (std::size_t b = 0; b < kLatencyBucketsNs.size(); ++b) {
    cumulative += sum([b](const Shard& s) -> const Counter& { return s.latency_buckets[b]; });
    w.sample("analysis_duration_seconds_bucket", {"le", kBucketLabels[b]}, cumulative);
  }
  cumulative += sum([](const Shard& s) -> const Counter& { return s.latency_buckets.back(); });
  w.sample("analysis_duration_seconds_bucket", {"le", "+Inf"}, cumulative);
  w.sample("analysis_duration_seconds_sum", static_cast<double>(field(&Shard::latency_sum_ns)) / 1e9);
  // From the buckets, not a counter of its own, so _count always equals the +Inf bucket.
  w.sample("analysis_duration_seconds_count", cumulative);
  return out;
}

}  // namespace djproxy::admin
