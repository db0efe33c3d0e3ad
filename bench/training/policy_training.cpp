// The training run of the profile-guided build (cmake/DjproxyPolicyProfile.cmake): reads
// a workload like the one the proxy sees through instrumented policy code, so that the
// compiler lays out the real build's branches and inlining for it. What it decides is
// not looked at; the statements only have to be the ones workers send, in proportion:
// DataJoint's traces in production above all, some in development and migration
// sessions, and sysbench's text statements, which the benchmarks measure.
//
//   djproxy_policy_training TRACE.jsonl...
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "policy/decide_command.hpp"

namespace {
using namespace djproxy::policy;

std::vector<std::string> trace_statements(const char* path) {
  std::vector<std::string> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object() && j.contains("sql") && j["sql"].is_string()) out.push_back(j["sql"].get<std::string>());
  }
  return out;
}

std::vector<std::string> sysbench_statements() {
  std::vector<std::string> out;
  for (int i = 0; i < 64; ++i) {
    const std::string t = "sbtest" + std::to_string(1 + i % 4);
    const std::string a = std::to_string(1000 + 37 * i), b = std::to_string(1099 + 37 * i);
    out.push_back("SELECT c FROM " + t + " WHERE id=" + a);
    out.push_back("SELECT c FROM " + t + " WHERE id BETWEEN " + a + " AND " + b);
    out.push_back("SELECT SUM(k) FROM " + t + " WHERE id BETWEEN " + a + " AND " + b);
    out.push_back("SELECT c FROM " + t + " WHERE id BETWEEN " + a + " AND " + b + " ORDER BY c");
    out.push_back("SELECT DISTINCT c FROM " + t + " WHERE id BETWEEN " + a + " AND " + b + " ORDER BY c");
    out.push_back("UPDATE " + t + " SET k=k+1 WHERE id=" + a);
    out.push_back("INSERT INTO " + t + " (id, k, c, pad) VALUES (" + a + ", 5, '" + b + "-x', '" + a + "-y')");
  }
  out.push_back("BEGIN");
  out.push_back("COMMIT");
  return out;
}

struct Session {
  SessionFacts facts;
  PolicyConfig config;
  int rounds;
};

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> traces;
  for (int i = 1; i < argc; ++i) {
    auto more = trace_statements(argv[i]);
    traces.insert(traces.end(), more.begin(), more.end());
  }
  if (traces.empty()) {
    std::fprintf(stderr, "policy training: no statements read from the traces given\n");
    return 1;
  }
  const auto sysbench = sysbench_statements();

  Session production{{}, {}, 12};
  production.facts.state.current_schema = "myproject_full";
  production.facts.state.multi_statements = true;
  production.config.schema_prefix = "myproject_";
  Session development = production;
  development.config.create_tables = true;
  development.rounds = 2;
  Session migration = production;
  migration.facts.state.migration.kind = MigrationKind::by_user;
  migration.rounds = 2;

  std::size_t forwarded = 0;
  for (const Session* s : {&production, &development, &migration}) {
    for (int round = 0; round < s->rounds; ++round) {
      for (const auto& sql : traces) {
        CommandRequest request;
        request.text = sql;
        forwarded += decide_command(request, s->facts, s->config).action == Action::forward;
      }
    }
  }
  for (int round = 0; round < 4; ++round) {
    for (const auto& sql : sysbench) {
      CommandRequest request;
      request.text = sql;
      forwarded += decide_command(request, production.facts, production.config).action == Action::forward;
    }
  }
  std::printf("policy training: %zu trace statements, %zu sysbench statements, %zu decisions forwarded\n",
              traces.size(), sysbench.size(), forwarded);
  return 0;
}
