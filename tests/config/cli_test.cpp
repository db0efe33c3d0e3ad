#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include <nlohmann/json.hpp>

#include "proxy/cli/check_command.hpp"
#include "proxy/cli/config_command.hpp"
#include "temp_tree.hpp"

namespace djproxy::cli {
namespace {

using config::testing::TempTree;
using ::testing::HasSubstr;
using ::testing::Not;

struct Run {
  int rc = 0;
  std::string out;
  std::string err;
};

Run config_command(const config::LoadOptions& options, bool json) {
  std::ostringstream out, err;
  int rc = run_config_command(options, json, out, err);
  return {rc, out.str(), err.str()};
}

Run check_command(const config::LoadOptions& options, CheckOptions check = {}) {
  std::ostringstream out;
  int rc = run_check_command(options, check, out);
  return {rc, out.str(), {}};
}

TEST(ConfigCliConfig, TableShowsValuesOriginsAndMasksSecrets) {
  TempTree tree;
  tree.write("datajoint.json", "{\n  \"database.user\": \"alice\"\n}\n");
  auto r = config_command(tree.options({{"DJ_HOST", "db.lab.org"}, {"DJ_PASS", "hunter2"}}), false);
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("datajoint.json:2"));
  EXPECT_THAT(r.out, HasSubstr("env DJ_HOST"));
  EXPECT_THAT(r.out, HasSubstr("***"));
  EXPECT_THAT(r.out, Not(HasSubstr("hunter2")));
  EXPECT_THAT(r.out, HasSubstr("(unset)"));
}

TEST(ConfigCliConfig, JsonIsParseableAndTyped) {
  TempTree tree;
  auto r = config_command(tree.options({{"DJ_PASS", "hunter2"}, {"DJPROXY_MIGRATION_USERS", "a,b"}}), true);
  ASSERT_EQ(r.rc, 0) << r.err;
  auto doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["settings"]["database.password"]["value"], "***");
  EXPECT_EQ(doc["settings"]["database.password"]["origin"], "env DJ_PASS");
  EXPECT_EQ(doc["settings"]["database.port"]["value"], 3306);
  EXPECT_EQ(doc["settings"]["database.create_tables"]["value"], true);
  EXPECT_EQ(doc["settings"]["timeouts.idle"]["value"], "8h");
  EXPECT_EQ(doc["settings"]["limits.max_statement_bytes"]["value"], "1GiB");
  EXPECT_EQ(doc["settings"]["migration.users"]["value"], nlohmann::json::array({"a", "b"}));
  EXPECT_TRUE(doc["settings"]["database.user"]["value"].is_null());
  EXPECT_EQ(doc["settings"]["listen"]["env"], "DJPROXY_LISTEN");
  EXPECT_THAT(r.out, Not(HasSubstr("hunter2")));
}

TEST(ConfigCliConfig, ErrorsExitOne) {
  TempTree tree;
  auto r = config_command(tree.options({{"DJ_PORT", "x"}, {"DJ_SAFEMODE", "maybe"}}), false);
  EXPECT_EQ(r.rc, 1);
  EXPECT_THAT(r.err, HasSubstr("env DJ_PORT"));
  EXPECT_THAT(r.err, HasSubstr("env DJ_SAFEMODE"));
}

TEST(ConfigCliCheck, DevelopmentDefaultsAreOk) {
  TempTree tree;
  auto r = check_command(tree.options());
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("ok: development"));
}

TEST(ConfigCliCheck, ProductionFromFlagOrEnvironment) {
  TempTree tree;
  auto r = check_command(tree.options(), {.connect = false, .production = true});
  EXPECT_EQ(r.rc, 1);
  EXPECT_THAT(r.out, HasSubstr("error: database.create_tables"));
  r = check_command(tree.options({{"DJPROXY_ENV", "production"}}));
  EXPECT_EQ(r.rc, 1);
  r = check_command(tree.options({{"DJPROXY_ENV", "production"},
                                  {"DJ_CREATE_TABLES", "false"},
                                  {"DJ_DATABASE_PREFIX", "lab_"},
                                  {"DJPROXY_BACKEND", "mysql.internal"},
                                  {"DJPROXY_MIGRATION_USERS", "admin"}}));
  EXPECT_EQ(r.rc, 0) << r.out;
}

TEST(ConfigCliCheck, TlsFilesAreLoaded) {
  TempTree tree;
  auto cert = tree.write("tls.crt", "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n");
  auto key = tree.write("tls.key", "garbage\n");
  auto ca = tree.write("ca.pem", "nothing here\n");
  auto r = check_command(tree.options({{"DJPROXY_CLIENT_TLS_CERT", cert.string()},
                                       {"DJPROXY_CLIENT_TLS_KEY", key.string()},
                                       {"DJPROXY_BACKEND_TLS_CA", ca.string()}}));
  EXPECT_EQ(r.rc, 1);
  EXPECT_THAT(r.out, HasSubstr("error: client_tls.cert"));
  EXPECT_THAT(r.out, HasSubstr("error: backend_tls.ca"));
}

TEST(ConfigCliCheck, ConnectFailureIsAProblem) {
  TempTree tree;
  // Port 1 on loopback: nothing listens there, so the refusal is immediate.
  auto r = check_command(tree.options({{"DJPROXY_BACKEND", "127.0.0.1:1"}, {"DJ_USER", "nobody"}}),
                         {.connect = true, .production = false});
  EXPECT_EQ(r.rc, 1);
  EXPECT_THAT(r.out, HasSubstr("error: --connect: nobody@127.0.0.1:1"));
  r = check_command(tree.options({{"DJPROXY_BACKEND", "127.0.0.1:1"}}), {.connect = true, .production = false});
  EXPECT_THAT(r.out, HasSubstr("database.user: not set"));
}

TEST(ConfigCliWiring, GlobalConfigOptionReachesSubcommands) {
  CLI::App app("djproxy");
  add_config_path_option(app);
  add_config_command(app);
  add_check_command(app);
  auto* sub = app.get_subcommand("config");
  sub->callback({});  // parse only; running is covered above
  const char* argv[] = {"djproxy", "--config", "/etc/djproxy/x.toml", "config", "--json"};
  app.parse(5, argv);
  auto options = load_options_from(*sub);
  ASSERT_TRUE(options.config_path);
  EXPECT_EQ(*options.config_path, "/etc/djproxy/x.toml");
  EXPECT_FALSE(options.working_dir.empty());
  EXPECT_EQ(sub->count("--json"), 1u);
}

TEST(ConfigCliWiring, CheckFlagsParse) {
  CLI::App app("djproxy");
  add_config_path_option(app);
  add_check_command(app);
  auto* sub = app.get_subcommand("check");
  sub->callback({});
  const char* argv[] = {"djproxy", "check", "--connect", "--production"};
  app.parse(4, argv);
  EXPECT_EQ(sub->count("--connect"), 1u);
  EXPECT_EQ(sub->count("--production"), 1u);
  EXPECT_FALSE(load_options_from(*sub).config_path);
}

TEST(ConfigCliWiring, FailingCommandExitsWithItsCode) {
  TempTree tree;
  CLI::App app("djproxy");
  add_config_path_option(app);
  add_config_command(app);
  auto missing = (tree.root() / "missing.toml").string();
  const char* argv[] = {"djproxy", "--config", missing.c_str(), "config"};
  testing::internal::CaptureStderr();
  int rc = 0;
  try {
    app.parse(4, argv);
  } catch (const CLI::ParseError& e) {
    rc = app.exit(e);
  }
  auto err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(rc, 1);
  EXPECT_THAT(err, HasSubstr("option --config"));
}

}  // namespace
}  // namespace djproxy::cli
