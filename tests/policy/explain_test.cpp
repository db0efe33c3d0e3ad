// `djproxy explain`: what DBAs read when they ask why a statement was blocked. The
// JSON fields are an interface (scripts and tests parse them); the text is for people.
#include <gtest/gtest.h>

#include <sstream>

#include <nlohmann/json.hpp>

#include "policy/analyser.hpp"
#include "proxy/cli/explain_command.hpp"

namespace djproxy::cli {
namespace {

using nlohmann::json;

std::string run(ExplainOptions o) {
  std::ostringstream out;
  EXPECT_TRUE(run_explain(o, out)) << out.str();
  return out.str();
}

ExplainOptions production(std::string sql, bool as_json) {
  ExplainOptions o;
  o.schema = "myproject_full";
  o.config.schema_prefix = "myproject_";
  o.json = as_json;
  o.sql = std::move(sql);
  return o;
}

TEST(ExplainJson, RejectedSchemaChange) {
  const json j = json::parse(run(production("CREATE TABLE `myproject_full`.`recording` (id int)", true)));
  EXPECT_EQ(j.at("decision"), "reject");
  EXPECT_EQ(j.at("verdict"), "reject");
  EXPECT_EQ(j.at("action"), "reject");
  EXPECT_EQ(j.at("code"), 1142);
  EXPECT_EQ(j.at("sqlstate"), "42000");
  EXPECT_EQ(j.at("rule"), "schema-change");
  EXPECT_EQ(j.at("message"),
            "djproxy: CREATE TABLE `myproject_full`.`recording` rejected: schema changes need an authorized "
            "migration session (create_tables=false)");
  EXPECT_EQ(j.at("enforced"), true);
  ASSERT_EQ(j.at("statements").size(), 1u);
  const json& s = j.at("statements")[0];
  EXPECT_EQ(s.at("kind"), "ddl");
  EXPECT_EQ(s.at("object"), "table");
  EXPECT_EQ(s.at("verb"), "CREATE TABLE");
  ASSERT_EQ(s.at("schemas").size(), 1u);
  EXPECT_EQ(s.at("schemas")[0].at("name"), "myproject_full");
  EXPECT_EQ(s.at("schemas")[0].at("access"), "ddl");
  EXPECT_EQ(s.at("objects")[0].at("name"), "recording");
}

TEST(ExplainJson, AllowedStatementsListEverySchema) {
  const json j = json::parse(run(production(
      "SELECT * FROM `myproject_a`.`t` JOIN information_schema.tables; INSERT INTO s2 VALUES (1)", true)));
  EXPECT_EQ(j.at("decision"), "allow");
  EXPECT_EQ(j.at("code"), 0);
  EXPECT_EQ(j.at("message"), "");
  ASSERT_EQ(j.at("statements").size(), 2u);
  EXPECT_EQ(j.at("statements")[0].at("kind"), "query");
  const json& schemas = j.at("statements")[0].at("schemas");
  ASSERT_EQ(schemas.size(), 2u);
  EXPECT_EQ(schemas[0].at("name"), "myproject_a");
  EXPECT_EQ(schemas[1].at("name"), "information_schema");
  EXPECT_EQ(j.at("statements")[1].at("kind"), "dml");
  EXPECT_EQ(j.at("statements")[1].at("schemas")[0], json({{"name", "myproject_full"}, {"access", "write"}}));
}

TEST(ExplainJson, PrefixRejectionUsesDbAccessDenied) {
  const json j = json::parse(run(production("SELECT * FROM mysql.user", true)));
  EXPECT_EQ(j.at("decision"), "reject");
  EXPECT_EQ(j.at("code"), 1044);
  EXPECT_EQ(j.at("statements")[0].at("schemas")[0].at("name"), "mysql");
}

TEST(ExplainJson, RewriteAndUnsupported) {
  const json create = json::parse(run(production("CREATE TABLE IF NOT EXISTS `myproject_full`.`t` (a int)", true)));
  EXPECT_EQ(create.at("decision"), "rewrite");
  EXPECT_EQ(create.at("action"), "ask_table_exists");
  EXPECT_EQ(create.at("rewrite"), "create_if_not_exists_existing");
  EXPECT_EQ(create.at("rewrite_table"), "t");

  // Listed as the server lists it (issue 17): the account's grants decide.
  const json show = json::parse(run(production("SHOW DATABASES", true)));
  EXPECT_EQ(show.at("decision"), "allow");
  EXPECT_EQ(show.at("action"), "forward");
  EXPECT_FALSE(show.contains("rewrite"));
  EXPECT_EQ(show.at("statements")[0].at("kind"), "show");

  const json bad = json::parse(run(production("PREPARE s FROM @q", true)));
  EXPECT_EQ(bad.at("decision"), "reject");
  EXPECT_EQ(bad.at("rule"), "fail-closed");
  EXPECT_TRUE(bad.at("statements")[0].contains("unsupported"));
}

TEST(ExplainJson, NonUtf8NamesStayValidJson) {
  const std::string out = run(production("SELECT * FROM `myproject_\xff\xfe`.t", true));
  EXPECT_TRUE(json::accept(out)) << out;
}

TEST(ExplainOptionsTest, SessionComesFromTheOptions) {
  // Under ANSI_QUOTES "other" is a schema name outside the prefix; otherwise a
  // string where a table belongs, which the reader refuses.
  ExplainOptions o = production("SELECT * FROM \"other\".t", true);
  EXPECT_EQ(json::parse(run(o)).at("rule"), "fail-closed");
  o.sql_mode = "ansi_quotes";
  const json ansi = json::parse(run(o));
  EXPECT_EQ(ansi.at("rule"), "prefix");
  EXPECT_EQ(ansi.at("code"), 1044);

  ExplainOptions ddl = production("DROP TABLE `myproject_full`.`t`", true);
  EXPECT_EQ(json::parse(run(ddl)).at("decision"), "reject");
  ddl.migration = true;
  EXPECT_EQ(json::parse(run(ddl)).at("decision"), "allow");
  ddl.migration = false;
  ddl.migration_scope = {"myproject_f*"};
  EXPECT_EQ(json::parse(run(ddl)).at("decision"), "allow");
  ddl.migration_scope = {"myproject_other"};
  EXPECT_EQ(json::parse(run(ddl)).at("rule"), "migration-scope");
  ddl.migration_scope.clear();
  ddl.config.create_tables = true;
  EXPECT_EQ(json::parse(run(ddl)).at("decision"), "allow");

  ExplainOptions nodb = production("SELECT * FROM t", true);
  nodb.schema.clear();
  const json j = json::parse(run(nodb));
  EXPECT_TRUE(j.at("statements")[0].at("schemas").empty());
}

TEST(ExplainText, Reject) {
  EXPECT_EQ(run(production("DROP TABLE `myproject_full`.`t`", false)),
            "decision: reject\n"
            "action:   reject\n"
            "code:     1142 (SQLSTATE 42000)\n"
            "rule:     schema-change\n"
            "message:  djproxy: DROP TABLE `myproject_full`.`t` rejected: schema changes need an authorized "
            "migration session (create_tables=false)\n"
            "statement 1: ddl / table (DROP TABLE)\n"
            "  schema myproject_full: ddl\n");
}

TEST(ExplainText, AllowWithSchemas) {
  EXPECT_EQ(run(production("SELECT 1 FROM a; UPDATE myproject_x.b SET c = 1", false)),
            "decision: allow\n"
            "action:   forward\n"
            "statement 1: query / none (SELECT)\n"
            "  schema myproject_full: read\n"
            "statement 2: dml / none (UPDATE)\n"
            "  schema myproject_x: write\n");
}

TEST(ExplainText, RewriteDryRunAndUnsupported) {
  ExplainOptions o = production("CREATE TABLE IF NOT EXISTS `myproject_full`.`t` (a int)", false);
  o.config.mode = policy::Mode::dry_run;
  EXPECT_EQ(run(o),
            "decision: rewrite (dry-run: not enforced)\n"
            "action:   ask_table_exists\n"
            "code:     1142 (SQLSTATE 42000)\n"
            "rule:     schema-change\n"
            "message:  djproxy: CREATE TABLE `myproject_full`.`t` rejected: schema changes need an authorized "
            "migration session (create_tables=false)\n"
            "rewrite:  create_if_not_exists_existing myproject_full.t\n"
            "statement 1: ddl / table (CREATE TABLE)\n"
            "  schema myproject_full: ddl\n");
  o.sql = "SELECT 'open";
  const std::string bad = run(o);
  EXPECT_NE(bad.find("decision: reject (dry-run: not enforced)\naction:   forward\n"), std::string::npos) << bad;
  EXPECT_NE(bad.find("  not read with certainty: unterminated string literal\n"), std::string::npos) << bad;
}

// explain reads sql_mode as the proxy does (policy::read_sql_mode): once it had a
// reader of its own that took ORACLE, MSSQL, unknown names and DB2 for harmless.
TEST(ExplainSqlMode, ReadAsTheProxyReadsIt) {
  ExplainOptions o = production("SELECT 1", true);
  for (const char* mode : {"ORACLE", "STRICT_TRANS_TABLES,MSSQL", "NO_SUCH_MODE"}) {
    o.sql_mode = mode;
    const json j = json::parse(run(o));
    EXPECT_EQ(j.at("action"), "reject") << mode;
    EXPECT_EQ(j.at("rule"), "fail-closed") << mode;
    EXPECT_EQ(j.at("code"), 1235) << mode;
  }
  o.sql = "SELECT * FROM \"other\".t";
  for (const char* mode : {"DB2", " ansi_quotes ", "STRICT_TRANS_TABLES,ANSI"}) {
    o.sql_mode = mode;
    EXPECT_EQ(json::parse(run(o)).at("rule"), "prefix") << mode;  // "other" is a schema name
  }
  o.sql_mode = "ORACLE";
  o.config.mode = policy::Mode::dry_run;
  const json dry = json::parse(run(o));
  EXPECT_EQ(dry.at("verdict"), "would_reject");
  EXPECT_EQ(dry.at("action"), "forward");
}

// The protocol commands the session decides, and the facts they depend on.
TEST(ExplainCommands, SchemaCommandsPreparesAndFacts) {
  ExplainOptions o = production("mysql", true);
  o.command = "init_db";
  json j = json::parse(run(o));
  EXPECT_EQ(j.at("action"), "reject");
  EXPECT_EQ(j.at("code"), 1044);
  EXPECT_EQ(j.at("message"), "djproxy: USE `mysql` rejected: system schema `mysql` is not accessible through djproxy");
  o.sql = "myproject_x";
  EXPECT_EQ(json::parse(run(o)).at("action"), "forward");

  o.command = "field_list";
  o.schema = "outside";
  o.sql = "t";
  EXPECT_EQ(json::parse(run(o)).at("code"), 1142);

  o.command = "change_user";
  o.sql = "outside";
  EXPECT_EQ(json::parse(run(o)).at("rule"), "prefix");

  // Answered by the proxy as a query, refused when prepared (issue 15).
  o = production("CREATE TABLE IF NOT EXISTS `myproject_full`.`t` (a int)", true);
  o.command = "prepare";
  j = json::parse(run(o));
  EXPECT_EQ(j.at("action"), "reject");
  EXPECT_EQ(j.at("rule"), "fail-closed");
  EXPECT_EQ(j.at("code"), 1235);

  o = production("SELECT 1", true);
  o.charset = "no-such-charset";
  EXPECT_EQ(json::parse(run(o)).at("action"), "reject");
  o.charset = "latin1";
  EXPECT_EQ(json::parse(run(o)).at("action"), "forward");

  o.command = "no-such-command";
  std::ostringstream out;
  EXPECT_FALSE(run_explain(o, out));
  o.command = "query";
  o.server_version = "not a version";
  EXPECT_FALSE(run_explain(o, out));
}

}  // namespace
}  // namespace djproxy::cli
