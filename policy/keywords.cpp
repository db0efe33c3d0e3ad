#include "policy/keywords.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace djproxy::policy {
namespace {

struct Entry {
  std::string_view name;
  Kw kw = Kw::none;
  bool reserved = false;
};

constexpr std::string_view strip_underscore(std::string_view s) {
  // NULL_ is spelled with a trailing underscore only to dodge the macro NULL.
  return s == "NULL_" ? std::string_view("NULL") : s;
}

// MariaDB 10.11's reserved words, never a name unless quoted: sql/lex.h and the server's
// "Reserved Words" page, as MariaDB 10.11.19 reads them in nine name positions (column,
// select alias with and without AS, table, table alias, qualifier, INSERT and UPDATE
// column, function). The page also lists words the grammar takes as names (DATABASE,
// SCHEMA, OPTION, POSITION, GENERAL, SLOW, ...): they are not here. WINDOW is reserved
// only after a table: the allow-list reader's table alias knows it (opt_alias). The
// allow-list reader's fact, kept in this table so that the lexer reads it with the
// keyword id in one look-up.
constexpr std::string_view kReserved[] = {
    "ACCESSIBLE", "ADD", "ALL", "ALTER", "ANALYZE", "AND", "AS", "ASC", "ASENSITIVE", "BEFORE",
    "BETWEEN", "BIGINT", "BINARY", "BLOB", "BOTH", "BY", "CALL", "CASCADE", "CASE", "CHANGE",
    "CHAR", "CHARACTER", "CHECK", "COLLATE", "COLUMN", "CONDITION", "CONSTRAINT", "CONTINUE",
    "CONVERT", "CREATE", "CROSS", "CURRENT_DATE", "CURRENT_ROLE", "CURRENT_TIME",
    "CURRENT_TIMESTAMP", "CURRENT_USER", "CURSOR", "DATABASES", "DAY_HOUR", "DAY_MICROSECOND",
    "DAY_MINUTE", "DAY_SECOND", "DEC", "DECIMAL", "DECLARE", "DEFAULT", "DELAYED", "DELETE",
    "DELETE_DOMAIN_ID", "DESC", "DESCRIBE", "DETERMINISTIC", "DISTINCT", "DISTINCTROW", "DIV",
    "DOUBLE", "DO_DOMAIN_IDS", "DROP", "DUAL", "EACH", "ELSE", "ELSEIF", "ENCLOSED", "ESCAPED",
    "EXCEPT", "EXISTS", "EXIT", "EXPLAIN", "FALSE", "FETCH", "FLOAT", "FLOAT4", "FLOAT8", "FOR",
    "FORCE", "FOREIGN", "FROM", "FULLTEXT", "GRANT", "GROUP", "HAVING", "HIGH_PRIORITY",
    "HOUR_MICROSECOND", "HOUR_MINUTE", "HOUR_SECOND", "IF", "IGNORE", "IGNORE_DOMAIN_IDS", "IN",
    "INDEX", "INFILE", "INNER", "INOUT", "INSENSITIVE", "INSERT", "INT", "INT1", "INT2", "INT3",
    "INT4", "INT8", "INTEGER", "INTERSECT", "INTERVAL", "INTO", "IS", "ITERATE", "JOIN", "KEY",
    "KEYS", "KILL", "LEADING", "LEAVE", "LEFT", "LIKE", "LIMIT", "LINEAR", "LINES", "LOAD",
    "LOCALTIME", "LOCALTIMESTAMP", "LOCK", "LONG", "LONGBLOB", "LONGTEXT", "LOOP", "LOW_PRIORITY",
    "MASTER_DEMOTE_TO_REPLICA", "MASTER_DEMOTE_TO_SLAVE", "MASTER_SSL_VERIFY_SERVER_CERT", "MATCH",
    "MAXVALUE", "MEDIUMBLOB", "MEDIUMINT", "MEDIUMTEXT", "MIDDLEINT", "MINUTE_MICROSECOND",
    "MINUTE_SECOND", "MOD", "MODIFIES", "NATURAL", "NOT", "NO_WRITE_TO_BINLOG", "NULL", "NUMERIC",
    "OFFSET", "ON", "OPTIMIZE", "OPTIONALLY", "OR", "ORDER", "OUT", "OUTER", "OUTFILE", "OVER",
    "PAGE_CHECKSUM", "PARSE_VCOL_EXPR", "PARTITION", "PORTION", "PRECISION", "PRIMARY", "PROCEDURE",
    "PURGE", "RANGE", "READ", "READS", "READ_WRITE", "REAL", "RECURSIVE", "REFERENCES",
    "REF_SYSTEM_ID", "REGEXP", "RELEASE", "RENAME", "REPEAT", "REPLACE", "REQUIRE", "RESIGNAL",
    "RESTRICT", "RETURN", "RETURNING", "REVOKE", "RIGHT", "RLIKE", "ROWS", "ROW_NUMBER", "SCHEMAS",
    "SECOND_MICROSECOND", "SELECT", "SENSITIVE", "SEPARATOR", "SET", "SHOW", "SIGNAL", "SMALLINT",
    "SPATIAL", "SPECIFIC", "SQL", "SQLEXCEPTION", "SQLSTATE", "SQLWARNING", "SQL_BIG_RESULT",
    "SQL_CALC_FOUND_ROWS", "SQL_SMALL_RESULT", "SSL", "STARTING", "STATS_AUTO_RECALC",
    "STATS_PERSISTENT", "STATS_SAMPLE_PAGES", "STRAIGHT_JOIN", "TABLE", "TERMINATED", "THEN",
    "TINYBLOB", "TINYINT", "TINYTEXT", "TO", "TRAILING", "TRIGGER", "TRUE", "UNDO", "UNION",
    "UNIQUE", "UNLOCK", "UNSIGNED", "UPDATE", "USAGE", "USE", "USING", "UTC_DATE", "UTC_TIME",
    "UTC_TIMESTAMP", "VALUES", "VARBINARY", "VARCHAR", "VARCHARACTER", "VARYING", "WHEN", "WHERE",
    "WHILE", "WITH", "WRITE", "XOR", "YEAR_MONTH", "ZEROFILL",
};


constexpr std::size_t kKeywordCount = 0
#define DJPROXY_KW_COUNT(name) +1
    DJPROXY_KEYWORDS(DJPROXY_KW_COUNT)
#undef DJPROXY_KW_COUNT
    ;

constexpr auto sorted_keywords() {
  std::array<Entry, kKeywordCount> table{};
  std::size_t i = 0;
#define DJPROXY_KW_ENTRY(name) table[i++] = Entry{strip_underscore(#name), Kw::name};
  DJPROXY_KEYWORDS(DJPROXY_KW_ENTRY)
#undef DJPROXY_KW_ENTRY
  std::sort(table.begin(), table.end(), [](const Entry& a, const Entry& b) { return a.name < b.name; });
  return table;
}

constexpr auto sorted_reserved() {
  std::array<std::string_view, std::size(kReserved)> words{};
  std::copy(std::begin(kReserved), std::end(kReserved), words.begin());
  std::sort(words.begin(), words.end());
  return words;
}

constexpr auto kKeywords = sorted_keywords();
constexpr auto kReservedSorted = sorted_reserved();

// Walks the union of both sorted lists in order, each word once, with its facts.
// (Linear, so that every compiler evaluates it within its constexpr limits.)
template <class F>
constexpr void for_each_word(F f) {
  std::size_t i = 0, j = 0;
  while (i < kKeywords.size() || j < kReservedSorted.size()) {
    if (j == kReservedSorted.size() || (i < kKeywords.size() && kKeywords[i].name < kReservedSorted[j])) {
      f(kKeywords[i++]);
    } else if (i == kKeywords.size() || kReservedSorted[j] < kKeywords[i].name) {
      f(Entry{kReservedSorted[j++], Kw::none, true});
    } else {
      f(Entry{kKeywords[i].name, kKeywords[i].kw, true});
      ++i;
      ++j;
    }
  }
}

constexpr std::size_t count_entries() {
  std::size_t n = 0;
  for_each_word([&](const Entry&) { ++n; });
  return n;
}

// Every keyword and every reserved word, once, sorted.
constexpr auto make_table() {
  std::array<Entry, count_entries()> table{};
  std::size_t i = 0;
  for_each_word([&](const Entry& e) { table[i++] = e; });
  return table;
}

constexpr bool no_duplicates() {
  for (std::size_t i = 1; i < kKeywords.size(); ++i)
    if (kKeywords[i - 1].name == kKeywords[i].name) return false;
  for (std::size_t i = 1; i < kReservedSorted.size(); ++i)
    if (kReservedSorted[i - 1] == kReservedSorted[i]) return false;
  return true;
}
static_assert(no_duplicates());

constexpr auto kTable = make_table();
constexpr std::size_t max_len() {
  std::size_t n = 0;
  for (const auto& e : kTable) n = std::max(n, e.name.size());
  return n;
}
constexpr std::size_t kMaxLen = max_len();
static_assert(kMaxLen == 29);  // MASTER_SSL_VERIFY_SERVER_CERT
static_assert(std::all_of(kTable.begin(), kTable.end(), [](const Entry& e) { return e.name.size() >= 2; }));
// Words longer than 24 bytes were never looked up for their keyword id: none is one.
static_assert(std::all_of(kTable.begin(), kTable.end(),
                          [](const Entry& e) { return e.kw == Kw::none || e.name.size() <= 24; }));

// Hash of the length and three bytes, upper-cased (& 0xDF, which maps a-z to A-Z and
// is the same for every spelling of a keyword): every word of the statement is looked
// up, so the look-up costs a few instructions and (almost always) one comparison. A
// word that shares the hash with a keyword is told apart by the comparison.
constexpr std::uint32_t hash_upper(std::string_view w) {
  const auto at = [&](std::size_t i) { return static_cast<std::uint32_t>(static_cast<unsigned char>(w[i]) & 0xDF); };
  std::uint32_t h = static_cast<std::uint32_t>(w.size()) * 0x9E3779B1u;
  h ^= at(0) * 0x85EBCA77u;
  h ^= at(1) * 0xC2B2AE3Du;
  h ^= at(w.size() - 1) * 0x27D4EB2Fu;
  h ^= at(w.size() / 2) * 0x165667B1u;
  return h ^ (h >> 15);
}

constexpr std::size_t kSlots = 2048;  // a power of two, nearly three times the words

// Open addressing with linear probing; a slot holds 1 + the index into kTable.
constexpr auto make_slots() {
  std::array<std::uint16_t, kSlots> slots{};
  for (std::size_t i = 0; i < kTable.size(); ++i) {
    std::size_t at = hash_upper(kTable[i].name) & (kSlots - 1);
    while (slots[at] != 0) at = (at + 1) & (kSlots - 1);
    slots[at] = static_cast<std::uint16_t>(i + 1);
  }
  return slots;
}

constexpr auto kSlotsTable = make_slots();

constexpr auto make_names() {
  std::array<std::string_view, kKeywordCount + 1> names{};
  for (const auto& e : kTable)
    if (e.kw != Kw::none) names[static_cast<std::size_t>(e.kw)] = e.name;
  return names;
}

constexpr auto kNames = make_names();

// Each word's spelling padded, with the mask that makes a comparison case-blind: 0xDF on
// a letter (a-z & 0xDF is A-Z, and no other byte lands on a letter), 0xFF on a digit or
// '_', which have no other case. A word is then compared a few bytes at a time, and
// (byte & mask) == spelling exactly where the byte, upper-cased in ASCII, is the spelling.
struct Spelling {
  unsigned char text[32] = {};
  unsigned char mask[32] = {};
};
static_assert(kMaxLen <= 32);

constexpr auto make_spellings() {
  std::array<Spelling, kTable.size()> out{};
  for (std::size_t i = 0; i < kTable.size(); ++i) {
    for (std::size_t j = 0; j < kTable[i].name.size(); ++j) {
      const char c = kTable[i].name[j];
      out[i].text[j] = static_cast<unsigned char>(c);
      out[i].mask[j] = (c >= 'A' && c <= 'Z') ? 0xDF : 0xFF;
    }
  }
  return out;
}

constexpr auto kSpellings = make_spellings();
static_assert(std::all_of(kTable.begin(), kTable.end(), [](const Entry& e) {
  return std::all_of(e.name.begin(), e.name.end(),
                     [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; });
}));

template <typename Word>
bool same_at(const char* w, const Spelling& s, std::size_t at) noexcept {
  Word a, m, t;
  std::memcpy(&a, w + at, sizeof a);
  std::memcpy(&m, s.mask + at, sizeof m);
  std::memcpy(&t, s.text + at, sizeof t);
  return (a & m) == t;
}

// word.size() bytes, 2 to 32, read in pieces that overlap rather than byte by byte;
// never a byte outside the word.
bool spelled(std::string_view word, const Spelling& s) noexcept {
  const char* w = word.data();
  const std::size_t n = word.size();
  if (n >= 8) {
    for (std::size_t at = 0; at + 8 < n; at += 8)
      if (!same_at<std::uint64_t>(w, s, at)) return false;
    return same_at<std::uint64_t>(w, s, n - 8);
  }
  if (n >= 4) return same_at<std::uint32_t>(w, s, 0) && same_at<std::uint32_t>(w, s, n - 4);
  return same_at<std::uint16_t>(w, s, 0) && same_at<std::uint16_t>(w, s, n - 2);
}

}  // namespace

WordFacts lookup_word(std::string_view word) noexcept {
  if (word.size() < 2 || word.size() > kMaxLen) return {};
  std::size_t at = hash_upper(word) & (kSlots - 1);
  while (const std::uint16_t slot = kSlotsTable[at]) {
    const Entry& e = kTable[slot - 1u];
    if (e.name.size() == word.size() && spelled(word, kSpellings[slot - 1u])) return {e.kw, e.reserved};
    at = (at + 1) & (kSlots - 1);
  }
  return {};
}

Kw lookup_keyword(std::string_view word) noexcept { return lookup_word(word).kw; }

std::string_view keyword_name(Kw kw) noexcept {
  const auto i = static_cast<std::size_t>(kw);
  return i < kNames.size() ? kNames[i] : std::string_view();
}

}  // namespace djproxy::policy
