// Production policy enforced on the wire, through the libmysqlclient C API: the
// protocol commands other than COM_QUERY (login schema, COM_INIT_DB, COM_CHANGE_USER,
// COM_FIELD_LIST, COM_STMT_PREPARE, COM_SET_OPTION) and statements sent through them.
// The proxy runs with policy.mode=enforce, create_tables=false, prefix myproject_.
// Each rejection is checked on the server directly (as djroot): nothing changed.
#include <gtest/gtest.h>
#include <mysql.h>

#include <random>

#include "it_mysql.hpp"

using namespace djit;

namespace {

constexpr unsigned kDbAccessDenied = 1044;     // ER_DBACCESS_DENIED_ERROR
constexpr unsigned kTableAccessDenied = 1142;  // ER_TABLEACCESS_DENIED_ERROR
constexpr unsigned kNotSupportedYet = 1235;    // fail closed

std::string uid() {
  std::random_device rd;
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08x", rd());
  return buf;
}

bool starts_with(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }

std::string count_of(const std::string& sql) { return admin_scalar(sql); }

bool table_exists(const std::string& schema, const std::string& table) {
  return count_of("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema='" + schema +
                  "' AND table_name='" + table + "'") == "1";
}

class Enforcement : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!through_proxy()) return;
    proxy_ = new DjproxyProcess();
    proxy_->start({{"DJPROXY_POLICY_MODE", "enforce"},
                   {"DJ_CREATE_TABLES", "false"},
                   {"DJ_SCHEMA_PREFIX", "myproject_"},
                   {"DJPROXY_MIGRATION_USERS", "djmigrate"},
                   {"DJPROXY_MIGRATION_KEY", "enforcement-test-key-0123456789abcdef0123456789"}});
  }
  static void TearDownTestSuite() {
    if (!proxy_) return;
    EXPECT_TRUE(proxy_->alive()) << "djproxy died; log:\n" << proxy_->log_tail();
    EXPECT_EQ(proxy_->stop(), "clean") << proxy_->log_tail();
    delete proxy_;
    proxy_ = nullptr;
  }

  void SetUp() override {
    if (!through_proxy()) GTEST_SKIP() << "enforcement needs the djproxy binary";
    const auto u = uid();
    P = "myproject_c" + u;
    O = "outside_c" + u;
    admin_sql("CREATE DATABASE `" + P + "`; CREATE DATABASE `" + O + "`;" + "CREATE TABLE `" + P +
              "`.items (id INT PRIMARY KEY, v VARCHAR(100));" + "INSERT INTO `" + P +
              "`.items VALUES (1,'one'),(2,'two'),(3,'three');" + "CREATE TABLE `" + O +
              "`.t (id INT PRIMARY KEY, v VARCHAR(100));" + "INSERT INTO `" + O + "`.t VALUES (1,'secret')");
  }
  void TearDown() override {
    if (!P.empty()) admin_sql("DROP DATABASE IF EXISTS `" + P + "`; DROP DATABASE IF EXISTS `" + O + "`");
  }

  unsigned port() const { return proxy_->port(); }

  MysqlPtr open(const std::string& user, const std::string& password, const std::string& db,
                unsigned long flags = 0) {
    ConnectOptions o;
    o.user = user;
    o.password = password;
    o.db = db;
    o.flags = flags;
    std::string err;
    auto m = open_mysql(port(), o, &err);
    EXPECT_TRUE(m) << "connect " << user << " db=" << db << ": " << err << "\n" << proxy_->log_tail();
    return m;
  }

  std::string items() { return count_of("SELECT GROUP_CONCAT(id, '=', v ORDER BY id) FROM `" + P + "`.items"); }

  // First column of the first row, through the given connection.
  static std::string value(MYSQL* m, const std::string& sql) {
    if (mysql_real_query(m, sql.data(), sql.size())) return std::string("ERR ") + mysql_error(m);
    MYSQL_RES* r = mysql_store_result(m);
    std::string v = "<no row>";
    if (r) {
      if (MYSQL_ROW row = mysql_fetch_row(r)) v = row[0] ? row[0] : "NULL";
      mysql_free_result(r);
    }
    return v;
  }

  // The proxy rejected `sql` with `code` (its own message), and the session goes on.
  void expect_rejected(MYSQL* m, const std::string& sql, unsigned code) {
    SCOPED_TRACE(sql);
    ASSERT_NE(mysql_real_query(m, sql.data(), sql.size()), 0) << "not rejected\n" << proxy_->log_tail();
    if (MYSQL_RES* r = mysql_store_result(m)) mysql_free_result(r);
    EXPECT_EQ(mysql_errno(m), code) << mysql_error(m);
    EXPECT_TRUE(starts_with(mysql_error(m), "djproxy")) << "not the proxy's error: " << mysql_error(m);
    EXPECT_STREQ(mysql_sqlstate(m), "42000");
    EXPECT_EQ(value(m, "SELECT 1"), "1") << "session unusable after a rejection";
  }

  void expect_ok(MYSQL* m, const std::string& sql) {
    ASSERT_EQ(mysql_real_query(m, sql.data(), sql.size()), 0) << sql << ": " << mysql_error(m) << "\n"
                                                              << proxy_->log_tail();
    do {
      if (MYSQL_RES* r = mysql_store_result(m)) mysql_free_result(r);
    } while (mysql_next_result(m) == 0);
    ASSERT_EQ(mysql_errno(m), 0u) << sql << ": " << mysql_error(m);
  }

  static DjproxyProcess* proxy_;
  std::string P, O;
};

DjproxyProcess* Enforcement::proxy_ = nullptr;

TEST_F(Enforcement, LoginWithSchemaOutsideThePrefixIsRefused) {
  for (const std::string& db : {O, std::string("mysql"), std::string("performance_schema"), std::string("sys")}) {
    SCOPED_TRACE(db);
    ConnectOptions o;
    o.user = "djroot";
    o.password = "djroot";
    o.db = db;
    std::string err;
    unsigned no = 0;
    auto m = open_mysql(port(), o, &err, &no);
    EXPECT_FALSE(m) << "login with db " << db << " accepted";
    EXPECT_EQ(no, kDbAccessDenied) << err;
    EXPECT_NE(err.find("djproxy"), std::string::npos) << err;
  }
  // The prefix, information_schema and no schema at all are fine.
  for (const std::string& db : {P, std::string("information_schema"), std::string()}) {
    auto m = open("djroot", "djroot", db);
    ASSERT_TRUE(m);
    EXPECT_EQ(value(m.get(), "SELECT IFNULL(DATABASE(), '-')"), db.empty() ? "-" : db);
  }
  EXPECT_TRUE(proxy_->alive());
}

TEST_F(Enforcement, InitDbOutsideThePrefixIsRefused) {
  auto m = open("djroot", "djroot", P);
  ASSERT_TRUE(m);
  for (const std::string& db : {O, std::string("mysql"), std::string("sys")}) {
    SCOPED_TRACE(db);
    EXPECT_NE(mysql_select_db(m.get(), db.c_str()), 0) << "COM_INIT_DB " << db << " accepted";
    EXPECT_EQ(mysql_errno(m.get()), kDbAccessDenied) << mysql_error(m.get());
    EXPECT_EQ(value(m.get(), "SELECT DATABASE()"), P);
    // Unqualified names still resolve in P, not in the refused schema.
    EXPECT_EQ(value(m.get(), "SELECT COUNT(*) FROM items"), "3");
  }
  admin_sql("CREATE DATABASE `" + P + "_b`; CREATE TABLE `" + P + "_b`.items (id INT)");
  EXPECT_EQ(mysql_select_db(m.get(), (P + "_b").c_str()), 0) << mysql_error(m.get());
  EXPECT_EQ(value(m.get(), "SELECT COUNT(*) FROM items"), "0");
  admin_sql("DROP DATABASE `" + P + "_b`");
}

TEST_F(Enforcement, ChangeUserChecksTheSchemaAndResetsMigrationState) {
  auto m = open("dj", "djpass", P);
  ASSERT_TRUE(m);
  // To a schema outside the prefix: refused, and the old session goes on.
  EXPECT_NE(mysql_change_user(m.get(), "djroot", "djroot", O.c_str()), 0) << "COM_CHANGE_USER to " << O << " accepted";
  EXPECT_EQ(mysql_errno(m.get()), kDbAccessDenied) << mysql_error(m.get());
  EXPECT_EQ(value(m.get(), "SELECT CONCAT(CURRENT_USER(), ' ', DATABASE())"), "dj@% " + P);
  // A migration user may not go outside either.
  EXPECT_NE(mysql_change_user(m.get(), "djmigrate", "migpass", "mysql"), 0);
  EXPECT_EQ(mysql_errno(m.get()), kDbAccessDenied) << mysql_error(m.get());

  // Becoming the migration user makes it a migration session ...
  ASSERT_EQ(mysql_change_user(m.get(), "djmigrate", "migpass", P.c_str()), 0) << mysql_error(m.get());
  expect_ok(m.get(), "CREATE TABLE `" + P + "`.by_migrator (id INT)");
  EXPECT_TRUE(table_exists(P, "by_migrator"));
  // ... and changing back ends it.
  ASSERT_EQ(mysql_change_user(m.get(), "dj", "djpass", P.c_str()), 0) << mysql_error(m.get());
  expect_rejected(m.get(), "CREATE TABLE `" + P + "`.after_change (id INT)", kTableAccessDenied);
  EXPECT_FALSE(table_exists(P, "after_change"));
  expect_rejected(m.get(), "DROP TABLE `" + P + "`.by_migrator", kTableAccessDenied);
  EXPECT_TRUE(table_exists(P, "by_migrator"));
}

TEST_F(Enforcement, FieldList) {
  auto m = open("dj", "djpass", P);
  ASSERT_TRUE(m);
  MYSQL_RES* r = mysql_list_fields(m.get(), "items", nullptr);  // COM_FIELD_LIST
  ASSERT_TRUE(r) << mysql_error(m.get()) << "\n" << proxy_->log_tail();
  ASSERT_EQ(mysql_num_fields(r), 2u);
  EXPECT_STREQ(mysql_fetch_fields(r)[0].name, "id");
  EXPECT_STREQ(mysql_fetch_fields(r)[1].db, P.c_str());
  mysql_free_result(r);
  // With no current schema COM_FIELD_LIST reaches nothing, inside or out.
  auto n = open("djroot", "djroot", "");
  ASSERT_TRUE(n);
  r = mysql_list_fields(n.get(), "user", nullptr);
  EXPECT_FALSE(r) << "COM_FIELD_LIST without a schema returned fields";
  if (r) mysql_free_result(r);
  EXPECT_EQ(value(n.get(), "SELECT 1"), "1");
}

TEST_F(Enforcement, PreparedStatements) {
  auto m = open("djroot", "djroot", P);
  ASSERT_TRUE(m);
  struct Case {
    std::string sql;
    unsigned code;
  };
  const std::vector<Case> refused = {
      {"DROP TABLE `" + P + "`.items", kTableAccessDenied},
      {"CREATE TABLE `" + P + "`.prep (id INT)", kTableAccessDenied},
      {"ALTER TABLE items ADD COLUMN x INT", kTableAccessDenied},
      {"SELECT v FROM `" + O + "`.t WHERE id = ?", kDbAccessDenied},
      {"SELECT i.v FROM items i JOIN `" + O + "`.t o ON o.id = i.id WHERE i.id = ?", kDbAccessDenied},
      {"INSERT INTO `" + O + "`.t VALUES (?, ?)", kDbAccessDenied},
      {"INSERT INTO items SELECT id + 10, v FROM `" + O + "`.t", kDbAccessDenied},
      {"SELECT * FROM mysql.user", kDbAccessDenied},
      {"CREATE TABLE IF NOT EXISTS `" + P + "`.items (id INT)", kNotSupportedYet},  // proxy-answered: not preparable
  };
  for (const auto& c : refused) {
    SCOPED_TRACE(c.sql);
    MYSQL_STMT* st = mysql_stmt_init(m.get());
    EXPECT_NE(mysql_stmt_prepare(st, c.sql.data(), c.sql.size()), 0) << "prepared\n" << proxy_->log_tail();
    EXPECT_EQ(mysql_stmt_errno(st), c.code) << mysql_stmt_error(st);
    EXPECT_TRUE(starts_with(mysql_stmt_error(st), "djproxy")) << mysql_stmt_error(st);
    mysql_stmt_close(st);
    EXPECT_EQ(value(m.get(), "SELECT 1"), "1");
  }
  EXPECT_TRUE(table_exists(P, "items"));
  EXPECT_FALSE(table_exists(P, "prep"));
  EXPECT_EQ(count_of("SELECT COUNT(*) FROM information_schema.columns WHERE table_schema='" + P + "'"), "2");
  EXPECT_EQ(count_of("SELECT COUNT(*) FROM `" + O + "`.t"), "1");
  EXPECT_EQ(items(), "1=one,2=two,3=three");

  // Allowed: prepared DML inside the prefix, with parameters, executes with its result.
  const std::string ins = "INSERT INTO `" + P + "`.items VALUES (?, ?)";
  MYSQL_STMT* st = mysql_stmt_init(m.get());
  ASSERT_EQ(mysql_stmt_prepare(st, ins.data(), ins.size()), 0) << mysql_stmt_error(st);
  int id = 4;
  std::string v = "four";
  unsigned long vlen = v.size();
  MYSQL_BIND b[2]{};
  b[0].buffer_type = MYSQL_TYPE_LONG;
  b[0].buffer = &id;
  b[1].buffer_type = MYSQL_TYPE_STRING;
  b[1].buffer = v.data();
  b[1].buffer_length = v.size();
  b[1].length = &vlen;
  ASSERT_EQ(mysql_stmt_bind_param(st, b), 0);
  ASSERT_EQ(mysql_stmt_execute(st), 0) << mysql_stmt_error(st);
  EXPECT_EQ(mysql_stmt_affected_rows(st), 1u);
  mysql_stmt_close(st);
  EXPECT_EQ(items(), "1=one,2=two,3=three,4=four");

  const std::string sel = "SELECT v FROM items WHERE id = ?";
  st = mysql_stmt_init(m.get());
  ASSERT_EQ(mysql_stmt_prepare(st, sel.data(), sel.size()), 0) << mysql_stmt_error(st);
  id = 2;
  ASSERT_EQ(mysql_stmt_bind_param(st, b), 0);
  ASSERT_EQ(mysql_stmt_execute(st), 0) << mysql_stmt_error(st);
  char out[64] = {};
  unsigned long outlen = 0;
  MYSQL_BIND rb[1]{};
  rb[0].buffer_type = MYSQL_TYPE_STRING;
  rb[0].buffer = out;
  rb[0].buffer_length = sizeof out;
  rb[0].length = &outlen;
  ASSERT_EQ(mysql_stmt_bind_result(st, rb), 0);
  ASSERT_EQ(mysql_stmt_fetch(st), 0);
  EXPECT_EQ(std::string(out, outlen), "two");
  mysql_stmt_close(st);
}

TEST_F(Enforcement, MultiStatementsWithOneBadStatement) {
  // Multi-statements switched on after login (COM_SET_OPTION), not by the connect flag.
  auto m = open("djroot", "djroot", P);
  ASSERT_TRUE(m);
  ASSERT_EQ(mysql_set_server_option(m.get(), MYSQL_OPTION_MULTI_STATEMENTS_ON), 0) << mysql_error(m.get());
  expect_rejected(m.get(), "INSERT INTO items VALUES (10, 'ten'); DROP TABLE `" + P + "`.items", kTableAccessDenied);
  expect_rejected(m.get(), "UPDATE items SET v = 'x'; SELECT * FROM `" + O + "`.t", kDbAccessDenied);
  expect_rejected(m.get(), "DELETE FROM items WHERE id = 1; USE mysql; SELECT 1", kDbAccessDenied);
  EXPECT_EQ(items(), "1=one,2=two,3=three") << "part of a rejected packet ran";
  EXPECT_TRUE(table_exists(P, "items"));
  expect_ok(m.get(), "INSERT INTO items VALUES (10, 'ten'); UPDATE items SET v = 'TEN' WHERE id = 10");
  EXPECT_EQ(items(), "1=one,2=two,3=three,10=TEN");

  // Switched off again: the server would refuse the packet; either way nothing runs.
  ASSERT_EQ(mysql_set_server_option(m.get(), MYSQL_OPTION_MULTI_STATEMENTS_OFF), 0) << mysql_error(m.get());
  const std::string two = "DELETE FROM items WHERE id = 10; DROP TABLE `" + P + "`.items";
  EXPECT_NE(mysql_real_query(m.get(), two.data(), two.size()), 0);
  EXPECT_TRUE(table_exists(P, "items"));
  EXPECT_EQ(items(), "1=one,2=two,3=three,10=TEN");

  // With the connect flag.
  auto f = open("djroot", "djroot", P, CLIENT_MULTI_STATEMENTS);
  ASSERT_TRUE(f);
  expect_rejected(f.get(), "SELECT 1; /*!50000 DROP TABLE items */", kTableAccessDenied);
  EXPECT_TRUE(table_exists(P, "items"));
  expect_ok(f.get(), "SELECT 1; SELECT 2");
}

TEST_F(Enforcement, SqlModeIsFollowedForPreparedStatements) {
  auto m = open("djroot", "djroot", P);
  ASSERT_TRUE(m);
  const std::string trick = "SELECT 'x\\' , v FROM `" + O + "`.t -- '";
  // Default mode: one string literal.
  MYSQL_STMT* st = mysql_stmt_init(m.get());
  EXPECT_EQ(mysql_stmt_prepare(st, trick.data(), trick.size()), 0) << mysql_stmt_error(st);
  mysql_stmt_close(st);
  expect_ok(m.get(), "SET SESSION sql_mode = 'NO_BACKSLASH_ESCAPES,STRICT_ALL_TABLES'");
  st = mysql_stmt_init(m.get());
  EXPECT_NE(mysql_stmt_prepare(st, trick.data(), trick.size()), 0) << "outside read prepared under NO_BACKSLASH_ESCAPES";
  EXPECT_EQ(mysql_stmt_errno(st), kDbAccessDenied) << mysql_stmt_error(st);
  mysql_stmt_close(st);
  expect_ok(m.get(), "SET @@session.sql_mode = 'ANSI_QUOTES'");
  const std::string ansi = "DELETE FROM \"" + O + "\".\"t\"";
  st = mysql_stmt_init(m.get());
  EXPECT_NE(mysql_stmt_prepare(st, ansi.data(), ansi.size()), 0);
  EXPECT_EQ(mysql_stmt_errno(st), kDbAccessDenied) << mysql_stmt_error(st);
  mysql_stmt_close(st);
  EXPECT_EQ(count_of("SELECT COUNT(*) FROM `" + O + "`.t"), "1");
}

}  // namespace
