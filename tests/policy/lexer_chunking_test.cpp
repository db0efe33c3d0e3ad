// The fast paths in Lexer::feed() and the state machine read alike, whatever the
// pieces the input arrives in: over the policy's case tables and the DataJoint
// traces in every session variant, and over tokens that run past what the lexer
// keeps (where the fast paths skip bytes the state machine would count).
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "policy/lexer.hpp"
#include "tests/policy/agreement_cases_table.hpp"
#include "tests/policy/lexer_readings.hpp"
#include "tests/policy/policy_cases_table.hpp"

namespace djproxy::policy::test {
namespace {

std::vector<LexOptions> session_variants() {
  std::vector<LexOptions> out;
  for (CharsetClass cs : {CharsetClass::utf8, CharsetClass::gbk, CharsetClass::big5, CharsetClass::sjis,
                          CharsetClass::single_byte, CharsetClass::gb18030}) {
    for (int mode = 0; mode < 3; ++mode) {
      LexOptions o;
      o.charset = cs;
      o.sql_mode.ansi_quotes = mode == 1;
      o.sql_mode.no_backslash_escapes = mode == 2;
      out.push_back(o);
    }
  }
  LexOptions mysql;
  mysql.flavour = ServerFlavour::mysql;
  mysql.server_version = 80036;
  out.push_back(mysql);
  return out;
}

TEST(LexerReadings, CaseTablesInEverySession) {
  const auto variants = session_variants();
  std::uint64_t seed = 7;
  std::size_t n = 0;
  auto read_all = [&](const auto& table) {
    for (const Case& c : table) {
      for (const LexOptions& o : variants) expect_readings_agree(c.sql, o, ++seed);
      ++n;
    }
  };
  read_all(kCases);
  read_all(kAgreementCases);
  EXPECT_GT(n, 500u);
}

TEST(LexerReadings, DataJointTraces) {
  std::size_t n = 0;
  for (const char* name : {"datajoint-0.14-full.jsonl", "datajoint-2.x-full.jsonl", "datajoint-2.x-dml-only.jsonl"}) {
    std::ifstream in(std::string(DJPROXY_POLICY_DATA_DIR) + "/" + name);
    ASSERT_TRUE(in) << name;
    std::string line;
    std::uint64_t seed = 11;
    while (std::getline(in, line)) {
      const auto j = nlohmann::json::parse(line);
      if (!j.contains("sql")) continue;
      const std::string sql = j["sql"].get<std::string>();
      expect_readings_agree(sql, LexOptions{}, ++seed);
      LexOptions ansi;
      ansi.sql_mode.ansi_quotes = true;
      expect_readings_agree(sql, ansi, ++seed);
      ++n;
    }
  }
  EXPECT_GT(n, 500u);
}

// Tokens that reach the caps, with what the fast paths treat specially (escapes,
// doubled quotes, lead bytes) placed on either side of the last byte kept.
TEST(LexerReadings, TokensPastTheCaps) {
  std::vector<std::string> inputs;
  auto around = [&](std::size_t cap, const std::string& open, const std::string& fill, const std::string& special,
                    const std::string& close) {
    for (std::size_t before = cap - 3; before <= cap + 2; ++before) {
      std::string s = "SELECT " + open;
      while (s.size() < 7 + open.size() + before) s += fill;
      s += special;
      inputs.push_back(s + close + " , x");  // the special bytes last: nothing else truncates
      inputs.push_back(s + fill + fill + close + " , x");
    }
  };
  const std::size_t str = Lexer::kStringCap, id = Lexer::kIdentCap;
  for (const char* special : {"\\n", "\\%", "\\_", "\\\\", "''", "\\'", "\x81'", "\x81\\", "\\\x81", ""}) {
    around(str, "'", "a", special, "'");
    around(str, "@'", "b", special, "'");
    around(str - 1, "'", "\\0", special, "'");
  }
  for (const char* special : {"``", "\x81`", "\x81\x40", "", "\"\""}) {
    around(id, "`", "c", special, "`");
    around(id, "\"", "c", special, "\"");
    around(id, "@`", "d", special, "`");
  }
  for (const char* special : {"", "\x81", "e5", ".5e+3", "$"}) {
    around(id, "", "n", special, "");
    around(id, "0x", "f", special, "");
    around(id, "0b", "1", special, "");
    around(id, "", "7", special, "");
    around(id, "@@", "s", special, "");
    around(id, "@", "u", special, "");
  }
  const auto variants = session_variants();
  std::uint64_t seed = 13;
  std::size_t truncated = 0;
  for (const std::string& s : inputs) {
    for (const LexOptions& o : variants) {
      const std::string whole = expect_readings_agree(s, o, ++seed);
      if (whole.find("-t-") != std::string::npos) ++truncated;
    }
  }
  // the caps are reached, or this test says nothing about them
  EXPECT_GT(truncated, inputs.size() * variants.size() / 3);
}

}  // namespace
}  // namespace djproxy::policy::test
