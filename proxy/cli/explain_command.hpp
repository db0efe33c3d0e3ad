// `djproxy explain`: how the policy reads a statement and what it decides.
#pragma once

#include <iosfwd>
#include <string>

#include "policy/types.hpp"

namespace CLI {
class App;
}

namespace djproxy::cli {

// What `explain` is asked: the session to analyse in and the statement.
struct ExplainOptions {
  std::string schema;  // empty = no current schema
  bool migration = false;
  std::string sql_mode;
  std::string prefix;
  bool create_tables = false;
  bool json = false;
  std::string sql;
};

// Analyses `options.sql` in the session the options describe and prints the
// result to `out`; the command's whole behaviour, without CLI11 or std::cout.
void run_explain(const ExplainOptions& options, std::ostream& out);

// Registers `explain [--schema S] [--migration] [--sql-mode M] [--prefix P]
// [--create-tables] [--json] "SQL"` on the application.
void add_explain_command(CLI::App& app);

// The text (or JSON) the command prints for one analysis; exposed for tests.
std::string format_explain(const policy::Analysis& analysis, bool json);

// Parses a sql_mode string ("ANSI_QUOTES,NO_BACKSLASH_ESCAPES", also "ANSI").
policy::SqlMode parse_sql_mode(const std::string& text);

}  // namespace djproxy::cli
