// Reads the server's own words for the session facts the lexer depends on: the
// sql_mode list, the client character set's name and the greeting's version string.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "policy/types.hpp"

namespace djproxy::policy {

struct SqlModeReading {
  SqlMode flags;
  // Non-empty when a mode changes parsing in ways the analyser does not follow
  // (MariaDB's ORACLE and MSSQL modes, or a name it does not know): statements are
  // then refused, with this text as the reason.
  std::string unsupported;
};

// `sql_mode` as the server reports it: comma-separated names, composites included.
SqlModeReading read_sql_mode(std::string_view sql_mode);

// `character_set_client` as the server reports it (e.g. "utf8mb4", "sjis").
CharsetClass charset_class(std::string_view charset_name);

// The character set of a collation as the server names it: "latin1" for
// "latin1_swedish_ci", "utf8mb4" for "utf8mb4_uca1400_ai_ci", "binary" for "binary".
// (No character set's name holds '_'.)
std::string_view charset_of_collation(std::string_view collation);

// Whether the server would convert text between the two character sets it reports
// (String::needs_conversion: not when both are the same set). Unknown (empty) differs.
bool same_charset(std::string_view a, std::string_view b);

struct ServerVersion {
  ServerFlavour flavour = ServerFlavour::mysql;
  std::uint32_t version = 0;  // 10.11.19 -> 101119, 8.0.36 -> 80036
};
// The greeting's version string: "8.0.36", "5.5.5-10.11.19-MariaDB-0+deb12u1", "11.4.2-MariaDB".
// What a server announces, not how it reads: MariaDB's --version=STR sets the string, and the
// greeting comes before TLS. Only version_question's answer makes it a fact.
std::optional<ServerVersion> read_server_version(std::string_view text);

// The proxy's question to the server, whose answer is a row of three values: a sum of
// executable comments that ran, its connection id, and its version string (for the log).
// The server reads executable comments as the `announced` flavour and version do, in every
// way the lexer relies on, exactly when the sum is `expected`:
//   MariaDB V: "/*! +1 */ /*!50699 +2 */ /*M!V +4 */ /*M!V+1 +8 */"       expected 7
//   MySQL V:   "/*! +1 */ /*M! +2 */ /*!V +4 */ /*!V+1 +8 */"             expected 5
// ("/*M!" is MariaDB's alone, and so tells the flavours apart: review round 36 relabelled a
// MariaDB as MySQL 5.6.99, and a Galera node as MySQL 9.99.97, whose "/*!V" and "/*!V+1"
// alone read as MySQL's would.) Without an announced version that comments can pin (the
// next version would need another digit), `expected` is empty: nothing confirms.
struct VersionQuestion {
  std::string sql;
  std::string_view expected;  // a literal
};
VersionQuestion version_question(const std::optional<ServerVersion>& announced);

}  // namespace djproxy::policy
