#include "proxy/cli/explain_command.hpp"

#include "config/loader.hpp"
#include "proxy/cli/config_command.hpp"

#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "policy/analyser.hpp"
#include "policy/rules.hpp"

namespace djproxy::cli {
namespace {

std::string upper(std::string s) {
  for (auto& c : s)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return s;
}

}  // namespace

policy::SqlMode parse_sql_mode(const std::string& text) {
  policy::SqlMode m;
  std::stringstream in(upper(text));
  std::string flag;
  while (std::getline(in, flag, ',')) {
    if (flag == "ANSI_QUOTES" || flag == "ANSI") m.ansi_quotes = true;
    if (flag == "PIPES_AS_CONCAT" || flag == "ANSI") m.pipes_as_concat = true;
    if (flag == "IGNORE_SPACE" || flag == "ANSI") m.ignore_space = true;
    if (flag == "NO_BACKSLASH_ESCAPES") m.no_backslash_escapes = true;
  }
  return m;
}

std::string format_explain(const policy::Analysis& a, bool json) {
  using policy::to_string;
  const auto& d = a.decision;
  const std::string verdict(to_string(d.verdict));
  if (json) {
    nlohmann::json j;
    j["decision"] = verdict;
    j["enforced"] = d.enforced;
    j["code"] = d.code;
    j["sqlstate"] = d.sqlstate;
    j["message"] = d.message;
    j["rule"] = d.rule;
    if (d.verdict == policy::Verdict::rewrite) {
      j["rewrite"] = std::string(to_string(d.rewrite));
      j["rewrite_schema"] = d.rewrite_schema;
      j["rewrite_table"] = d.rewrite_table;
    }
    if (d.audit) j["audit"] = d.audit_note;
    j["statements"] = nlohmann::json::array();
    for (const auto& s : a.statements) {
      nlohmann::json js;
      js["kind"] = std::string(to_string(s.kind));
      js["object"] = std::string(to_string(s.object));
      js["verb"] = s.verb;
      js["schemas"] = nlohmann::json::array();
      for (const auto& u : s.schemas)
        js["schemas"].push_back({{"name", u.name}, {"access", std::string(to_string(u.access))}});
      js["objects"] = nlohmann::json::array();
      for (const auto& o : s.objects)
        js["objects"].push_back(
            {{"schema", o.schema}, {"name", o.name}, {"access", std::string(to_string(o.access))}});
      if (!s.unsupported.empty()) js["unsupported"] = s.unsupported;
      j["statements"].push_back(std::move(js));
    }
    // Binary bytes in names must not make the output invalid.
    return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  }
  std::ostringstream o;
  o << "decision: " << verdict << (d.enforced ? "" : " (dry-run: not enforced)") << "\n";
  if (d.code) o << "code:     " << d.code << " (SQLSTATE " << d.sqlstate << ")\n";
  if (!d.rule.empty()) o << "rule:     " << d.rule << "\n";
  if (!d.message.empty()) o << "message:  " << d.message << "\n";
  if (d.verdict == policy::Verdict::rewrite)
    o << "rewrite:  " << to_string(d.rewrite) << " " << d.rewrite_schema << (d.rewrite_table.empty() ? "" : ".")
      << d.rewrite_table << "\n";
  if (d.audit) o << "audit:    " << d.audit_note << "\n";
  for (std::size_t i = 0; i < a.statements.size(); ++i) {
    const auto& s = a.statements[i];
    o << "statement " << i + 1 << ": " << to_string(s.kind) << " / " << to_string(s.object)
      << (s.verb.empty() ? "" : " (" + s.verb + ")") << "\n";
    for (const auto& u : s.schemas) o << "  schema " << u.name << ": " << to_string(u.access) << "\n";
    if (!s.unsupported.empty()) o << "  not read with certainty: " << s.unsupported << "\n";
  }
  return o.str();
}

void add_explain_command(CLI::App& app) {
  auto opt = std::make_shared<ExplainOptions>();
  CLI::App* cmd = app.add_subcommand("explain", "Show how the policy reads a statement and what it decides");
  cmd->add_option("--schema", opt->schema, "Current schema of the session");
  cmd->add_flag("--migration", opt->migration, "Analyse as an authorized migration session");
  cmd->add_option("--sql-mode", opt->sql_mode, "sql_mode, e.g. ANSI_QUOTES,NO_BACKSLASH_ESCAPES");
  cmd->add_option("--prefix", opt->prefix, "Schema prefix (default: database.schema_prefix from the settings)");
  cmd->add_flag("--create-tables", opt->create_tables, "Development mode (create_tables=true)");
  cmd->add_flag("--json", opt->json, "Print JSON");
  cmd->add_option("sql", opt->sql, "The statement")->required();
  cmd->callback([opt, cmd] {
    ExplainOptions options = *opt;
    if (cmd->count("--prefix") == 0) {
      // The prefix the proxy itself would enforce, read the way `serve` reads it.
      const auto loaded = config::load(load_options_from(*cmd));
      if (loaded.ok()) {
        options.prefix = loaded.settings->policy().schema_prefix.value_or("");
      } else if (!loaded.errors.empty()) {
        std::cerr << "djproxy: settings not loaded (" << loaded.errors.front() << "); no schema prefix applied\n";
      }
    }
    run_explain(options, std::cout);
  });
}

void run_explain(const ExplainOptions& options, std::ostream& out) {
  policy::SessionState state;
  if (!options.schema.empty()) state.current_schema = options.schema;
  state.sql_mode = parse_sql_mode(options.sql_mode);
  state.multi_statements = true;
  if (options.migration) state.migration.kind = policy::MigrationKind::by_user;
  policy::PolicyConfig config;
  config.schema_prefix = options.prefix;
  config.create_tables = options.create_tables;
  out << format_explain(policy::analyse(options.sql, state, config), options.json);
}

}  // namespace djproxy::cli
