#include "proxy/admin/metrics.hpp"

#include <map>
#include <regex>
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

Scrape parse_exposition(const std::string& text) {
  static const std::regex help(R"(# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .*)");
  static const std::regex type(R"(# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped))");
  static const std::regex sample(
      R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*")*\})? ([-+]?(?:[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?|Inf|NaN)))");
  Scrape out;
  std::set<std::string> helped;
  EXPECT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_match(line, m, help)) {
      EXPECT_TRUE(helped.insert(m[1]).second) << "second HELP for " << m[1];
      continue;
    }
    if (std::regex_match(line, m, type)) {
      EXPECT_TRUE(out.types.emplace(m[1], m[2]).second) << "second TYPE for " << m[1];
      continue;
    }
    if (!std::regex_match(line, m, sample)) {
      ADD_FAILURE() << "not a sample: " << line;
      continue;
    }
    std::string name = m[1];
    EXPECT_EQ(name.rfind("djproxy_", 0), 0U) << name;
    std::string family = name;
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      const std::string s = suffix;
      if (family.size() > s.size() && family.compare(family.size() - s.size(), s.size(), s) == 0 &&
          out.types.count(family.substr(0, family.size() - s.size())) != 0) {
        family.resize(family.size() - s.size());
      }
    }
    EXPECT_EQ(out.types.count(family), 1U) << "sample before its TYPE: " << line;
    EXPECT_TRUE(out.samples.emplace(name + m[2].str(), std::stod(m[3])).second) << "duplicate " << line;
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

TEST(Metrics, DecisionsByVerdictAndRule) {
  Metrics m;
  const auto prefix = m.rule_id("prefix");
  const auto schema_change = m.rule_id("schema-change");
  for (int i = 0; i < 3; ++i) m.decision(Verdict::reject, prefix);
  m.decision(Verdict::reject, schema_change);
  m.decision(Verdict::would_reject, schema_change);
  m.decision(Verdict::allow, m.rule_id(""));
  m.decision(Verdict::allow, m.rule_id(""));
  m.decision(Verdict::reject, m.rule_id("no-such-rule"));
  m.decision(Verdict::migration_token, m.rule_id("migration-token"));
  m.rewrite(RewriteKind::show_databases_filter);
  m.rewrite(RewriteKind::create_if_not_exists_existing);
  m.rewrite(RewriteKind::create_if_not_exists_existing);
  m.migration_begun(MigrationVia::token);

  const Scrape s = parse_exposition(m.render_prometheus());
  EXPECT_EQ(value(s, R"(djproxy_decisions_total{verdict="reject",rule="prefix"})"), 3);
  EXPECT_EQ(value(s, R"(djproxy_decisions_total{verdict="reject",rule="schema-change"})"), 1);
  EXPECT_EQ(value(s, R"(djproxy_decisions_total{verdict="would_reject",rule="schema-change"})"), 1);
  EXPECT_EQ(value(s, R"(djproxy_decisions_total{verdict="allow",rule="none"})"), 2);
  EXPECT_EQ(value(s, R"(djproxy_decisions_total{verdict="reject",rule="other"})"), 1);
  EXPECT_EQ(value(s, R"(djproxy_decisions_total{verdict="migration_token",rule="migration-token"})"), 1);
  EXPECT_EQ(s.samples.count(R"(djproxy_decisions_total{verdict="allow",rule="prefix"})"), 0U);
  EXPECT_EQ(value(s, R"(djproxy_rewrites_total{kind="create_if_not_exists_existing"})"), 2);
  EXPECT_EQ(value(s, R"(djproxy_rewrites_total{kind="show_databases_filter"})"), 1);
  EXPECT_EQ(value(s, R"(djproxy_migration_sessions_total{via="token"})"), 1);
  EXPECT_EQ(value(s, R"(djproxy_migration_sessions_total{via="user"})"), 0);
}

TEST(Metrics, LabelValuesAreEscaped) {
  Metrics m({"quote\"back\\slash"});
  m.decision(Verdict::reject, 0);
  const Scrape s = parse_exposition(m.render_prometheus());
  EXPECT_EQ(value(s, R"(djproxy_decisions_total{verdict="reject",rule="quote\"back\\slash"})"), 1);
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
