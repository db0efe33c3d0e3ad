#include "proxy/statement_charsets.hpp"

#include <cstdint>
#include <map>
#include <random>

#include <gtest/gtest.h>

namespace djproxy::proxy {
namespace {

using policy::CharsetClass;

TEST(StatementCharsets, FindsEachStatementByItsId) {
  StatementCharsets s;
  s.add(1, CharsetClass::utf8);
  s.add(2, CharsetClass::sjis);
  s.add(7, CharsetClass::big5);
  EXPECT_EQ(s.find(1), CharsetClass::utf8);
  EXPECT_EQ(s.find(2), CharsetClass::sjis);
  EXPECT_EQ(s.find(7), CharsetClass::big5);
  EXPECT_EQ(s.find(3), std::nullopt);
  EXPECT_EQ(s.find(0), std::nullopt);
  EXPECT_EQ(s.find(8), std::nullopt);
  s.erase(2);
  EXPECT_EQ(s.find(2), std::nullopt);
  EXPECT_EQ(s.find(7), CharsetClass::big5);
  s.erase(2);  // closed twice: nothing else goes
  EXPECT_EQ(s.size(), 2u);
  s.clear();
  EXPECT_EQ(s.find(1), std::nullopt);
}

// At the bound the oldest statement (the lowest id) is forgotten, and only it.
TEST(StatementCharsets, ForgetsTheOldestAtTheBound) {
  StatementCharsets s;
  for (std::uint32_t id = 1; id <= StatementCharsets::kMax; ++id) s.add(id, CharsetClass::utf8);
  EXPECT_EQ(s.size(), StatementCharsets::kMax);
  s.add(StatementCharsets::kMax + 1, CharsetClass::sjis);
  EXPECT_EQ(s.size(), StatementCharsets::kMax);
  EXPECT_EQ(s.find(1), std::nullopt);
  EXPECT_EQ(s.find(2), CharsetClass::utf8);
  EXPECT_EQ(s.find(StatementCharsets::kMax + 1), CharsetClass::sjis);
}

// Ids in any order, repeated, closed and forgotten at a small scale give what a plain
// map gives: the sorted list never loses or confuses a statement.
TEST(StatementCharsets, AgreesWithAMapWhateverTheOrder) {
  std::mt19937 random(20261207);
  StatementCharsets s;
  std::map<std::uint32_t, CharsetClass> expected;
  for (int step = 0; step < 200000; ++step) {
    const auto id = static_cast<std::uint32_t>(random() % 3000);
    const auto charset = static_cast<CharsetClass>(random() % 3);
    switch (random() % 4) {
      case 0:
      case 1:
        if (expected.size() >= StatementCharsets::kMax && !expected.contains(id)) expected.erase(expected.begin());
        s.add(id, charset);
        expected[id] = charset;
        break;
      case 2:
        s.erase(id);
        expected.erase(id);
        break;
      default: {
        const auto it = expected.find(id);
        const std::optional<CharsetClass> want =
            it == expected.end() ? std::nullopt : std::optional<CharsetClass>(it->second);
        ASSERT_EQ(s.find(id), want) << "step " << step << " id " << id;
      }
    }
    ASSERT_EQ(s.size(), expected.size());
  }
}

}  // namespace
}  // namespace djproxy::proxy
