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
  run_explain(o, out);
  return out.str();
}

ExplainOptions production(std::string sql, bool as_json) {
  ExplainOptions o;
  o.schema = "myproject_full";
  o.prefix = "myproject_";
  o.json = as_json;
  o.sql = std::move(sql);
  return o;
}

TEST(ExplainJson, RejectedSchemaChange) {
  const json j = json::parse(run(production("CREATE TABLE `myproject_full`.`recording` (id int)", true)));
  EXPECT_EQ(j.at("decision"), "reject");
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
  const json show = json::parse(run(production("SHOW DATABASES", true)));
  EXPECT_EQ(show.at("decision"), "rewrite");
  EXPECT_EQ(show.at("rewrite"), "show_databases_filter");
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
  ddl.create_tables = true;
  EXPECT_EQ(json::parse(run(ddl)).at("decision"), "allow");

  ExplainOptions nodb = production("SELECT * FROM t", true);
  nodb.schema.clear();
  const json j = json::parse(run(nodb));
  EXPECT_TRUE(j.at("statements")[0].at("schemas").empty());
}

TEST(ExplainText, Reject) {
  EXPECT_EQ(run(production("DROP TABLE `myproject_full`.`t`", false)),
            "decision: reject\n"
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
            "statement 1: query / none (SELECT)\n"
            "  schema myproject_full: read\n"
            "statement 2: dml / none (UPDATE)\n"
            "  schema myproject_x: write\n");
}

TEST(ExplainText, RewriteDryRunAndUnsupported) {
  policy::PolicyConfig config;
  config.schema_prefix = "myproject_";
  config.mode = policy::Mode::dry_run;
  policy::SessionState state;
  const std::string show = format_explain(policy::analyse("SHOW DATABASES", state, config), false);
  EXPECT_EQ(show,
            "decision: rewrite (dry-run: not enforced)\n"
            "rule:     show-databases\n"
            "rewrite:  show_databases_filter \n"
            "statement 1: show / none (SHOW DATABASES)\n");
  const std::string bad = format_explain(policy::analyse("SELECT 'open", state, config), false);
  EXPECT_NE(bad.find("decision: reject (dry-run: not enforced)\n"), std::string::npos) << bad;
  EXPECT_NE(bad.find("  not read with certainty: unterminated string literal\n"), std::string::npos) << bad;
}

TEST(ExplainSqlMode, ReadsFlagsAndAnsi) {
  const policy::SqlMode ansi = parse_sql_mode("STRICT_TRANS_TABLES,ANSI");
  EXPECT_TRUE(ansi.ansi_quotes);
  EXPECT_TRUE(ansi.pipes_as_concat);
  EXPECT_FALSE(ansi.no_backslash_escapes);
  const policy::SqlMode nbe = parse_sql_mode("no_backslash_escapes");
  EXPECT_TRUE(nbe.no_backslash_escapes);
  EXPECT_FALSE(nbe.ansi_quotes);
}

}  // namespace
}  // namespace djproxy::cli
