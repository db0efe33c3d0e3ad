#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "proxy/cli/token_command.hpp"
#include "proxy/migration/token.hpp"
#include "tests/config/temp_tree.hpp"

namespace djproxy::cli {
namespace {

using config::testing::TempTree;
using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

const std::string kKey = "0123456789abcdef0123456789abcdef-proxy-key";
constexpr std::int64_t kNow = 1795600800;  // 2026-11-25T10:00:00Z

struct Run {
  int rc = 0;
  std::string out;
  std::string err;
  std::string last_line() const {
    auto end = out.find_last_not_of('\n');
    if (end == std::string::npos) return {};
    auto start = out.rfind('\n', end);
    return out.substr(start == std::string::npos ? 0 : start + 1, end + 1 - (start == std::string::npos ? 0 : start + 1));
  }
};

Run issue(const config::LoadOptions& options, TokenIssueRequest request, std::int64_t now = kNow) {
  std::ostringstream out, err;
  int rc = run_token_issue(options, request, now, out, err);
  return {rc, out.str(), err.str()};
}

Run inspect(const config::LoadOptions& options, std::string_view token, std::int64_t now = kNow) {
  std::ostringstream out, err;
  int rc = run_token_inspect(options, token, now, out, err);
  return {rc, out.str(), err.str()};
}

config::EnvMap env(std::string key = kKey) {
  return {{"DJPROXY_MIGRATION_KEY", std::move(key)}, {"DJ_SCHEMA_PREFIX", "myproject_"}};
}

TEST(TokenCli, IssuePrintsFieldsThenTheTokenAloneOnTheLastLine) {
  TempTree tree;
  auto r = issue(tree.options(env()), {{"myproject_*", "myproject_ephys"}, "2h", "add column for release 2.1"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("scope:       myproject_*, myproject_ephys"));
  EXPECT_THAT(r.out, HasSubstr("issued at:   2026-11-25T10:00:00Z"));
  EXPECT_THAT(r.out, HasSubstr("expires at:  2026-11-25T12:00:00Z"));
  EXPECT_THAT(r.out, HasSubstr("note:        add column for release 2.1"));
  EXPECT_THAT(r.out, HasSubstr("env DJPROXY_MIGRATION_KEY"));
  EXPECT_THAT(r.out, Not(HasSubstr(kKey)));

  const std::string token = r.last_line();
  auto check = migration::verify(token, kKey, kNow + 60, "myproject_", 24h);
  ASSERT_TRUE(check.ok()) << token << ": " << check.message;
  EXPECT_EQ(check.token->scope, (std::vector<std::string>{"myproject_*", "myproject_ephys"}));
  EXPECT_EQ(check.token->expires_at, kNow + 7200);

  auto shown = inspect(tree.options(env()), token, kNow + 60);
  EXPECT_EQ(shown.rc, 0) << shown.out;
  EXPECT_THAT(shown.out, HasSubstr("verifies:    yes"));
  EXPECT_THAT(shown.out, HasSubstr("token id:    " + check.token->id));
}

TEST(TokenCli, KeyFromAFileAsTheIssueDescribes) {
  TempTree tree;
  auto path = tree.write("migration.key", kKey);
  auto r = issue(tree.options({{"DJPROXY_MIGRATION_KEY_FILE", path.string()}, {"DJ_SCHEMA_PREFIX", "myproject_"}}),
                 {{"myproject_*"}, "30m", ""});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_TRUE(migration::verify(r.last_line(), kKey, kNow, "myproject_", 24h).ok());
}

TEST(TokenCli, IssueRefusesWithoutAKey) {
  TempTree tree;
  auto r = issue(tree.options({{"DJ_SCHEMA_PREFIX", "myproject_"}}), {{"myproject_*"}, "1h", ""});
  EXPECT_EQ(r.rc, 1);
  EXPECT_THAT(r.err, HasSubstr("no migration key is configured"));
  EXPECT_EQ(r.out, "");
}

TEST(TokenCli, IssueRefusesAWeakKey) {
  TempTree tree;
  auto r = issue(tree.options(env("short-key")), {{"myproject_*"}, "1h", ""});
  EXPECT_EQ(r.rc, 1);
  EXPECT_THAT(r.err, HasSubstr("is 9 bytes; signing tokens needs at least 32"));
}

TEST(TokenCli, IssueRefusesATtlAboveTheMaximum) {
  TempTree tree;
  auto r = issue(tree.options(env()), {{"myproject_*"}, "25h", ""});
  EXPECT_EQ(r.rc, 1);
  EXPECT_THAT(r.err, HasSubstr("--ttl 25h is longer than migration.max_token_ttl (24h"));

  auto e = env();
  e["DJPROXY_MIGRATION_MAX_TOKEN_TTL"] = "1h";
  r = issue(tree.options(e), {{"myproject_*"}, "90m", ""});
  EXPECT_EQ(r.rc, 1);
  EXPECT_THAT(r.err, HasSubstr("env DJPROXY_MIGRATION_MAX_TOKEN_TTL"));
  EXPECT_EQ(issue(tree.options(e), {{"myproject_*"}, "1h", ""}).rc, 0);
}

TEST(TokenCli, IssueRefusesABadTtl) {
  TempTree tree;
  for (const char* ttl : {"soon", "", "-1h", "500ms", "0"}) {
    auto r = issue(tree.options(env()), {{"myproject_*"}, ttl, ""});
    EXPECT_EQ(r.rc, 1) << ttl;
    EXPECT_THAT(r.err, HasSubstr("--ttl")) << ttl;
  }
}

TEST(TokenCli, IssueRefusesPatternsOutsideThePrefix) {
  TempTree tree;
  for (const char* pattern : {"*", "other_*", "myproject*", "mysql"}) {
    auto r = issue(tree.options(env()), {{"myproject_ephys", pattern}, "1h", ""});
    EXPECT_EQ(r.rc, 1) << pattern;
    EXPECT_THAT(r.err, HasSubstr(std::string("--schema '") + pattern + "' is outside the schema prefix 'myproject_'"));
    EXPECT_EQ(r.out, "");
  }
  auto r = issue(tree.options(env()), {{"a*b"}, "1h", ""});
  EXPECT_EQ(r.rc, 1);
  EXPECT_THAT(r.err, HasSubstr("not a schema name"));
}

TEST(TokenCli, InspectExplainsWhyATokenDoesNotVerify) {
  TempTree tree;
  const std::string token = issue(tree.options(env()), {{"myproject_*"}, "1h", "nightly"}).last_line();

  auto other = inspect(tree.options(env("another-key-another-key-another-key!")), token);
  EXPECT_EQ(other.rc, 1);
  EXPECT_THAT(other.out, HasSubstr("not verified"));
  EXPECT_THAT(other.out, HasSubstr("note:        nightly"));
  EXPECT_THAT(other.out, HasSubstr("verifies:    no (bad_signature)"));

  auto late = inspect(tree.options(env()), token, kNow + 3600);
  EXPECT_EQ(late.rc, 1);
  EXPECT_THAT(late.out, HasSubstr("djproxy: migration token expired at 2026-11-25T11:00:00Z"));

  auto elsewhere = inspect(tree.options({{"DJPROXY_MIGRATION_KEY", kKey}, {"DJ_SCHEMA_PREFIX", "other_"}}), token);
  EXPECT_EQ(elsewhere.rc, 1);
  EXPECT_THAT(elsewhere.out, HasSubstr("scope_outside_prefix"));

  auto garbage = inspect(tree.options(env()), "hello\x1b[2J");
  EXPECT_EQ(garbage.rc, 1);
  EXPECT_THAT(garbage.out, HasSubstr("fields:      unreadable"));
  EXPECT_THAT(garbage.out, HasSubstr("malformed"));

  auto keyless = inspect(tree.options({{"DJ_SCHEMA_PREFIX", "myproject_"}}), token);
  EXPECT_EQ(keyless.rc, 1);
  EXPECT_THAT(keyless.out, HasSubstr("weak_key"));
}


TEST(TokenCli, KeygenWritesAPrivate0600PairAndNeverOverwrites) {
  TempTree tree;
  const std::string prefix = (tree.root() / "issuer").string();
  std::ostringstream out, err;
  ASSERT_EQ(run_token_keygen(prefix, out, err), 0) << err.str();
  auto perms = std::filesystem::status(prefix + ".key").permissions();
  EXPECT_EQ(perms & std::filesystem::perms::all, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  std::ostringstream out2, err2;
  EXPECT_EQ(run_token_keygen(prefix, out2, err2), 1);
  EXPECT_THAT(err2.str(), HasSubstr("never overwrites"));
}

TEST(TokenCli, PublicKeyOnlyCannotIssueButVerifiesWhatThePrivateKeySigned) {
  TempTree tree;
  const std::string prefix = (tree.root() / "issuer").string();
  std::ostringstream out, err;
  ASSERT_EQ(run_token_keygen(prefix, out, err), 0) << err.str();
  config::EnvMap sidecar{{"DJPROXY_MIGRATION_PUBLIC_KEY", prefix + ".pub"}, {"DJ_SCHEMA_PREFIX", "myproject_"}};
  auto refused = issue(tree.options(sidecar), {{"myproject_*"}, "1h", ""});
  EXPECT_EQ(refused.rc, 1);
  EXPECT_THAT(refused.err, HasSubstr("only the Ed25519 public key"));
  EXPECT_TRUE(refused.out.empty());

  config::EnvMap dba{{"DJPROXY_MIGRATION_PRIVATE_KEY", prefix + ".key"}, {"DJ_SCHEMA_PREFIX", "myproject_"}};
  auto issued = issue(tree.options(dba), {{"myproject_*"}, "1h", ""});
  ASSERT_EQ(issued.rc, 0) << issued.err;
  EXPECT_THAT(issued.last_line(), ::testing::StartsWith("dje1."));
  auto shown = inspect(tree.options(sidecar), issued.last_line(), kNow + 60);
  EXPECT_EQ(shown.rc, 0) << shown.out << shown.err;
  EXPECT_THAT(shown.out, HasSubstr("verifies:    yes"));
}

// The migration Job's issuer runs the image, which has no shell to redirect with.
TEST(TokenCli, TokenFileHoldsTheTokenAloneAndIsNeverOverwritten) {
  TempTree tree;
  const std::string path = (tree.root() / "token").string();
  TokenIssueRequest request{{"myproject_*"}, "30m", "job"};
  request.token_file = path;
  auto r = issue(tree.options(env()), request);
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("token:       written to " + path));
  std::ifstream in(path);
  std::string token;
  std::getline(in, token);
  EXPECT_THAT(r.out, Not(HasSubstr(token))) << "the token stays out of the log";
  EXPECT_TRUE(migration::verify(token, kKey, kNow, "myproject_", 24h).ok()) << token;
  auto perms = std::filesystem::status(path).permissions() & std::filesystem::perms::all;
  EXPECT_EQ(perms, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
                       std::filesystem::perms::group_read);

  auto again = issue(tree.options(env()), request);
  EXPECT_EQ(again.rc, 1);
  EXPECT_THAT(again.err, HasSubstr("cannot create"));
  std::ifstream still(path);
  std::string kept;
  std::getline(still, kept);
  EXPECT_EQ(kept, token);
}

}  // namespace
}  // namespace djproxy::cli
