"""The reader agrees with the server, on the wire: for every area where djproxy once read a
statement differently from MariaDB, the attack is sent through the proxy as djroot (an
account the server would let do anything) and must be refused with the server unchanged,
and the legitimate statement next to it must work. Production: create_tables=false,
prefix myproject_.
"""
import os
import unittest

import pymysql
import pymysql.constants

import test_enforcement as enf
from test_enforcement import admin, connect, scalar, uid

ER_PARSE_ERROR = 1064


def setUpModule():
    enf.setUpModule()


def tearDownModule():
    enf.tearDownModule()


class Agreement(enf._Base):
    def setUp(self):
        super().setUp()
        P, O = self.P, self.O
        admin(f"CREATE SEQUENCE `{O}`.seq; CREATE SEQUENCE `{P}`.seq;"
              f"CREATE FUNCTION `{O}`.f() RETURNS INT RETURN 7;")
        self.conn = connect(self.port, "djroot", "djroot", database=P)
        self.addCleanup(self.conn.close)

    def refused(self, sql, code=None):
        """Refused by the proxy (any code when None), session still usable."""
        with self.conn.cursor() as c:
            with self.assertRaises(pymysql.MySQLError, msg=f"not refused: {sql[:300]!r}") as cm:
                c.execute(sql)
                c.fetchall()
        err = cm.exception.args
        self.assertTrue(str(err[1]).startswith("djproxy"), f"{sql[:200]!r}: not refused by the proxy: {err!r}")
        if code is not None:
            self.assertEqual(err[0], code, f"{sql[:200]!r} -> {err!r}")
        self.assertEqual(self.rows(self.conn, "SELECT 1"), ((1,),))
        return err

    def test_set_lists_every_item(self):
        before = scalar("SELECT @@global.max_connections")
        for sql in [
            "SET @a = 1, GLOBAL max_connections = 77",
            "SET @a = 1, @@global.max_connections = 77",
            "SET @a = 1, @@GLOBAL.max_connections = 77",
            "SET autocommit = 1, GLOBAL max_connections = 77",
            "SET sql_mode = '', @@global.max_connections = 77",
            "SET @a = 1, session_track_schema = OFF",
            "SET @a = 1, sql_log_bin = 0",
        ]:
            with self.subTest(sql=sql):
                self.refused(sql)
        self.assertEqual(scalar("SELECT @@global.max_connections"), before)
        self.assertEqual(self.rows(self.conn, "SET @a = 1, @b = 2"), ())
        self.assertEqual(self.rows(self.conn, "SELECT @a + @b"), ((3,),))
        self.rows(self.conn, "SET NAMES utf8mb4, autocommit = 1")
        self.rows(self.conn, "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")

    def test_passwords_stay(self):
        user = f"u{uid()}"
        admin(f"CREATE USER '{user}'@'%' IDENTIFIED BY 'pw1'; GRANT SELECT ON `{self.P}`.* TO '{user}'@'%'")
        self.addCleanup(admin, f"DROP USER IF EXISTS '{user}'@'%'")
        digest = lambda: scalar("SELECT MD5(GROUP_CONCAT(priv)) FROM mysql.global_priv WHERE user = %s", (user,))
        before = digest()
        for sql in [
            f"SET @a = 1, PASSWORD FOR '{user}'@'%' = PASSWORD('pw2')",
            f"SET PASSWORD FOR '{user}'@'%' = PASSWORD('pw2')",
            f"SET autocommit = 1, PASSWORD = PASSWORD('pw2')",
        ]:
            with self.subTest(sql=sql):
                self.refused(sql)
        own = connect(self.port, user, "pw1", database=self.P)
        try:
            with own.cursor() as c:
                with self.assertRaises(pymysql.MySQLError) as cm:
                    c.execute("SET PASSWORD = PASSWORD('pw2')")
                self.assertEqual(cm.exception.args[0], enf.ER_DBACCESS_DENIED)
        finally:
            own.close()
        self.assertEqual(digest(), before)

    def test_names_in_every_position(self):
        P, O = self.P, self.O
        seq_before = scalar(f"SELECT next_not_cached_value FROM `{O}`.seq")
        before_out = self.outside_rows()
        for sql in [
            f"WITH `{O}` AS (SELECT 1 AS v) SELECT * FROM `{O}`.t",
            f"SELECT `{O}`.t.v FROM items",
            f"SELECT `{O}`.t.* FROM items",
            f"SELECT NEXTVAL(`{O}`.seq)",
            f"SELECT SETVAL(`{O}`.seq, 1000)",
            f"SELECT NEXT VALUE FOR `{O}`.seq",
            f"SELECT `{O}`.f()",
            f"SELECT * FROM (SELECT * FROM `{O}`.t) AS `{P}`",
            f"SELECT * FROM items AS x WHERE id = ANY (SELECT id FROM `{O}`.t)",
            f"SELECT * FROM JSON_TABLE((SELECT v FROM `{O}`.t LIMIT 1), '$' COLUMNS (x TEXT PATH '$')) AS j",
            f"UPDATE items, `{O}`.t SET `{O}`.t.v = 'hacked'",
            f"DELETE x FROM `{O}`.t AS x JOIN items AS y ON x.id = y.id",
            f"INSERT INTO items VALUES (50, 'x') ON DUPLICATE KEY UPDATE v = (SELECT v FROM `{O}`.t LIMIT 1)",
            f"SELECT * FROM items WINDOW w AS (PARTITION BY (SELECT v FROM `{O}`.t LIMIT 1))",
            f"LOCK TABLES items READ, `{O}`.t WRITE",
            f"CREATE TEMPORARY TABLE tt AS SELECT * FROM `{O}`.t",
        ]:
            with self.subTest(sql=sql):
                self.refused(sql, enf.ER_DBACCESS_DENIED)
        self.assertEqual(scalar(f"SELECT next_not_cached_value FROM `{O}`.seq"), seq_before)
        self.assertEqual(self.outside_rows(), before_out)
        # the same shapes inside the prefix, and aliases named like other schemas
        self.assertEqual(self.rows(self.conn, f"SELECT NEXTVAL(`{P}`.seq)"), ((1,),))
        self.assertEqual(self.rows(self.conn, f"SELECT `{O}`.v FROM items AS `{O}` WHERE `{O}`.id = 1"), (("one",),))
        self.assertEqual(self.rows(self.conn, f"WITH `{O}` AS (SELECT 5 AS v) SELECT v FROM `{O}`"), ((5,),))
        self.assertEqual(
            self.rows(self.conn, "SELECT j.x FROM JSON_TABLE('[1,2]', '$[*]' COLUMNS (x INT PATH '$')) AS j"),
            ((1,), (2,)))
        self.assertEqual(self.rows(self.conn, "SELECT GROUP_CONCAT(DISTINCT v ORDER BY id DESC SEPARATOR '|'), "
                                              "CAST(COUNT(*) AS CHAR) FROM items"), (("three|two|one", "3"),))

    def test_a_failed_set_list_does_not_hide_a_mode_change(self):
        """MariaDB applies a SET list's items in order; an item that fails afterwards
        answers ERR and the earlier sql_mode assignment stays (review of 2026-12-04)."""
        O = self.O
        conn = connect(self.port, "djroot", "djroot", database=self.P, autocommit=False,
                       client_flag=pymysql.constants.CLIENT.MULTI_STATEMENTS)
        self.addCleanup(conn.close)
        with conn.cursor() as c:
            c.execute("XA START 'djproxy-x'")
            with self.assertRaises(pymysql.MySQLError) as cm:
                c.execute("SET sql_mode = 'NO_BACKSLASH_ESCAPES', autocommit = 1")
            self.assertEqual(cm.exception.args[0], 1399, "the server's own error (XAER_RMFAIL)")
            c.execute("XA END 'djproxy-x'")
            c.execute("XA ROLLBACK 'djproxy-x'")
            c.execute("SELECT @@session.sql_mode")
            self.assertIn("NO_BACKSLASH_ESCAPES", c.fetchall()[0][0], "the server kept the new sql_mode")
            leak = "SELECT 'a\\' , (SELECT v FROM `" + O + "`.t LIMIT 1) -- '"
            with self.assertRaises(pymysql.MySQLError) as cm:
                c.execute(leak)
                self.fail(f"forwarded: {c.fetchall()!r}")
            self.assertEqual(cm.exception.args[0], enf.ER_DBACCESS_DENIED, repr(cm.exception.args))

    def test_a_later_names_item_ends_its_packet(self):
        conn = connect(self.port, "djroot", "djroot", database=self.P,
                       client_flag=pymysql.constants.CLIENT.MULTI_STATEMENTS)
        self.addCleanup(conn.close)
        with conn.cursor() as c:
            with self.assertRaises(pymysql.MySQLError) as cm:
                c.execute("SET @a = 1, NAMES gbk; SELECT 1")
            self.assertEqual(cm.exception.args[0], enf.ER_NOT_SUPPORTED_YET, repr(cm.exception.args))
            c.execute("SET @a = 1, NAMES utf8mb4")
            c.execute("SELECT @@character_set_client")
            self.assertEqual(c.fetchall(), (("utf8mb4",),))

    def test_prepared_mode_change_refused(self):
        self.refused("PREPARE s FROM 'SET sql_mode=''NO_BACKSLASH_ESCAPES'''", enf.ER_NOT_SUPPORTED_YET)
        self.refused("PREPARE s FROM 'SET NAMES gbk'", enf.ER_NOT_SUPPORTED_YET)
        self.rows(self.conn, "PREPARE s FROM 'SELECT 1'")
        self.assertEqual(self.rows(self.conn, "EXECUTE s"), ((1,),))

    def test_lineage_rows_of_user_tables_stay(self):
        P = self.P
        admin(f"CREATE TABLE `{P}`.`~lineage` (table_name VARCHAR(64), attribute_name VARCHAR(64), "
              f"lineage VARCHAR(255), PRIMARY KEY (table_name, attribute_name));"
              f"INSERT INTO `{P}`.`~lineage` VALUES ('subject', 'id', 'orig'), ('~~jobs', 'id', 'orig')")
        before = admin(f"SELECT * FROM `{P}`.`~lineage` WHERE table_name = 'subject'")
        for sql in [f"UPDATE `{P}`.`~lineage` SET lineage = 'corrupted' WHERE table_name = 'subject'",
                    f"UPDATE `{P}`.`~lineage` SET table_name = '~gone' WHERE table_name = 'subject'",
                    f"REPLACE INTO `{P}`.`~lineage` VALUES ('subject', 'id', 'replaced')",
                    f"INSERT INTO `{P}`.`~lineage` VALUES ('subject', 'id', 'x') ON DUPLICATE KEY UPDATE lineage = 'x'"]:
            with self.subTest(sql=sql):
                self.refused(sql, enf.ER_TABLEACCESS_DENIED)
        self.assertEqual(admin(f"SELECT * FROM `{P}`.`~lineage` WHERE table_name = 'subject'"), before)
        self.rows(self.conn, f"INSERT INTO `{P}`.`~lineage` VALUES ('~~jobs', 'id', 'new') "
                             f"ON DUPLICATE KEY UPDATE lineage = VALUES(lineage)")
        self.assertEqual(scalar(f"SELECT lineage FROM `{P}`.`~lineage` WHERE table_name = '~~jobs'"), "new")

    def test_upsert_cannot_rename_a_bookkeeping_row(self):
        """Review round 38: ON DUPLICATE KEY UPDATE that sets table_name to anything but
        VALUES(table_name) turns a bookkeeping row into a user table's lineage, however the
        column is written; the server renames the row in each case below."""
        P = self.P
        admin(f"CREATE TABLE `{P}`.`~lineage` (table_name VARCHAR(64), attribute_name VARCHAR(64), "
              f"lineage VARCHAR(255), PRIMARY KEY (table_name, attribute_name));"
              f"INSERT INTO `{P}`.`~lineage` VALUES ('~~jobs', 'id', 'orig')")
        row = f"INSERT INTO `{P}`.`~lineage` VALUES ('~~jobs', 'id', 'x') ON DUPLICATE KEY UPDATE "
        for update in ["table_name = 'subject'",
                       "`~lineage`.table_name = 'subject', lineage = 'x'",
                       f"`{P}`.`~lineage`.table_name = 'subject'",
                       "TABLE_NAME := 'subject', lineage = 'x'",
                       "lineage = 'x', table_name = CONCAT('sub', 'ject')",
                       "table_name = VALUES(lineage)"]:
            with self.subTest(update=update):
                self.refused(row + update, enf.ER_TABLEACCESS_DENIED)
        self.assertEqual(admin(f"SELECT * FROM `{P}`.`~lineage`"), (("~~jobs", "id", "orig"),))
        self.rows(self.conn, row + "lineage = 'kept', `TABLE_NAME` = VALUES(`table_name`)")
        self.assertEqual(admin(f"SELECT * FROM `{P}`.`~lineage`"), (("~~jobs", "id", "kept"),))

    def test_no_write_makes_or_changes_a_user_tables_lineage_row(self):
        """Review round 38: a REPLACE or upsert whose rows pass a chunk of 4,096 tokens (a user
        table's row first) overwrote that row; an UPDATE renamed a bookkeeping row into a user
        table's; an INSERT added one. The server did each; the proxy now refuses them all."""
        P = self.P
        admin(f"CREATE TABLE `{P}`.`~lineage` (table_name VARCHAR(64), attribute_name VARCHAR(64), "
              f"lineage VARCHAR(255), PRIMARY KEY (table_name, attribute_name));"
              f"INSERT INTO `{P}`.`~lineage` VALUES ('subject', 'id', 'orig'), ('~jobs', 'k', 'orig')")
        before = admin(f"SELECT * FROM `{P}`.`~lineage` ORDER BY table_name")
        pad = "".join(f", ('~pad', 'a{i}', 'x')" for i in range(600))
        for sql in [f"REPLACE INTO `{P}`.`~lineage` VALUES ('subject', 'id', 'PWNED'){pad}",
                    f"INSERT INTO `{P}`.`~lineage` VALUES ('subject', 'id', 'PWNED'){pad} "
                    f"ON DUPLICATE KEY UPDATE lineage = VALUES(lineage)",
                    f"UPDATE `{P}`.`~lineage` SET table_name = 'subject', attribute_name = 'name' "
                    f"WHERE table_name = '~jobs'",
                    f"INSERT INTO `{P}`.`~lineage` VALUES ('subject', 'ghost', 'FORGED')",
                    f"INSERT IGNORE INTO `{P}`.`~lineage` VALUES ('~jobs', 'k2', 'x'), ('subject', 'ghost', 'FORGED')"]:
            with self.subTest(sql=sql[:120]):
                self.refused(sql, enf.ER_TABLEACCESS_DENIED)
        self.assertEqual(admin(f"SELECT * FROM `{P}`.`~lineage` ORDER BY table_name"), before)
        # Bookkeeping rows stay writable, DataJoint's way.
        self.rows(self.conn, f"INSERT INTO `{P}`.`~lineage` VALUES ('~~summary', 'id', 'new') "
                             f"ON DUPLICATE KEY UPDATE table_name = VALUES(table_name), lineage = VALUES(lineage)")
        self.rows(self.conn, f"UPDATE `{P}`.`~lineage` SET table_name = '~renamed' WHERE table_name = '~jobs'")
        self.assertEqual(admin(f"SELECT table_name, lineage FROM `{P}`.`~lineage` ORDER BY table_name"),
                         (("subject", "orig"), ("~renamed", "orig"), ("~~summary", "new")))

    def test_lineage_writes_wait_for_one_character_set(self):
        """Review round 39: with character_set_connection swe7, which has no '~', the server
        stored the bookkeeping row '~subject' as '?subject'. While the two sets differ, no
        write of ~lineage goes outside a migration; reads do."""
        P = self.P
        admin(f"CREATE TABLE `{P}`.`~lineage` (table_name VARCHAR(64), attribute_name VARCHAR(64), "
              f"lineage VARCHAR(255), PRIMARY KEY (table_name, attribute_name))")
        conn = connect(self.port, "djroot", "djroot", database=P, charset="latin1")
        self.addCleanup(conn.close)
        with conn.cursor() as c:
            c.execute("SET character_set_connection = swe7")
            for sql in [f"INSERT INTO `{P}`.`~lineage` VALUES ('~subject', 'subject_id', 'forged')",
                        f"REPLACE INTO `{P}`.`~lineage` VALUES ('~session', 'session_id', 'forged')"]:
                with self.subTest(sql=sql):
                    with self.assertRaises(pymysql.MySQLError) as cm:
                        c.execute(sql)
                    self.assertEqual(cm.exception.args[0], enf.ER_NOT_SUPPORTED_YET, cm.exception.args)
            c.execute(f"SELECT COUNT(*) FROM `{P}`.`~lineage` WHERE table_name = '~subject'")
            self.assertEqual(c.fetchall(), ((0,),))
            c.execute("SET NAMES latin1")
            c.execute(f"INSERT INTO `{P}`.`~lineage` VALUES ('~subject', 'subject_id', 'x')")
        self.assertEqual(admin(f"SELECT table_name FROM `{P}`.`~lineage`"), (("~subject",),))

    def test_storage_engines_stay_the_servers(self):
        for sql in ["SET default_storage_engine = CSV", "SET storage_engine = MRG_MyISAM",
                    "SET default_tmp_storage_engine = MRG_MyISAM",
                    f"CREATE TABLE IF NOT EXISTS `{self.P}`.`~bk` (id INT, FOREIGN KEY (id) REFERENCES items (id))"]:
            with self.subTest(sql=sql):
                self.refused(sql)
        self.assertFalse(enf.table_exists(self.P, "~bk"))

    def test_odbc_escapes_refused(self):
        for sql in ["SELECT { d '2024-01-01' }", "SELECT * FROM { OJ items }",
                    f"SELECT * FROM {{ OJ `{self.O}`.t }}"]:
            with self.subTest(sql=sql):
                self.refused(sql)

    def test_server_files(self):
        path = f"/tmp/djproxy-agreement-{uid()}"
        for sql in [f"SELECT 1 INTO OUTFILE '{path}'", f"SELECT v FROM items INTO DUMPFILE '{path}'",
                    "SELECT LOAD_FILE('/etc/hostname')", "SELECT load_file ('/etc/hostname')",
                    "LOAD DATA INFILE '/etc/hostname' INTO TABLE items"]:
            with self.subTest(sql=sql):
                # A rule of its own (server-files), named in the message; 1235 is for what is not read.
                err = self.refused(sql, enf.ER_SPECIFIC_ACCESS_DENIED)
                self.assertIn("policy.server_files", err[1])
        self.assertFalse(os.path.exists(path))

    def test_account_secrets(self):
        for sql in ["SHOW CREATE USER djroot", "SHOW GRANTS FOR 'djroot'@'%'", "SHOW GRANTS FOR dj"]:
            with self.subTest(sql=sql):
                self.refused(sql, enf.ER_NOT_SUPPORTED_YET)
        self.assertTrue(self.rows(self.conn, "SHOW GRANTS"))
        self.assertTrue(self.rows(self.conn, "SHOW GRANTS FOR CURRENT_USER()"))

    def test_functions_are_built_ins(self):
        self.refused("SELECT sys_exec('id')", enf.ER_NOT_SUPPORTED_YET)
        self.assertEqual(self.rows(self.conn, "SELECT CONCAT('a', 'b'), IFNULL(NULL, 2)"), (("ab", 2),))

    def test_syntax_errors_answered_like_the_server(self):
        for sql in ["SELEC 1", "SELECT 1 FROM", "INSERT INTO items"]:
            with self.subTest(sql=sql):
                err = self.refused(sql, ER_PARSE_ERROR)
                self.assertIn("near", err[1])
        direct = enf.admin_conn()
        try:
            with direct.cursor() as c:
                with self.assertRaises(pymysql.err.ProgrammingError):
                    c.execute("SELEC 1")
        finally:
            direct.close()
        with self.conn.cursor() as c:
            with self.assertRaises(pymysql.err.ProgrammingError):  # the same class as direct
                c.execute("SELEC 1")


if __name__ == "__main__":
    unittest.main()
