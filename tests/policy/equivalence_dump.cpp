// policy_equivalence_dump: everything policy::analyse returns, as one JSON line per
// input line, so that two builds of the policy (before and after a change meant to
// alter nothing it decides, e.g. a speed-up) can be compared byte for byte by
// scripts/policy-equivalence.sh.
//
//   in:  {"sql_hex": "53454c...", "flags": 64, "sql_mode": "ANSI_QUOTES", "charset": "gbk",
//         "schema": "myproject_diff" | null, "chunk": 3}
//        flags as tests/policy/policy_cases.hpp (session_for/config_for); sql_mode,
//        charset and schema, when present, replace what the flags say; chunk > 0 feeds
//        the text through StreamingAnalyser in pieces of that size.
//   out: the decision's every field, every statement's every field, the schema after.
//
// `--emit-cases` prints the policy test tables (kCases, kAgreementCases) as input lines.
#include <cstdio>
#include <iostream>
#include <span>
#include <nlohmann/json.hpp>
#include <string>

#include "policy/analyser.hpp"
#include "policy/rules.hpp"
#include "policy/session_facts.hpp"
#include "tests/policy/agreement_cases_table.hpp"
#include "tests/policy/case_session.hpp"
#include "tests/policy/policy_cases_table.hpp"

namespace {

// Whether the statement writes ~lineage rows: a field of the reader's until 2026-12-06, a
// judgement of the rules' since, of every write since 2026-12-07 (before, of the writes
// that may change rows already there). Each way, so that this driver builds against a
// base revision from before a change.
template <class S>
bool lineage_flag(const S& s) {
  if constexpr (requires { s.lineage_delete; })
    return s.lineage_delete;
  else if constexpr (requires { s.rewrites_rows; })
    return changes_lineage_rows(s);
  else
    return writes_lineage_rows(s);
}

using namespace djproxy::policy;
using nlohmann::json;

std::string hex(std::string_view s) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size() * 2);
  for (unsigned char c : s) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

bool unhex(const std::string& h, std::string& out) {
  const auto val = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (h.size() % 2) return false;
  out.resize(h.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int a = val(h[2 * i]), b = val(h[2 * i + 1]);
    if (a < 0 || b < 0) return false;
    out[i] = static_cast<char>(a * 16 + b);
  }
  return true;
}

json opt(const std::optional<std::string>& s) { return s ? json(hex(*s)) : json(); }

// Names and messages are written as hex: they may hold any byte.
json dump(const Analysis& a) {
  const Decision& d = a.decision;
  json j;
  j["verdict"] = std::string(to_string(d.verdict));
  j["enforced"] = d.enforced;
  j["code"] = d.code;
  j["sqlstate"] = d.sqlstate;
  j["message"] = hex(d.message);
  j["rule"] = d.rule;
  j["rewrite"] = std::string(to_string(d.rewrite));
  j["rewrite_schema"] = hex(d.rewrite_schema);
  j["rewrite_table"] = hex(d.rewrite_table);
  j["token"] = opt(d.token);
  j["audit"] = d.audit;
  j["audit_note"] = hex(d.audit_note);
  j["current_schema_after"] = opt(a.current_schema_after);
  json statements = json::array();
  for (const auto& s : a.statements) {
    json js;
    js["kind"] = std::string(to_string(s.kind));
    js["object"] = std::string(to_string(s.object));
    js["verb"] = hex(s.verb);
    json schemas = json::array();
    for (const auto& u : s.schemas) schemas.push_back({hex(u.name), std::string(to_string(u.access))});
    js["schemas"] = std::move(schemas);
    json objects = json::array();
    for (const auto& o : s.objects) objects.push_back({hex(o.schema), hex(o.name), std::string(to_string(o.access))});
    js["objects"] = std::move(objects);
    js["flags"] = {s.if_not_exists,   s.or_replace,     s.create_plain,   s.show_databases,
                   s.global_scope,    lineage_flag(s), s.lineage_condition_bookkeeping_only,
                   s.via_prepare,     s.migration_token, s.changes_lexing, s.changes_tracking,
                   s.strict_head_only};
    js["token_value"] = opt(s.token_value);
    js["new_current_schema"] = opt(s.new_current_schema);
    js["unsupported"] = hex(s.unsupported);
    js["unsupported_code"] = s.unsupported_code;
    js["strict_refusal"] = hex(s.strict_refusal);
    js["strict_code"] = s.strict_code;
    statements.push_back(std::move(js));
  }
  j["statements"] = std::move(statements);
  return j;
}

void emit_cases() {
  using namespace djproxy::policy::test;
  for (const auto& table : {std::span<const Case>(kCases), std::span<const Case>(kAgreementCases)})
    for (const auto& c : table) {
      json j;
      j["sql_hex"] = hex(c.sql);
      j["flags"] = c.flags;
      std::cout << j.dump() << '\n';
    }
}

}  // namespace

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  if (argc == 2 && std::string(argv[1]) == "--emit-cases") {
    emit_cases();
    return 0;
  }
  if (argc != 1) {
    std::cerr << "usage: policy_equivalence_dump [--emit-cases] <jsonl >jsonl\n";
    return 2;
  }
  std::string line, sql;
  while (std::getline(std::cin, line)) {
    if (line.empty()) continue;
    const json in = json::parse(line);
    if (in.contains("sql_hex")) {
      if (!unhex(in["sql_hex"].get<std::string>(), sql)) {
        std::cerr << "bad sql_hex: " << line << '\n';
        return 2;
      }
    } else {
      sql = in.value("sql", std::string());
    }
    const auto flags = in.value("flags", std::uint32_t{0});
    SessionState state = djproxy::policy::test::session_for(flags);
    const PolicyConfig config = djproxy::policy::test::config_for(flags);
    const Command command = djproxy::policy::test::command_for(flags);
    std::string unsupported_mode;
    if (in.contains("sql_mode")) {
      const auto mode = read_sql_mode(in["sql_mode"].get<std::string>());
      state.sql_mode = mode.flags;
      unsupported_mode = mode.unsupported;
    }
    if (in.contains("charset")) state.charset = charset_class(in["charset"].get<std::string>());
    if (in.contains("schema")) {
      if (in["schema"].is_string())
        state.current_schema = in["schema"].get<std::string>();
      else
        state.current_schema.reset();
    }
    json out;
    if (!unsupported_mode.empty()) {
      out["unsupported_mode"] = unsupported_mode;
    } else {
      const std::size_t chunk = in.value("chunk", std::size_t{0});
      if (chunk == 0) {
        out = dump(analyse(sql, state, config, command));
      } else {
        StreamingAnalyser s(state, config, command);
        for (std::size_t i = 0; i < sql.size(); i += chunk) s.feed(std::string_view(sql).substr(i, chunk));
        out = dump(s.finish());
      }
    }
    std::cout << out.dump() << '\n';
  }
  return 0;
}
