// `djproxy explain`: how the policy reads a statement and what it decides.
#pragma once

#include <string>

#include "policy/types.hpp"

namespace CLI {
class App;
}

namespace djproxy::cli {

// Registers `explain [--schema S] [--migration] [--sql-mode M] [--prefix P]
// [--create-tables] [--json] "SQL"` on the application.
void add_explain_command(CLI::App& app);

// The text (or JSON) the command prints for one analysis; exposed for tests.
std::string format_explain(const policy::Analysis& analysis, bool json);

// Parses a sql_mode string ("ANSI_QUOTES,NO_BACKSLASH_ESCAPES", also "ANSI").
policy::SqlMode parse_sql_mode(const std::string& text);

}  // namespace djproxy::cli
