#include "config/checks.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/loader.hpp"
#include "temp_tree.hpp"

namespace djproxy::config {
namespace {

using testing::TempTree;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

std::vector<std::string> problems(const std::vector<Finding>& findings) {
  std::vector<std::string> out;
  for (const auto& f : findings)
    if (f.severity == Finding::Severity::problem) out.push_back(f.text);
  return out;
}

TEST(ConfigChecks, DevelopmentDefaultsPass) {
  TempTree tree;
  auto s = load(tree.options()).settings;
  ASSERT_TRUE(s);
  EXPECT_THAT(check_settings(*s, false), IsEmpty());
}

TEST(ConfigChecks, ProductionNeedsCreateTablesOffAPrefixAndARealBackend) {
  TempTree tree;
  auto s = load(tree.options()).settings;
  auto p = problems(check_settings(*s, true));
  EXPECT_EQ(p.size(), 3u) << ::testing::PrintToString(p);
  EXPECT_THAT(p, Contains(AllOf(HasSubstr("database.create_tables (default)"), HasSubstr("false"))));
  EXPECT_THAT(p, Contains(HasSubstr("database.schema_prefix")));
  EXPECT_THAT(p, Contains(AllOf(HasSubstr("backend.host"), HasSubstr("localhost:3306"))));
}

TEST(ConfigChecks, ProductionSettingsPass) {
  TempTree tree;
  auto s = load(tree.options({{"DJ_CREATE_TABLES", "false"},
                              {"DJ_DATABASE_PREFIX", "lab_"},
                              {"DJPROXY_BACKEND", "mysql.internal"},
                              {"DJPROXY_MIGRATION_USERS", "admin"}}))
               .settings;
  ASSERT_TRUE(s);
  EXPECT_THAT(check_settings(*s, true), IsEmpty());
}

TEST(ConfigChecks, ProductionDryRunAndNoMigrationPathAreWarnings) {
  TempTree tree;
  auto s = load(tree.options({{"DJ_CREATE_TABLES", "false"},
                              {"DJ_DATABASE_PREFIX", "lab_"},
                              {"DJPROXY_BACKEND", "mysql.internal"},
                              {"DJPROXY_POLICY_MODE", "dry-run"}}))
               .settings;
  auto findings = check_settings(*s, true);
  EXPECT_THAT(problems(findings), IsEmpty());
  EXPECT_EQ(findings.size(), 2u);
}

TEST(ConfigChecks, WeakMigrationKey) {
  TempTree tree;
  auto s = load(tree.options({{"DJPROXY_MIGRATION_KEY", "short"}})).settings;
  auto p = problems(check_settings(*s, false));
  ASSERT_EQ(p.size(), 1u);
  EXPECT_THAT(p[0], AllOf(HasSubstr("migration.key (env DJPROXY_MIGRATION_KEY)"), HasSubstr("5 bytes"),
                          Not(HasSubstr("short"))));
}

TEST(ConfigChecks, FilesMustBeReadable) {
  TempTree tree;
  auto cert = tree.write("tls.crt", "x");
  auto s = load(tree.options({{"DJPROXY_CLIENT_TLS_CERT", cert.string()},
                              {"DJPROXY_CLIENT_TLS_KEY", (tree.root() / "missing.key").string()},
                              {"DJPROXY_BACKEND_TLS_CA", tree.root().string()},
                              {"DJPROXY_AUDIT_LOG", "/nonexistent-dir/audit.log"}}))
               .settings;
  ASSERT_TRUE(s);
  auto p = problems(check_settings(*s, false));
  EXPECT_EQ(p.size(), 3u) << ::testing::PrintToString(p);
  EXPECT_THAT(p, Contains(HasSubstr("client_tls.key (env DJPROXY_CLIENT_TLS_KEY)")));
  EXPECT_THAT(p, Contains(HasSubstr("backend_tls.ca")));
  EXPECT_THAT(p, Contains(HasSubstr("audit.log")));
}

TEST(ConfigChecks, LoadWarningsAreCarriedOver) {
  TempTree tree;
  tree.write("datajoint.json", R"({"database.user": "a"})");
  tree.write(".secrets/database.user", "b");
  auto s = load(tree.options()).settings;
  EXPECT_THAT(check_settings(*s, false),
              ElementsAre(Field(&Finding::severity, Finding::Severity::warning)));
}

}  // namespace
}  // namespace djproxy::config
