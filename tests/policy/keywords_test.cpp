// The keyword look-up: every keyword is found in any letter case, and nothing that only
// hashes like one (the hash reads the length and three bytes, masked with 0xDF) is taken
// for it. A word misread here is a statement read differently from the server.
#include <gtest/gtest.h>

#include <string>

#include "policy/keywords.hpp"

namespace djproxy::policy::test {
namespace {

constexpr int kFirst = static_cast<int>(Kw::none) + 1;

std::string lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

std::string alternate(std::string s) {
  for (std::size_t i = 0; i < s.size(); i += 2)
    if (s[i] >= 'A' && s[i] <= 'Z') s[i] = static_cast<char>(s[i] - 'A' + 'a');
  return s;
}

int keyword_count() {
  int n = kFirst;
  while (!keyword_name(static_cast<Kw>(n)).empty()) ++n;
  return n - kFirst;
}

TEST(Keywords, EveryKeywordIsFoundInEveryCase) {
  const int count = keyword_count();
  ASSERT_GT(count, 200);
  for (int i = kFirst; i < kFirst + count; ++i) {
    const Kw kw = static_cast<Kw>(i);
    const std::string name(keyword_name(kw));
    EXPECT_EQ(lookup_keyword(name), kw) << name;
    EXPECT_EQ(lookup_keyword(lower(name)), kw) << name;
    EXPECT_EQ(lookup_keyword(alternate(name)), kw) << name;
  }
}

// Each byte changed to one that hashes alike (0x20 apart: a digit and a control byte,
// '_' and DEL, a letter and its high-bit twin), and each one-byte shorter or longer
// spelling: none of them is the keyword.
TEST(Keywords, NearMissesAreNotKeywords) {
  const int count = keyword_count();
  int checked = 0;
  for (int i = kFirst; i < kFirst + count; ++i) {
    const std::string name(keyword_name(static_cast<Kw>(i)));
    for (std::size_t at = 0; at < name.size(); ++at) {
      for (const int delta : {0x20, -0x20, 0x80}) {
        std::string w = name;
        const int changed = static_cast<unsigned char>(w[at]) + delta;
        if (changed <= 0 || changed > 0xFF) continue;
        w[at] = static_cast<char>(changed);
        // Only a letter's lower-case twin (+0x20) is the same word.
        if (delta == 0x20 && name[at] >= 'A' && name[at] <= 'Z') {
          EXPECT_EQ(lookup_keyword(w), static_cast<Kw>(i)) << name;
          continue;
        }
        const WordFacts f = lookup_word(w);
        EXPECT_EQ(f.kw, Kw::none) << name << " changed at " << at;
        ++checked;
      }
    }
    EXPECT_NE(lookup_keyword(name.substr(0, name.size() - 1)), static_cast<Kw>(i)) << name;
    EXPECT_EQ(lookup_word(name + "X").kw == static_cast<Kw>(i), false) << name;
    EXPECT_EQ(lookup_word(name + "_").kw == static_cast<Kw>(i), false) << name;
  }
  EXPECT_GT(checked, 1000);
}

// MariaDB 10.11's reserved words (sql/lex.h with the server's "Reserved Words" page),
// those the readers steer by and some they only need to know are reserved; and words the
// server does not reserve, which are names wherever a name fits.
TEST(Keywords, ReservedAsTheServerReservesThem) {
  for (const char* w : {"SELECT", "select", "INT1", "MASTER_SSL_VERIFY_SERVER_CERT", "UTC_TIMESTAMP", "ROW_NUMBER",
                        "RETURNING", "OFFSET", "PARTITION", "DIV", "XOR", "DATABASES", "SCHEMAS",
                        // Reserved by MariaDB 10.11.19 though missing from its reserved-word page
                        // (review round 11): a name there is a syntax error.
                        "PORTION", "portion", "MASTER_DEMOTE_TO_SLAVE", "MASTER_DEMOTE_TO_REPLICA"})
    EXPECT_TRUE(lookup_word(w).reserved) << w;
  for (const char* w : {"LOCAL", "value", "Quick", "BEGIN", "ANY", "SOME", "COMMENT", "ENGINE", "DATA", "sbtest1",
                        "id", "c", "k", "pad", "myproject_full", "DIRECTORY", "LOAD_FILE",
                        // On the reserved-word page, but names to MariaDB 10.11.19 wherever a name
                        // goes (review round 11); WINDOW is reserved only after a table.
                        "DATABASE", "SCHEMA", "OPTION", "POSITION", "Position", "GENERAL", "SLOW",
                        "IGNORE_SERVER_IDS", "MASTER_HEARTBEAT_PERIOD", "WINDOW", "window"})
    EXPECT_FALSE(lookup_word(w).reserved) << w;
  EXPECT_EQ(lookup_word("").kw, Kw::none);
  EXPECT_EQ(lookup_word("A").kw, Kw::none);
  EXPECT_EQ(lookup_word(std::string(300, 'A')).kw, Kw::none);
}

}  // namespace
}  // namespace djproxy::policy::test
