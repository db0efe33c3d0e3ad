"""Dynamic SQL and the migration token on the wire, the review of 2026-12-05 kept as tests:

- EXECUTE of a statement name runs only what djproxy read being prepared in this
  session: a stored procedure can PREPARE any name, and once it returns the name is the
  session's (a CREATE TABLE outside the prefix went through as `CALL p(); EXECUTE s`);
- a statement prepared in a migration session does not run after it ends;
- development mode with a prefix refuses stored programs whose bodies hold dynamic
  SQL (production would run whatever text each later CALL passes them);
- a refused statement that may carry a migration token leaves neither its text, nor its
  digest, nor a reason quoting it in the audit log or the operational log, and is refused
  in a dry run too (the server never has it).

And the second round of that review:
- a PREPARE counts only once the server ran it: not after a failing statement of its
  packet, and a CALL forgets every name even when it fails;
- a stored program's body is read as the statement it is, so one that reaches another
  schema, accounts, globals or the server's files is refused when it is created;
- a token named past the part of a streamed statement that djproxy keeps is withheld.

Attacks run as djroot, an account the server lets do anything, so only the proxy stands
in the way; every refusal is checked on the server directly.
"""
import json
import os
import random
import secrets
import subprocess
import tempfile
import unittest

import pymysql
from pymysql.constants import CLIENT

import raw_protocol
from djproxy_harness import LOG_DIR, PROXY_BIN, DjproxyProcess
from test_decide_command import admin

ER_NOT_SUPPORTED_YET = 1235
ER_UNKNOWN_STMT_HANDLER = 1243


def uid():
    return "%08x" % random.SystemRandom().getrandbits(32)


def table_exists(schema, table):
    return admin(f"SELECT COUNT(*) FROM information_schema.tables WHERE table_schema='{schema}' "
                 f"AND table_name='{table}'")[0][0] == 1


def routine_exists(schema, name):
    return admin(f"SELECT COUNT(*) FROM information_schema.routines WHERE routine_schema='{schema}' "
                 f"AND routine_name='{name}'")[0][0] == 1


def connect(port, **kw):
    return pymysql.connect(host="127.0.0.1", port=port, user="djroot", password="djroot", autocommit=True,
                           connect_timeout=10, read_timeout=60, **kw)


def new_key(directory):
    key = os.path.join(directory, "key")
    with open(key, "w") as f:
        f.write(secrets.token_hex(24))
    return key


def issue_token(key, ttl="10m", schema="myproject_*"):
    env = {k: v for k, v in os.environ.items() if not (k.startswith("DJ_") or k.startswith("DJPROXY_"))}
    env.update({"DJ_SCHEMA_PREFIX": "myproject_", "DJPROXY_MIGRATION_KEY_FILE": key, "DJ_CREATE_TABLES": "false"})
    out = subprocess.run([PROXY_BIN, "token", "issue", "--ttl", ttl, "--schema", schema], env=env,
                         cwd=LOG_DIR, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout.strip().splitlines()[-1].strip()


class _Base(unittest.TestCase):
    def setUp(self):
        if not PROXY_BIN:
            self.skipTest("needs the djproxy binary (DJPROXY_IT_PROXY_BIN)")
        self.P = f"myproject_dy{uid()}"
        self.O = f"other_dy{uid()}"
        for s in (self.P, self.O):
            admin(f"CREATE DATABASE `{s}`")
            self.addCleanup(admin, f"DROP DATABASE IF EXISTS `{s}`")
        self.tmp = tempfile.TemporaryDirectory(prefix="djproxy-dy-")
        self.addCleanup(self.tmp.cleanup)

    def proxy(self, env):
        p = DjproxyProcess(dict({"DJPROXY_POLICY_MODE": "enforce"}, **env)).start()

        def stop():
            self.assertEqual(p.stop(), "clean", p.log_tail())
        self.addCleanup(stop)
        return p

    def refused(self, conn, sql, code=ER_NOT_SUPPORTED_YET):
        with conn.cursor() as c:
            with self.assertRaises(pymysql.MySQLError, msg=sql) as cm:
                c.execute(sql)
        self.assertEqual(cm.exception.args[0], code, cm.exception.args)
        self.assertTrue(str(cm.exception.args[1]).startswith("djproxy"), cm.exception.args)
        return cm.exception.args

    def scalar(self, conn, sql):
        with conn.cursor() as c:
            c.execute(sql)
            return c.fetchall()[0][0]


class StatementNames(_Base):
    def setUp(self):
        super().setUp()
        # What a DBA or an earlier migration left in the prefix: a procedure that prepares.
        admin(f"CREATE PROCEDURE `{self.P}`.prep() PREPARE s FROM 'CREATE TABLE `{self.O}`.pwn (a INT)'")
        self.key = key = new_key(self.tmp.name)
        self.port = self.proxy({"DJ_CREATE_TABLES": "false", "DJ_SCHEMA_PREFIX": "myproject_",
                                "DJPROXY_MIGRATION_KEY_FILE": key}).port

    def test_execute_of_a_name_a_procedure_prepared(self):
        conn = connect(self.port, database=self.P)
        self.addCleanup(conn.close)
        with conn.cursor() as c:
            c.execute("CALL prep()")
        for execute in ("EXECUTE s", "EXECUTE S", "EXECUTE `s`"):
            args = self.refused(conn, execute)
            self.assertIn("was not prepared in this session", args[1])
        self.assertFalse(table_exists(self.O, "pwn"))

    def test_a_call_forgets_names_prepared_before_it(self):
        conn = connect(self.port, database=self.P, client_flag=CLIENT.MULTI_STATEMENTS)
        self.addCleanup(conn.close)
        with conn.cursor() as c:
            c.execute("PREPARE s FROM 'SELECT 1'")
            c.execute("CALL prep()")
        self.refused(conn, "EXECUTE s")
        # In one packet, in order, the same.
        self.refused(conn, "PREPARE s FROM 'SELECT 1'; CALL prep(); EXECUTE s")
        # A CALL run by EXECUTE IMMEDIATE, or by a prepared CALL, forgets them too.
        with conn.cursor() as c:
            c.execute("PREPARE s FROM 'SELECT 1'")
            c.execute("EXECUTE IMMEDIATE 'CALL prep()'")
        self.refused(conn, "EXECUTE s")
        with conn.cursor() as c:
            c.execute("PREPARE c FROM 'CALL prep()'")
            c.execute("PREPARE s FROM 'SELECT 1'")
            c.execute("EXECUTE c")
        self.refused(conn, "EXECUTE s")
        self.assertFalse(table_exists(self.O, "pwn"))

    def test_a_binary_prepared_call_forgets_them(self):
        conn = connect(self.port, database=self.P)
        self.addCleanup(conn.close)
        with conn.cursor() as c:
            c.execute("PREPARE s FROM 'SELECT 1'")
        call = raw_protocol.prepare(conn, "CALL prep()")
        self.assertEqual(raw_protocol.execute(conn, call), 0)
        self.refused(conn, "EXECUTE s")
        self.assertFalse(table_exists(self.O, "pwn"))

    def test_what_the_session_prepared_itself_runs(self):
        conn = connect(self.port, database=self.P, client_flag=CLIENT.MULTI_STATEMENTS)
        self.addCleanup(conn.close)
        with conn.cursor() as c:
            c.execute("PREPARE Twice FROM 'SELECT ? * 2'")
            c.execute("SET @a = 21")
            c.execute("EXECUTE twice USING @a")
            self.assertEqual(c.fetchall(), ((42,),))
            c.execute("EXECUTE `TWICE` USING 5")
            self.assertEqual(c.fetchall(), ((10,),))
            c.execute("PREPARE one FROM 'SELECT 1'; EXECUTE one")
            c.nextset()
            self.assertEqual(c.fetchall(), ((1,),))
            c.execute("DEALLOCATE PREPARE twice")
        # Deallocated, the server answers as it would directly.
        with conn.cursor() as c:
            with self.assertRaises(pymysql.MySQLError) as cm:
                c.execute("EXECUTE twice USING 1")
        self.assertEqual(cm.exception.args[0], ER_UNKNOWN_STMT_HANDLER, cm.exception.args)

    def test_prepared_in_a_migration_does_not_run_after_it(self):
        token = issue_token(self.key)
        conn = connect(self.port, database=self.P)
        self.addCleanup(conn.close)
        with conn.cursor() as c:
            c.execute("SET @djproxy_migration = %s", (token,))
            c.execute("PREPARE m FROM 'CREATE TABLE mig (a INT)'")
            c.execute("SET @djproxy_migration = NULL")
        self.refused(conn, "EXECUTE m")
        self.assertFalse(table_exists(self.P, "mig"))

    def test_a_prepare_that_never_ran_does_not_count(self):
        # The procedure leaves `s` prepared on the server as a CREATE TABLE outside the
        # prefix; a PREPARE s after a failing statement of the same packet never runs.
        conn = connect(self.port, database=self.P, client_flag=CLIENT.MULTI_STATEMENTS)
        self.addCleanup(conn.close)
        with conn.cursor() as c:
            c.execute("CALL prep()")
            with self.assertRaises(pymysql.MySQLError):
                c.execute("SELECT nocol FROM missing; PREPARE s FROM 'SELECT 1'")
        self.refused(conn, "EXECUTE s")
        self.assertFalse(table_exists(self.O, "pwn"))

    def test_a_call_that_fails_still_forgets_the_names(self):
        admin(f"CREATE PROCEDURE `{self.P}`.prep_fail() BEGIN "
              f"PREPARE t FROM 'CREATE TABLE `{self.O}`.pwn2 (a INT)'; SIGNAL SQLSTATE '45000'; END")
        conn = connect(self.port, database=self.P, client_flag=CLIENT.MULTI_STATEMENTS)
        self.addCleanup(conn.close)
        for packet in ("CALL prep_fail()", "CALL prep_fail(); PREPARE u FROM 'SELECT 1'",
                       "PREPARE u FROM 'SELECT 1'; CALL prep_fail(); PREPARE t FROM 'SELECT 2'"):
            with conn.cursor() as c:
                c.execute("PREPARE t FROM 'SELECT 1'")  # known before the packet
            c = conn.cursor()
            with self.assertRaises(pymysql.MySQLError, msg=packet) as cm:
                c.execute(packet)
                while c.nextset():  # an error after the first statement comes with its result
                    pass
            self.assertEqual(cm.exception.args[0], 1644, (packet, cm.exception.args))  # the SIGNAL, from the server
            self.refused(conn, "EXECUTE t")
        self.assertFalse(table_exists(self.O, "pwn2"))

    def test_a_prepare_that_never_ran_in_a_migration_does_not_count(self):
        conn = connect(self.port, database=self.P, client_flag=CLIENT.MULTI_STATEMENTS)
        self.addCleanup(conn.close)
        with conn.cursor() as c:
            c.execute("SET @djproxy_migration = %s", (issue_token(self.key),))
            c.execute("CALL prep()")
            with self.assertRaises(pymysql.MySQLError):
                c.execute(f"SELECT nocol FROM missing; PREPARE s FROM 'CREATE TABLE `{self.P}`.mine (a INT)'")
        args = self.refused(conn, "EXECUTE s")
        self.assertIn("was not prepared in this session", args[1])
        self.assertFalse(table_exists(self.O, "pwn"))

    def test_binary_statements_prepared_in_a_migration_end_with_it(self):
        conn = connect(self.port, database=self.P)
        self.addCleanup(conn.close)
        with conn.cursor() as c:
            c.execute("SET @djproxy_migration = %s", (issue_token(self.key),))
        inside = raw_protocol.prepare(conn, "CREATE TABLE inside (a INT)")
        self.assertEqual(raw_protocol.execute(conn, inside), 0)  # runs while the migration lasts
        ended = raw_protocol.prepare(conn, "CREATE TABLE after_end (a INT)")
        replaced = None
        for end in ("SET @djproxy_migration = NULL", "SET @djproxy_migration = %s"):
            with conn.cursor() as c:
                if replaced is None:
                    c.execute(end)
                else:
                    c.execute(end, (issue_token(self.key),))
            for statement in (ended,) if replaced is None else (replaced,):
                with self.assertRaises(pymysql.MySQLError) as cm:
                    raw_protocol.execute(conn, statement)
                self.assertEqual(cm.exception.args[0], ER_UNKNOWN_STMT_HANDLER, cm.exception.args)
            if replaced is None:
                # A second migration: its statement ends when another token replaces it.
                with conn.cursor() as c:
                    c.execute("SET @djproxy_migration = %s", (issue_token(self.key),))
                replaced = raw_protocol.prepare(conn, "CREATE TABLE after_end (a INT)")
        self.assertTrue(table_exists(self.P, "inside"))
        self.assertFalse(table_exists(self.P, "after_end"))
        # A statement prepared outside a migration is the client's to keep.
        with conn.cursor() as c:
            c.execute("SET @djproxy_migration = NULL")
        plain = raw_protocol.prepare(conn, "SELECT 1")
        with conn.cursor() as c:
            c.execute("SET @djproxy_migration = %s", (issue_token(self.key),))
            c.execute("SET @djproxy_migration = NULL")
        self.assertEqual(raw_protocol.execute(conn, plain), 1)


class RoutineBodies(_Base):
    BODIES = ("dyn1(q TEXT) EXECUTE IMMEDIATE q",
              "dyn2() PREPARE s FROM @sql",
              "dyn3() EXECUTE s")

    def test_development_mode_with_a_prefix_refuses_dynamic_sql_in_bodies(self):
        port = self.proxy({"DJ_CREATE_TABLES": "true", "DJ_SCHEMA_PREFIX": "myproject_"}).port
        conn = connect(port, database=self.P)
        self.addCleanup(conn.close)
        for body in self.BODIES:
            args = self.refused(conn, f"CREATE PROCEDURE {body}")
            self.assertIn("dynamic SQL", args[1])
            self.assertFalse(routine_exists(self.P, body.split("(")[0]))
        with conn.cursor() as c:  # a body without it is created as directly
            c.execute("CREATE PROCEDURE plain() SELECT 1")
        self.assertTrue(routine_exists(self.P, "plain"))

    def test_development_mode_without_a_prefix_forwards_them(self):
        port = self.proxy({"DJ_CREATE_TABLES": "true", "DJ_SCHEMA_PREFIX": ""}).port
        conn = connect(port, database=self.P)
        self.addCleanup(conn.close)
        with conn.cursor() as c:
            for body in self.BODIES:
                c.execute(f"CREATE PROCEDURE {body}")
                self.assertTrue(routine_exists(self.P, body.split("(")[0]))


class BodiesReachingOutside(_Base):
    """A stored program's body is read as the statement it is: where a prefix confines,
    one that reaches another schema, the server's files, accounts or globals is refused
    when it is created (in development mode and in a migration alike); one that stays
    in the prefix is created."""

    def setUp(self):
        super().setUp()
        admin(f"CREATE TABLE `{self.P}`.t (a INT)")
        admin(f"CREATE TABLE `{self.O}`.t (a INT)")
        self.outfile = f"/tmp/djproxy-body-{uid()}"

    def outside(self):
        O = self.O
        return [
            ("procedure", "b1", f"CREATE PROCEDURE b1() DROP DATABASE `{O}`"),
            ("procedure", "b2", f"CREATE PROCEDURE b2() CREATE DATABASE `{O}x`"),
            ("procedure", "b3", f"CREATE PROCEDURE b3() ALTER DATABASE `{O}` COMMENT 'x'"),
            ("procedure", "b4", f"CREATE PROCEDURE b4() GRANT SELECT ON `{O}`.* TO 'dj'@'%'"),
            ("procedure", "b5", f"CREATE PROCEDURE b5() SHOW TABLES FROM `{O}`"),
            ("procedure", "b6", "CREATE PROCEDURE b6() SET GLOBAL max_connections = 99"),
            ("procedure", "b7", f"CREATE PROCEDURE b7() SELECT 1 INTO OUTFILE '{self.outfile}'"),
            ("procedure", "b8", f"CREATE PROCEDURE b8() BEGIN DECLARE v INT; "
                                f"SELECT a INTO v FROM `{O}`.t LIMIT 1; END"),
            ("procedure", "b9", f"CREATE PROCEDURE b9() label: BEGIN IF 1 THEN UPDATE `{O}`.t SET a = 1; "
                                f"END IF; END label"),
            ("function", "f1", f"CREATE FUNCTION f1() RETURNS INT RETURN (SELECT COUNT(*) FROM `{O}`.t)"),
            ("trigger", "tr1", f"CREATE TRIGGER tr1 BEFORE INSERT ON t FOR EACH ROW "
                               f"SET NEW.a = (SELECT MAX(a) FROM `{O}`.t)"),
            ("event", "e1", f"CREATE EVENT e1 ON SCHEDULE EVERY 1 HOUR DO DELETE FROM `{O}`.t"),
        ]

    INSIDE = [("procedure", "i1", "CREATE PROCEDURE i1() INSERT INTO t VALUES (1)"),
              ("function", "i2", "CREATE FUNCTION i2() RETURNS INT RETURN (SELECT COUNT(*) FROM t)"),
              ("trigger", "i3", "CREATE TRIGGER i3 BEFORE INSERT ON t FOR EACH ROW SET NEW.a = NEW.a + 1"),
              ("event", "i4", "CREATE EVENT i4 ON SCHEDULE EVERY 1 HOUR DO DELETE FROM t")]

    def exists(self, kind, name):
        if kind in ("procedure", "function"):
            return routine_exists(self.P, name)
        table = {"trigger": ("triggers", "trigger_schema", "trigger_name"),
                 "event": ("events", "event_schema", "event_name")}[kind]
        return admin(f"SELECT COUNT(*) FROM information_schema.{table[0]} WHERE {table[1]}='{self.P}' "
                     f"AND {table[2]}='{name}'")[0][0] == 1

    def check(self, conn):
        for kind, name, sql in self.outside():
            with conn.cursor() as c:
                with self.assertRaises(pymysql.MySQLError, msg=sql) as cm:
                    c.execute(sql)
            self.assertTrue(str(cm.exception.args[1]).startswith("djproxy"), (sql, cm.exception.args))
            self.assertFalse(self.exists(kind, name), sql)
        self.assertEqual(admin(f"SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name "
                               f"IN ('{self.O}', '{self.O}x')")[0][0], 1)
        self.assertFalse(os.path.exists(self.outfile))
        for kind, name, sql in self.INSIDE:
            with conn.cursor() as c:
                c.execute(sql)
            self.assertTrue(self.exists(kind, name), sql)

    def test_development_mode_with_a_prefix(self):
        port = self.proxy({"DJ_CREATE_TABLES": "true", "DJ_SCHEMA_PREFIX": "myproject_"}).port
        conn = connect(port, database=self.P)
        self.addCleanup(conn.close)
        self.check(conn)

    def test_a_migration_session(self):
        key = new_key(self.tmp.name)
        port = self.proxy({"DJ_CREATE_TABLES": "false", "DJ_SCHEMA_PREFIX": "myproject_",
                           "DJPROXY_MIGRATION_KEY_FILE": key}).port
        conn = connect(port, database=self.P)
        self.addCleanup(conn.close)
        with conn.cursor() as c:
            c.execute("SET @djproxy_migration = %s", (issue_token(key),))
        self.check(conn)


class WithheldToken(_Base):
    def records(self, path):
        with open(path, "rb") as f:
            return [json.loads(line) for line in f if line.strip()]

    def check(self, mode):
        audit = os.path.join(self.tmp.name, f"audit-{mode}.jsonl")
        p = self.proxy({"DJ_CREATE_TABLES": "false", "DJ_SCHEMA_PREFIX": "myproject_", "DJPROXY_POLICY_MODE": mode,
                        "DJPROXY_AUDIT_LOG": audit})
        conn = connect(p.port, database=self.P, client_flag=CLIENT.MULTI_STATEMENTS)
        secret = "tok" + secrets.token_hex(12)
        statements = [f"SET @djproxy_migration = '{secret}1', @a = 1",
                      f"SET @a = 1; SET @djproxy_migration = '{secret}2'",
                      f"SET @a = 1, @djproxy_migration = CONCAT('{secret}3')",
                      f"SET @a = 1, @djproxy_migration = {secret}4",
                      f"SET @'djproxy_migr\\ation' = '{secret}5', @a = 1"]
        for sql in statements:
            with conn.cursor() as c:
                with self.assertRaises(pymysql.MySQLError, msg=sql) as cm:
                    c.execute(sql)
            self.assertTrue(str(cm.exception.args[1]).startswith("djproxy"), (sql, cm.exception.args))
        # Not one reached the server, in a dry run either.
        self.assertIsNone(self.scalar(conn, "SELECT @a"))
        conn.close()
        self.assert_withheld(p, audit, secret, len(statements))

    def assert_withheld(self, p, audit, secret, count):
        """After the proxy stops: no trace of the token in either log, and one withheld
        refusal per statement."""
        self.assertEqual(p.stop(), "clean", p.log_tail())
        with open(audit, "rb") as f:
            raw = f.read()
        with open(p.log_path, "rb") as f:
            log = f.read()
        self.assertNotIn(secret.encode(), raw, "a token reached the audit log")
        self.assertNotIn(secret.encode(), log, "a token reached the operational log")
        withheld = [r for r in self.records(audit) if r.get("query_withheld")]
        self.assertEqual(len(withheld), count, [str(r)[:300] for r in self.records(audit)])
        for r in withheld:
            self.assertNotIn("query", r)
            self.assertNotIn("digest", r)
            self.assertEqual(r["event"], "reject", r)
            self.assertGreater(r["query_length"], 0, r)

    def check_streamed(self, mode):
        # Larger than the head djproxy keeps of a statement it streams: the variable that
        # makes it a token is named past the head, and the token past it too.
        audit = os.path.join(self.tmp.name, f"audit-streamed-{mode}.jsonl")
        p = self.proxy({"DJ_CREATE_TABLES": "false", "DJ_SCHEMA_PREFIX": "myproject_", "DJPROXY_POLICY_MODE": mode,
                        "DJPROXY_AUDIT_LOG": audit})
        secret = "tok" + secrets.token_hex(12)
        pad = "x" * 200_000
        statements = [f"SET @t = '{secret}1', @pad = '{pad}', @djproxy_migration = @t",
                      f"SET @pad = '{pad}', @t = '{secret}2', @djproxy_migration = @t",
                      f"SET @pad = '{pad}', @djproxy_migration = '{secret}3'"]
        for sql in statements:
            # A refusal decided at a streamed statement's end drops the backend
            # connection (the server has its first bytes) and then the client's.
            conn = connect(p.port, database=self.P, max_allowed_packet=64 << 20)
            with conn.cursor() as c:
                with self.assertRaises(pymysql.MySQLError, msg=sql[:80]) as cm:
                    c.execute(sql)
            self.assertEqual(cm.exception.args[0], ER_NOT_SUPPORTED_YET, cm.exception.args)
            self.assertTrue(str(cm.exception.args[1]).startswith("djproxy"), cm.exception.args)
            conn.close()
        self.assert_withheld(p, audit, secret, len(statements))

    def test_streamed_enforce(self):
        self.check_streamed("enforce")

    def test_streamed_dry_run(self):
        self.check_streamed("dry-run")

    def test_enforce(self):
        self.check("enforce")

    def test_dry_run(self):
        self.check("dry-run")


if __name__ == "__main__":
    unittest.main()
