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
std::optional<ServerVersion> read_server_version(std::string_view text);

}  // namespace djproxy::policy
