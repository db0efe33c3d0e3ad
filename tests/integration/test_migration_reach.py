"""What a migration session still may not do, over the wire, with the server as the oracle
(review of 2026-12-05, round 3, findings F3 and F4; review of 2026-12-06, round 4):

- F3: in a migration the older token reader decides, and it forwarded server-side file
  access: `LOAD_FILE()`, `INTO OUTFILE`/`DUMPFILE`, `LOAD DATA INFILE` without `LOCAL`,
  `DATA DIRECTORY`. The server does these with its own rights wherever secure_file_priv
  lets it (unset here, as on many servers), beyond any prefix. Production now refuses them
  in migrations too (1227, rule server-files) unless `policy.server_files` allows them.
- F4: a stored program created in a migration runs later, at a worker's CALL, with its
  definer's privileges: `SHOW PROCESSLIST`, `KILL`, `SHOW DATABASES` or information_schema
  in its body would show or end every account's threads and list every schema.
- Round 4: a view is such a body too (a DEFINER view over information_schema.PROCESSLIST
  showed a worker every account's running queries); `SET @a = 1, GLOBAL x = ...` set a
  global variable (a later item of the list); `GRANT role TO user IDENTIFIED BY` and
  `GRANT PROXY ON ... IDENTIFIED BY` changed a password; `EXPLAIN FOR CONNECTION` in a
  body showed another account's query; a token's migration outlived the token.
- Round 6: a migration read its statements other than schema changes with the older
  reader, which forwarded `SHOW GRANTS FOR` other accounts (their password hashes),
  `SET sql_log_bin = 0` and `SHOW ENGINE INNODB STATUS`; `EXECUTE` of a schema change
  prepared in a token's migration ran after the token expired; the other table of
  `ALTER TABLE ... EXCHANGE PARTITION ... WITH TABLE` or `CONVERT PARTITION ... TO TABLE`
  escaped the token's scope; with sql_mode '' a GRANT created a password-less account.
- Round 7: a procedure whose body was `CREATE OR REPLACE TABLE` rebuilt a table at each
  later CALL in plain production; a DEFINER named `event` or `user` was read as the object
  kind, so `CREATE DEFINER=event PROCEDURE other_schema.p` escaped the token's scope and the
  migration account's prefix; `ALTER DATABASE backup ...` was read as the current schema's.
- Round 8: words the reader steers by but the server does not reserve (`local`, `value`,
  `quick`, `begin`) were not read as names in schema changes (`DROP TABLE a.t, local` after
  `USE` of another schema, `DROP DATABASE local`); `GRANT PROXY ON djroot TO dj` was read as
  a table's grant; a procedure's body deleted ~lineage rows at each call. Round 9: `window`
  too, which the server reserves only after a table.

The migration account holds ALL ON *.* (FILE, PROCESS, SUPER), as a real one may, so only
the proxy stands in the way; every outcome is checked on the server directly.
"""
import os
import shutil
import tempfile
import time
import unittest

import pymysql

from djproxy_harness import PROXY_BIN, DjproxyProcess
from test_decide_command import admin
from test_dynamic_sql import issue_token, new_key
from test_grants import uid


class MigrationReach(unittest.TestCase):
    def setUp(self):
        if not PROXY_BIN:
            self.skipTest("needs the djproxy binary (DJPROXY_IT_PROXY_BIN)")
        u = uid()
        self.P = f"myproject_r{u}"
        self.mig, self.worker = f"rmig{u}", f"rwrk{u}"
        admin(f"CREATE DATABASE `{self.P}`")
        self.addCleanup(admin, f"DROP DATABASE IF EXISTS `{self.P}`")
        admin(f"CREATE TABLE `{self.P}`.t (v TEXT)")
        admin(f"CREATE USER '{self.mig}'@'%' IDENTIFIED BY 'mpass'")
        admin(f"GRANT ALL ON *.* TO '{self.mig}'@'%' WITH GRANT OPTION")
        # A worker that also holds FILE: the setting, not its grants, is what the proxy reads.
        admin(f"CREATE USER '{self.worker}'@'%' IDENTIFIED BY 'wpass'")
        admin(f"GRANT FILE ON *.* TO '{self.worker}'@'%'")
        admin(f"GRANT ALL ON `{self.P}`.* TO '{self.worker}'@'%'")
        for user in (self.mig, self.worker):
            self.addCleanup(admin, f"DROP USER IF EXISTS '{user}'@'%'")
        admin(f"CREATE ROLE r{self.P}")
        admin(f"GRANT r{self.P} TO '{self.mig}'@'%' WITH ADMIN OPTION")  # what granting a role needs
        self.addCleanup(admin, f"DROP ROLE IF EXISTS r{self.P}")
        self.worker_priv = admin(f"SELECT priv FROM mysql.global_priv WHERE user = '{self.worker}'")
        # The server writes here; a fresh directory that the test removes.
        self.dir = tempfile.mkdtemp(prefix="djproxy_files_")
        os.chmod(self.dir, 0o777)
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.source = os.path.join(self.dir, "source.txt")
        with open(self.source, "w") as f:
            f.write("secret-%s\n" % u)
        os.chmod(self.source, 0o644)
        self.secret = "secret-%s" % u

    def proxy(self, **env):
        settings = {"DJPROXY_POLICY_MODE": "enforce", "DJ_CREATE_TABLES": "false",
                    "DJ_SCHEMA_PREFIX": "myproject_", "DJPROXY_MIGRATION_USERS": self.mig}
        settings.update(env)
        p = DjproxyProcess(settings).start()

        def stop():
            self.assertEqual(p.stop(), "clean", p.log_tail())
        self.addCleanup(stop)
        return p

    def connect(self, p, user, password, multi=False):
        conn = pymysql.connect(host="127.0.0.1", port=p.port, user=user, password=password, autocommit=True,
                               connect_timeout=10, read_timeout=60,
                               client_flag=pymysql.constants.CLIENT.MULTI_STATEMENTS if multi else 0)
        self.addCleanup(conn.close)
        return conn

    def second_schema(self):
        """A schema inside the prefix that a token for self.P does not cover; dropped at the end."""
        Q = self.P + "q"
        admin(f"CREATE DATABASE `{Q}`")
        self.addCleanup(admin, f"DROP DATABASE IF EXISTS `{Q}`")
        return Q

    def token_session(self, schema="myproject_*", ttl="10m", account=None, multi=False, **env):
        """A session in a token's migration, through a proxy with its own key. `account`:
        (user, password), by default the worker's."""
        key = new_key(self.dir)
        user, password = account or (self.worker, "wpass")
        conn = self.connect(self.proxy(DJPROXY_MIGRATION_KEY_FILE=key, **env), user, password, multi)
        with conn.cursor() as c:
            c.execute("SET @djproxy_migration = %s", (issue_token(key, ttl=ttl, schema=schema),))
        return conn

    def refused(self, conn, sql, code):
        with conn.cursor() as c:
            with self.assertRaises(pymysql.MySQLError, msg=sql) as cm:
                c.execute(sql)
        self.assertEqual(cm.exception.args[0], code, (sql, cm.exception.args))
        self.assertTrue(str(cm.exception.args[1]).startswith("djproxy"), cm.exception.args)

    def rows_of_t(self):
        return admin(f"SELECT v FROM `{self.P}`.t")

    def test_server_files_are_refused_in_a_migration(self):
        conn = self.connect(self.proxy(), self.mig, "mpass")
        out = os.path.join(self.dir, "out.txt")
        dump = os.path.join(self.dir, "dump.bin")
        tables = os.path.join(self.dir, "tables")
        for sql in (f"SELECT LOAD_FILE('{self.source}')",
                    f"SELECT `load_file` ('{self.source}')",
                    f"SELECT 1 INTO OUTFILE '{out}'",
                    f"SELECT v FROM `{self.P}`.t INTO DUMPFILE '{dump}'",
                    f"LOAD DATA INFILE '{self.source}' INTO TABLE `{self.P}`.t",
                    f"LOAD DATA /*M!110000 LOCAL*/ INFILE '{self.source}' INTO TABLE `{self.P}`.t",
                    f"INSERT INTO `{self.P}`.t SELECT LOAD_FILE('{self.source}')",
                    f"CREATE TABLE `{self.P}`.d (a INT) DATA DIRECTORY = '{tables}'",
                    f"PREPARE s FROM 'SELECT LOAD_FILE(''{self.source}'')'"):
            self.refused(conn, sql, 1227)
        self.assertFalse(os.path.exists(out))
        self.assertFalse(os.path.exists(dump))
        self.assertFalse(os.path.exists(tables))
        self.assertEqual(self.rows_of_t(), ())
        self.assertEqual(admin(f"SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = '{self.P}'"),
                         ((1,),))
        # The migration itself goes on: schema changes still pass.
        with conn.cursor() as c:
            c.execute(f"CREATE TABLE `{self.P}`.m (a INT)")
        self.assertEqual(admin(f"SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = '{self.P}'"),
                         ((2,),))

    def test_the_setting_lets_server_files_through_inside_the_prefix(self):
        conn = self.connect(self.proxy(DJPROXY_POLICY_SERVER_FILES="true"), self.worker, "wpass")
        out = os.path.join(self.dir, "out.txt")
        with conn.cursor() as c:
            c.execute(f"SELECT LOAD_FILE('{self.source}')")
            self.assertEqual(c.fetchone()[0].decode().strip(), self.secret)
            c.execute(f"LOAD DATA INFILE '{self.source}' INTO TABLE `{self.P}`.t")
            c.execute(f"SELECT v FROM `{self.P}`.t INTO OUTFILE '{out}' FIELDS TERMINATED BY ',' "
                      f"LINES TERMINATED BY '\\n'")
        self.assertEqual(self.rows_of_t(), ((self.secret,),))
        with open(out) as f:
            self.assertEqual(f.read().strip(), self.secret)
        # Still confined: a table outside the prefix is refused before the file is read.
        self.refused(conn, f"LOAD DATA INFILE '{self.source}' INTO TABLE other_schema.t", 1044)

    def test_without_the_setting_a_worker_holding_file_is_refused(self):
        conn = self.connect(self.proxy(), self.worker, "wpass")
        out = os.path.join(self.dir, "out.txt")
        for sql in (f"SELECT LOAD_FILE('{self.source}')",
                    f"SELECT 1 INTO OUTFILE '{out}'",
                    f"LOAD DATA INFILE '{self.source}' INTO TABLE `{self.P}`.t"):
            self.refused(conn, sql, 1227)
        self.assertFalse(os.path.exists(out))
        self.assertEqual(self.rows_of_t(), ())

    def test_a_body_may_not_run_with_its_definers_view(self):
        conn = self.connect(self.proxy(), self.mig, "mpass")
        P = self.P
        for sql in (f"CREATE PROCEDURE `{P}`.p1() SHOW FULL PROCESSLIST",
                    f"CREATE PROCEDURE `{P}`.p2() SQL SECURITY DEFINER SHOW DATABASES",
                    f"CREATE PROCEDURE `{P}`.p3(i BIGINT) KILL QUERY i",
                    f"CREATE PROCEDURE `{P}`.p4() SELECT user, info FROM information_schema.processlist",
                    f"CREATE FUNCTION `{P}`.f1() RETURNS INT RETURN "
                    f"(SELECT COUNT(*) FROM INFORMATION_SCHEMA.SCHEMATA)",
                    f"CREATE EVENT `{P}`.e1 ON SCHEDULE EVERY 1 HOUR DO KILL 1",
                    f"CREATE TRIGGER `{P}`.tr1 BEFORE INSERT ON `{P}`.t FOR EACH ROW "
                    f"SET NEW.v = (SELECT COUNT(*) FROM information_schema.user_privileges)"):
            self.refused(conn, sql, 1235)
        self.assertEqual(admin(f"SELECT COUNT(*) FROM information_schema.routines WHERE routine_schema = '{P}'"),
                         ((0,),))
        self.assertEqual(admin(f"SELECT COUNT(*) FROM information_schema.events WHERE event_schema = '{P}'"),
                         ((0,),))
        self.assertEqual(admin(f"SELECT COUNT(*) FROM information_schema.triggers WHERE trigger_schema = '{P}'"),
                         ((0,),))
        # A body of the project's own rows is created, and a worker's CALL runs it.
        with conn.cursor() as c:
            c.execute(f"CREATE PROCEDURE `{P}`.ok() SELECT COUNT(*) FROM `{P}`.t")
        worker = self.connect(self.proxy(), self.worker, "wpass")
        with worker.cursor() as c:
            c.execute(f"CALL `{P}`.ok()")
            self.assertEqual(c.fetchall(), ((0,),))

    def test_views_set_lists_and_role_grants(self):
        conn = self.connect(self.proxy(), self.mig, "mpass")
        P, W = self.P, self.worker
        for sql in (f"CREATE VIEW `{P}`.v1 AS SELECT id, user, info FROM information_schema.PROCESSLIST",
                    f"CREATE ALGORITHM = MERGE SQL SECURITY DEFINER VIEW `{P}`.v2 AS "
                    f"SELECT * FROM INFORMATION_SCHEMA.USER_PRIVILEGES",
                    f"CREATE PROCEDURE `{P}`.pe() EXPLAIN FORMAT=JSON FOR CONNECTION 1",
                    f"GRANT r{P} TO '{W}'@'%' IDENTIFIED BY 'pwned'",
                    f"GRANT PROXY ON '{self.mig}'@'%' TO '{W}'@'%' IDENTIFIED BY 'pwned'"):
            self.refused(conn, sql, 1235)
        self.assertEqual(admin(f"SELECT COUNT(*) FROM information_schema.views WHERE table_schema = '{P}'"), ((0,),))
        self.assertEqual(admin(f"SELECT COUNT(*) FROM information_schema.routines WHERE routine_schema = '{P}'"),
                         ((0,),))
        connections = admin("SELECT @@global.max_connections")
        log_file = admin("SELECT @@global.general_log_file")
        target = os.path.join(self.dir, "general.log")
        for sql in ("SET @a = 1, GLOBAL max_connections = 7",
                    "SET NAMES utf8mb4, @@global.max_connections = 7",
                    f"SET sql_mode = '', GLOBAL general_log_file = '{target}'",
                    "SET @a = 1, PERSIST max_connections = 7"):
            self.refused(conn, sql, 1227)
        self.assertEqual(admin("SELECT @@global.max_connections"), connections)
        self.assertEqual(admin("SELECT @@global.general_log_file"), log_file)
        self.assertFalse(os.path.exists(target))
        self.assertEqual(admin(f"SELECT priv FROM mysql.global_priv WHERE user = '{W}'"), self.worker_priv)
        # What the migration may do: a view of its own rows, a role granted to an account.
        with conn.cursor() as c:
            c.execute(f"CREATE VIEW `{P}`.ok AS SELECT v FROM `{P}`.t WITH CASCADED CHECK OPTION")
            c.execute(f"GRANT r{P} TO '{W}'@'%'")
        self.assertEqual(admin(f"SELECT COUNT(*) FROM information_schema.views WHERE table_schema = '{P}'"), ((1,),))
        self.assertIn(f"r{P}", " ".join(r[0] for r in admin(f"SHOW GRANTS FOR '{W}'@'%'")))

    def test_a_tokens_migration_ends_when_the_token_expires(self):
        conn = self.token_session(ttl="3s")
        with conn.cursor() as c:
            c.execute(f"CREATE TABLE `{self.P}`.during (a INT)")
        time.sleep(4.2)
        self.refused(conn, f"CREATE TABLE `{self.P}`.after_expiry (a INT)", 1142)
        tables = admin(f"SELECT table_name FROM information_schema.tables WHERE table_schema = '{self.P}' "
                       f"ORDER BY table_name")
        self.assertEqual(tables, (("during",), ("t",)))

    def test_a_tokens_schema_change_is_the_only_statement_of_its_packet(self):
        # Round 5: `DO SLEEP(70); CREATE TABLE ...` sent before the token expired created the
        # table after it; the expiry is checked before each packet, so DDL stands alone.
        conn = self.token_session(multi=True)
        self.refused(conn, f"DO SLEEP(0); CREATE TABLE `{self.P}`.behind (a INT)", 1235)
        self.refused(conn, f"CREATE TABLE `{self.P}`.one (a INT); CREATE TABLE `{self.P}`.two (a INT)", 1235)
        with conn.cursor() as c:
            c.execute(f"CREATE TABLE `{self.P}`.alone (a INT)")
            c.execute("SELECT 1; SELECT 2")
        tables = admin(f"SELECT table_name FROM information_schema.tables WHERE table_schema = '{self.P}' "
                       f"ORDER BY table_name")
        self.assertEqual(tables, (("alone",), ("t",)))

    def test_a_migration_reads_its_other_statements_as_production_does(self):
        conn = self.connect(self.proxy(), self.mig, "mpass")  # ALL ON *.*: only the proxy refuses
        self.refused(conn, "SHOW GRANTS FOR djroot", 1235)
        self.refused(conn, f"SHOW CREATE USER '{self.worker}'@'%'", 1235)
        self.refused(conn, "SET sql_log_bin = 0", 1235)
        self.refused(conn, "SET SESSION server_id = 999", 1235)
        self.refused(conn, "SHOW ENGINE INNODB STATUS", 1235)
        with conn.cursor() as c:
            c.execute("SELECT @@session.sql_log_bin, @@session.server_id = @@global.server_id")
            self.assertEqual(c.fetchone(), (1, 1))
            c.execute("SHOW GRANTS")  # its own
            c.execute("SET foreign_key_checks = 0")
            c.execute(f"CREATE TABLE `{self.P}`.made (a INT)")  # what a migration is for

    def test_a_statement_prepared_in_a_tokens_migration_ends_with_it(self):
        conn = self.token_session(ttl="3s", multi=True)
        with conn.cursor() as c:
            c.execute(f"PREPARE s FROM 'CREATE TABLE `{self.P}`.late (a INT)'")
        # Behind another statement the EXECUTE would run after the expiry checked before it.
        self.refused(conn, "DO SLEEP(0); EXECUTE s", 1235)
        time.sleep(4.2)
        self.refused(conn, "EXECUTE s", 1235)
        self.refused(conn, "EXECUTE s", 1235)
        tables = admin(f"SELECT table_name FROM information_schema.tables WHERE table_schema = '{self.P}'")
        self.assertEqual(tables, (("t",),))

    def test_the_other_table_of_alter_table_is_in_the_tokens_scope(self):
        P, Q = self.P, self.second_schema()
        admin(f"CREATE TABLE `{Q}`.t (id INT PRIMARY KEY, v TEXT)")
        admin(f"INSERT INTO `{Q}`.t VALUES (5, 'q-original')")
        admin(f"CREATE TABLE `{P}`.p (id INT PRIMARY KEY, v TEXT) PARTITION BY RANGE (id) "
              f"(PARTITION p0 VALUES LESS THAN (100), PARTITION p1 VALUES LESS THAN (200))")
        admin(f"INSERT INTO `{P}`.p VALUES (1, 'p-injected')")
        admin(f"CREATE TABLE `{P}`.swap (id INT PRIMARY KEY, v TEXT)")
        admin(f"CREATE EVENT `{P}`.e ON SCHEDULE EVERY 1 DAY DISABLE DO SELECT 1")
        admin(f"GRANT ALL ON `{Q}`.* TO '{self.worker}'@'%'")
        conn = self.token_session(schema=P)
        self.refused(conn, f"ALTER TABLE `{P}`.p EXCHANGE PARTITION p0 WITH TABLE `{Q}`.t", 1142)
        self.refused(conn, f"ALTER TABLE `{P}`.p CONVERT PARTITION p1 TO TABLE `{Q}`.created", 1142)
        self.refused(conn, f"ALTER TABLE `{P}`.p CONVERT TABLE `{Q}`.t TO PARTITION p2 VALUES LESS THAN (300)", 1142)
        self.refused(conn, f"ALTER EVENT `{P}`.e RENAME TO `{Q}`.moved", 1142)
        self.assertEqual(admin(f"SELECT id, v FROM `{Q}`.t"), ((5, "q-original"),))
        self.assertEqual(admin(f"SELECT table_name FROM information_schema.tables WHERE table_schema = '{Q}'"),
                         (("t",),))
        self.assertEqual(admin(f"SELECT event_schema FROM information_schema.events WHERE event_name = 'e' "
                               f"AND event_schema IN ('{P}', '{Q}')"), ((P,),))
        with conn.cursor() as c:  # inside the scope the same statements work
            c.execute(f"ALTER TABLE `{P}`.p EXCHANGE PARTITION p0 WITH TABLE `{P}`.swap")
        self.assertEqual(admin(f"SELECT id, v FROM `{P}`.swap"), ((1, "p-injected"),))

    def test_a_grant_in_a_tokens_migration_creates_no_account(self):
        # Not a migration account here: the token is what authorizes the session.
        conn = self.token_session(account=(self.mig, "mpass"), DJPROXY_MIGRATION_USERS="nobody")
        evil = "evil" + self.mig
        self.addCleanup(admin, f"DROP USER IF EXISTS '{evil}'@'%'")
        with conn.cursor() as c:
            c.execute("SET sql_mode = ''")
        self.refused(conn, f"GRANT SELECT ON `{self.P}`.t TO '{evil}'@'%'", 1227)
        self.assertEqual(admin(f"SELECT COUNT(*) FROM mysql.user WHERE user = '{evil}'"), ((0,),))
        with conn.cursor() as c:
            c.execute("SET sql_mode = 'NO_AUTO_CREATE_USER'")
            c.execute(f"GRANT SELECT ON `{self.P}`.t TO '{self.worker}'@'%'")
            with self.assertRaises(pymysql.MySQLError) as cm:  # the server's own refusal
                c.execute(f"GRANT SELECT ON `{self.P}`.t TO '{evil}'@'%'")
            self.assertFalse(str(cm.exception.args[1]).startswith("djproxy"), cm.exception.args)
        self.assertEqual(admin(f"SELECT COUNT(*) FROM mysql.user WHERE user = '{evil}'"), ((0,),))

    def test_a_body_may_not_change_the_schema_at_each_call(self):
        conn = self.token_session(schema=self.P)
        self.refused(conn, f"CREATE PROCEDURE `{self.P}`.p() CREATE OR REPLACE TABLE `{self.P}`.t (a INT)", 1235)
        self.refused(conn, f"CREATE PROCEDURE `{self.P}`.p() CREATE TEMPORARY TABLE tt (a INT)", 1235)
        self.assertEqual(admin(f"SELECT COUNT(*) FROM information_schema.routines WHERE routine_schema = '{self.P}'"),
                         ((0,),))
        admin(f"INSERT INTO `{self.P}`.t VALUES ('kept')")
        self.assertEqual(self.rows_of_t(), (("kept",),))

    def test_a_definer_is_never_read_as_the_object_kind(self):
        P, Q = self.P, self.second_schema()
        admin(f"GRANT ALL ON `{Q}`.* TO '{self.worker}'@'%'")
        admin(f"CREATE PROCEDURE `{Q}`.p() SELECT 'original'")
        # An account that may name any definer (ALL ON *.*), here a worker with a token.
        worker = self.token_session(schema=P, account=(self.mig, "mpass"), DJPROXY_MIGRATION_USERS="nobody")
        self.refused(worker, f"CREATE OR REPLACE DEFINER=event PROCEDURE `{Q}`.p() SELECT 'replaced'", 1142)
        self.refused(worker, f"CREATE DEFINER=function@localhost FUNCTION `{Q}`.f() RETURNS INT RETURN 42", 1142)
        self.refused(worker, f"ALTER DATABASE `{Q}` COMMENT 'altered'", 1044)
        with worker.cursor() as c:  # inside the scope a keyword-named definer is just a definer
            c.execute(f"CREATE DEFINER=CURRENT_USER PROCEDURE `{P}`.mine() SELECT 1")
        self.assertEqual(admin(f"SELECT routine_schema, routine_name, routine_definition FROM information_schema.routines "
                               f"WHERE routine_schema IN ('{P}', '{Q}') ORDER BY 1, 2"),
                         ((P, "mine", "SELECT 1"), (Q, "p", "SELECT 'original'")))
        # The migration account: schema changes inside the prefix only.
        other = "other" + self.worker
        admin(f"CREATE DATABASE `{other}`")
        self.addCleanup(admin, f"DROP DATABASE IF EXISTS `{other}`")
        admin(f"CREATE TABLE `{other}`.t (v TEXT)")
        mig = self.connect(self.proxy(), self.mig, "mpass")
        self.refused(mig, f"CREATE DEFINER=user TRIGGER `{other}`.tr BEFORE INSERT ON `{other}`.t FOR EACH ROW SET @a = 1",
                     1044)
        self.refused(mig, f"CREATE DEFINER=server PROCEDURE `{other}`.p() SQL SECURITY INVOKER SELECT 1", 1044)
        self.refused(mig, f"CREATE DEFINER=user SQL SECURITY INVOKER VIEW `{other}`.v AS SELECT 1 AS a", 1044)
        self.refused(mig, f"ALTER DATABASE `{other}` CHARACTER SET latin1", 1044)
        self.assertEqual(admin(f"SELECT table_name FROM information_schema.tables WHERE table_schema = '{other}'"),
                         (("t",),))
        self.assertEqual(admin(f"SELECT COUNT(*) FROM information_schema.triggers WHERE trigger_schema = '{other}'"),
                         ((0,),))
        admin(f"INSERT INTO `{other}`.t VALUES ('root writes')")  # no trigger of a missing definer in the way

    def test_a_table_keeps_its_rows_in_itself(self):
        P, Q = self.P, self.second_schema()
        admin(f"CREATE TABLE `{Q}`.m (a INT) ENGINE=MyISAM")
        admin(f"INSERT INTO `{Q}`.m VALUES (7)")
        conn = self.token_session(schema=P)
        # A MERGE table in the scope would write into Q.m, outside it.
        self.refused(conn, f"CREATE TABLE `{P}`.m (a INT) ENGINE=MRG_MyISAM UNION=(`{Q}`.m) INSERT_METHOD=LAST", 1235)
        self.refused(conn, f"CREATE TABLE `{P}`.m (a INT) ENGINE=MRG_MyISAM", 1235)
        with conn.cursor() as c:
            c.execute(f"CREATE TABLE `{P}`.ok (id INT, engine VARCHAR(8), connection TEXT) ENGINE=InnoDB")
        self.assertEqual(admin(f"SELECT table_name FROM information_schema.tables WHERE table_schema = '{P}' "
                               f"ORDER BY 1"), (("ok",), ("t",)))

    def test_unreserved_keywords_are_names_in_a_schema_change(self):
        P, Q = self.P, self.second_schema()
        admin(f"CREATE TABLE `{Q}`.local (a INT)")
        admin(f"CREATE TABLE `{Q}`.quick (a INT)")
        admin(f"CREATE TABLE `{Q}`.window (a INT)")  # reserved after a table, a name here (round 9)
        admin(f"INSERT INTO `{Q}`.quick VALUES (9)")
        admin(f"CREATE TABLE `{P}`.t2 (a INT)")
        admin(f"CREATE TABLE `{P}`.t3 (a INT)")
        admin(f"GRANT ALL ON `{Q}`.* TO '{self.worker}'@'%'")
        conn = self.token_session(schema=P)
        with conn.cursor() as c:
            c.execute(f"USE `{Q}`")  # inside the prefix, outside the token's scope
        self.refused(conn, f"DROP TABLE `{P}`.t2, local", 1142)
        self.refused(conn, f"RENAME TABLE `{P}`.t3 TO value", 1142)
        self.refused(conn, f"ALTER TABLE quick RENAME TO `{P}`.stolen", 1142)
        self.refused(conn, f"DROP TABLE IF EXISTS `{P}`.t2, window", 1142)
        self.assertEqual(admin(f"SELECT table_schema, table_name FROM information_schema.tables "
                               f"WHERE table_schema IN ('{P}', '{Q}') ORDER BY 1, 2"),
                         ((P, "t"), (P, "t2"), (P, "t3"), (Q, "local"), (Q, "quick"), (Q, "window")))
        self.assertEqual(admin(f"SELECT a FROM `{Q}`.quick"), ((9,),))
        # The migration account: a schema named like such a word is outside the prefix.
        admin("CREATE DATABASE IF NOT EXISTS local")
        self.addCleanup(admin, "DROP DATABASE IF EXISTS local")
        mig = self.connect(self.proxy(), self.mig, "mpass")
        self.refused(mig, "DROP DATABASE local", 1044)
        self.refused(mig, "CREATE DATABASE value", 1044)
        self.assertEqual(admin("SELECT schema_name FROM information_schema.schemata "
                               "WHERE schema_name IN ('local', 'value')"), (("local",),))

    def test_grant_proxy_names_an_account_and_bodies_leave_lineage_alone(self):
        conn = self.token_session(schema=self.P, account=(self.mig, "mpass"), DJPROXY_MIGRATION_USERS="nobody")
        with conn.cursor() as c:
            c.execute(f"USE `{self.P}`")
        self.refused(conn, f"GRANT PROXY ON {self.mig} TO {self.worker}", 1044)
        self.refused(conn, f"GRANT PROXY ON `{self.mig}` TO {self.worker} WITH GRANT OPTION", 1044)
        self.assertEqual(admin(f"SELECT COUNT(*) FROM mysql.proxies_priv WHERE user = '{self.worker}'"), ((0,),))
        self.refused(conn, f"CREATE PROCEDURE `{self.P}`.p() DELETE FROM `{self.P}`.`~lineage`", 1235)
        with conn.cursor() as c:
            c.execute(f"CREATE FUNCTION `{self.P}`.f() RETURNS DOUBLE PRECISION DETERMINISTIC RETURN 1")
        self.assertEqual(admin(f"SELECT routine_name FROM information_schema.routines "
                               f"WHERE routine_schema = '{self.P}'"), (("f",),))


if __name__ == "__main__":
    unittest.main()
