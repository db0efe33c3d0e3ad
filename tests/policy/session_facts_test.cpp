#include "policy/session_facts.hpp"

#include <gtest/gtest.h>

#include "policy/analyser.hpp"

namespace djproxy::policy {
namespace {

struct SqlModeCase {
  const char* sql_mode;
  bool ansi_quotes, no_backslash_escapes, pipes_as_concat, ignore_space, unsupported;
};

class ReadSqlMode : public ::testing::TestWithParam<SqlModeCase> {};

TEST_P(ReadSqlMode, FlagsAndRefusals) {
  const auto& c = GetParam();
  const auto r = read_sql_mode(c.sql_mode);
  EXPECT_EQ(r.flags.ansi_quotes, c.ansi_quotes);
  EXPECT_EQ(r.flags.no_backslash_escapes, c.no_backslash_escapes);
  EXPECT_EQ(r.flags.pipes_as_concat, c.pipes_as_concat);
  EXPECT_EQ(r.flags.ignore_space, c.ignore_space);
  EXPECT_EQ(!r.unsupported.empty(), c.unsupported) << r.unsupported;
}

INSTANTIATE_TEST_SUITE_P(
    ServerReports, ReadSqlMode,
    ::testing::Values(
        SqlModeCase{"", false, false, false, false, false},
        // DataJoint's own mode
        SqlModeCase{"NO_ZERO_DATE,NO_ZERO_IN_DATE,ERROR_FOR_DIVISION_BY_ZERO,STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION,"
                    "ONLY_FULL_GROUP_BY",
                    false, false, false, false, false},
        // MariaDB 10.11's default
        SqlModeCase{"STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION", false,
                    false, false, false, false},
        SqlModeCase{"ANSI_QUOTES", true, false, false, false, false},
        SqlModeCase{"no_backslash_escapes", false, true, false, false, false},  // any case
        SqlModeCase{" PIPES_AS_CONCAT , IGNORE_SPACE ", false, false, true, true, false},
        SqlModeCase{"REAL_AS_FLOAT,PIPES_AS_CONCAT,ANSI_QUOTES,IGNORE_SPACE,ONLY_FULL_GROUP_BY,ANSI", true, false, true,
                    true, false},
        SqlModeCase{"ANSI", true, false, true, true, false},  // a composite alone implies its parts
        SqlModeCase{"PIPES_AS_CONCAT,ANSI_QUOTES,IGNORE_SPACE,ORACLE,NO_KEY_OPTIONS", true, false, true, true, true},
        SqlModeCase{"MSSQL", false, false, false, false, true},
        SqlModeCase{"SOME_FUTURE_MODE", false, false, false, false, true}));  // unknown: not read with certainty

TEST(CharsetClass, FromTheServersName) {
  EXPECT_EQ(charset_class("utf8mb4"), CharsetClass::utf8);
  EXPECT_EQ(charset_class("UTF8MB3"), CharsetClass::utf8);
  EXPECT_EQ(charset_class("binary"), CharsetClass::utf8);
  EXPECT_EQ(charset_class("latin1"), CharsetClass::single_byte);
  EXPECT_EQ(charset_class("gbk"), CharsetClass::gbk);
  EXPECT_EQ(charset_class("big5"), CharsetClass::big5);
  EXPECT_EQ(charset_class("cp932"), CharsetClass::sjis);
  EXPECT_EQ(charset_class("sjis"), CharsetClass::sjis);
  EXPECT_EQ(charset_class("gb18030"), CharsetClass::gb18030);
  EXPECT_EQ(charset_class("ucs2"), CharsetClass::unsupported);  // never a client charset
  EXPECT_EQ(charset_class("klingon"), CharsetClass::unsupported);
}

// As MariaDB 10.11.19 reports them in session tracking (SET collation_connection reports
// only the collation).
TEST(ConnectionCharset, FromTheServersNames) {
  EXPECT_EQ(charset_of_collation("latin1_swedish_ci"), "latin1");
  EXPECT_EQ(charset_of_collation("utf8mb4_uca1400_ai_ci"), "utf8mb4");
  EXPECT_EQ(charset_of_collation("sjis_japanese_ci"), "sjis");
  EXPECT_EQ(charset_of_collation("binary"), "binary");
  EXPECT_TRUE(same_charset("sjis", "SJIS"));
  EXPECT_TRUE(same_charset("utf8mb4", charset_of_collation("utf8mb4_general_ci")));
  EXPECT_FALSE(same_charset("sjis", "latin1"));
  EXPECT_FALSE(same_charset("sjis", "cp932"));  // two sets to the server: it converts
  EXPECT_FALSE(same_charset("", ""));           // not reported yet
  EXPECT_FALSE(same_charset("utf8mb4", ""));
}

TEST(ServerVersion, FromTheGreeting) {
  auto v = read_server_version("5.5.5-10.11.19-MariaDB-0+deb12u1");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->flavour, ServerFlavour::mariadb);
  EXPECT_EQ(v->version, 101119u);
  v = read_server_version("11.4.2-MariaDB");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->version, 110402u);
  v = read_server_version("8.0.36");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->flavour, ServerFlavour::mysql);
  EXPECT_EQ(v->version, 80036u);
  EXPECT_FALSE(read_server_version("garbage"));
  EXPECT_FALSE(read_server_version("8.0"));
  EXPECT_FALSE(read_server_version("8.0.999"));
}

TEST(SessionFacts, VersionQuestionPinsTheAnnouncedFlavourAndVersion) {
  const auto asked = [](std::string_view greeting) { return version_question(read_server_version(greeting)); };
  EXPECT_EQ(asked("5.5.5-10.11.19-MariaDB-0+deb12u1").sql,
            "SELECT 0 /*! +1 */ /*!50699 +2 */ /*M!101119 +4 */ /*M!101120 +8 */, CONNECTION_ID(), @@version");
  EXPECT_EQ(asked("5.5.5-10.11.19-MariaDB-0+deb12u1").expected, "7");
  EXPECT_EQ(asked("11.4.99-MariaDB").sql,
            "SELECT 0 /*! +1 */ /*!50699 +2 */ /*M!110499 +4 */ /*M!110500 +8 */, CONNECTION_ID(), @@version");
  EXPECT_EQ(asked("8.0.36").sql,
            "SELECT 0 /*! +1 */ /*M! +2 */ /*!80036 +4 */ /*!80037 +8 */, CONNECTION_ID(), @@version");
  EXPECT_EQ(asked("8.0.36").expected, "5");
  EXPECT_EQ(asked("5.6.99").sql,
            "SELECT 0 /*! +1 */ /*M! +2 */ /*!50699 +4 */ /*!50700 +8 */, CONNECTION_ID(), @@version");
  // No comment can pin these: the next version needs a digit more, or fewer than the
  // server reads; nothing confirms them.
  for (std::string_view greeting : {"99.99.99-MariaDB", "9.99.99", "5.5.5-5.5.60-MariaDB", "0.9.1", "garbage"}) {
    EXPECT_EQ(asked(greeting).sql, "SELECT 0, CONNECTION_ID(), @@version") << greeting;
    EXPECT_EQ(asked(greeting).expected, "") << greeting;
  }
}

// The packet is read with the session state it started with; statements that change
// that state mid-packet would be read differently by the server (attack), while the
// same statement alone or last in its packet is ordinary traffic.
struct SessionChangeCase {
  const char* sql;
  bool rejected;
};

class SessionChanges : public ::testing::TestWithParam<SessionChangeCase> {};

TEST_P(SessionChanges, InOnePacket) {
  SessionState state;
  state.multi_statements = true;
  state.current_schema = "myproject_a";
  PolicyConfig config;
  config.schema_prefix = "myproject_";
  const auto a = analyse(GetParam().sql, state, config);
  EXPECT_EQ(a.decision.verdict == Verdict::reject, GetParam().rejected) << GetParam().sql << ": " << a.decision.message;
}

INSTANTIATE_TEST_SUITE_P(
    Packets, SessionChanges,
    ::testing::Values(
        // attacks
        SessionChangeCase{"SET sql_mode = 'NO_BACKSLASH_ESCAPES'; SELECT 'y\\' , v FROM outside.t -- '", true},
        SessionChangeCase{"SET NAMES gbk; SELECT v, '\xbf\\' AS s FROM outside.t -- '", true},
        SessionChangeCase{"SET CHARACTER SET sjis; SELECT 1", true},
        SessionChangeCase{"SET @@session.character_set_client = 'big5'; SELECT 1", true},
        SessionChangeCase{"SET SESSION `sql_mode` = 'ANSI_QUOTES'; SELECT 1", true},
        SessionChangeCase{"SET session_track_system_variables = ''", true},
        SessionChangeCase{"SET @@session_track_schema = OFF", true},
        SessionChangeCase{"SELECT 1; SET session_track_state_change = ON", true},
        // legitimate
        SessionChangeCase{"SET sql_mode = 'ANSI_QUOTES'", false},
        SessionChangeCase{"SET NAMES utf8mb4", false},
        SessionChangeCase{"SELECT 1; SET sql_mode = 'NO_BACKSLASH_ESCAPES'", false},
        SessionChangeCase{"SET @a = 1; SELECT @a", false},
        SessionChangeCase{"SET autocommit = 0; SELECT 1", false},
        SessionChangeCase{"SELECT 'SET NAMES gbk; session_track_schema'", false}));

}  // namespace
}  // namespace djproxy::policy
