// Statement names across commands, stored-program bodies and withheld token text (the
// review of 2026-12-05): what decide_command hands the session to carry to the next
// command, and what it refuses with it. The wire side is tests/integration/test_dynamic_sql.py.
#include <gtest/gtest.h>

#include "policy/decide_command.hpp"

namespace djproxy::policy::test {
namespace {

constexpr auto kComQuery = static_cast<std::uint8_t>(ProtocolCommand::query);

PolicyConfig production() {
  PolicyConfig c;
  c.schema_prefix = "myproject_";
  return c;
}

class Names : public ::testing::Test {
 protected:
  // Decides `sql` as the session would and keeps what it carries to the next command.
  CommandDecision run(std::string_view sql, std::uint8_t command = kComQuery,
                      std::optional<CharsetClass> prepared_charset = CharsetClass::utf8) {
    CommandRequest r;
    r.command = command;
    r.text = sql;
    r.prepared_charset = prepared_charset;
    auto d = decide_command(r, facts, config);
    if (d.action != Action::reject && d.analysis.prepared_names_after)
      facts.state.prepared_names = *d.analysis.prepared_names_after;
    return d;
  }
  void allowed(std::string_view sql) { EXPECT_EQ(run(sql).action, Action::forward) << sql; }
  void refused(std::string_view sql, std::uint16_t code = codes::not_supported) {
    const auto d = run(sql);
    EXPECT_EQ(d.action, Action::reject) << sql;
    EXPECT_EQ(d.decision.code, code) << sql;
  }

  SessionFacts facts;
  PolicyConfig config = production();
};

TEST_F(Names, OnlyWhatTheSessionPreparedFromReadTextRuns) {
  facts.state.current_schema = "myproject_a";
  facts.state.multi_statements = true;
  refused("EXECUTE s");
  allowed("PREPARE Stmt FROM 'SELECT ?'");
  allowed("EXECUTE stmt USING 1");
  allowed("EXECUTE `STMT` USING 1");
  refused("EXECUTE other");
  allowed("PREPARE t FROM 'SELECT 2'; EXECUTE t");
  allowed("EXECUTE t");
  // A PREPARE the reader refuses leaves the names as they were.
  refused("PREPARE t FROM 'DROP TABLE x'", codes::table_access_denied);
  allowed("EXECUTE t");
}

TEST_F(Names, AnythingThatMayRunAProcedureForgetsThemAll) {
  facts.state.current_schema = "myproject_a";
  facts.state.multi_statements = true;
  for (std::string_view call : {"CALL p()", "EXECUTE IMMEDIATE 'CALL p()'", "PREPARE c FROM 'CALL p()'; EXECUTE c"}) {
    allowed("PREPARE s FROM 'SELECT 1'");
    allowed(call);
    refused("EXECUTE s");
  }
  // A prepared CALL runs again only after it is prepared again.
  refused("EXECUTE c");
  refused("PREPARE s FROM 'SELECT 1'; CALL p(); EXECUTE s");
  // A binary-protocol execution (of a prepared CALL, perhaps) and a reset forget them.
  for (auto command : {ProtocolCommand::stmt_execute, ProtocolCommand::stmt_bulk_execute,
                       ProtocolCommand::reset_connection, ProtocolCommand::change_user}) {
    allowed("PREPARE s FROM 'SELECT 1'");
    run("", static_cast<std::uint8_t>(command));
    refused("EXECUTE s");
  }
}

// When a table a prepared statement uses changes, the server prepares it again from its
// text, read in the client character set of the execution (review round 13: prepared in
// utf8mb4, executed after SET NAMES sjis, `'\x81\'` ended a string and a UNION read
// another schema).
TEST_F(Names, AStatementRunsOnlyInTheCharacterSetItWasReadIn) {
  facts.state.current_schema = "myproject_a";
  allowed("PREPARE s FROM 'SELECT 1'");
  facts.state.charset = CharsetClass::sjis;
  refused("EXECUTE s");
  facts.state.charset = CharsetClass::utf8;
  allowed("EXECUTE s");
  allowed("PREPARE s FROM 'SELECT 2'");
  facts.state.charset = CharsetClass::gbk;
  refused("EXECUTE s");
  allowed("PREPARE s FROM 'SELECT 2'");  // prepared again in this one
  allowed("EXECUTE s");
  for (auto command : {ProtocolCommand::stmt_execute, ProtocolCommand::stmt_bulk_execute}) {
    const auto byte = static_cast<std::uint8_t>(command);
    EXPECT_EQ(run("", byte, CharsetClass::gbk).action, Action::forward);
    EXPECT_EQ(run("", byte, CharsetClass::utf8).action, Action::reject);
    EXPECT_EQ(run("", byte, std::nullopt).action, Action::reject);  // not seen prepared
    const auto d = run("", byte, CharsetClass::sjis);
    EXPECT_EQ(d.decision.code, codes::not_supported);
    EXPECT_NE(d.decision.message.find("another client character set"), std::string::npos) << d.decision.message;
  }
  config.mode = Mode::dry_run;  // a dry run forwards it and says so
  const auto d = run("", static_cast<std::uint8_t>(ProtocolCommand::stmt_execute), CharsetClass::sjis);
  EXPECT_EQ(d.action, Action::forward);
  EXPECT_EQ(d.audit, AuditKind::dry_run_violation);
}

// Id 0xFFFFFFFF names the statement prepared last; after a prepare the proxy refused (or
// the server failed) there is none, and the commands are not to act on the one before it
// (review round 15). Those the server never answers are dropped unanswered.
TEST(StatementPreparedLast, NoneAfterARefusedPrepare) {
  SessionFacts facts;
  const PolicyConfig config = production();
  for (const auto command : {ProtocolCommand::stmt_close, ProtocolCommand::stmt_send_long_data,
                             ProtocolCommand::stmt_reset, ProtocolCommand::stmt_fetch}) {
    CommandRequest r;
    r.command = static_cast<std::uint8_t>(command);
    EXPECT_EQ(decide_command(r, facts, config).action, Action::forward) << command_name(r.command);
    r.unknown_last_statement = true;
    const auto d = decide_command(r, facts, config);
    const bool unanswered = command == ProtocolCommand::stmt_close || command == ProtocolCommand::stmt_send_long_data;
    EXPECT_EQ(d.action, unanswered ? Action::drop : Action::reject) << command_name(r.command);
    EXPECT_EQ(d.decision.code, 1243);
    EXPECT_EQ(d.audit, AuditKind::reject);
  }
  CommandRequest execute;
  execute.command = static_cast<std::uint8_t>(ProtocolCommand::stmt_execute);
  execute.unknown_last_statement = true;  // and so no character set it was read in
  EXPECT_EQ(decide_command(execute, facts, config).action, Action::reject);
}

TEST_F(Names, AMigrationTokenForgetsThem) {
  facts.state.current_schema = "myproject_a";
  facts.state.migration = {MigrationKind::by_token, {"myproject_*"}};
  allowed("PREPARE m FROM 'CREATE TABLE t (a INT)'");
  const auto d = run("SET @djproxy_migration = NULL");
  EXPECT_EQ(d.action, Action::intercept_token);
  ASSERT_TRUE(d.analysis.prepared_names_after);
  facts.state.prepared_names = *d.analysis.prepared_names_after;
  facts.state.migration = {};
  refused("EXECUTE m");
}

TEST_F(Names, TheListIsBoundedAndForgetsTheOldest) {
  for (int i = 0; i < 300; ++i) allowed("PREPARE s" + std::to_string(i) + " FROM 'SELECT 1'");
  EXPECT_EQ(facts.state.prepared_names.size(), 256u);
  refused("EXECUTE s0");
  allowed("EXECUTE s299");
}

TEST_F(Names, NonAsciiNamesAreRefused) {
  // The server folds case in utf8; only ASCII is compared here, so no other name is.
  refused("PREPARE \xc3\xa9 FROM 'SELECT 1'");
  refused("EXECUTE \xc3\xa9");
}

TEST_F(Names, DevelopmentModeWithoutPrefixForwardsAnyName) {
  config.create_tables = true;
  config.schema_prefix.clear();
  allowed("EXECUTE s");
}

TEST(RoutineBodies, DynamicSqlIsRefusedWhereAPrefixConfines) {
  PolicyConfig dev = production();
  dev.create_tables = true;
  SessionFacts facts;
  facts.state.current_schema = "myproject_a";
  for (std::string_view sql : {"CREATE PROCEDURE p(q TEXT) EXECUTE IMMEDIATE q", "CREATE PROCEDURE p() PREPARE s FROM @x",
                               "CREATE PROCEDURE p() EXECUTE s", "CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO EXECUTE IMMEDIATE @x",
                               "CREATE DEFINER = CURRENT_USER PROCEDURE p() EXECUTE IMMEDIATE 'SELECT 1'"}) {
    CommandRequest r;
    r.text = sql;
    const auto d = decide_command(r, facts, dev);
    EXPECT_EQ(d.action, Action::reject) << sql;
    EXPECT_NE(d.decision.message.find("dynamic SQL"), std::string::npos) << sql << ": " << d.decision.message;
  }
  CommandRequest plain;
  plain.text = "CREATE PROCEDURE p() SELECT `execute` FROM t";
  EXPECT_EQ(decide_command(plain, facts, dev).action, Action::forward);
}

TEST(WithheldText, RefusedStatementsThatMayCarryATokenKeepItOutOfTheLogs) {
  SessionFacts facts;
  facts.state.multi_statements = true;
  for (bool dry : {false, true}) {
    PolicyConfig c = production();
    c.mode = dry ? Mode::dry_run : Mode::enforce;
    for (std::string_view sql : {"SET @djproxy_migration = 'x', @a = 1", "SET @a = 1; SET @djproxy_migration = 'x'",
                                 "SET @DJPROXY_MIGRATION = CONCAT('x')", "SET @djproxy_migration = bare",
                                 "SET @'djproxy_migr\\ation' = 'x', @a = 1"}) {
      CommandRequest r;
      r.text = sql;
      const auto d = decide_command(r, facts, c);
      EXPECT_TRUE(d.withhold_text) << sql;
      EXPECT_EQ(d.action, Action::reject) << sql << (dry ? " (dry run)" : "");
      EXPECT_EQ(d.audit, AuditKind::reject) << sql;
    }
  }
  // Statements with nothing of the kind keep their text.
  CommandRequest r;
  r.text = "DROP TABLE myproject_a.t";
  const auto d = decide_command(r, facts, production());
  EXPECT_EQ(d.action, Action::reject);
  EXPECT_FALSE(d.withhold_text);
}

}  // namespace
}  // namespace djproxy::policy::test

namespace djproxy::policy::test {
namespace {

// Review 2 of 2026-12-05: a PREPARE after a failing statement never ran; bodies that
// production would refuse; a token named past a streamed statement's head.
TEST(ReviewTwo, PreparedNamesAfterAnErrorLeaveOutThePacketsPrepares) {
  SessionFacts facts;
  facts.state.current_schema = "myproject_a";
  facts.state.multi_statements = true;
  CommandRequest r;
  r.text = "SELECT nocol FROM t; PREPARE a FROM 'SELECT 1'";
  const auto d = decide_command(r, facts, production());
  ASSERT_TRUE(d.analysis.prepared_names_after && d.analysis.prepared_names_after_error);
  EXPECT_EQ(d.analysis.prepared_names_after->size(), 1u);
  EXPECT_TRUE(d.analysis.prepared_names_after_error->empty());
}

TEST(ReviewTwo, BodiesProductionWouldRefuseAreRefused) {
  PolicyConfig dev = production();
  dev.create_tables = true;
  SessionFacts facts;
  facts.state.current_schema = "myproject_a";
  for (std::string_view sql :
       {"CREATE PROCEDURE p() DROP DATABASE other", "CREATE PROCEDURE p() CREATE DATABASE other",
        "CREATE PROCEDURE p() ALTER DATABASE other CHARACTER SET latin1", "CREATE PROCEDURE p() GRANT ALL ON other.* TO u",
        "CREATE PROCEDURE p() SHOW TABLES FROM other", "CREATE PROCEDURE p() SET GLOBAL max_connections = 1",
        "CREATE PROCEDURE p() SELECT * FROM t INTO OUTFILE '/tmp/x'",
        "CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO DROP DATABASE other"}) {
    CommandRequest r;
    r.text = sql;
    EXPECT_EQ(decide_command(r, facts, dev).action, Action::reject) << sql;
  }
  for (std::string_view sql : {"CREATE PROCEDURE p(IN a INT) SELECT a + 1",
                               "CREATE FUNCTION f(a INT) RETURNS INT DETERMINISTIC RETURN a * 2",
                               "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.v = NEW.v + 0",
                               "CREATE EVENT ev ON SCHEDULE EVERY 1 DAY DISABLE DO DELETE FROM t WHERE id < 0"}) {
    CommandRequest r;
    r.text = sql;
    EXPECT_EQ(decide_command(r, facts, dev).action, Action::forward) << sql;
  }
}

}  // namespace
}  // namespace djproxy::policy::test
