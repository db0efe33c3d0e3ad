// Prints the policy's case table (policy_cases_table.hpp, agreement_cases_table.hpp) as
// JSON lines, so tests in other languages (the proxy over the wire, explain) run the
// very same cases: {"table", "rule", "flags": [names], "sql_hex", "expect", "code"}.
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/policy/agreement_cases_table.hpp"
#include "tests/policy/policy_cases_table.hpp"

namespace {

using namespace djproxy::policy::test;

constexpr std::pair<std::uint32_t, const char*> kFlagNames[] = {
    {kAnsi, "ansi"},        {kNbe, "nbe"},         {kMigUser, "mig_user"},     {kDev, "dev"},
    {kNoDb, "no_db"},       {kMysql8, "mysql8"},   {kMulti, "multi"},          {kDry, "dry"},
    {kGbk, "gbk"},          {kMigToken, "mig_token"}, {kNoPrefix, "no_prefix"}, {kLctn1, "lctn1"},
    {kSjis, "sjis"},        {kPipes, "pipes"},     {kOldMaria, "old_maria"},   {kLatin1, "latin1"},
    {kNoTemp, "no_temp"},   {kNoBook, "no_book"},  {kPrepare, "prepare"},     {kFiles, "files"},
    {kAutoCreate, "auto_create"}, {kConnLatin1, "conn_latin1"},
};

const char* expect_name(Expect e) {
  switch (e) {
    case Expect::allow: return "allow";
    case Expect::audit: return "audit";
    case Expect::reject: return "reject";
    case Expect::rewrite_create: return "rewrite_create";
    case Expect::token: return "token";
    case Expect::token_null: return "token_null";
  }
  return "?";
}

std::string hex(std::string_view s) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

template <typename Table>
void dump(const char* name, const Table& table) {
  for (const Case& c : table) {
    nlohmann::json j;
    j["table"] = name;
    j["rule"] = c.rule;
    j["flags"] = nlohmann::json::array();
    for (const auto& [bit, flag] : kFlagNames)
      if (c.flags & bit) j["flags"].push_back(flag);
    j["sql_hex"] = hex(c.sql);
    j["expect"] = expect_name(c.expect);
    j["code"] = c.code;
    std::cout << j.dump() << "\n";
  }
}

}  // namespace

int main() {
  dump("policy", kCases);
  dump("agreement", kAgreementCases);
}
