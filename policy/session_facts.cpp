#include "policy/session_facts.hpp"

#include <array>
#include <cctype>

namespace djproxy::policy {
namespace {

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Modes that change nothing about how a statement is tokenized or which objects it
// names. Anything not listed here or handled below is not read with certainty.
constexpr std::array<std::string_view, 27> kLexicallyNeutral = {
    "REAL_AS_FLOAT",        "IGNORE_BAD_TABLE_OPTIONS", "ONLY_FULL_GROUP_BY",   "NO_UNSIGNED_SUBTRACTION",
    "NO_DIR_IN_CREATE",     "NO_KEY_OPTIONS",           "NO_TABLE_OPTIONS",     "NO_FIELD_OPTIONS",
    "MYSQL323",             "MYSQL40",                  "NO_AUTO_VALUE_ON_ZERO", "STRICT_TRANS_TABLES",
    "STRICT_ALL_TABLES",    "NO_ZERO_IN_DATE",          "NO_ZERO_DATE",         "ALLOW_INVALID_DATES",
    "ERROR_FOR_DIVISION_BY_ZERO", "TRADITIONAL",        "NO_AUTO_CREATE_USER",  "HIGH_NOT_PRECEDENCE",
    "NO_ENGINE_SUBSTITUTION", "PAD_CHAR_TO_FULL_LENGTH", "EMPTY_STRING_IS_NULL", "SIMULTANEOUS_ASSIGNMENT",
    "TIME_ROUND_FRACTIONAL", "TIME_TRUNCATE_FRACTIONAL", "POSTGRESQL"};

}  // namespace

SqlModeReading read_sql_mode(std::string_view sql_mode) {
  SqlModeReading reading;
  reading.flags.auto_create_user = true;
  while (!sql_mode.empty()) {
    const std::size_t comma = sql_mode.find(',');
    const std::string name = upper(trim(sql_mode.substr(0, comma)));
    sql_mode = comma == std::string_view::npos ? std::string_view() : sql_mode.substr(comma + 1);
    if (name.empty()) continue;
    if (name == "ANSI_QUOTES") {
      reading.flags.ansi_quotes = true;
    } else if (name == "NO_BACKSLASH_ESCAPES") {
      reading.flags.no_backslash_escapes = true;
    } else if (name == "PIPES_AS_CONCAT") {
      reading.flags.pipes_as_concat = true;
    } else if (name == "IGNORE_SPACE") {
      reading.flags.ignore_space = true;
    } else if (name == "ANSI" || name == "DB2" || name == "MAXDB" || name == "POSTGRESQL") {
      // Composites: the server lists their parts too, but a client may read an older
      // report; set what they imply.
      reading.flags.ansi_quotes = reading.flags.pipes_as_concat = reading.flags.ignore_space = true;
    } else if (name == "NO_AUTO_CREATE_USER" || name == "TRADITIONAL") {
      reading.flags.auto_create_user = false;
    } else if (name == "ORACLE" || name == "MSSQL") {
      // MariaDB switches to another grammar (PL/SQL blocks, [bracketed] names).
      reading.unsupported = "sql_mode " + name + " changes the SQL grammar; djproxy does not analyse it";
    } else {
      bool known = false;
      for (auto neutral : kLexicallyNeutral) known = known || neutral == name;
      if (!known && reading.unsupported.empty()) {
        reading.unsupported = "sql_mode " + name + " is unknown to djproxy";
      }
    }
  }
  return reading;
}

CharsetClass charset_class(std::string_view charset_name) {
  const std::string name = upper(trim(charset_name));
  // Charsets whose multi-byte sequences use only bytes >= 0x80: a byte below 0x80 is
  // always the ASCII character it looks like.
  for (std::string_view n : {"UTF8MB4", "UTF8MB3", "UTF8", "ASCII", "BINARY", "GB2312", "EUCKR", "EUCJPMS", "UJIS"}) {
    if (name == n) return CharsetClass::utf8;
  }
  for (std::string_view n : {"LATIN1", "LATIN2", "LATIN5", "LATIN7", "CP1250", "CP1251", "CP1256", "CP1257", "CP850",
                             "CP852", "CP866", "DEC8", "GREEK", "HEBREW", "HP8", "KEYBCS2", "KOI8R", "KOI8U",
                             "MACCE", "MACROMAN", "SWE7", "TIS620", "GEOSTD8", "ARMSCII8"}) {
    if (name == n) return CharsetClass::single_byte;
  }
  if (name == "GBK") return CharsetClass::gbk;
  if (name == "BIG5") return CharsetClass::big5;
  if (name == "SJIS" || name == "CP932") return CharsetClass::sjis;
  if (name == "GB18030") return CharsetClass::gb18030;
  return CharsetClass::unsupported;
}

std::string_view charset_of_collation(std::string_view collation) {
  return collation.substr(0, collation.find('_'));
}

bool same_charset(std::string_view a, std::string_view b) {
  a = trim(a);
  b = trim(b);
  return !a.empty() && upper(a) == upper(b);
}

std::optional<ServerVersion> read_server_version(std::string_view text) {
  ServerVersion v;
  v.flavour = text.find("MariaDB") != std::string_view::npos ? ServerFlavour::mariadb : ServerFlavour::mysql;
  // MariaDB before 11 prefixes "5.5.5-" so that old clients accept it.
  if (v.flavour == ServerFlavour::mariadb && text.starts_with("5.5.5-")) text.remove_prefix(6);
  std::uint32_t parts[3] = {0, 0, 0};
  std::size_t part = 0;
  bool digits = false;
  for (char c : text) {
    if (c >= '0' && c <= '9') {
      parts[part] = parts[part] * 10 + static_cast<std::uint32_t>(c - '0');
      if (parts[part] > 99 && part > 0) return std::nullopt;
      digits = true;
    } else if (c == '.' && digits && part < 2) {
      ++part;
      digits = false;
    } else {
      break;
    }
  }
  if (part != 2 || !digits) return std::nullopt;
  v.version = parts[0] * 10000 + parts[1] * 100 + parts[2];
  return v;
}

VersionQuestion version_question(const std::optional<ServerVersion>& announced) {
  constexpr std::uint32_t kNoVersion = 0xFFFFFFFF;  // a comment with no version digits
  VersionQuestion q;
  q.sql = "SELECT 0";
  // Each comment runs for what it adds: "/*M!101119 +4 */".
  const auto comment = [&q](std::string_view open, std::uint32_t version, std::string_view adds) {
    q.sql.append(" ").append(open);
    if (version != kNoVersion) q.sql.append(std::to_string(version));
    q.sql.append(" +").append(adds).append(" */");
  };
  if (announced) {
    const std::uint32_t v = announced->version;
    // The digits the server reads: six after "/*M!", five after "/*!" (MySQL).
    if (announced->flavour == ServerFlavour::mariadb) {
      if (v >= 100000 && v + 1 <= 999999) {
        comment("/*!", kNoVersion, "1");
        comment("/*!", 50699, "2");
        comment("/*M!", v, "4");
        comment("/*M!", v + 1, "8");
        q.expected = "7";
      }
    } else if (v >= 10000 && v + 1 <= 99999) {
      comment("/*!", kNoVersion, "1");
      comment("/*M!", kNoVersion, "2");  // MariaDB's alone
      comment("/*!", v, "4");
      comment("/*!", v + 1, "8");
      q.expected = "5";
    }
  }
  q.sql.append(", CONNECTION_ID(), @@version");
  return q;
}

}  // namespace djproxy::policy
