// The statement digest as a table: (session variant, statement, expected digest text),
// then the properties the audit log relies on: bounded, stable, shape-only.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "policy/digest.hpp"

namespace djproxy::policy::test {
namespace {

enum DigestFlags : unsigned { kPlain = 0, kAnsiQuotes = 1, kNoBackslash = 2, kGbkClient = 4 };

struct DigestCase {
  unsigned flags;
  std::string_view sql;
  std::string_view digest;
};

void PrintTo(const DigestCase& c, std::ostream* os) { *os << "flags=" << c.flags << " sql=" << c.sql; }

SessionState state_for(unsigned flags) {
  SessionState s;
  s.current_schema = "myproject_full";
  s.sql_mode.ansi_quotes = flags & kAnsiQuotes;
  s.sql_mode.no_backslash_escapes = flags & kNoBackslash;
  if (flags & kGbkClient) s.charset = CharsetClass::gbk;
  return s;
}

const DigestCase kDigestCases[] = {
    // DataJoint's own statements
    {kPlain,
     "SELECT `subject_id`,`session`,`trace` FROM `myproject_full`.`session` WHERE ( (`subject_id`=1)AND(`session`=1))",
     "SELECT `subject_id`, `session`, `trace` FROM `myproject_full`.`session` WHERE ((`subject_id` = ?) AND (`session` = ?))"},
    {kPlain, "INSERT INTO `myproject_full`.`__stats`(`subject_id`,`session`,`mean`) VALUES ('1','1','2.0')",
     "INSERT INTO `myproject_full`.`__stats` (`subject_id`, `session`, `mean`) VALUES (?, ?, ?)"},
    {kPlain, "INSERT INTO `myproject_full`.`#species`(`species`) VALUES ('mouse'),('rat') ON DUPLICATE KEY UPDATE `species`=`species`",
     "INSERT INTO `myproject_full`.`#species` (`species`) VALUES (?), ... ON DUPLICATE KEY UPDATE `species` = `species`"},
    {kPlain, "INSERT INTO `myproject_full`.`session`(`subject_id`,`trace`) VALUES (1,_binary'mYm\\0\\0\\0\\0\\0\\0\\0\\'\\\\\\n\\Z')",
     "INSERT INTO `myproject_full`.`session` (`subject_id`, `trace`) VALUES (?, ?)"},
    {kPlain, "INSERT INTO `s`.`t`(`a`,`blob`) VALUES (1,_binary'\\0'),(2,_binary'\\0\\0'),(3,X'0A0B')",
     "INSERT INTO `s`.`t` (`a`, `blob`) VALUES (?, ?), ..."},
    {kPlain, "DELETE FROM `myproject_full`.`~lineage`         WHERE table_name = '~~summary'",
     "DELETE FROM `myproject_full`.`~lineage` WHERE table_name = ?"},
    {kPlain, "SELECT EXISTS(SELECT 1 FROM `myproject_full`.`__stats` WHERE ( (`subject_id`=1)AND(`session`=1)))",
     "SELECT EXISTS (SELECT ? FROM `myproject_full`.`__stats` WHERE ((`subject_id` = ?) AND (`session` = ?)))"},
    {kPlain, "SHOW FULL COLUMNS FROM `session` IN `myproject_full`", "SHOW FULL COLUMNS FROM `session` IN `myproject_full`"},
    {kPlain, "commit", "COMMIT"},
    {kPlain, "SELECT `subject_id`,`session` FROM `myproject_full`.`session` WHERE ((`subject_id`,`session`) not in (SELECT `subject_id`,`session` FROM `myproject_full`.`__stats`))",
     "SELECT `subject_id`, `session` FROM `myproject_full`.`session` WHERE ((`subject_id`, `session`) NOT IN (SELECT `subject_id`, `session` FROM `myproject_full`.`__stats`))"},
    {kPlain, "CREATE TABLE IF NOT EXISTS `myproject_full`.`~lineage` (\n  `table_name` varchar(255) NOT NULL COMMENT 'x',\n  PRIMARY KEY (`table_name`)\n) ENGINE=InnoDB",
     "CREATE TABLE IF NOT EXISTS `myproject_full`.`~lineage` (`table_name` varchar (?) NOT NULL COMMENT ?, PRIMARY KEY (`table_name`)) ENGINE = InnoDB"},
    // literals of every form
    {kPlain, "SELECT 1, -2, +3.5, .5, 1e5, 1.e3, 0x1F, 0b101, X'1f', x'1F', B'101', N'abc', 'a''b', \"c\"",
     "SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?"},
    {kPlain, "SELECT _binary'abc', _binary 'abc', _utf8mb4'x', _latin1 X'41', _BINARY 0x41",
     "SELECT ?, ?, ?, ?, ?"},
    {kPlain, "SELECT _col 'alias', x 'alias', `x`'y'", "SELECT _col ?, x ?, `x` ?"},
    {kPlain, "SELECT a - 1, a-1, (a)-1, - a, 3 - -1", "SELECT a - ?, a - ?, (a) - ?, - a, ? - ?"},
    {kPlain, "SELECT NULL, TRUE, false FROM t WHERE a IS NULL AND b IS NOT NULL AND c IS TRUE",
     "SELECT ?, ?, ? FROM t WHERE a IS NULL AND b IS NOT NULL AND c IS TRUE"},
    // IN lists
    {kPlain, "SELECT * FROM t WHERE a IN (1,2,3)", "SELECT * FROM t WHERE a IN (...)"},
    {kPlain, "SELECT * FROM t WHERE a IN ( 'x' )", "SELECT * FROM t WHERE a IN (...)"},
    {kPlain, "SELECT * FROM t WHERE a in (-1, 2) AND b NOT IN (3,4)", "SELECT * FROM t WHERE a IN (...) AND b NOT IN (...)"},
    {kPlain, "SELECT * FROM t WHERE a IN (1, b)", "SELECT * FROM t WHERE a IN (?, b)"},
    {kPlain, "SELECT * FROM t WHERE a IN (SELECT b FROM u)", "SELECT * FROM t WHERE a IN (SELECT b FROM u)"},
    {kPlain, "SELECT * FROM t WHERE (a,b) IN ((1,2),(3,4))", "SELECT * FROM t WHERE (a, b) IN ((?, ?), (?, ?))"},
    // VALUES rows
    {kPlain, "INSERT INTO t VALUES (1),(2),(3)", "INSERT INTO t VALUES (?), ..."},
    {kPlain, "INSERT INTO t VALUES (1, NOW()), (2, NOW())", "INSERT INTO t VALUES (?, NOW ()), ..."},
    {kPlain, "INSERT INTO t VALUES ROW(1,2), ROW(3,4)", "INSERT INTO t VALUES ROW (?, ?), ..."},
    {kPlain, "INSERT INTO t(a) VALUES (1) ON DUPLICATE KEY UPDATE a=VALUES(a)",
     "INSERT INTO t (a) VALUES (?) ON DUPLICATE KEY UPDATE a = VALUES (a)"},
    {kPlain, "INSERT INTO t VALUE (1),(2) AS new ON DUPLICATE KEY UPDATE a=new.a",
     "INSERT INTO t VALUE (?), ... AS new ON DUPLICATE KEY UPDATE a = new.a"},
    // comments, whitespace, case
    {kPlain, "select/* c */a\n\t from\v`t`# x\n -- y\n where a=1 /*+ hint */", "SELECT a FROM `t` WHERE a = ?"},
    {kPlain, "SELECT /*!50001 STRAIGHT_JOIN */ a FROM t", "SELECT STRAIGHT_JOIN a FROM t"},
    {kPlain, "SELECT /*M!999999 nothing */ a FROM t", "SELECT a FROM t"},
    {kPlain, "SELECT /*!99999 read differently by MySQL and MariaDB */ a FROM t", "SELECT ..."},
    {kPlain, "SeLeCt Status, `Status`, db.Select FROM DB.T", "SELECT STATUS, `Status`, db.Select FROM DB.T"},
    {kPlain, "SELECT a FROM t ; SELECT b FROM u", "SELECT a FROM t; SELECT b FROM u"},
    {kPlain, "SELECT `a``b`, \"x\"\"y\"", "SELECT `a``b`, ?"},
    {kPlain, "SELECT @@SESSION.sql_mode, @@autocommit, @x := 1, @`my var`", "SELECT @@SESSION.sql_mode, @@autocommit, @x := ?, @`my var`"},
    {kPlain, "SELECT a<=>b, a!=b, a<>b, a>=b, a||b, a&&b, j->'$.x', j->>'$.y'",
     "SELECT a <=> b, a != b, a <> b, a >= b, a || b, a && b, j -> ?, j ->> ?"},
    {kPlain, "SET @djproxy_migration = 'eyJ0b2tlbiI6MX0.sig'", "SET @djproxy_migration = ?"},
    {kPlain, "   ", ""},
    {kPlain, "/* only a comment */", ""},
    // sql_mode: ANSI_QUOTES makes "x" an identifier
    {kAnsiQuotes, "SELECT \"a\", 'b' FROM \"t\"", "SELECT \"a\", ? FROM \"t\""},
    {kAnsiQuotes, "SELECT \"a\"\"b\" FROM `t`", "SELECT \"a\"\"b\" FROM `t`"},
    {kPlain, "SELECT \"a\", 'b' FROM \"t\"", "SELECT ?, ? FROM ?"},
    // sql_mode: NO_BACKSLASH_ESCAPES ends a string at a quote after a backslash
    {kNoBackslash, "SELECT 'a\\', b FROM t", "SELECT ?, b FROM t"},
    {kPlain, "SELECT 'a\\', b FROM t", "SELECT ?"},
    {kNoBackslash, "INSERT INTO t VALUES (_binary'\\0\\'), (2)", "INSERT INTO t VALUES (?), ..."},
    // multi-byte client character set: a trail byte 0x5C is not an escape
    {kGbkClient, "SELECT '\x81\x5c', b FROM t", "SELECT ?, b FROM t"},
    // truncated statements: the caller passes the first part only
    {kPlain, "INSERT INTO t(a,b) VALUES (1,_binary'mYm\\0\\0", "INSERT INTO t (a, b) VALUES (?, ?"},
    {kPlain, "INSERT INTO t(a,b) VALUES (1,'abc\\", "INSERT INTO t (a, b) VALUES (?, ?"},
    {kPlain, "INSERT INTO t(a,b) VALUES (1,'abc'", "INSERT INTO t (a, b) VALUES (?, ?"},
    {kPlain, "INSERT INTO t(a,b) VALUES (1,_binary", "INSERT INTO t (a, b) VALUES (?, _binary"},
    {kPlain, "INSERT INTO t VALUES (1),(2", "INSERT INTO t VALUES (?), ..."},
    {kPlain, "SELECT a FROM t /* unterminated", "SELECT a FROM t"},
    {kPlain, "SELECT `unterminated", "SELECT"},
    // text the lexer refuses: the digest stops there and says so
    {kPlain, "SELECT a\x01 FROM t", "SELECT a ..."},
};

class DigestCases : public ::testing::TestWithParam<DigestCase> {};

TEST_P(DigestCases, Text) {
  const DigestCase& c = GetParam();
  EXPECT_EQ(digest_text(c.sql, state_for(c.flags)), c.digest) << c.sql;
}

INSTANTIATE_TEST_SUITE_P(Table, DigestCases, ::testing::ValuesIn(kDigestCases));

TEST(Digest, SameShapeSameDigest) {
  const SessionState s = state_for(kPlain);
  EXPECT_EQ(digest_text("SELECT * FROM t WHERE a = 1 AND b IN (1,2)", s),
            digest_text("select *\nfrom t   where a='x'  and b in (3, 4, 5, 6) -- note", s));
  EXPECT_EQ(digest_hash(digest_text("INSERT INTO t VALUES (1,'a'),(2,'b')", s)),
            digest_hash(digest_text("INSERT INTO t VALUES (3,'c'),(4,'d'),(5,'e')", s)));
  EXPECT_NE(digest_text("SELECT a FROM t", s), digest_text("SELECT b FROM t", s));
}

TEST(Digest, HashIsFnv1a64) {
  EXPECT_EQ(digest_hash(""), 0xcbf29ce484222325ull);
  EXPECT_EQ(digest_hash("a"), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(digest_hash("SELECT ?"), digest_hash("SELECT ?"));
  EXPECT_NE(digest_hash("SELECT ?"), digest_hash("SELECT ? "));
}

TEST(Digest, OutputIsBounded) {
  std::string sql = "SELECT ";
  for (int i = 0; i < 2000; ++i) sql += "`column_number_" + std::to_string(i) + "`, ";
  sql += "1 FROM t";
  const std::string d = digest_text(sql, state_for(kPlain));
  EXPECT_LE(d.size(), kDigestMaxText);
  EXPECT_GT(d.size(), kDigestMaxText - 64);
  EXPECT_TRUE(d.ends_with(" ...")) << d.substr(d.size() - 40);
  // Long identifiers are cut by the lexer, never grow the digest past the cap.
  const std::string wide = "SELECT `" + std::string(100000, 'x') + "`, `" + std::string(100000, '`') + "`";
  EXPECT_LE(digest_text(wide, state_for(kPlain)).size(), kDigestMaxText);
}

TEST(Digest, CollapsingNearTheBoundStaysWithinIt) {
  // `IN (?)` becomes the longer `IN (...)`, `,(` becomes `, ...`: found by the fuzzer.
  for (std::size_t n = 900; n < 1040; ++n) {
    // Words of at most 100 bytes (the lexer keeps 256) that fill n bytes of digest.
    std::string filler;
    while (filler.size() + 101 < n) filler += std::string(100, 'c') + ' ';
    filler += std::string(n - filler.size(), 'd');
    // Something follows each collapse, so that the digest is cut right after it.
    for (const std::string& sql : {"SELECT " + filler + " FROM t WHERE a IN (1) AND b = 2",
                                   "INSERT INTO " + filler + " VALUES (1),(2) AS new",
                                   "INSERT INTO " + filler + " VALUES ROW(1), ROW(2) AS new"}) {
      const std::string d = digest_text(sql, state_for(kPlain));
      EXPECT_LE(d.size(), kDigestMaxText) << n;
    }
  }
}

TEST(Digest, WorkIsBoundedOnHugeStatements) {
  // A 64 MB blob literal: only the first kDigestMaxInput bytes are read.
  std::string sql = "INSERT INTO `myproject_full`.`session`(`subject_id`,`trace`) VALUES (1,_binary'";
  sql.append(64u << 20, 'a');
  sql += "')";
  EXPECT_EQ(digest_text(sql, state_for(kPlain)),
            "INSERT INTO `myproject_full`.`session` (`subject_id`, `trace`) VALUES (?, ? ...");
  // Thousands of rows collapse without output, and stop at the input bound.
  std::string rows = "INSERT INTO t VALUES (0)";
  while (rows.size() < 2 * kDigestMaxInput) rows += ",(12345)";
  EXPECT_EQ(digest_text(rows, state_for(kPlain)), "INSERT INTO t VALUES (?), ... ...");
}

TEST(Digest, EveryPrefixOfAStatementIsSafe) {
  const std::string sql =
      "INSERT INTO `s`.`t`(`a`,\"b\") VALUES (-1,_binary'x\\'y'),(X'0a',N'z') /* c */ ON DUPLICATE KEY UPDATE a=1";
  for (unsigned flags : {kPlain, kAnsiQuotes, kNoBackslash}) {
    for (std::size_t n = 0; n <= sql.size(); ++n) {
      const std::string d = digest_text(std::string_view(sql).substr(0, n), state_for(flags));
      EXPECT_LE(d.size(), kDigestMaxText);
      EXPECT_EQ(d.find('\''), std::string::npos) << n << ": " << d;
    }
  }
}

TEST(Digest, DataJointTracesHaveNoLiterals) {
  std::size_t read = 0;
  for (const char* name : {"datajoint-0.14-full.jsonl", "datajoint-2.x-full.jsonl"}) {
    std::ifstream in(std::string(DJPROXY_POLICY_DATA_DIR) + "/" + name);
    ASSERT_TRUE(in) << name;
    std::string line;
    while (std::getline(in, line)) {
      const auto j = nlohmann::json::parse(line);
      if (!j.contains("sql")) continue;
      const std::string sql = j["sql"];
      const std::string d = digest_text(sql, state_for(kPlain));
      ++read;
      EXPECT_FALSE(d.empty()) << sql;
      EXPECT_LE(d.size(), kDigestMaxText);
      EXPECT_EQ(d.find('\''), std::string::npos) << sql << "\n -> " << d;
      EXPECT_EQ(d.find("  "), std::string::npos) << d;
    }
  }
  EXPECT_GT(read, 100u);
}

}  // namespace
}  // namespace djproxy::policy::test
