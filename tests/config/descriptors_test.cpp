#include "config/descriptors.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "config/reference.hpp"
#include "config/value.hpp"

namespace djproxy::config {
namespace {

TEST(ConfigDescriptors, KeysAndEnvironmentNamesAreUnique) {
  std::set<std::string_view> keys;
  std::set<std::string_view> envs;
  for (const auto& d : kDescriptors) {
    EXPECT_TRUE(keys.insert(d.key).second) << d.key;
    if (!d.alias_key.empty()) {
      EXPECT_TRUE(keys.insert(d.alias_key).second) << d.alias_key;
    }
    EXPECT_TRUE(envs.insert(d.env).second) << d.env;
    if (!d.alias_env.empty()) {
      EXPECT_TRUE(envs.insert(d.alias_env).second) << d.alias_env;
    }
  }
}

TEST(ConfigDescriptors, DjproxyEnvironmentNamesDeriveFromTheKey) {
  for (const auto& d : kDescriptors) {
    if (d.scope == Scope::shared) {
      EXPECT_TRUE(d.env.starts_with("DJ_")) << d.key;
    } else {
      EXPECT_EQ(d.env, derived_env_name(d.key)) << d.key;
    }
  }
}

TEST(ConfigDescriptors, TheNamesScriptsRelyOnExist) {
  std::set<std::string_view> envs;
  for (const auto& d : kDescriptors) {
    envs.insert(d.env);
    if (!d.alias_env.empty()) envs.insert(d.alias_env);
  }
  for (auto name : {"DJPROXY_LISTEN", "DJPROXY_ADMIN_LISTEN", "DJPROXY_BACKEND", "DJPROXY_CONFIG", "DJPROXY_ENV",
                    "DJPROXY_POLICY_MODE", "DJPROXY_MIGRATION_USERS", "DJPROXY_MIGRATION_KEY", "DJPROXY_AUDIT_LOG",
                    "DJPROXY_DATAJOINT_JSON", "DJPROXY_THREADS", "DJ_HOST", "DJ_PORT", "DJ_USER", "DJ_PASS",
                    "DJ_CREATE_TABLES", "DJ_SCHEMA_PREFIX", "DJ_DATABASE_PREFIX", "DJ_USE_TLS", "DJ_SAFEMODE",
                    "DJ_LOG_LEVEL"}) {
    EXPECT_TRUE(envs.contains(name)) << name;
  }
}

TEST(ConfigDescriptors, EveryDefaultParsesAsItsKind) {
  for (const auto& d : kDescriptors) {
    if (d.default_text.empty()) continue;
    auto p = parse_value(d, std::string(d.default_text));
    EXPECT_TRUE(p.ok()) << d.key << ": " << p.error;
    EXPECT_EQ(format_value(d, p.value), d.default_text) << d.key << " default is not in canonical form";
  }
}

TEST(ConfigDescriptors, ChoicesAndBoundsAreDeclaredWhereNeeded) {
  for (const auto& d : kDescriptors) {
    if (d.kind == Kind::choice) {
      EXPECT_FALSE(d.choices.empty()) << d.key;
    }
    if (d.kind == Kind::integer || d.kind == Kind::bytes) {
      EXPECT_LT(d.min, d.max) << d.key;
    }
    EXPECT_FALSE(d.description.empty()) << d.key;
  }
}

TEST(ConfigDescriptors, LookUpByKeyAndAlias) {
  static_assert(index_of("database.schema_prefix") == index_of("database.database_prefix"));
  EXPECT_EQ(find_descriptor("database.database_prefix")->key, "database.schema_prefix");
  EXPECT_EQ(find_descriptor("policy.mode")->env, "DJPROXY_POLICY_MODE");
  EXPECT_EQ(find_descriptor("no.such.key"), nullptr);
  EXPECT_EQ(find_descriptor("migration.key")->secrets_file, "djproxy.migration_key");
  EXPECT_TRUE(find_descriptor("migration.key")->secret);
  EXPECT_TRUE(find_descriptor("database.password")->secret);
}

// "`" + std::string(s) + "`" would do, but GCC 12 at -O3 reports a false -Wrestrict
// overlap in that operator+.
std::string in_backquotes(std::string_view s) {
  std::string out(1, '`');
  out.append(s).append(1, '`');
  return out;
}

TEST(ConfigReference, ListsEverySetting) {
  auto md = settings_reference_markdown();
  for (const auto& d : kDescriptors) {
    EXPECT_NE(md.find(in_backquotes(d.key)), std::string::npos) << d.key;
    EXPECT_NE(md.find(in_backquotes(d.env)), std::string::npos) << d.env;
  }
}

}  // namespace
}  // namespace djproxy::config
