#include "config/loader.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <string>

#include "temp_tree.hpp"

namespace djproxy::config {
namespace {

using namespace std::chrono_literals;
using testing::TempTree;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

std::shared_ptr<const Settings> load_ok(const LoadOptions& options) {
  auto r = load(options);
  EXPECT_TRUE(r.ok()) << ::testing::PrintToString(r.errors);
  return r.settings;
}

std::vector<std::string> load_errors(const LoadOptions& options) {
  auto r = load(options);
  EXPECT_FALSE(r.ok());
  return r.errors;
}

// ---- every layer and every precedence pair ----------------------------------------

enum Layer6 { kEnv, kEnvFile, kSecretsDir, kToml, kJson, kDefault };
constexpr std::array<const char*, 6> kLayerNames{"env", "env_file", "secrets_dir", "toml", "json", "default"};

struct PortLayers {
  TempTree tree;
  EnvMap env;

  void set(Layer6 layer) {
    switch (layer) {
      case kEnv: env["DJ_PORT"] = "1001"; break;
      case kEnvFile: env["DJ_PORT_FILE"] = tree.write("mounted/port", "1002\n").string(); break;
      case kSecretsDir: tree.write(".secrets/database.port", "  1003\n"); break;
      case kToml: tree.write("djproxy.toml", "# proxy\n[database]\nport = 1004\n"); break;
      case kJson: tree.write("datajoint.json", "{\n  \"database.port\": 1005\n}\n"); break;
      case kDefault: break;
    }
  }
  static std::int64_t value(Layer6 layer) { return layer == kDefault ? 3306 : 1001 + static_cast<int>(layer); }
  static std::string origin(Layer6 layer) {
    switch (layer) {
      case kEnv: return "env DJ_PORT";
      case kEnvFile: return "file $DJ_PORT_FILE";
      case kSecretsDir: return ".secrets/database.port";
      case kToml: return "djproxy.toml:3";
      case kJson: return "datajoint.json:2";
      case kDefault: return "default";
    }
    return {};
  }
};

class ConfigPrecedence : public ::testing::TestWithParam<std::pair<Layer6, Layer6>> {};

TEST_P(ConfigPrecedence, HigherLayerWinsAndKeepsItsOrigin) {
  auto [high, low] = GetParam();
  PortLayers layers;
  layers.set(high);
  layers.set(low);
  auto s = load_ok(layers.tree.options(layers.env));
  ASSERT_TRUE(s);
  const auto& e = s->entry("database.port");
  EXPECT_EQ(std::get<std::int64_t>(e.value), PortLayers::value(high));
  EXPECT_EQ(e.origin.text, PortLayers::origin(high));
  EXPECT_EQ(s->database().server.port, PortLayers::value(high));
}

std::vector<std::pair<Layer6, Layer6>> all_pairs() {
  std::vector<std::pair<Layer6, Layer6>> out;
  for (int h = kEnv; h <= kDefault; ++h)
    for (int l = h + 1; l <= kDefault; ++l) out.emplace_back(static_cast<Layer6>(h), static_cast<Layer6>(l));
  return out;
}

INSTANTIATE_TEST_SUITE_P(AllPairs, ConfigPrecedence, ::testing::ValuesIn(all_pairs()), [](const auto& info) {
  return std::string(kLayerNames[info.param.first]) + "_over_" + kLayerNames[info.param.second];
});

class ConfigSingleLayer : public ::testing::TestWithParam<Layer6> {};

TEST_P(ConfigSingleLayer, EachLayerAloneIsRead) {
  PortLayers layers;
  layers.set(GetParam());
  auto s = load_ok(layers.tree.options(layers.env));
  ASSERT_TRUE(s);
  EXPECT_EQ(std::get<std::int64_t>(s->entry("database.port").value), PortLayers::value(GetParam()));
  EXPECT_EQ(s->entry("database.port").origin.text, PortLayers::origin(GetParam()));
}

INSTANTIATE_TEST_SUITE_P(Layers, ConfigSingleLayer, ::testing::Values(kEnv, kEnvFile, kSecretsDir, kToml, kJson, kDefault),
                         [](const auto& info) { return std::string(kLayerNames[info.param]); });

TEST(ConfigLayers, DjproxySettingFromEveryLayerItAccepts) {
  TempTree tree;
  tree.write("datajoint.json", R"({"policy": {"mode": "dry-run"}})");
  EXPECT_EQ(load_ok(tree.options())->policy().mode, PolicyMode::dry_run);
  tree.write("djproxy.toml", "[policy]\nmode = \"enforce\"\n");
  EXPECT_EQ(load_ok(tree.options())->entry("policy.mode").origin.text, "djproxy.toml:2");
  auto file = tree.write("mode.txt", "dry-run\n");
  auto s = load_ok(tree.options({{"DJPROXY_POLICY_MODE_FILE", file.string()}}));
  EXPECT_EQ(s->policy().mode, PolicyMode::dry_run);
  EXPECT_EQ(s->entry("policy.mode").origin.text, "file $DJPROXY_POLICY_MODE_FILE");
  s = load_ok(tree.options({{"DJPROXY_POLICY_MODE_FILE", file.string()}, {"DJPROXY_POLICY_MODE", "enforce"}}));
  EXPECT_EQ(s->policy().mode, PolicyMode::enforce);
  EXPECT_EQ(s->entry("policy.mode").origin.text, "env DJPROXY_POLICY_MODE");
}

// ---- origins -------------------------------------------------------------------------

TEST(ConfigOrigins, JsonLinesForNestedAndFlatKeys) {
  TempTree tree;
  tree.write("datajoint.json",
             "{\n"
             "  \"database\": {\n"
             "    \"host\": \"db.example.org\",\n"
             "    \"port\": 3310\n"
             "  },\n"
             "  \"database.user\": \"alice\",\n"
             "  \"stores\": {\"raw\": {\"protocol\": \"file\"}},\n"
             "  \"database.password\": null\n"
             "}\n");
  auto s = load_ok(tree.options());
  EXPECT_EQ(s->entry("database.host").origin.text, "datajoint.json:3");
  EXPECT_EQ(s->entry("database.port").origin.text, "datajoint.json:4");
  EXPECT_EQ(s->entry("database.user").origin.text, "datajoint.json:6");
  EXPECT_EQ(s->database().server.to_string(), "db.example.org:3310");
  EXPECT_EQ(s->database().user, "alice");
  EXPECT_FALSE(s->entry("database.password").is_set());  // null counts as unset
  EXPECT_EQ(s->entry("database.password").origin.layer, Layer::unset);
}

TEST(ConfigOrigins, TomlLinesDefaultsAndDerivedValues) {
  TempTree tree;
  tree.write("djproxy.toml",
             "listen = \"0.0.0.0:6033\"\n"
             "\n"
             "[timeouts]\n"
             "idle = \"0\"\n"
             "connect = \"1h30m\"\n");
  auto s = load_ok(tree.options({{"DJ_HOST", "db.internal:3310"}}));
  EXPECT_EQ(s->entry("listen").origin.text, "djproxy.toml:1");
  EXPECT_EQ(s->entry("timeouts.idle").origin.text, "djproxy.toml:4");
  EXPECT_EQ(s->entry("timeouts.handshake").origin.text, "default");
  EXPECT_EQ(s->entry("timeouts.handshake").origin.layer, Layer::default_value);
  EXPECT_EQ(s->entry("database.port").origin.text, "env DJ_HOST");
  EXPECT_EQ(s->entry("backend.host").origin.text, "from database.host, env DJ_HOST");
  EXPECT_EQ(s->entry("backend.port").origin.text, "from database.port, env DJ_HOST");
  EXPECT_EQ(s->entry("backend.host").origin.layer, Layer::derived);
  EXPECT_EQ(s->timeouts().idle, 0ms);
  EXPECT_EQ(s->timeouts().connect, 90min);
  EXPECT_EQ(s->entry("config").origin.text, "working directory");
}

TEST(ConfigOrigins, SystemSecretsDirectoryWhenNoLocalOne) {
  TempTree tree;
  tree.write("system/database.user", "svc\n");
  auto options = tree.options();
  options.system_secrets_dir = tree.root() / "system";
  auto s = load_ok(options);
  EXPECT_EQ(s->database().user, "svc");
  EXPECT_EQ(s->entry("database.user").origin.text, (tree.root() / "system" / "database.user").string());
  EXPECT_EQ(s->sources().secrets_dir, tree.root() / "system");
}

TEST(ConfigOrigins, LocalSecretsBesideDatajointJsonBeatTheSystemDirectory) {
  TempTree tree;
  tree.write("project/datajoint.json", "{}");
  tree.write("project/.secrets/database.user", "local\n");
  tree.write("system/database.user", "system\n");
  tree.mkdir("project/sub");
  auto options = tree.options({}, "project/sub");
  options.system_secrets_dir = tree.root() / "system";
  auto s = load_ok(options);
  EXPECT_EQ(s->database().user, "local");
  EXPECT_EQ(s->entry("database.user").origin.text, ".secrets/database.user");
}

TEST(ConfigOrigins, SecretsInWorkingDirectoryWhenThereIsNoDatajointJson) {
  TempTree tree;
  tree.write(".secrets/database.password", " s3cret \n");
  tree.write(".secrets/djproxy.migration_key", std::string(40, 'k') + "\n");
  auto s = load_ok(tree.options());
  EXPECT_EQ(s->database().password, "s3cret");  // surrounding whitespace stripped, as DataJoint does
  EXPECT_EQ(s->entry("database.password").origin.text, ".secrets/database.password");
  EXPECT_EQ(s->migration().key, std::string(40, 'k'));
  EXPECT_EQ(s->entry("migration.key").origin.text, ".secrets/djproxy.migration_key");
  EXPECT_EQ(s->display("database.password"), "***");
  EXPECT_EQ(s->display("migration.key"), "***");
}

// ---- *_FILE variables ----------------------------------------------------------------

TEST(ConfigFileVariables, NameTheFileHoldingTheValue) {
  TempTree tree;
  auto user = tree.write("run/user", "worker\n");
  auto pass = tree.write("run/pass", "pa ss\n\n");
  auto key = tree.write("run/key", std::string(48, 'x'));
  auto s = load_ok(tree.options({{"DJ_USER_FILE", user.string()},
                                 {"DJ_PASS_FILE", pass.string()},
                                 {"DJPROXY_MIGRATION_KEY_FILE", key.string()}}));
  EXPECT_EQ(s->database().user, "worker");
  EXPECT_EQ(s->database().password, "pa ss");  // only the trailing newline goes
  EXPECT_EQ(s->entry("database.password").origin.text, "file $DJ_PASS_FILE");
  EXPECT_EQ(s->migration().key, std::string(48, 'x'));
  EXPECT_EQ(s->entry("migration.key").origin.text, "file $DJPROXY_MIGRATION_KEY_FILE");
}

TEST(ConfigFileVariables, RelativeToTheWorkingDirectory) {
  TempTree tree;
  tree.write("run/user", "worker\n");
  EXPECT_EQ(load_ok(tree.options({{"DJ_USER_FILE", "run/user"}}))->database().user, "worker");
}

TEST(ConfigFileVariables, PlainVariableWinsOverFile) {
  TempTree tree;
  auto pass = tree.write("run/pass", "from-file");
  auto s = load_ok(tree.options({{"DJ_PASS_FILE", pass.string()}, {"DJ_PASS", "from-env"}}));
  EXPECT_EQ(s->database().password, "from-env");
  EXPECT_EQ(s->entry("database.password").origin.text, "env DJ_PASS");
}

TEST(ConfigFileVariables, MissingFileIsAnErrorNamingTheVariable) {
  TempTree tree;
  auto errors = load_errors(tree.options({{"DJ_PASS_FILE", "/nonexistent/pass"}}));
  EXPECT_THAT(errors, Contains(AllOf(HasSubstr("database.password"), HasSubstr("file $DJ_PASS_FILE"),
                                     HasSubstr("/nonexistent/pass"))));
}

// ---- environment ---------------------------------------------------------------------

TEST(ConfigEnvironment, EmptyVariableCountsAsUnset) {
  TempTree tree;
  tree.write("datajoint.json", R"({"database.user": "alice"})");
  auto s = load_ok(tree.options({{"DJ_USER", ""}, {"DJ_PORT", ""}}));
  EXPECT_EQ(s->database().user, "alice");
  EXPECT_EQ(s->entry("database.port").origin.text, "default");
}

TEST(ConfigEnvironment, UnknownDjproxyVariableWarns) {
  TempTree tree;
  auto r = load(tree.options({{"DJPROXY_LISEN", "0.0.0.0:1"}, {"DJPROXY_LISTEN_FILE", ""}}));
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(r.warnings, ElementsAre(HasSubstr("DJPROXY_LISEN")));
}

class ConfigBooleanSpellings : public ::testing::TestWithParam<std::pair<std::string, bool>> {};

TEST_P(ConfigBooleanSpellings, ReadFromTheEnvironment) {
  TempTree tree;
  auto s = load_ok(tree.options({{"DJ_CREATE_TABLES", GetParam().first}}));
  EXPECT_EQ(s->database().create_tables, GetParam().second);
  EXPECT_EQ(s->policy().production, !GetParam().second);
}

INSTANTIATE_TEST_SUITE_P(
    All, ConfigBooleanSpellings,
    ::testing::Values(std::pair{"true", true}, std::pair{"1", true}, std::pair{"yes", true}, std::pair{"on", true},
                      std::pair{"t", true}, std::pair{"y", true}, std::pair{"TRUE", true}, std::pair{"Yes", true},
                      std::pair{"false", false}, std::pair{"0", false}, std::pair{"no", false},
                      std::pair{"off", false}, std::pair{"f", false}, std::pair{"n", false},
                      std::pair{"FALSE", false}, std::pair{"Off", false}));

TEST(ConfigEnvironment, BadBooleanNamesVariableAndValue) {
  TempTree tree;
  auto errors = load_errors(tree.options({{"DJ_CREATE_TABLES", "nope"}}));
  EXPECT_THAT(errors, ElementsAre(AllOf(HasSubstr("database.create_tables"), HasSubstr("env DJ_CREATE_TABLES"),
                                        HasSubstr("'nope'"))));
}

TEST(ConfigEnvironment, BooleansFromFilesToo) {
  TempTree tree;
  tree.write("datajoint.json", R"({"database": {"create_tables": "no", "use_tls": true}, "safemode": 0})");
  auto s = load_ok(tree.options());
  EXPECT_FALSE(s->database().create_tables);
  EXPECT_EQ(s->database().use_tls, true);
  EXPECT_FALSE(s->safemode());
  tree.write("djproxy.toml", "[policy]\ntemporary_tables = false\nbookkeeping_tables = \"off\"\n");
  s = load_ok(tree.options());
  EXPECT_FALSE(s->policy().temporary_tables);
  EXPECT_FALSE(s->policy().bookkeeping_tables);
}

TEST(ConfigEnvironment, UseTlsUnsetByDefaultAndGuideAlias) {
  TempTree tree;
  EXPECT_EQ(load_ok(tree.options())->database().use_tls, std::nullopt);
  auto s = load_ok(tree.options({{"DJ_TLS", "false"}}));
  EXPECT_EQ(s->database().use_tls, false);
  EXPECT_EQ(s->entry("database.use_tls").origin.text, "env DJ_TLS");
}

TEST(ConfigEnvironment, ListsAreCommaSeparated) {
  TempTree tree;
  auto s = load_ok(tree.options({{"DJPROXY_MIGRATION_USERS", "admin, migrator,"},
                                 {"DJPROXY_POLICY_EXTRA_READABLE_SCHEMAS", "shared_ref"}}));
  EXPECT_THAT(s->migration().users, ElementsAre("admin", "migrator"));
  EXPECT_THAT(s->policy().extra_readable_schemas, ElementsAre("shared_ref"));
}

TEST(ConfigEnvironment, ErrorsAreCollectedNotStoppedAtTheFirst) {
  TempTree tree;
  auto errors = load_errors(tree.options({{"DJ_PORT", "abc"},
                                          {"DJPROXY_THREADS", "-2"},
                                          {"DJPROXY_POLICY_MODE", "lenient"},
                                          {"DJPROXY_TIMEOUTS_IDLE", "forever"},
                                          {"DJPROXY_LISTEN", "6033"}}));
  EXPECT_EQ(errors.size(), 5u) << ::testing::PrintToString(errors);
  EXPECT_THAT(errors, Contains(HasSubstr("env DJ_PORT")));
  EXPECT_THAT(errors, Contains(HasSubstr("env DJPROXY_THREADS")));
  EXPECT_THAT(errors, Contains(HasSubstr("env DJPROXY_POLICY_MODE")));
  EXPECT_THAT(errors, Contains(HasSubstr("env DJPROXY_TIMEOUTS_IDLE")));
  EXPECT_THAT(errors, Contains(HasSubstr("env DJPROXY_LISTEN")));
}

TEST(ConfigEnvironment, MaxHandshakesIsBounded) {
  TempTree tree;
  EXPECT_THAT(load_errors(tree.options({{"DJPROXY_LIMITS_MAX_HANDSHAKES", "0"}})),
              ElementsAre(AllOf(HasSubstr("limits.max_handshakes (env DJPROXY_LIMITS_MAX_HANDSHAKES)"),
                                HasSubstr("outside 1..1000000"))));
  EXPECT_THAT(load_errors(tree.options({{"DJPROXY_LIMITS_MAX_HANDSHAKES", "1000001"}})),
              ElementsAre(HasSubstr("limits.max_handshakes")));
  EXPECT_THAT(load_errors(tree.options({{"DJPROXY_LIMITS_MAX_HANDSHAKES", "many"}})),
              ElementsAre(HasSubstr("limits.max_handshakes")));
  EXPECT_EQ(load_ok(tree.options({{"DJPROXY_LIMITS_MAX_HANDSHAKES", "1"}}))->limits().max_handshakes, 1u);
}

TEST(ConfigEnvironment, OverriddenBadValuesAreStillReported) {
  TempTree tree;
  tree.write("datajoint.json", "{\n\"database.port\": \"abc\"\n}");
  auto errors = load_errors(tree.options({{"DJ_PORT", "3306"}}));
  EXPECT_THAT(errors, ElementsAre(HasSubstr("database.port (datajoint.json:2)")));
}

// ---- host:port -----------------------------------------------------------------------

TEST(ConfigDjHost, DjHostPortWinsOverDjPort) {
  TempTree tree;
  auto s = load_ok(tree.options({{"DJ_HOST", "db:3310"}, {"DJ_PORT", "3307"}}));
  EXPECT_EQ(s->database().server, (Endpoint{"db", 3310}));
  EXPECT_EQ(s->entry("database.host").origin.text, "env DJ_HOST");
  EXPECT_EQ(s->entry("database.port").origin.text, "env DJ_HOST");
}

TEST(ConfigDjHost, HostWithoutPortKeepsDjPort) {
  TempTree tree;
  auto s = load_ok(tree.options({{"DJ_HOST", "db"}, {"DJ_PORT", "3307"}}));
  EXPECT_EQ(s->database().server, (Endpoint{"db", 3307}));
  EXPECT_EQ(s->entry("database.port").origin.text, "env DJ_PORT");
}

TEST(ConfigDjHost, PortInAFileHostWinsOverAPortFromAHigherLayer) {
  // DataJoint splits the host when it connects, whichever layer gave the port.
  TempTree tree;
  tree.write("datajoint.json", R"({"database.host": "db:3310"})");
  auto s = load_ok(tree.options({{"DJ_PORT", "3307"}}));
  EXPECT_EQ(s->database().server, (Endpoint{"db", 3310}));
}

TEST(ConfigDjHost, Ipv6LiteralsInBrackets) {
  TempTree tree;
  auto s = load_ok(tree.options({{"DJ_HOST", "[::1]:3306"}, {"DJPROXY_LISTEN", "[::]:6033"}}));
  EXPECT_EQ(s->database().server, (Endpoint{"::1", 3306}));
  EXPECT_EQ(s->listen(), (Endpoint{"::", 6033}));
  EXPECT_EQ(s->display("listen"), "[::]:6033");
  s = load_ok(tree.options({{"DJ_HOST", "fd00::5"}, {"DJ_PORT", "3310"}}));
  EXPECT_EQ(s->database().server, (Endpoint{"fd00::5", 3310}));
}

TEST(ConfigDjHost, BadHostIsAnError) {
  TempTree tree;
  EXPECT_THAT(load_errors(tree.options({{"DJ_HOST", "db:notaport"}})),
              ElementsAre(AllOf(HasSubstr("database.host (env DJ_HOST)"), HasSubstr("notaport"))));
}

TEST(ConfigBackend, DjproxyBackendSetsHostAndPort) {
  TempTree tree;
  auto s = load_ok(tree.options({{"DJ_HOST", "127.0.0.1:6033"}, {"DJPROXY_BACKEND", "mysql.internal:3307"}}));
  EXPECT_EQ(s->backend(), (Endpoint{"mysql.internal", 3307}));
  EXPECT_EQ(s->entry("backend.host").origin.text, "env DJPROXY_BACKEND");
  EXPECT_EQ(s->entry("backend.port").origin.text, "env DJPROXY_BACKEND");
}

TEST(ConfigBackend, HostWithoutPortMeans3306NotTheWorkersPort) {
  TempTree tree;
  tree.write("datajoint.json", R"({"database": {"host": "127.0.0.1", "port": 6033}})");
  tree.write("djproxy.toml", "[backend]\nhost = \"mysql.internal\"\n");
  auto s = load_ok(tree.options());
  EXPECT_EQ(s->backend(), (Endpoint{"mysql.internal", 3306}));
  tree.write("djproxy.toml", "[backend]\nhost = \"mysql.internal\"\nport = 3310\n");
  EXPECT_EQ(load_ok(tree.options())->backend(), (Endpoint{"mysql.internal", 3310}));
}

TEST(ConfigBackend, FallsBackToDatabaseSettings) {
  TempTree tree;
  auto s = load_ok(tree.options({{"DJ_HOST", "db.lab.org"}, {"DJ_PORT", "3310"}}));
  EXPECT_EQ(s->backend(), (Endpoint{"db.lab.org", 3310}));
  s = load_ok(tree.options());
  EXPECT_EQ(s->backend(), (Endpoint{"localhost", 3306}));
  EXPECT_EQ(s->entry("backend.host").origin.text, "from database.host, default");
}

TEST(ConfigBackend, BothBackendVariablesMustAgree) {
  TempTree tree;
  EXPECT_TRUE(load(tree.options({{"DJPROXY_BACKEND", "db:3306"}, {"DJPROXY_BACKEND_HOST", "db:3306"}})).ok());
  EXPECT_THAT(load_errors(tree.options({{"DJPROXY_BACKEND", "db1"}, {"DJPROXY_BACKEND_HOST", "db2"}})),
              ElementsAre(AllOf(HasSubstr("env DJPROXY_BACKEND_HOST"), HasSubstr("env DJPROXY_BACKEND"))));
}

TEST(ConfigBackend, RefusesItsOwnListenAddress) {
  TempTree tree;
  // The sidecar mistake: the worker's DJ_HOST points at the proxy and no backend is named.
  auto errors = load_errors(tree.options({{"DJ_HOST", "127.0.0.1:6033"}}));
  EXPECT_THAT(errors, ElementsAre(AllOf(HasSubstr("backend.host"), HasSubstr("own listen address"))));
  EXPECT_THAT(load_errors(tree.options({{"DJPROXY_BACKEND", "localhost:7000"}, {"DJPROXY_LISTEN", "0.0.0.0:7000"}})),
              ElementsAre(HasSubstr("own listen address")));
  EXPECT_THAT(load_errors(tree.options({{"DJPROXY_BACKEND", "[::1]:7000"}, {"DJPROXY_LISTEN", "127.0.0.1:7000"}})),
              ElementsAre(HasSubstr("own listen address")));
  EXPECT_TRUE(load(tree.options({{"DJPROXY_BACKEND", "db.lab.org:6033"}, {"DJPROXY_LISTEN", "0.0.0.0:6033"}})).ok());
}

TEST(ConfigListen, AdminAddressMustDiffer) {
  TempTree tree;
  EXPECT_THAT(load_errors(tree.options({{"DJPROXY_ADMIN_LISTEN", "127.0.0.1:6033"}})),
              ElementsAre(HasSubstr("admin_listen (env DJPROXY_ADMIN_LISTEN)")));
}

// ---- the two prefix names ------------------------------------------------------------

TEST(ConfigPrefix, EitherNameWorks) {
  TempTree tree;
  auto s = load_ok(tree.options({{"DJ_SCHEMA_PREFIX", "lab_"}}));
  EXPECT_EQ(s->database().schema_prefix, "lab_");
  EXPECT_EQ(s->policy().schema_prefix, "lab_");
  s = load_ok(tree.options({{"DJ_DATABASE_PREFIX", "lab_"}}));
  EXPECT_EQ(s->database().schema_prefix, "lab_");
  EXPECT_EQ(s->entry("database.database_prefix").origin.text, "env DJ_DATABASE_PREFIX");
  tree.write("datajoint.json", R"({"database": {"database_prefix": "json_"}})");
  EXPECT_EQ(load_ok(tree.options())->database().schema_prefix, "json_");
  tree.write("djproxy.toml", "[database]\nschema_prefix = \"toml_\"\n");
  EXPECT_EQ(load_ok(tree.options())->database().schema_prefix, "toml_");
  tree.write(".secrets/database.database_prefix", "secret_\n");
  EXPECT_EQ(load_ok(tree.options())->database().schema_prefix, "secret_");
}

TEST(ConfigPrefix, BothNamesAgreeingIsFine) {
  TempTree tree;
  auto s = load_ok(tree.options({{"DJ_SCHEMA_PREFIX", "lab_"}, {"DJ_DATABASE_PREFIX", "lab_"}}));
  EXPECT_EQ(s->database().schema_prefix, "lab_");
}

TEST(ConfigPrefix, BothNamesDifferingIsAnError) {
  TempTree tree;
  EXPECT_THAT(load_errors(tree.options({{"DJ_SCHEMA_PREFIX", "a_"}, {"DJ_DATABASE_PREFIX", "b_"}})),
              ElementsAre(AllOf(HasSubstr("database.schema_prefix"), HasSubstr("env DJ_SCHEMA_PREFIX"),
                                HasSubstr("env DJ_DATABASE_PREFIX"), HasSubstr("'a_'"), HasSubstr("'b_'"))));
  tree.write("datajoint.json", "{\"database.schema_prefix\": \"a_\",\n \"database.database_prefix\": \"b_\"}");
  EXPECT_THAT(load_errors(tree.options()),
              ElementsAre(AllOf(HasSubstr("datajoint.json:1"), HasSubstr("datajoint.json:2"))));
}

TEST(ConfigPrefix, AcrossLayersTheHigherLayerWins) {
  TempTree tree;
  tree.write("datajoint.json", R"({"database.database_prefix": "file_"})");
  auto s = load_ok(tree.options({{"DJ_SCHEMA_PREFIX", "env_"}}));
  EXPECT_EQ(s->database().schema_prefix, "env_");
}

// ---- the datajoint.json search -------------------------------------------------------

TEST(ConfigSearch, FindsTheFileInAParentDirectory) {
  TempTree tree;
  tree.write("project/datajoint.json", R"({"database.user": "up"})");
  tree.mkdir("project/a/b");
  auto s = load_ok(tree.options({}, "project/a/b"));
  EXPECT_EQ(s->database().user, "up");
  EXPECT_EQ(s->sources().datajoint_json, tree.root() / "project" / "datajoint.json");
  EXPECT_EQ(s->entry("datajoint_json").value, Value{(tree.root() / "project" / "datajoint.json").string()});
}

TEST(ConfigSearch, StopsAtADirectoryHoldingGit) {
  TempTree tree;
  tree.write("outer/datajoint.json", R"({"database.user": "outside"})");
  tree.mkdir("outer/repo/.git");
  tree.mkdir("outer/repo/src");
  EXPECT_EQ(find_datajoint_json(tree.root() / "outer" / "repo" / "src"), std::filesystem::path{});
  EXPECT_FALSE(load_ok(tree.options({}, "outer/repo/src"))->entry("database.user").is_set());
}

TEST(ConfigSearch, StopsAtADirectoryHoldingHg) {
  TempTree tree;
  tree.write("outer/datajoint.json", "{}");
  tree.mkdir("outer/repo/.hg");
  tree.mkdir("outer/repo/src");
  EXPECT_EQ(find_datajoint_json(tree.root() / "outer" / "repo" / "src"), std::filesystem::path{});
}

TEST(ConfigSearch, TheRepositoryRootItselfIsStillSearched) {
  TempTree tree;
  tree.write("repo/datajoint.json", "{}");
  tree.write("repo/.git", "gitdir: elsewhere\n");  // a worktree's .git is a file
  tree.mkdir("repo/src");
  EXPECT_EQ(find_datajoint_json(tree.root() / "repo" / "src"), tree.root() / "repo" / "datajoint.json");
}

TEST(ConfigSearch, ExplicitFileViaEnvironment) {
  TempTree tree;
  tree.write("elsewhere/dj.json", R"({"database.user": "explicit"})");
  tree.write("datajoint.json", R"({"database.user": "searched"})");
  auto s = load_ok(tree.options({{"DJPROXY_DATAJOINT_JSON", "elsewhere/dj.json"}}));
  EXPECT_EQ(s->database().user, "explicit");
  EXPECT_EQ(s->entry("database.user").origin.text, "dj.json:1");
  EXPECT_EQ(s->entry("datajoint_json").origin.text, "env DJPROXY_DATAJOINT_JSON");
  EXPECT_THAT(load_errors(tree.options({{"DJPROXY_DATAJOINT_JSON", "missing.json"}})),
              ElementsAre(HasSubstr("env DJPROXY_DATAJOINT_JSON")));
}

// ---- djproxy.toml location and contents ----------------------------------------------

TEST(ConfigToml, ConfigOptionWinsOverVariable) {
  TempTree tree;
  tree.write("a.toml", "threads = 2\n");
  tree.write("b.toml", "threads = 3\n");
  auto options = tree.options({{"DJPROXY_CONFIG", (tree.root() / "a.toml").string()}});
  EXPECT_EQ(load_ok(options)->threads(), 2u);
  EXPECT_EQ(load_ok(options)->entry("threads").origin.text, "a.toml:1");
  options.config_path = tree.root() / "b.toml";
  EXPECT_EQ(load_ok(options)->threads(), 3u);
  EXPECT_EQ(load_ok(options)->entry("config").origin.text, "option --config");
  options.config_path = "missing.toml";
  EXPECT_THAT(load_errors(options), ElementsAre(AllOf(HasSubstr("option --config"), HasSubstr("missing.toml"))));
}

TEST(ConfigToml, UnknownKeysAreErrorsWithLineAndSuggestion) {
  TempTree tree;
  tree.write("djproxy.toml",
             "listen = \"127.0.0.1:6033\"\n"
             "config = \"x.toml\"\n"
             "[policy]\n"
             "mdoe = \"enforce\"\n"
             "[nonsense]\n"
             "x = 1\n");
  auto errors = load_errors(tree.options());
  EXPECT_THAT(errors, UnorderedElementsAre(AllOf(HasSubstr("djproxy.toml:4"), HasSubstr("'policy.mdoe'"),
                                                 HasSubstr("did you mean 'policy.mode'")),
                                           AllOf(HasSubstr("djproxy.toml:5"), HasSubstr("'nonsense'")),
                                           AllOf(HasSubstr("djproxy.toml:2"), HasSubstr("'config'"))));
}

TEST(ConfigJson, UnknownKeysAreIgnored) {
  TempTree tree;
  tree.write("datajoint.json", R"({"database": {"host": "db", "reconnect": true}, "stores": {}, "display.limit": 7})");
  auto r = load(tree.options());
  EXPECT_TRUE(r.ok());
  EXPECT_THAT(r.warnings, IsEmpty());
}

TEST(ConfigToml, TypesAndValues) {
  TempTree tree;
  tree.write("djproxy.toml",
             "env = \"production\"\n"
             "[limits]\n"
             "max_connections = 50\n"
             "max_handshakes = 8\n"
             "max_statement_bytes = \"256MiB\"\n"
             "[audit]\n"
             "log = \"/var/log/djproxy/audit.jsonl\"\n"
             "rotate_size = \"100MiB\"\n"
             "rotate_count = 3\n"
             "events = [\"connect\", \"reject\"]\n"
             "all_statements = true\n"
             "statement_max_length = 0\n"
             "[migration]\n"
             "users = [\"admin\"]\n"
             "max_token_ttl = \"2h\"\n"
             "[client_tls]\n"
             "mode = \"required\"\n"
             "cert = \"/etc/djproxy/tls.crt\"\n"
             "key = \"/etc/djproxy/tls.key\"\n"
             "[backend_tls]\n"
             "mode = \"verify-identity\"\n"
             "ca = \"/etc/ssl/ca.pem\"\n"
             "[policy]\n"
             "lower_case_table_names = 1\n"
             "extra_readable_schemas = [\"reference\"]\n");
  auto s = load_ok(tree.options());
  ASSERT_TRUE(s);
  EXPECT_EQ(s->environment(), Environment::production);
  EXPECT_EQ(s->limits().max_connections, 50u);
  EXPECT_EQ(s->limits().max_handshakes, 8u);
  EXPECT_EQ(s->limits().max_statement_bytes, 256u << 20);
  EXPECT_EQ(s->audit().log, "/var/log/djproxy/audit.jsonl");
  EXPECT_EQ(s->audit().rotate_size, 100u << 20);
  EXPECT_EQ(s->audit().rotate_count, 3u);
  EXPECT_THAT(s->audit().events, ElementsAre("connect", "reject"));
  EXPECT_TRUE(s->audit().all_statements);
  EXPECT_EQ(s->audit().statement_max_length, 0u);
  EXPECT_THAT(s->migration().users, ElementsAre("admin"));
  EXPECT_EQ(s->migration().max_token_ttl, 2h);
  EXPECT_EQ(s->client_tls().mode, ClientTlsMode::required);
  EXPECT_EQ(s->client_tls().cert, std::filesystem::path("/etc/djproxy/tls.crt"));
  EXPECT_EQ(s->backend_tls().mode, BackendTlsMode::verify_identity);
  EXPECT_EQ(s->backend_tls().ca, std::filesystem::path("/etc/ssl/ca.pem"));
  EXPECT_EQ(s->backend_tls().cert, std::nullopt);
  EXPECT_EQ(s->policy().lower_case_table_names, 1);
  EXPECT_THAT(s->policy().extra_readable_schemas, ElementsAre("reference"));
}

TEST(ConfigToml, WrongShapesAreErrors) {
  TempTree tree;
  tree.write("djproxy.toml",
             "threads = 1.5\n"
             "listen = [\"a:1\"]\n"
             "[timeouts]\n"
             "connect = \"5 parsecs\"\n"
             "[backend_tls]\n"
             "mode = \"sometimes\"\n"
             "[migration]\n"
             "users = [[\"nested\"]]\n");
  auto errors = load_errors(tree.options());
  EXPECT_EQ(errors.size(), 5u) << ::testing::PrintToString(errors);
  EXPECT_THAT(errors, Contains(HasSubstr("djproxy.toml:1")));
  EXPECT_THAT(errors, Contains(AllOf(HasSubstr("listen (djproxy.toml:2)"), HasSubstr("a list"))));
  EXPECT_THAT(errors, Contains(AllOf(HasSubstr("timeouts.connect (djproxy.toml:4)"), HasSubstr("5 parsecs"))));
  EXPECT_THAT(errors, Contains(AllOf(HasSubstr("backend_tls.mode (djproxy.toml:6)"), HasSubstr("verify-ca"))));
  EXPECT_THAT(errors, Contains(HasSubstr("djproxy.toml:8")));
}

TEST(ConfigToml, SyntaxErrorNamesTheLine) {
  TempTree tree;
  tree.write("djproxy.toml", "threads = 1\n[policy\nmode = 1\n");
  EXPECT_THAT(load_errors(tree.options()), ElementsAre(AllOf(HasSubstr("djproxy.toml:2"), HasSubstr("TOML"))));
}

TEST(ConfigJson, SyntaxErrorNamesTheLine) {
  TempTree tree;
  tree.write("datajoint.json", "{\n  \"database.host\": \"db\",\n  oops\n}\n");
  EXPECT_THAT(load_errors(tree.options()), ElementsAre(AllOf(HasSubstr("datajoint.json:3"), HasSubstr("JSON"))));
}

TEST(ConfigJson, KnownKeyHoldingAnObjectIsAnError) {
  TempTree tree;
  tree.write("datajoint.json", "{\"database\": {\n\"host\": {\"name\": \"db\"}}}");
  EXPECT_THAT(load_errors(tree.options()), ElementsAre(HasSubstr("datajoint.json:2")));
}

TEST(ConfigTls, CertificateAndKeyComeTogether) {
  TempTree tree;
  EXPECT_THAT(load_errors(tree.options({{"DJPROXY_CLIENT_TLS_CERT", "/x.crt"}})),
              ElementsAre(AllOf(HasSubstr("client_tls.cert (env DJPROXY_CLIENT_TLS_CERT)"),
                                HasSubstr("client_tls.key"))));
  EXPECT_THAT(load_errors(tree.options({{"DJPROXY_BACKEND_TLS_KEY", "/x.key"}})),
              ElementsAre(HasSubstr("backend_tls.key")));
  auto s = load_ok(tree.options());
  EXPECT_EQ(s->client_tls().mode, ClientTlsMode::preferred);
  EXPECT_EQ(s->client_tls().cert, std::nullopt);  // the proxy generates one
  EXPECT_EQ(s->backend_tls().mode, BackendTlsMode::preferred);
}

// ---- DataJoint's order versus the guide's --------------------------------------------

TEST(ConfigDisagreement, JsonAndSecretsDifferingIsAWarningNamingBoth) {
  TempTree tree;
  tree.write("datajoint.json", "{\n\"database.user\": \"json_user\"\n}");
  tree.write(".secrets/database.user", "secret_user\n");
  auto r = load(tree.options());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.settings->database().user, "secret_user");
  EXPECT_THAT(r.warnings, ElementsAre(AllOf(HasSubstr("database.user"), HasSubstr(".secrets/database.user"),
                                            HasSubstr("datajoint.json:2"))));
  EXPECT_EQ(r.settings->warnings(), r.warnings);
  tree.write(".secrets/database.user", "json_user\n");
  EXPECT_THAT(load(tree.options()).warnings, IsEmpty());
}

// ---- defaults ------------------------------------------------------------------------

TEST(ConfigDefaults, WhatTheRelayGetsWithNothingSet) {
  TempTree tree;
  auto s = load_ok(tree.options());
  EXPECT_EQ(s->listen(), (Endpoint{"127.0.0.1", 6033}));
  EXPECT_EQ(s->admin_listen(), (Endpoint{"127.0.0.1", 9033}));
  EXPECT_EQ(s->environment(), Environment::development);
  EXPECT_EQ(s->threads(), 0u);
  EXPECT_EQ(s->timeouts().connect, 5s);
  EXPECT_EQ(s->timeouts().handshake, 10s);
  EXPECT_EQ(s->timeouts().idle, 8h);
  EXPECT_EQ(s->timeouts().shutdown_grace, 30s);
  EXPECT_EQ(s->limits().max_connections, 1000u);
  EXPECT_EQ(s->limits().max_handshakes, 64u);
  EXPECT_EQ(s->limits().max_statement_bytes, 1u << 30);
  EXPECT_EQ(s->policy().mode, PolicyMode::enforce);
  EXPECT_TRUE(s->policy().temporary_tables);
  EXPECT_TRUE(s->policy().bookkeeping_tables);
  EXPECT_FALSE(s->policy().production);
  EXPECT_EQ(s->policy().schema_prefix, std::nullopt);
  EXPECT_EQ(s->migration().max_token_ttl, 24h);
  EXPECT_EQ(s->audit().log, "-");
  EXPECT_EQ(s->loglevel(), "INFO");
  EXPECT_TRUE(s->database().create_tables);
  EXPECT_EQ(s->sources().toml, std::filesystem::path{});
  EXPECT_FALSE(s->entry("config").is_set());
}

TEST(ConfigSettings, UnknownKeyThrows) {
  TempTree tree;
  auto s = load_ok(tree.options());
  EXPECT_THROW((void)s->entry("no.such"), std::out_of_range);
}

}  // namespace
}  // namespace djproxy::config
