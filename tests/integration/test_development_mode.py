"""Development mode's schema rule on the wire (issue 16, item 6): pymysql as djroot, an
account the server lets do anything, so only the proxy stands in the way.

- development mode, no prefix: the proxy confines nothing (`USE mysql` works, as
  mariadb-test's start-up probe needs);
- development mode with a prefix: system schemas are outside the prefix;
- production: system schemas are refused, prefix or not;
- development mode, no prefix: what the reader cannot read is forwarded too (MariaDB's
  own test suite sends stored-program bodies, SET STATEMENT, @@local, ODBC escapes and
  eight-digit executable comments), and answers as directly; with a prefix it is refused.
"""
import unittest

import pymysql

from djproxy_harness import DjproxyProcess, db_port, through_proxy

ER_DBACCESS_DENIED = 1044


def connect(port):
    return pymysql.connect(host="127.0.0.1", port=port, user="djroot", password="djroot",
                           autocommit=True, connect_timeout=10, read_timeout=60)


class DevelopmentModeSchemas(unittest.TestCase):
    def setUp(self):
        if not through_proxy():
            self.skipTest("needs the djproxy binary (DJPROXY_IT_PROXY_BIN)")

    def proxy(self, env):
        env = dict({"DJPROXY_POLICY_MODE": "enforce"}, **env)
        p = DjproxyProcess(env).start()

        def stop():
            how = p.stop()
            self.assertEqual(how, "clean", p.log_tail())
        self.addCleanup(stop)
        return p

    def refused(self, port, sql):
        conn = connect(port)
        try:
            with conn.cursor() as c:
                with self.assertRaises(pymysql.MySQLError, msg=sql) as cm:
                    c.execute(sql)
            self.assertEqual(cm.exception.args[0], ER_DBACCESS_DENIED, cm.exception.args)
            self.assertTrue(str(cm.exception.args[1]).startswith("djproxy"), cm.exception.args)
        finally:
            conn.close()

    def test_no_prefix_confines_nothing(self):
        p = self.proxy({"DJ_CREATE_TABLES": "true", "DJ_SCHEMA_PREFIX": ""})
        conn = connect(p.port)
        try:
            with conn.cursor() as c:
                c.execute("USE mysql")
                c.execute("SELECT DATABASE()")
                self.assertEqual(c.fetchall(), (("mysql",),))
                c.execute("SELECT COUNT(*) > 0 FROM user")
                self.assertEqual(c.fetchall(), ((1,),))
                c.execute("SELECT COUNT(*) >= 0 FROM performance_schema.threads")
                self.assertEqual(c.fetchall(), ((1,),))
        finally:
            conn.close()

    def test_prefix_keeps_system_schemas_outside(self):
        p = self.proxy({"DJ_CREATE_TABLES": "true", "DJ_SCHEMA_PREFIX": "myproject_"})
        self.refused(p.port, "USE mysql")
        self.refused(p.port, "SELECT * FROM mysql.user")

    # Each was refused (1235 or 1064) in development mode with no prefix before, and broke
    # 36 of 79 of mariadb-test's main suite through the proxy (scripts/mtr/full.list).
    UNREADABLE = [
        "SET STATEMENT max_statement_time=10 FOR SELECT 1",
        "SELECT @@local.autocommit",
        "SELECT {fn CONCAT('a', 'b')}",
        "SELECT 1 /*!952301 , 2*/",
        "SELECT 5 ^ 3",
        "BEGIN NOT ATOMIC DECLARE x INT DEFAULT 7; SELECT x; END",
        "PREPARE s FROM @q",
    ]

    def results(self, port):
        out = []
        conn = connect(port)
        try:
            with conn.cursor() as c:
                c.execute("SET @q = 'SELECT 42'")
                for sql in self.UNREADABLE:
                    try:
                        c.execute(sql)
                        out.append((sql, c.fetchall()))
                    except pymysql.MySQLError as e:
                        out.append((sql, ("error", e.args[0])))
                c.execute("EXECUTE s")
                out.append(("EXECUTE s", c.fetchall()))
        finally:
            conn.close()
        return out

    def test_no_prefix_forwards_what_the_reader_cannot_read(self):
        direct = self.results(db_port())  # the server itself: the reference answers
        for sql, answer in direct:
            self.assertNotEqual(answer[:1], ("error",), f"directly: {sql}: {answer}")
        p = self.proxy({"DJ_CREATE_TABLES": "true", "DJ_SCHEMA_PREFIX": ""})
        self.assertEqual(self.results(p.port), direct)

    def test_prefix_refuses_what_the_reader_cannot_read(self):
        p = self.proxy({"DJ_CREATE_TABLES": "true", "DJ_SCHEMA_PREFIX": "myproject_"})
        conn = connect(p.port)
        try:
            with conn.cursor() as c:
                with self.assertRaises(pymysql.MySQLError) as cm:
                    c.execute("BEGIN NOT ATOMIC SELECT * FROM mysql.user; END")
                self.assertIn(cm.exception.args[0], (1064, 1235, 1044), cm.exception.args)
                self.assertTrue(str(cm.exception.args[1]).startswith("djproxy"), cm.exception.args)
        finally:
            conn.close()

    def test_procedure_result_with_an_open_cursor_then_its_error(self):
        # mariadb-test's main.signal through the proxy: the result set's EOF carries
        # SERVER_STATUS_CURSOR_EXISTS while the procedure holds a cursor, and the proxy
        # took the response as ended; the ERR after it then closed the session (2013).
        # Made by the DBA directly, called through production.
        direct = pymysql.connect(host="127.0.0.1", port=db_port(), user="djroot", password="djroot",
                                 autocommit=True)
        try:
            with direct.cursor() as c:
                c.execute("CREATE DATABASE IF NOT EXISTS myproject_devcursor")
                c.execute("CREATE TABLE IF NOT EXISTS myproject_devcursor.empty_t (a int)")
                c.execute("DROP PROCEDURE IF EXISTS myproject_devcursor.resignal_p")
                c.execute("""CREATE PROCEDURE myproject_devcursor.resignal_p()
                    BEGIN
                      DECLARE x integer;
                      DECLARE c CURSOR FOR SELECT a FROM myproject_devcursor.empty_t;
                      DECLARE CONTINUE HANDLER FOR NOT FOUND
                      BEGIN
                        SELECT 'before RESIGNAL';
                        RESIGNAL;
                      END;
                      OPEN c;
                      FETCH c INTO x;
                      CLOSE c;
                    END""")
        finally:
            direct.close()
        self.addCleanup(lambda: pymysql.connect(host="127.0.0.1", port=db_port(), user="djroot",
                                                password="djroot").cursor().execute(
                                                    "DROP DATABASE IF EXISTS myproject_devcursor"))
        p = self.proxy({"DJ_CREATE_TABLES": "false", "DJ_SCHEMA_PREFIX": "myproject_"})
        conn = connect(p.port)
        try:
            with conn.cursor() as c:
                c.execute("CALL myproject_devcursor.resignal_p()")
                self.assertEqual(c.fetchall(), (("before RESIGNAL",),))
                with self.assertRaises(pymysql.MySQLError) as cm:
                    c.nextset()
                self.assertEqual(cm.exception.args[0], 1329, cm.exception.args)  # ER_SP_FETCH_NO_DATA
                c.execute("SELECT 2")  # the session lives on
                self.assertEqual(c.fetchall(), ((2,),))
        finally:
            conn.close()

    def test_production_refuses_system_schemas_without_prefix(self):
        p = self.proxy({"DJ_CREATE_TABLES": "false", "DJ_SCHEMA_PREFIX": ""})
        self.refused(p.port, "USE mysql")
        self.refused(p.port, "SELECT * FROM sys.version")


if __name__ == "__main__":
    unittest.main()
