#include "config/reload.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "temp_tree.hpp"

namespace djproxy::config {
namespace {

using testing::TempTree;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

TEST(ConfigReload, AcceptedCandidateListsChangesByWhenTheyApply) {
  TempTree tree;
  tree.write("djproxy.toml", "[policy]\nmode = \"dry-run\"\n");
  auto current = load(tree.options()).settings;
  ASSERT_TRUE(current);
  tree.write("djproxy.toml",
             "listen = \"127.0.0.1:7033\"\n"
             "[policy]\nmode = \"enforce\"\n"
             "[timeouts]\nidle = \"1h\"\n");
  auto plan = reload(*current, tree.options({{"DJPROXY_MIGRATION_KEY", std::string(32, 'z')}}));
  ASSERT_TRUE(plan.accepted()) << ::testing::PrintToString(plan.errors);
  EXPECT_EQ(plan.next->policy().mode, PolicyMode::enforce);
  ASSERT_EQ(plan.changes.size(), 4u);
  EXPECT_THAT(plan.changes,
              ElementsAre(AllOf(Field(&Change::key, "listen"), Field(&Change::apply, Apply::restart),
                                Field(&Change::before, "127.0.0.1:6033"), Field(&Change::after, "127.0.0.1:7033")),
                          AllOf(Field(&Change::key, "timeouts.idle"), Field(&Change::apply, Apply::new_connections)),
                          AllOf(Field(&Change::key, "policy.mode"), Field(&Change::apply, Apply::live),
                                Field(&Change::before, "dry-run"), Field(&Change::after, "enforce")),
                          AllOf(Field(&Change::key, "migration.key"), Field(&Change::before, ""),
                                Field(&Change::after, "***"))));
  EXPECT_THAT(plan.needing_restart(), ElementsAre(Field(&Change::key, "listen")));
}

TEST(ConfigReload, FailedCandidateKeepsTheCurrentSettings) {
  TempTree tree;
  auto current = load(tree.options()).settings;
  ASSERT_TRUE(current);
  tree.write("djproxy.toml", "[policy]\nmode = \"lenient\"\n");
  auto plan = reload(*current, tree.options());
  EXPECT_FALSE(plan.accepted());
  EXPECT_EQ(plan.next, nullptr);
  EXPECT_THAT(plan.errors, ElementsAre(HasSubstr("policy.mode (djproxy.toml:2)")));
  EXPECT_THAT(plan.changes, IsEmpty());
}

TEST(ConfigReload, NothingChanged) {
  TempTree tree;
  auto current = load(tree.options()).settings;
  auto plan = reload(*current, tree.options());
  EXPECT_TRUE(plan.accepted());
  EXPECT_THAT(plan.changes, IsEmpty());
}

}  // namespace
}  // namespace djproxy::config
