// policy_probe: the policy engine as a filter, for the differential harness.
//
// Reads one JSON object per line on stdin and prints one JSON object per line on
// stdout, in the same order, flushing whenever stdin has nothing more buffered:
//
//   in:  {"id": 7, "sql_hex": "53454c45435420...", "sql_mode": "ANSI_QUOTES",
//         "charset": "gbk", "schema": "myproject_diff" | null, "migration": false,
//         "multi": true, "command": "query" | "prepare"}
//        ("sql" may be given instead of "sql_hex" for plain UTF-8 text)
//   out: {"id": 7, "verdict": "allow|reject|rewrite|migration_token", "code": 0,
//         "rule": "...", "message": "...", "rewrite": "...", "rewrite_schema": "...",
//         "rewrite_table": "...", "statements": ["query SELECT", ...]}
//
// The session facts are built the way the proxy builds them (proxy/session.cpp,
// proxy/session_handshake.cpp, proxy/session_policy.cpp): the sql_mode through
// policy::read_sql_mode (an unsupported mode rejects every statement, rule
// "fail-closed", as the proxy does), the charset name through policy::charset_class,
// the server flavour and version through policy::read_server_version of
// --server-version (the greeting's string, e.g. "10.11.14-MariaDB"). Production
// configuration: --prefix (default "myproject_"), create_tables=false, enforce.
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "policy/analyser.hpp"
#include "policy/decide_command.hpp"
#include "policy/rules.hpp"
#include "policy/session_facts.hpp"

namespace {

using namespace djproxy;

int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool unhex(const std::string& h, std::string& out) {
  if (h.size() % 2) return false;
  out.resize(h.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int a = hexval(h[2 * i]), b = hexval(h[2 * i + 1]);
    if (a < 0 || b < 0) return false;
    out[i] = static_cast<char>(a * 16 + b);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  std::string prefix = "myproject_";
  std::string version_text = "10.11.14-MariaDB";
  bool create_tables = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--prefix" && i + 1 < argc) {
      prefix = argv[++i];
    } else if (a == "--server-version" && i + 1 < argc) {
      version_text = argv[++i];
    } else if (a == "--create-tables") {
      create_tables = true;
    } else {
      std::cerr << "usage: policy_probe [--prefix P] [--server-version V] [--create-tables] <jsonl >jsonl\n";
      return 2;
    }
  }
  const auto version = policy::read_server_version(version_text);
  if (!version) {
    std::cerr << "policy_probe: cannot read server version '" << version_text << "'\n";
    return 2;
  }
  policy::PolicyConfig config;
  config.create_tables = create_tables;
  config.schema_prefix = prefix;
  config.mode = policy::Mode::enforce;

  std::string line, sql;
  std::string out;
  while (std::getline(std::cin, line)) {
    if (line.empty()) continue;
    nlohmann::json in;
    nlohmann::json res;
    try {
      in = nlohmann::json::parse(line);
    } catch (const std::exception& e) {
      res["id"] = nullptr;
      res["error"] = std::string("bad input: ") + e.what();
      std::cout << res.dump() << '\n' << std::flush;
      continue;
    }
    res["id"] = in.value("id", nlohmann::json());
    if (in.contains("sql_hex")) {
      if (!unhex(in["sql_hex"].get<std::string>(), sql)) {
        res["error"] = "bad sql_hex";
        std::cout << res.dump() << '\n';
        continue;
      }
    } else {
      sql = in.value("sql", std::string());
    }
    policy::SessionState state;
    if (in.contains("schema") && in["schema"].is_string()) state.current_schema = in["schema"].get<std::string>();
    const auto mode = policy::read_sql_mode(in.value("sql_mode", std::string()));
    state.sql_mode = mode.flags;
    state.flavour = version->flavour;
    state.server_version = version->version;
    const std::string charset = in.value("charset", std::string("utf8mb4"));
    state.charset = policy::charset_class(charset);
    state.dynamic_text_converted = !policy::same_charset(charset, in.value("connection_charset", charset));
    state.multi_statements = in.value("multi", true);
    if (in.value("migration", false)) state.migration.kind = policy::MigrationKind::by_user;
    const auto command =
        in.value("command", std::string("query")) == "prepare" ? policy::Command::stmt_prepare : policy::Command::query;

    // The proxy's decision point, as the session calls it.
    policy::SessionFacts facts;
    facts.state = state;
    facts.sql_mode_unsupported = mode.unsupported;
    policy::CommandRequest request;
    request.command = static_cast<std::uint8_t>(command == policy::Command::stmt_prepare
                                                    ? policy::ProtocolCommand::stmt_prepare
                                                    : policy::ProtocolCommand::query);
    request.text = sql;
    const auto decided = policy::decide_command(request, facts, config);
    const auto& a = decided.analysis;
    const auto& d = decided.decision;
    res["verdict"] = std::string(policy::to_string(d.verdict));
    res["code"] = d.code;
    res["rule"] = std::string(policy::to_string(d.rule));
    res["message"] = d.message;
    if (d.verdict == policy::Verdict::rewrite) {
      res["rewrite"] = std::string(policy::to_string(d.rewrite));
      res["rewrite_schema"] = d.rewrite_schema;
      res["rewrite_table"] = d.rewrite_table;
    }
    auto stmts = nlohmann::json::array();
    for (const auto& s : a.statements) stmts.push_back(std::string(policy::to_string(s.kind)) + " " + s.verb);
    res["statements"] = std::move(stmts);
    out = res.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
    std::cout << out << '\n';
    if (std::cin.rdbuf()->in_avail() <= 0) std::cout.flush();
  }
  std::cout.flush();
  return 0;
}
