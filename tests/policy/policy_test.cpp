// Table-driven tests of the policy engine: every case in both directions, every
// case in every chunking, and DataJoint's real traffic replayed.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include <nlohmann/json.hpp>

#include "policy/analyser.hpp"
#include "policy/rules.hpp"
#include "tests/policy/policy_cases_table.hpp"
#include "tests/policy/agreement_cases_table.hpp"
#include "tests/policy/case_session.hpp"

namespace djproxy::policy::test {
namespace {

std::string describe(const Analysis& a) {
  std::ostringstream o;
  o << to_string(a.decision.verdict) << " code=" << a.decision.code << " rule=" << to_string(a.decision.rule)
    << " msg=" << a.decision.message;
  for (const auto& s : a.statements) {
    o << "\n  [" << to_string(s.kind) << "/" << to_string(s.object) << " " << s.verb << "]";
    for (const auto& u : s.schemas) o << " " << u.name << ":" << to_string(u.access);
    if (!s.unsupported.empty()) o << " unsupported: " << s.unsupported;
  }
  return o.str();
}

class PolicyCases : public ::testing::TestWithParam<Case> {};

TEST_P(PolicyCases, Decision) {
  const Case& c = GetParam();
  const auto state = session_for(c.flags);
  const auto config = config_for(c.flags);
  const Analysis a = analyse(c.sql, state, config, command_for(c.flags));
  const Decision& d = a.decision;
  SCOPED_TRACE(describe(a));
  EXPECT_EQ(d.enforced, !(c.flags & kDry));
  switch (c.expect) {
    case Expect::allow:
      EXPECT_EQ(d.verdict, Verdict::allow);
      EXPECT_FALSE(d.audit);
      break;
    case Expect::audit:
      EXPECT_EQ(d.verdict, Verdict::allow);
      EXPECT_TRUE(d.audit);
      break;
    case Expect::reject:
      EXPECT_EQ(d.verdict, Verdict::reject);
      if (c.code) {
        EXPECT_EQ(d.code, c.code);
      }
      EXPECT_EQ(d.sqlstate, "42000");
      EXPECT_TRUE(d.message.starts_with("djproxy: ")) << d.message;
      EXPECT_NE(d.rule, Rule::none);
      break;
    case Expect::rewrite_create:
      EXPECT_EQ(d.verdict, Verdict::rewrite);
      EXPECT_EQ(d.rewrite, RewriteKind::create_if_not_exists_existing);
      EXPECT_FALSE(d.rewrite_schema.empty());
      EXPECT_FALSE(d.rewrite_table.empty());
      if (c.code) {
        EXPECT_EQ(d.code, c.code);  // the answer when the table is missing
      }
      break;
    case Expect::token:
      EXPECT_EQ(d.verdict, Verdict::migration_token);
      ASSERT_TRUE(d.token.has_value());
      break;
    case Expect::token_null:
      EXPECT_EQ(d.verdict, Verdict::migration_token);
      EXPECT_FALSE(d.token.has_value());
      break;
  }
}

// Any statement in any chunking gives the identical analysis.
TEST_P(PolicyCases, ChunkBoundaryInvariance) {
  const Case& c = GetParam();
  const auto state = session_for(c.flags);
  const auto config = config_for(c.flags);
  const Analysis whole = analyse(c.sql, state, config, command_for(c.flags));
  std::mt19937 rng(static_cast<unsigned>(c.sql.size()) * 7919u + 17u);
  for (int round = 0; round < 12; ++round) {
    StreamingAnalyser s(state, config, command_for(c.flags));
    std::size_t i = 0;
    while (i < c.sql.size()) {
      std::size_t n = round < 4 ? static_cast<std::size_t>(round + 1)
                                : 1 + std::uniform_int_distribution<std::size_t>(0, 9)(rng);
      n = std::min(n, c.sql.size() - i);
      s.feed(c.sql.substr(i, n));
      if (round % 3 == 0) s.feed({});  // empty chunks are harmless
      i += n;
    }
    const Analysis parts = s.finish();
    ASSERT_EQ(parts, whole) << "round " << round << "\nwhole: " << describe(whole) << "\nparts: " << describe(parts);
  }
}

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  std::string n = std::string(info.param.rule) + "_" + std::to_string(info.index);
  for (auto& ch : n)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return n;
}

INSTANTIATE_TEST_SUITE_P(Table, PolicyCases, ::testing::ValuesIn(kCases), case_name);
INSTANTIATE_TEST_SUITE_P(Agreement, PolicyCases, ::testing::ValuesIn(kAgreementCases), case_name);

TEST(PolicyCaseCounts, EveryRuleTestedBothWays) {
  std::map<std::string, std::pair<int, int>> counts;  // rule -> (stopped, allowed)
  for (const auto& c : kCases) {
    auto& p = counts[c.rule];
    if (c.expect == Expect::reject) ++p.first;
    else ++p.second;
  }
  for (const auto& [rule, p] : counts) {
    std::cout << "  rule " << rule << ": " << p.first << " stopped, " << p.second << " allowed\n";
    EXPECT_GT(p.first, 0) << rule;
    EXPECT_GT(p.second, 0) << rule;
  }
}

// ------------------------------------------------------------------ other entry points

TEST(SchemaCommands, PrefixAndSystemSchemas) {
  SessionState s;
  PolicyConfig c;
  c.schema_prefix = "myproject_";
  EXPECT_EQ(check_schema("myproject_full", SchemaCommand::init_db, s, c).verdict, Verdict::allow);
  EXPECT_EQ(check_schema("information_schema", SchemaCommand::login, s, c).verdict, Verdict::allow);
  for (const char* bad : {"mysql", "performance_schema", "sys", "other", "MYPROJECT_full", ""}) {
    const auto d = check_schema(bad, SchemaCommand::init_db, s, c);
    EXPECT_EQ(d.verdict, Verdict::reject) << bad;
    EXPECT_EQ(d.code, 1044) << bad;
  }
  EXPECT_EQ(check_schema("other", SchemaCommand::change_user, s, c).verdict, Verdict::reject);
  c.lower_case_table_names = 2;
  EXPECT_EQ(check_schema("MYPROJECT_full", SchemaCommand::login, s, c).verdict, Verdict::allow);
  c.mode = Mode::dry_run;
  const auto d = check_schema("mysql", SchemaCommand::init_db, s, c);
  EXPECT_EQ(d.verdict, Verdict::reject);
  EXPECT_FALSE(d.enforced);
}

TEST(SchemaCommands, FieldList) {
  SessionState s;
  PolicyConfig c;
  c.schema_prefix = "myproject_";
  s.current_schema = "myproject_full";
  EXPECT_EQ(check_field_list("session", s, c).verdict, Verdict::allow);
  s.current_schema = "mysql";
  EXPECT_EQ(check_field_list("user", s, c).verdict, Verdict::reject);
}

TEST(Analysis, UseChangesSchemaForFollowingStatements) {
  SessionState s;
  s.multi_statements = true;
  s.current_schema = "myproject_a";
  PolicyConfig c;
  c.schema_prefix = "myproject_";
  const auto a = analyse("USE myproject_b; SELECT * FROM t", s, c);
  ASSERT_EQ(a.statements.size(), 2u);
  ASSERT_EQ(a.statements[1].objects.size(), 1u);
  EXPECT_EQ(a.statements[1].objects[0].schema, "myproject_b");
  EXPECT_EQ(a.current_schema_after, "myproject_b");
}

TEST(Analysis, ReportsSchemasAndAccess) {
  SessionState s;
  s.current_schema = "myproject_full";
  PolicyConfig c;
  c.schema_prefix = "myproject_";
  const auto a = analyse("INSERT INTO myproject_a.t SELECT * FROM myproject_b.u", s, c);
  ASSERT_EQ(a.statements.size(), 1u);
  const auto& st = a.statements[0];
  EXPECT_EQ(st.kind, StatementKind::dml);
  EXPECT_NE(std::find(st.schemas.begin(), st.schemas.end(), SchemaUse{"myproject_a", Access::write}), st.schemas.end());
  EXPECT_NE(std::find(st.schemas.begin(), st.schemas.end(), SchemaUse{"myproject_b", Access::read}), st.schemas.end());
  const auto b = analyse("CREATE TABLE `myproject_ephys`.`recording` (id int)", s, c);
  EXPECT_EQ(b.decision.message,
            "djproxy: CREATE TABLE `myproject_ephys`.`recording` rejected: schema changes need an authorized "
            "migration session (create_tables=false)");
  EXPECT_EQ(b.statements[0].object, ObjectKind::table);
}

TEST(Analysis, HugeLiteralKeepsBoundedState) {
  SessionState s;
  s.current_schema = "myproject_full";
  PolicyConfig c;
  c.schema_prefix = "myproject_";
  StreamingAnalyser a(s, c);
  a.feed("INSERT INTO `myproject_full`.`session` (`trace`) VALUES ('");
  std::string chunk(1 << 16, 'x');
  for (std::size_t i = 0; i < chunk.size(); i += 7) chunk[i] = '\\';
  for (int i = 0; i < 64; ++i) a.feed(chunk);  // 4 MB of escaped blob
  a.feed("y'), ('z')");
  const auto r = a.finish();
  EXPECT_EQ(r.decision.verdict, Verdict::allow) << describe(r);
}

// ------------------------------------------------------------------ DataJoint traffic replay

struct Replayed {
  std::string file, phase, sql;
  std::string user;
};

std::vector<Replayed> load_traces() {
  std::vector<Replayed> out;
  for (const char* f : {"datajoint-2.x-tiny.jsonl", "datajoint-2.x-full.jsonl", "datajoint-0.14-full.jsonl",
                        "datajoint-2.x-dml-only.jsonl"}) {
    std::ifstream in(std::string(DJPROXY_POLICY_DATA_DIR) + "/" + f);
    EXPECT_TRUE(in) << f;
    std::map<int, std::string> users;
    std::string line;
    while (std::getline(in, line)) {
      const auto j = nlohmann::json::parse(line);
      const int conn = j.value("conn", 0);
      if (j.contains("command")) {
        if (j["command"] == "Connect") users[conn] = j.value("arg", "");
        continue;
      }
      Replayed r;
      r.file = f;
      r.phase = j["phase"].is_null() ? "" : j["phase"].get<std::string>();
      r.sql = j["sql"].get<std::string>();
      r.user = users[conn];
      out.push_back(std::move(r));
    }
  }
  return out;
}

bool starts(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

TEST(DataJointReplay, DevelopmentModeAllowsEveryWorkerStatement) {
  SessionState s;  // DataJoint connects with no default schema
  PolicyConfig c;
  c.schema_prefix = "myproject_";
  c.create_tables = true;
  int n = 0;
  for (const auto& r : load_traces()) {
    if (starts(r.user, "root@")) continue;  // the capture harness, not a worker
    const auto a = analyse(r.sql, s, c);
    EXPECT_EQ(a.decision.verdict, Verdict::allow)
        << r.file << " " << r.phase << "\n" << r.sql << "\n" << describe(a);
    ++n;
  }
  EXPECT_GT(n, 900);
}

TEST(DataJointReplay, ProductionDecisions) {
  SessionState s;
  PolicyConfig c;
  c.schema_prefix = "myproject_";
  int allowed = 0, rejected = 0, rewritten = 0, audited = 0;
  for (const auto& r : load_traces()) {
    const auto a = analyse(r.sql, s, c);
    const auto& d = a.decision;
    SCOPED_TRACE(r.file + " " + r.phase + "\n" + r.sql.substr(0, 300) + "\n" + describe(a));
    const std::string& q = r.sql;
    if (starts(q, "CREATE TABLE IF NOT EXISTS `myproject_") && q.find("`.`~") != std::string::npos &&
        q.find("`.`~") < 60) {
      EXPECT_EQ(d.verdict, Verdict::allow);
      EXPECT_TRUE(d.audit);
      ++audited;
    } else if (starts(q, "CREATE TABLE IF NOT EXISTS")) {
      EXPECT_EQ(d.verdict, Verdict::rewrite);
      EXPECT_EQ(d.rewrite, RewriteKind::create_if_not_exists_existing);
      ++rewritten;
    } else if (starts(q, "CREATE DATABASE") || starts(q, "DROP DATABASE")) {
      EXPECT_EQ(d.verdict, Verdict::reject);
      EXPECT_EQ(d.code, 1044);
      ++rejected;
    } else if (starts(q, "DROP TABLE")) {
      EXPECT_EQ(d.verdict, Verdict::reject);
      EXPECT_EQ(d.code, 1142);
      ++rejected;
    } else if (starts(q, "DELETE FROM `") && q.find("`.`~lineage`") != std::string::npos) {
      const bool bookkeeping = q.find("table_name = '~") != std::string::npos;
      EXPECT_EQ(d.verdict, bookkeeping ? Verdict::allow : Verdict::reject);
      if (!bookkeeping) {
        EXPECT_EQ(d.code, 1142);
      }
      (bookkeeping ? allowed : rejected)++;
    } else if (starts(q, "INSERT INTO `") && q.find("`.`~lineage`") != std::string::npos &&
               q.find("ON DUPLICATE KEY UPDATE") != std::string::npos) {
      // An upsert overwrites existing lineage rows: outside a migration only a
      // bookkeeping table's (DataJoint sends these for user tables when it declares
      // them, in a migration or in development).
      const bool bookkeeping = q.find("VALUES ('~") != std::string::npos;
      EXPECT_EQ(d.verdict, bookkeeping ? Verdict::allow : Verdict::reject);
      if (!bookkeeping) {
        EXPECT_EQ(d.code, 1142);
      }
      (bookkeeping ? allowed : rejected)++;
    } else if (starts(q, "SET GLOBAL")) {
      EXPECT_EQ(d.verdict, Verdict::reject);
      EXPECT_EQ(d.code, 1227);
      ++rejected;
    } else {
      EXPECT_EQ(d.verdict, Verdict::allow);
      ++allowed;
    }
  }
  std::cout << "  replay (production): " << allowed << " allowed, " << audited << " audited, " << rewritten
            << " rewritten, " << rejected << " rejected\n";
}

TEST(DataJointReplay, MigrationSessionAllowsSchemaChanges) {
  SessionState s;
  s.migration.kind = MigrationKind::by_user;
  PolicyConfig c;
  c.schema_prefix = "myproject_";
  for (const auto& r : load_traces()) {
    if (starts(r.user, "root@")) continue;
    const auto a = analyse(r.sql, s, c);
    EXPECT_NE(a.decision.verdict, Verdict::reject) << r.sql.substr(0, 200) << "\n" << describe(a);
  }
}

TEST(DataJointReplay, ChunkInvariance) {
  SessionState s;
  PolicyConfig c;
  c.schema_prefix = "myproject_";
  std::mt19937 rng(42);
  for (const auto& r : load_traces()) {
    const auto whole = analyse(r.sql, s, c);
    StreamingAnalyser a(s, c);
    std::size_t i = 0;
    while (i < r.sql.size()) {
      const std::size_t n = std::min<std::size_t>(1 + rng() % 13, r.sql.size() - i);
      a.feed(std::string_view(r.sql).substr(i, n));
      i += n;
    }
    ASSERT_EQ(a.finish(), whole) << r.sql.substr(0, 200);
  }
}

}  // namespace
}  // namespace djproxy::policy::test

using namespace djproxy::policy;

// Production with the prefix, in `myproject_full`: the session of the long statements below.
class LongLiterals : public ::testing::Test {
 protected:
  LongLiterals() {
    s.current_schema = "myproject_full";
    c.schema_prefix = "myproject_";
  }
  SessionState s;
  PolicyConfig c;
};

// The differential harness's false positive: a hex literal longer than the lexer keeps.
TEST_F(LongLiterals, HexAndBitLiteralsLongerThanTheLexerKeepsAreLiterals) {
  const std::string hex = "0x" + std::string(16384, 'a');
  EXPECT_EQ(analyse("INSERT INTO myproject_full.w (note) VALUES (" + hex + ")", s, c).decision.verdict, Verdict::allow);
  const std::string bits = "0b" + std::string(9000, '1');
  EXPECT_EQ(analyse("SELECT " + bits, s, c).decision.verdict, Verdict::allow);
  // an over-long name is still refused
  EXPECT_EQ(analyse("SELECT " + std::string(5000, 'a') + " FROM t", s, c).decision.verdict, Verdict::reject);
}

// A restriction by many keys (DataJoint's UUID or hash primary keys): string literals do
// not count against the reader's arena of names, so only the token limit bounds the list.
// Found by the review of SHOW ... STATUS WHERE Db = '...', whose strings keep their text.
TEST_F(LongLiterals, ManyUuidKeysInARestrictionAreReadUpToTheTokenLimit) {
  const std::string uuid = "'0b9c7d4e-5f61-4a2b-9c3d-7e8f9a0b1c2d'";
  std::string sql = "SELECT * FROM myproject_full.session WHERE session_uuid IN (" + uuid;
  for (int i = 1; i < 125000; ++i) sql += "," + uuid;  // 125,000 * 36 bytes: over the 4 MB arena
  sql += ")";
  const auto a = analyse(sql, s, c);
  EXPECT_EQ(a.decision.verdict, Verdict::allow) << a.decision.message;
  // SHOW keeps its short strings' text: the schema in WHERE Db = '...' is checked.
  EXPECT_EQ(analyse("SHOW PROCEDURE STATUS WHERE Db = 'myproject_full'", s, c).decision.verdict, Verdict::allow);
  EXPECT_EQ(analyse("SHOW PROCEDURE STATUS WHERE Db = 'other'", s, c).decision.verdict, Verdict::reject);
}

// Review round 38: the rows of an INSERT or REPLACE longer than the reader keeps are checked
// in chunks of 4,096 tokens, which are not read for ~lineage's table_name; such a write
// counts as other tables' rows. The rows read after the last chunk lowered that again, so
// a user table's row first, then 600 bookkeeping rows, overwrote the user table's lineage.
TEST_F(LongLiterals, ALineageWriteLongerThanAChunkIsNeverBookkeepingOnly) {
  std::string pad;
  for (int i = 0; i < 600; ++i) pad += ",('~pad','a" + std::to_string(i) + "','x')";
  const std::string few = "('~pad','a','x'),('~pad','b','x')";
  for (const std::string head : {"REPLACE INTO `~lineage` VALUES ", "INSERT INTO `~lineage` VALUES "}) {
    for (const std::string tail : {"", " ON DUPLICATE KEY UPDATE lineage = VALUES(lineage)"}) {
      if (head.starts_with("REPLACE") && !tail.empty()) continue;
      const auto a = analyse(head + "('subject','subject_id','PWNED')" + pad + tail, s, c);
      EXPECT_EQ(a.decision.verdict, Verdict::reject) << head << tail;
      EXPECT_EQ(a.decision.rule, Rule::lineage) << a.decision.message;
      // Bookkeeping rows only, but past a chunk: refused as well, since the chunks were not read.
      EXPECT_EQ(analyse(head + pad.substr(1) + tail, s, c).decision.verdict, Verdict::reject) << head << tail;
      // Within one chunk the rows are read: bookkeeping rows pass, a user table's do not.
      EXPECT_EQ(analyse(head + few + tail, s, c).decision.verdict, Verdict::allow) << head << tail;
      EXPECT_EQ(analyse(head + "('subject','subject_id','x')," + few + tail, s, c).decision.verdict,
                Verdict::reject)
          << head << tail;
    }
  }
}
