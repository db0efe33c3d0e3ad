#include "proxy/admin/metrics.hpp"

#include <map>
#include <cctype>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>

#include "proxy/audit/audit_log.hpp"

namespace djproxy::admin {
namespace {

// The samples of a scrape, keyed by `name{labels}` as written, after checking every
// line against the text exposition format 0.0.4.
struct Scrape {
  std::map<std::string, double> samples;
  std::map<std::string, std::string> types;  // family -> type
};

bool name_char(char c, bool first) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':' ||
         (!first && std::isdigit(static_cast<unsigned char>(c)));
}

// [a-zA-Z_:][a-zA-Z0-9_:]* at `pos`; advances past it.
std::string read_name(const std::string& line, std::size_t& pos) {
  const std::size_t start = pos;
  while (pos < line.size() && name_char(line[pos], pos == start)) ++pos;
  return line.substr(start, pos - start);
}

// `{name="value",...}` at `pos`, values escaped as \\, \" and \n only.
bool read_labels(const std::string& line, std::size_t& pos) {
  if (pos >= line.size() || line[pos] != '{') return true;
  ++pos;
  for (;;) {
    if (read_name(line, pos).empty() || line.compare(pos, 2, "=\"") != 0) return false;
    pos += 2;
    for (;; ++pos) {
      if (pos >= line.size()) return false;
      if (line[pos] == '"') break;
      if (line[pos] == '\\') {
        ++pos;
        if (pos >= line.size() || (line[pos] != '\\' && line[pos] != '"' && line[pos] != 'n')) return false;
      }
    }
    ++pos;
    if (pos < line.size() && line[pos] == ',') {
      ++pos;
      continue;
    }
    if (pos < line.size() && line[pos] == '}') {
      ++pos;
      return true;
    }
    return false;
  }
}

bool read_value(const std::string& text, double& out) {
  if (text == "+Inf" || text == "-Inf" || text == "NaN") return true;
  if (text.empty()) return false;
  std::size_t used = 0;
  try {
    out = std::stod(text, &used);
  } catch (const std::exception&) {
    return false;
  }
  return used == text.size();
}

Scrape parse_exposition(const std::string& text) {
  static const std::set<std::string> kTypes = {"counter", "gauge", "histogram", "summary", "untyped"};
  Scrape out;
  std::set<std::string> helped;
  EXPECT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("# HELP ", 0) == 0) {
      std::size_t pos = 7;
      const std::string name = read_name(line, pos);
      EXPECT_FALSE(name.empty()) << line;
      EXPECT_TRUE(pos < line.size() && line[pos] == ' ') << line;
      EXPECT_TRUE(helped.insert(name).second) << "second HELP for " << name;
      continue;
    }
    if (line.rfind("# TYPE ", 0) == 0) {
      std::size_t pos = 7;
      const std::string name = read_name(line, pos);
      const std::string type = pos < line.size() ? line.substr(pos + 1) : "";
      EXPECT_EQ(kTypes.count(type), 1U) << line;
      EXPECT_TRUE(out.types.emplace(name, type).second) << "second TYPE for " << name;
      continue;
    }
    std::size_t pos = 0;
    const std::string name = read_name(line, pos);
    const std::size_t labels_start = pos;
    double v = 0;
    if (name.empty() || !read_labels(line, pos) || pos >= line.size() || line[pos] != ' ' ||
        !read_value(line.substr(pos + 1), v)) {
      ADD_FAILURE() << "not a sample: " << line;
      continue;
    }
    EXPECT_EQ(name.rfind("djproxy_", 0), 0U) << name;
    std::string family = name;
    for (const std::string suffix : {"_bucket", "_sum", "_count"}) {
      if (family.size() > suffix.size() &&
          family.compare(family.size() - suffix.size(), suffix.size(), suffix) == 0 &&
          out.types.count(family.substr(0, family.size() - suffix.size())) != 0) {
        family.resize(family.size() - suffix.size());
      }
    }
    EXPECT_EQ(out.types.count(family), 1U) << "sample before its TYPE: " << line;
    const std::string key = name + line.substr(labels_start, pos - labels_start);
    EXPECT_TRUE(out.samples.emplace(key, v).second) << "duplicate " << line;
  }
  return out;
}

double value(const Scrape& s, const std::string& key) {
  const auto it = s.samples.find(key);
  EXPECT_NE(it, s.samples.end()) << key;
  return it == s.samples.end() ? -1 : it->second;
}

TEST(Metrics, FreshRenderIsWellFormed) {
  Metrics m;
  const Scrape s = parse_exposition(m.render_prometheus());
  EXPECT_EQ(s.types.at("djproxy_connections_current"), "gauge");
  EXPECT_EQ(s.types.at("djproxy_connections_total"), "counter");
  EXPECT_EQ(s.types.at("djproxy_analysis_duration_seconds"), "histogram");
  EXPECT_EQ(value(s, "djproxy_connections_current"), 0);
  EXPECT_EQ(value(s, R"(djproxy_commands_total{command="COM_QUERY"})"), 0);
  EXPECT_EQ(value(s, R"(djproxy_commands_total{command="COM_STMT_PREPARE"})"), 0);
  EXPECT_EQ(value(s, R"(djproxy_analysis_duration_seconds_bucket{le="+Inf"})"), 0);
  EXPECT_EQ(value(s, "djproxy_audit_events_dropped_total"), 0);
  for (const auto& family : {"connections_rejected_total", "backend_connect_errors_total", "decisions_total",
                             "rewrites_total", "migration_sessions_total", "bytes_total",
                             "audit_write_errors_total"}) {
    EXPECT_EQ(s.types.count(std::string("djproxy_") + family), 1U) << family;
  }
}

TEST(Metrics, CountersAddUpAcrossThreads) {
  Metrics m;
  constexpr int kThreads = 8, kEach = 10000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&m] {
      for (int i = 0; i < kEach; ++i) {
        m.command(0x03);
        m.bytes_client_to_server(10);
        m.bytes_server_to_client(100);
      }
      m.connection_opened();
    });
  }
  for (auto& t : threads) t.join();
  // Closed on another thread than opened, as a session that moves would.
  std::thread([&m] { m.connection_closed(); }).join();
  m.connection_rejected();
  m.backend_connect_error();
  m.backend_connect_error();
  m.command(0x16);
  m.command(0x17);
  m.command(0xFA);
  m.command(0xEE);

  const Scrape s = parse_exposition(m.render_prometheus());
  EXPECT_EQ(value(s, R"(djproxy_commands_total{command="COM_QUERY"})"), kThreads * kEach);
  EXPECT_EQ(value(s, R"(djproxy_commands_total{command="COM_STMT_PREPARE"})"), 1);
  EXPECT_EQ(value(s, R"(djproxy_commands_total{command="COM_STMT_EXECUTE"})"), 1);
  EXPECT_EQ(value(s, R"(djproxy_commands_total{command="COM_STMT_BULK_EXECUTE"})"), 1);
  EXPECT_EQ(value(s, R"(djproxy_commands_total{command="0xee"})"), 1);
  EXPECT_EQ(s.samples.count(R"(djproxy_commands_total{command="0xed"})"), 0U);
  EXPECT_EQ(value(s, R"(djproxy_bytes_total{direction="client_to_server"})"), 10.0 * kThreads * kEach);
  EXPECT_EQ(value(s, R"(djproxy_bytes_total{direction="server_to_client"})"), 100.0 * kThreads * kEach);
  EXPECT_EQ(value(s, "djproxy_connections_total"), kThreads);
  EXPECT_EQ(value(s, "djproxy_connections_current"), kThreads - 1);
  EXPECT_EQ(value(s, "djproxy_connections_rejected_total"), 1);
  EXPECT_EQ(value(s, "djproxy_backend_connect_errors_total"), 2);
}

TEST(Metrics, HandshakesAndLimits) {
  Metrics m;
  Scrape s = parse_exposition(m.render_prometheus());
  EXPECT_EQ(s.types.at("djproxy_handshakes_in_progress"), "gauge");
  EXPECT_EQ(s.types.at("djproxy_handshakes_max"), "gauge");
  EXPECT_EQ(s.types.at("djproxy_handshakes_refused_total"), "counter");
  EXPECT_EQ(s.types.at("djproxy_connections_max"), "gauge");
  EXPECT_EQ(value(s, "djproxy_handshakes_in_progress"), 0);
  EXPECT_EQ(value(s, "djproxy_handshakes_refused_total"), 0);

  m.set_limits(1000, 64);
  for (int i = 0; i < 3; ++i) m.handshake_begun();
  // Ended on another thread than begun, as a session handed to another worker is.
  std::thread([&m] { m.handshake_ended(); }).join();
  m.handshake_refused();
  s = parse_exposition(m.render_prometheus());
  EXPECT_EQ(value(s, "djproxy_connections_max"), 1000);
  EXPECT_EQ(value(s, "djproxy_handshakes_max"), 64);
  EXPECT_EQ(value(s, "djproxy_handshakes_in_progress"), 2);
  EXPECT_EQ(value(s, "djproxy_handshakes_refused_total"), 1);

  m.set_limits(10, 2);  // a reload
  s = parse_exposition(m.render_prometheus());
  EXPECT_EQ(value(s, "djproxy_connections_max"), 10);
  EXPECT_EQ(value(s, "djproxy_handshakes_max"), 2);
}

TEST(Metrics, DecisionsByVerdictAndRule) {
  using djproxy::policy::Rule;
  Metrics m;
  for (int i = 0; i < 3; ++i) m.decision(Verdict::reject, Rule::prefix);
  m.decision(Verdict::reject, Rule::schema_change);
  m.decision(Verdict::would_reject, Rule::schema_change);
  m.decision(Verdict::allow, Rule::none);
  m.decision(Verdict::allow, Rule::none);
  m.decision(Verdict::reject, Rule::administrative);
  m.decision(Verdict::reject, Rule::command);
  m.decision(Verdict::migration_token, Rule::migration_token);
  m.rewrite(RewriteKind::create_if_not_exists_existing);
  m.rewrite(RewriteKind::create_if_not_exists_existing);
  m.migration_begun(MigrationVia::token);

  const Scrape s = parse_exposition(m.render_prometheus());
  EXPECT_EQ(value(s, R"(djproxy_decisions_total{verdict="reject",rule="prefix"})"), 3);
  EXPECT_EQ(value(s, R"(djproxy_decisions_total{verdict="reject",rule="schema-change"})"), 1);
  EXPECT_EQ(value(s, R"(djproxy_decisions_total{verdict="would_reject",rule="schema-change"})"), 1);
  EXPECT_EQ(value(s, R"(djproxy_decisions_total{verdict="allow",rule="none"})"), 2);
  // Once missing from the label set and counted as "other" (issue 15).
  EXPECT_EQ(value(s, R"(djproxy_decisions_total{verdict="reject",rule="administrative"})"), 1);
  EXPECT_EQ(value(s, R"(djproxy_decisions_total{verdict="reject",rule="command"})"), 1);
  EXPECT_EQ(s.samples.count(R"(djproxy_decisions_total{verdict="reject",rule="other"})"), 0U);
  EXPECT_EQ(value(s, R"(djproxy_decisions_total{verdict="migration_token",rule="migration-token"})"), 1);
  EXPECT_EQ(s.samples.count(R"(djproxy_decisions_total{verdict="allow",rule="prefix"})"), 0U);
  EXPECT_EQ(value(s, R"(djproxy_rewrites_total{kind="create_if_not_exists_existing"})"), 2);
  EXPECT_EQ(s.samples.count(R"(djproxy_rewrites_total{kind="show_databases_filter"})"), 0U);
  EXPECT_EQ(value(s, R"(djproxy_migration_sessions_total{via="token"})"), 1);
  EXPECT_EQ(value(s, R"(djproxy_migration_sessions_total{via="user"})"), 0);
}

// Every rule the policy names has a label of its own: none falls into a shared slot.
TEST(Metrics, EveryRuleHasItsLabel) {
  Metrics m;
  for (const auto rule : djproxy::policy::all_rules()) m.decision(Verdict::reject, rule);
  const Scrape s = parse_exposition(m.render_prometheus());
  for (const auto rule : djproxy::policy::all_rules()) {
    std::string name(djproxy::policy::to_string(rule));
    if (name.empty()) name = "none";
    EXPECT_EQ(value(s, "djproxy_decisions_total{verdict=\"reject\",rule=\"" + name + "\"}"), 1) << name;
  }
}

TEST(Metrics, RejectsByUserAreBoundedToTheFirstHundredAcceptedNames) {
  Metrics m;
  // Claimed before authentication: no label of its own yet.
  m.rejected_by_user(m.user_id("mallory", false));
  for (int i = 0; i < 105; ++i) m.rejected_by_user(m.user_id("user" + std::to_string(i), true));
  m.rejected_by_user(m.user_id("user7", true));
  m.rejected_by_user(m.user_id("user7", false));  // a label it has: counted there
  const Scrape s = parse_exposition(m.render_prometheus());
  EXPECT_EQ(s.types.at("djproxy_rejects_by_user_total"), "counter");
  EXPECT_EQ(value(s, R"(djproxy_rejects_by_user_total{user="user0"})"), 1);
  EXPECT_EQ(value(s, R"(djproxy_rejects_by_user_total{user="user7"})"), 3);
  EXPECT_EQ(value(s, R"(djproxy_rejects_by_user_total{user="user99"})"), 1);
  EXPECT_EQ(s.samples.count(R"(djproxy_rejects_by_user_total{user="user100"})"), 0U);
  EXPECT_EQ(s.samples.count(R"(djproxy_rejects_by_user_total{user="mallory"})"), 0U);
  // mallory and user100..user104.
  EXPECT_EQ(value(s, R"(djproxy_rejects_by_user_total{user="other"})"), 6);
  std::size_t series = 0;
  for (const auto& [key, v] : s.samples) series += key.rfind("djproxy_rejects_by_user_total{", 0) == 0;
  EXPECT_EQ(series, Metrics::kMaxUsers + 1);
}

TEST(Metrics, UserLabelsAreEscapedAndUtf8) {
  Metrics m;
  m.rejected_by_user(m.user_id("quo\"te\\back\nline", true));
  m.rejected_by_user(m.user_id("m\xC3\xBCller", true));      // UTF-8: as it is
  m.rejected_by_user(m.user_id("m\xFCller", true));          // latin1 ü: not UTF-8
  m.rejected_by_user(m.user_id("m\\xFCller", true));         // the same text, so the same series
  m.rejected_by_user(m.user_id("other", true));              // never a second "other"
  const std::string text = m.render_prometheus();
  const Scrape s = parse_exposition(text);
  EXPECT_EQ(value(s, R"(djproxy_rejects_by_user_total{user="quo\"te\\back\nline"})"), 1);
  EXPECT_EQ(value(s, "djproxy_rejects_by_user_total{user=\"m\xC3\xBCller\"}"), 1);
  EXPECT_EQ(value(s, R"(djproxy_rejects_by_user_total{user="m\\xFCller"})"), 2);
  EXPECT_EQ(value(s, R"(djproxy_rejects_by_user_total{user="other"})"), 1);
  EXPECT_EQ(text.find('\xFC'), std::string::npos);
}

TEST(Metrics, BackendUpOnlyWhenProbed) {
  Metrics m;
  EXPECT_EQ(parse_exposition(m.render_prometheus()).types.count("djproxy_backend_up"), 0U);
  const Scrape up = parse_exposition(m.render_prometheus(true));
  EXPECT_EQ(up.types.at("djproxy_backend_up"), "gauge");
  EXPECT_EQ(value(up, "djproxy_backend_up"), 1);
  EXPECT_EQ(value(parse_exposition(m.render_prometheus(false)), "djproxy_backend_up"), 0);
}

TEST(Metrics, LatencyHistogramIsCumulative) {
  using namespace std::chrono;
  Metrics m;
  m.analysis_latency(microseconds(5));
  m.analysis_latency(microseconds(10));  // on the bound: le is inclusive
  m.analysis_latency(microseconds(30));
  m.analysis_latency(milliseconds(2));
  m.analysis_latency(seconds(5));
  const Scrape s = parse_exposition(m.render_prometheus());
  auto bucket = [&s](const std::string& le) {
    return value(s, "djproxy_analysis_duration_seconds_bucket{le=\"" + le + "\"}");
  };
  EXPECT_EQ(bucket("1e-05"), 2);
  EXPECT_EQ(bucket("2.5e-05"), 2);
  EXPECT_EQ(bucket("5e-05"), 3);
  EXPECT_EQ(bucket("0.001"), 3);
  EXPECT_EQ(bucket("0.0025"), 4);
  EXPECT_EQ(bucket("1"), 4);
  EXPECT_EQ(bucket("+Inf"), 5);
  EXPECT_EQ(value(s, "djproxy_analysis_duration_seconds_count"), 5);
  EXPECT_NEAR(value(s, "djproxy_analysis_duration_seconds_sum"), 5.002045, 1e-9);
  // In the order written, buckets never decrease.
  double last = 0;
  std::vector<double> ordered;
  std::istringstream in(m.render_prometheus());
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("djproxy_analysis_duration_seconds_bucket", 0) == 0) ordered.push_back(std::stod(line.substr(line.rfind(' '))));
  }
  ASSERT_EQ(ordered.size(), kLatencyBucketsNs.size() + 1);
  for (const double v : ordered) {
    EXPECT_GE(v, last);
    last = v;
  }
}

TEST(Metrics, AuditCountersComeFromTheLog) {
  Metrics m;
  audit::AuditOptions o;
  o.queue_size = 1;
  // A sink that never finishes its first line until released would make the count
  // exact; a null sink with a one-line queue is enough to show the wiring.
  const auto log = audit::AuditLog::open(o, std::make_shared<spdlog::sinks::null_sink_mt>());
  m.set_audit(log.get());
  for (int i = 0; i < 1000; ++i) log->write(audit::AuditEvent(audit::Event::startup));
  log->flush();
  const Scrape s = parse_exposition(m.render_prometheus());
  EXPECT_EQ(value(s, "djproxy_audit_events_dropped_total"), static_cast<double>(log->dropped()));
  EXPECT_EQ(value(s, "djproxy_audit_write_errors_total"), static_cast<double>(log->write_errors()));
  m.set_audit(nullptr);
}

}  // namespace
}  // namespace djproxy::admin
