// `djproxy explain`: what the proxy does with a command, decided by the very function
// the session calls (policy::decide_command), from flags for the session's facts.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "policy/decide_command.hpp"

namespace CLI {
class App;
}

namespace djproxy::cli {

// What `explain` is asked: the command, the session it arrives in, and the settings.
struct ExplainOptions {
  std::string command = "query";  // query | prepare | init_db | field_list | change_user
  std::string schema;             // current schema; empty = none
  bool migration = false;         // a migration user's session
  std::vector<std::string> migration_scope;  // a token's migration with this scope
  std::string user;               // change_user: the account it switches to
  // As the server reports it; by default MariaDB 10.11's own.
  std::string sql_mode = "STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION";
  std::string charset = "utf8mb4";  // character_set_client
  std::string connection_charset;   // character_set_connection (default: the client's)
  std::string server_version = "10.11.19-MariaDB";  // as the greeting says it
  bool multi_statements = true;
  bool state_known = true;
  // Settings: those of `serve` (see add_explain_command), these on top.
  policy::PolicyConfig config;
  std::vector<std::string> migration_users;
  bool json = false;
  std::string sql;  // the SQL, or the schema / table the command names
};

// Decides `options.sql` in the session the options describe and prints the result to
// `out`; the command's whole behaviour, without CLI11 or std::cout. Returns false
// (after a message on `out`) when a fact is not one the proxy could meet.
bool run_explain(const ExplainOptions& options, std::ostream& out);

// Registers `explain [--command C] [--schema S] [--migration] [--migration-scope P]...
// [--sql-mode M] [--charset C] [--server-version V] [--prefix P] [--create-tables]
// [--dry-run] [--json] "SQL"` on the application.
void add_explain_command(CLI::App& app);

// The text (or JSON) the command prints for one decision; exposed for tests.
std::string format_explain(const policy::CommandDecision& decided, bool json);

}  // namespace djproxy::cli
