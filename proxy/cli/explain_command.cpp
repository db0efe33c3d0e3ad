#include "proxy/cli/explain_command.hpp"

#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "config/loader.hpp"
#include "policy/rules.hpp"
#include "policy/session_facts.hpp"
#include "proxy/cli/config_command.hpp"
#include "proxy/cli/serve_command.hpp"

namespace djproxy::cli {
namespace {

std::optional<std::uint8_t> command_byte(const std::string& name) {
  using C = policy::ProtocolCommand;
  if (name == "query") return static_cast<std::uint8_t>(C::query);
  if (name == "prepare") return static_cast<std::uint8_t>(C::stmt_prepare);
  if (name == "init_db") return static_cast<std::uint8_t>(C::init_db);
  if (name == "field_list") return static_cast<std::uint8_t>(C::field_list);
  if (name == "change_user") return static_cast<std::uint8_t>(C::change_user);
  return std::nullopt;
}

}  // namespace

std::string format_explain(const policy::CommandDecision& decided, bool json) {
  using policy::to_string;
  const auto& d = decided.decision;
  const auto& statements = decided.analysis.statements;
  const std::string verdict(to_string(d.verdict));
  if (json) {
    nlohmann::json j;
    j["decision"] = verdict;
    j["verdict"] = std::string(policy::verdict_name(d));
    j["action"] = std::string(to_string(decided.action));
    j["enforced"] = d.enforced;
    j["code"] = d.code;
    j["sqlstate"] = d.sqlstate;
    j["message"] = d.message;
    j["rule"] = std::string(to_string(d.rule));
    if (d.verdict == policy::Verdict::rewrite) {
      j["rewrite"] = std::string(to_string(d.rewrite));
      j["rewrite_schema"] = d.rewrite_schema;
      j["rewrite_table"] = d.rewrite_table;
    }
    if (d.audit) j["audit"] = d.audit_note;
    j["statements"] = nlohmann::json::array();
    for (const auto& s : statements) {
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
  o << "action:   " << to_string(decided.action) << "\n";
  if (d.code) o << "code:     " << d.code << " (SQLSTATE " << d.sqlstate << ")\n";
  if (d.rule != policy::Rule::none) o << "rule:     " << to_string(d.rule) << "\n";
  if (!d.message.empty()) o << "message:  " << d.message << "\n";
  if (d.verdict == policy::Verdict::rewrite)
    o << "rewrite:  " << to_string(d.rewrite) << " " << d.rewrite_schema << (d.rewrite_table.empty() ? "" : ".")
      << d.rewrite_table << "\n";
  if (d.audit) o << "audit:    " << d.audit_note << "\n";
  for (std::size_t i = 0; i < statements.size(); ++i) {
    const auto& s = statements[i];
    o << "statement " << i + 1 << ": " << to_string(s.kind) << " / " << to_string(s.object)
      << (s.verb.empty() ? "" : " (" + s.verb + ")") << "\n";
    for (const auto& u : s.schemas) o << "  schema " << u.name << ": " << to_string(u.access) << "\n";
    if (!s.unsupported.empty()) o << "  not read with certainty: " << s.unsupported << "\n";
  }
  return o.str();
}

bool run_explain(const ExplainOptions& options, std::ostream& out) {
  const auto command = command_byte(options.command);
  if (!command) {
    out << "djproxy: --command must be one of query, prepare, init_db, field_list, change_user\n";
    return false;
  }
  const auto version = policy::read_server_version(options.server_version);
  if (!version) {
    out << "djproxy: --server-version '" << options.server_version << "' is not a server version\n";
    return false;
  }
  // The session's facts, read from the server's words by the functions the session uses.
  policy::SessionFacts facts;
  auto& state = facts.state;
  if (!options.schema.empty()) state.current_schema = options.schema;
  const auto sql_mode = policy::read_sql_mode(options.sql_mode);
  state.sql_mode = sql_mode.flags;
  facts.sql_mode_unsupported = sql_mode.unsupported;
  facts.state_known = options.state_known;
  state.charset = policy::charset_class(options.charset);
  state.dynamic_text_converted =
      !policy::same_charset(options.charset, options.connection_charset.empty() ? options.charset
                                                                                  : options.connection_charset);
  state.flavour = version->flavour;
  state.server_version = version->version;
  state.multi_statements = options.multi_statements;
  if (!options.migration_scope.empty()) {
    state.migration = {policy::MigrationKind::by_token, options.migration_scope};
  } else if (options.migration) {
    state.migration.kind = policy::MigrationKind::by_user;
  }
  policy::CommandRequest request;
  request.command = *command;
  request.text = options.sql;
  request.user = options.user;
  out << format_explain(policy::decide_command(request, facts, options.config, options.migration_users), options.json);
  return true;
}

void add_explain_command(CLI::App& app) {
  auto opt = std::make_shared<ExplainOptions>();
  auto prefix = std::make_shared<std::string>();
  auto create_tables = std::make_shared<bool>(false);
  auto dry_run = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand("explain", "Show what the proxy does with a command, and why");
  cmd->add_option("--command", opt->command, "Protocol command: query (default), prepare, init_db, field_list, "
                                             "change_user; SQL names the schema or table for the last three");
  cmd->add_option("--schema", opt->schema, "Current schema of the session");
  cmd->add_flag("--migration", opt->migration, "A migration user's session");
  cmd->add_option("--migration-scope", opt->migration_scope, "A token's migration session with this scope (repeat)");
  cmd->add_option("--user", opt->user, "change_user: the account it switches to");
  cmd->add_option("--sql-mode", opt->sql_mode, "sql_mode as the server reports it, e.g. ANSI_QUOTES,NO_BACKSLASH_ESCAPES");
  cmd->add_option("--charset", opt->charset, "character_set_client (default utf8mb4)");
  cmd->add_option("--connection-charset", opt->connection_charset,
                  "character_set_connection (default: the same as --charset)");
  cmd->add_option("--server-version", opt->server_version,
                  "The server's version as its greeting says it (default 10.11.19-MariaDB)");
  cmd->add_option("--multi-statements", opt->multi_statements, "Whether the client enabled multi-statements (default true)");
  cmd->add_option("--prefix", *prefix, "Schema prefix (default: database.schema_prefix from the settings)");
  cmd->add_flag("--create-tables", *create_tables, "Development mode (create_tables=true)");
  cmd->add_flag("--dry-run", *dry_run, "policy.mode = dry-run");
  cmd->add_flag("--json", opt->json, "Print JSON");
  cmd->add_option("sql", opt->sql, "The statement, or the schema / table the command names")->required();
  cmd->callback([opt, prefix, create_tables, dry_run, cmd] {
    ExplainOptions options = *opt;
    // The policy settings the proxy itself would use, read the way `serve` reads them.
    const auto loaded = config::load(load_options_from(*cmd));
    if (loaded.ok()) {
      options.config = policy_config(*loaded.settings);
      options.migration_users = loaded.settings->migration().users;
    } else if (!loaded.errors.empty()) {
      std::cerr << "djproxy: settings not loaded (" << loaded.errors.front() << "); no schema prefix applied\n";
    }
    // Production unless asked: explain answers what production would do.
    options.config.create_tables = *create_tables;
    if (cmd->count("--prefix") > 0) options.config.schema_prefix = *prefix;
    if (*dry_run) options.config.mode = policy::Mode::dry_run;
    if (!run_explain(options, std::cout)) throw CLI::RuntimeError(2);
  });
}

}  // namespace djproxy::cli
