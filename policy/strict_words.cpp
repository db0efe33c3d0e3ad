// Word lists of the allow-list reader, each a fact about MariaDB 10.11: the
// functions it reads (sql/item_create.cc's native functions and the ones the
// grammar reads by keyword in sql/sql_yacc.yy), and the session variables a
// worker may set. Each list is hashed at compile time, so a look-up allocates
// nothing and costs one hash.
#include <array>
#include <cstdint>
#include <string_view>

#include "policy/keywords.hpp"
#include "policy/strict_parser.hpp"

namespace djproxy::policy::strict {
namespace {

// Not listed on purpose: LOAD_FILE (reads server files) and NEXTVAL, LASTVAL,
// SETVAL (their argument names a sequence: read as a table reference instead).
constexpr std::string_view kFunctions[] = {
    "ABS", "ACOS", "ADDDATE", "ADDTIME", "ADD_MONTHS", "AES_DECRYPT", "AES_ENCRYPT", "AREA",
    "ASBINARY", "ASCII", "ASIN", "ASTEXT", "ASWKB", "ASWKT", "ATAN", "ATAN2", "AVG", "BENCHMARK",
    "BIN", "BINLOG_GTID_POS", "BIT_AND", "BIT_COUNT", "BIT_LENGTH", "BIT_OR", "BIT_XOR", "CAST",
    "CEIL", "CEILING", "CHAR", "CHARACTER_LENGTH", "CHARSET", "CHAR_LENGTH", "CHR", "COALESCE",
    "COERCIBILITY", "COLLATION", "COLUMN_ADD", "COLUMN_CHECK", "COLUMN_CREATE", "COLUMN_DELETE",
    "COLUMN_EXISTS", "COLUMN_GET", "COLUMN_JSON", "COLUMN_LIST", "COMPRESS", "CONCAT", "CONCAT_WS",
    "CONNECTION_ID", "CONV", "CONVERT", "CONVERT_TZ", "COS", "COT", "COUNT", "CRC32", "CRC32C",
    "CUME_DIST", "CURDATE", "CURRENT_DATE", "CURRENT_ROLE", "CURRENT_TIME", "CURRENT_TIMESTAMP",
    "CURRENT_USER", "CURTIME", "DATABASE", "DATE", "DATEDIFF", "DATE_ADD", "DATE_FORMAT",
    "DATE_SUB", "DAY", "DAYNAME", "DAYOFMONTH", "DAYOFWEEK", "DAYOFYEAR", "DECODE",
    "DECODE_HISTOGRAM", "DECODE_ORACLE", "DEFAULT", "DEGREES", "DENSE_RANK", "DES_DECRYPT",
    "DES_ENCRYPT", "ELT", "ENCODE", "ENCRYPT", "EXP", "EXPORT_SET", "EXTRACT", "EXTRACTVALUE",
    "FIELD", "FIND_IN_SET", "FIRST_VALUE", "FLOOR", "FORMAT", "FORMAT_BYTES", "FORMAT_PICO_TIME",
    "FOUND_ROWS", "FROM_BASE64", "FROM_DAYS", "FROM_UNIXTIME", "GEOMETRYCOLLECTION",
    "GEOMETRYFROMTEXT", "GEOMFROMTEXT", "GEOMFROMWKB", "GET_FORMAT", "GET_LOCK", "GLENGTH",
    "GREATEST", "GROUP_CONCAT", "HEX", "HOUR", "IF", "IFNULL", "INET6_ATON", "INET6_NTOA",
    "INET_ATON", "INET_NTOA", "INSERT", "INSTR", "INTERVAL", "ISNULL", "IS_FREE_LOCK", "IS_IPV4",
    "IS_IPV4_COMPAT", "IS_IPV4_MAPPED", "IS_IPV6", "IS_USED_LOCK", "JSON_ARRAY", "JSON_ARRAYAGG",
    "JSON_ARRAY_APPEND", "JSON_ARRAY_INSERT", "JSON_ARRAY_INTERSECT", "JSON_COMPACT",
    "JSON_CONTAINS", "JSON_CONTAINS_PATH", "JSON_DEPTH", "JSON_DETAILED", "JSON_EQUALS",
    "JSON_EXISTS", "JSON_EXTRACT", "JSON_INSERT", "JSON_KEYS", "JSON_LENGTH", "JSON_LOOSE",
    "JSON_MERGE", "JSON_MERGE_PATCH", "JSON_MERGE_PRESERVE", "JSON_NORMALIZE", "JSON_OBJECT",
    "JSON_OBJECTAGG", "JSON_OBJECT_FILTER_KEYS", "JSON_OBJECT_TO_ARRAY", "JSON_OVERLAPS",
    "JSON_PRETTY", "JSON_QUERY", "JSON_QUOTE", "JSON_REMOVE", "JSON_REPLACE", "JSON_SCHEMA_VALID",
    "JSON_SEARCH", "JSON_SET", "JSON_TYPE", "JSON_UNQUOTE", "JSON_VALID", "JSON_VALUE", "KDF",
    "LAG", "LAST_DAY", "LAST_INSERT_ID", "LAST_VALUE", "LCASE", "LEAD", "LEAST", "LEFT", "LENGTH",
    "LENGTHB", "LINESTRING", "LN", "LOCALTIME", "LOCALTIMESTAMP", "LOCATE", "LOG", "LOG10", "LOG2",
    "LOWER", "LPAD", "LTRIM", "MAKEDATE", "MAKETIME", "MAKE_SET", "MASTER_GTID_WAIT",
    "MASTER_POS_WAIT", "MAX", "MBRCONTAINS", "MBRDISJOINT", "MBREQUALS", "MBRINTERSECTS",
    "MBROVERLAPS", "MBRTOUCHES", "MBRWITHIN", "MD5", "MEDIAN", "MICROSECOND", "MID", "MIN",
    "MINUTE", "MOD", "MONTH", "MONTHNAME", "MONTHS_BETWEEN", "MULTILINESTRING", "MULTIPOINT",
    "MULTIPOLYGON", "NAME_CONST", "NATURAL_SORT_KEY", "NOW", "NTH_VALUE", "NTILE", "NULLIF", "NVL",
    "NVL2", "OCT", "OCTET_LENGTH", "OLD_PASSWORD", "ORD", "PASSWORD", "PERCENTILE_CONT",
    "PERCENTILE_DISC", "PERCENT_RANK", "PERIOD_ADD", "PERIOD_DIFF", "PI", "POINT", "POINTFROMTEXT",
    "POLYGON", "POSITION", "POW", "POWER", "QUARTER", "QUOTE", "RADIANS", "RAND", "RANDOM_BYTES",
    "RANK", "REGEXP_INSTR", "REGEXP_REPLACE", "REGEXP_SUBSTR", "RELEASE_ALL_LOCKS", "RELEASE_LOCK",
    "REPEAT", "REPLACE", "REVERSE", "RIGHT", "ROUND", "ROWNUM", "ROW_COUNT", "ROW_NUMBER", "RPAD",
    "RTRIM", "SCHEMA", "SECOND", "SEC_TO_TIME", "SESSION_USER", "SFORMAT", "SHA", "SHA1", "SHA2",
    "SIGN", "SIN", "SLEEP", "SOUNDEX", "SPACE", "SQRT", "SRID", "STD", "STDDEV", "STDDEV_POP",
    "STDDEV_SAMP", "STRCMP", "STR_TO_DATE", "ST_AREA", "ST_ASBINARY", "ST_ASGEOJSON", "ST_ASTEXT",
    "ST_ASWKB", "ST_ASWKT", "ST_BOUNDARY", "ST_BUFFER", "ST_CENTROID", "ST_CONTAINS", "ST_CROSSES",
    "ST_DIFFERENCE", "ST_DIMENSION", "ST_DISJOINT", "ST_DISTANCE", "ST_DISTANCE_SPHERE",
    "ST_ENDPOINT", "ST_ENVELOPE", "ST_EQUALS", "ST_EXTERIORRING", "ST_GEOMETRYFROMTEXT",
    "ST_GEOMETRYFROMWKB", "ST_GEOMETRYN", "ST_GEOMETRYTYPE", "ST_GEOMFROMGEOJSON",
    "ST_GEOMFROMTEXT", "ST_GEOMFROMWKB", "ST_INTERIORRINGN", "ST_INTERSECTION", "ST_INTERSECTS",
    "ST_ISCLOSED", "ST_ISEMPTY", "ST_ISRING", "ST_ISSIMPLE", "ST_ISVALID", "ST_LENGTH",
    "ST_LINEFROMTEXT", "ST_NUMGEOMETRIES", "ST_NUMINTERIORRINGS", "ST_NUMPOINTS", "ST_OVERLAPS",
    "ST_POINTFROMTEXT", "ST_POINTFROMWKB", "ST_POINTN", "ST_POLYFROMTEXT", "ST_RELATE",
    "ST_SIMPLIFY", "ST_SRID", "ST_STARTPOINT", "ST_SYMDIFFERENCE", "ST_TOUCHES", "ST_UNION",
    "ST_WITHIN", "ST_X", "ST_Y", "SUBDATE", "SUBSTR", "SUBSTRING", "SUBSTRING_INDEX", "SUBTIME",
    "SUM", "SYSDATE", "SYSTEM_USER", "SYS_GUID", "TAN", "TIME", "TIMEDIFF", "TIMESTAMP",
    "TIMESTAMPADD", "TIMESTAMPDIFF", "TIME_FORMAT", "TIME_TO_SEC", "TO_BASE64", "TO_CHAR",
    "TO_DAYS", "TO_SECONDS", "TRIM", "TRUNCATE", "UCASE", "UNCOMPRESS", "UNCOMPRESSED_LENGTH",
    "UNHEX", "UNIX_TIMESTAMP", "UPDATEXML", "UPPER", "USER", "UTC_DATE", "UTC_TIME",
    "UTC_TIMESTAMP", "UUID", "UUID_SHORT", "VALUE", "VALUES", "VARIANCE", "VAR_POP", "VAR_SAMP",
    "VERSION", "WEEK", "WEEKDAY", "WEEKOFYEAR", "WEIGHT_STRING", "X", "Y", "YEAR", "YEARWEEK",
};

// Not listed on purpose: session_track_* (the proxy follows the session's schema
// and sql_mode through them), sql_log_bin and the replication variables, the
// account variables such as old_passwords, and the default storage engines (a
// table created without ENGINE= must get the server's own default).
constexpr std::string_view kVariables[] = {
    "AUTOCOMMIT", "BIG_TABLES", "CHARACTER_SET_CLIENT", "CHARACTER_SET_CONNECTION",
    "CHARACTER_SET_RESULTS", "COLLATION_CONNECTION", "COMPLETION_TYPE", "DEFAULT_WEEK_FORMAT",
    "DIV_PRECISION_INCREMENT", "EXPLICIT_DEFAULTS_FOR_TIMESTAMP", "FOREIGN_KEY_CHECKS",
    "GROUP_CONCAT_MAX_LEN", "INNODB_LOCK_WAIT_TIMEOUT", "INNODB_STRICT_MODE", "INSERT_ID",
    "INTERACTIVE_TIMEOUT", "JOIN_BUFFER_SIZE", "LAST_INSERT_ID", "LC_MESSAGES", "LC_TIME_NAMES",
    "LOCK_WAIT_TIMEOUT", "LONG_QUERY_TIME", "MAX_ALLOWED_PACKET", "MAX_EXECUTION_TIME",
    "MAX_HEAP_TABLE_SIZE", "MAX_JOIN_SIZE", "MAX_SORT_LENGTH", "MAX_STATEMENT_TIME",
    "NET_READ_TIMEOUT", "NET_WRITE_TIMEOUT", "OPTIMIZER_SWITCH", "PROFILING",
    "PROFILING_HISTORY_SIZE", "QUERY_CACHE_TYPE", "SORT_BUFFER_SIZE", "SQL_AUTO_IS_NULL",
    "SQL_BIG_SELECTS", "SQL_BUFFER_RESULT", "SQL_MODE", "SQL_NOTES", "SQL_QUOTE_SHOW_CREATE",
    "SQL_SAFE_UPDATES", "SQL_SELECT_LIMIT", "SQL_WARNINGS", "TIMESTAMP", "TIME_ZONE",
    "TMP_TABLE_SIZE", "TRANSACTION_ISOLATION", "TRANSACTION_READ_ONLY", "TX_ISOLATION",
    "TX_READ_ONLY", "UNIQUE_CHECKS", "WAIT_TIMEOUT",
};

constexpr char upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

constexpr std::uint32_t hash(std::string_view w) {
  std::uint32_t h = 2166136261u;
  for (char c : w) h = (h ^ static_cast<unsigned char>(upper(c))) * 16777619u;
  return h;
}

// An open-addressing table of a list's indexes, built at compile time: a look-up
// is one hash of the word and one or two comparisons.
template <std::size_t N>
struct WordSet {
  static constexpr std::size_t kSlots = 1024;
  static_assert(N * 2 < kSlots);
  const std::string_view* list;
  std::array<std::int16_t, kSlots> slots{};

  constexpr explicit WordSet(const std::string_view (&words)[N]) : list(words) {
    for (auto& s : slots) s = -1;
    for (std::size_t i = 0; i < N; ++i) {
      std::size_t h = hash(words[i]) & (kSlots - 1);
      while (slots[h] >= 0) h = (h + 1) & (kSlots - 1);
      slots[h] = static_cast<std::int16_t>(i);
    }
  }

  bool contains(std::string_view word) const noexcept {
    if (word.empty() || word.size() > 64) return false;
    for (std::size_t h = hash(word) & (kSlots - 1);; h = (h + 1) & (kSlots - 1)) {
      const int i = slots[h];
      if (i < 0) return false;
      if (ieq(list[i], word)) return true;
    }
  }
};

constexpr WordSet kFunctionSet(kFunctions);
constexpr WordSet kVariableSet(kVariables);

}  // namespace

// The reserved words live in the keyword table (policy/keywords.cpp): the lexer
// reads both facts of a word with one look-up.
bool reserved(std::string_view word) noexcept { return lookup_word(word).reserved; }
bool builtin_function(std::string_view name) noexcept { return kFunctionSet.contains(name); }
bool session_variable(std::string_view name) noexcept { return kVariableSet.contains(name); }

}  // namespace djproxy::policy::strict
