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

Attacks run as djroot, an account the server lets do anything, so only the proxy stands
in the way; every refusal is checked on the server directly.
"""
import json
import os
import random
import secrets
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
        key = os.path.join(self.tmp.name, "key")
        with open(key, "w") as f:
            f.write(secrets.token_hex(24))
        self.key = key
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
        import subprocess
        env = {k: v for k, v in os.environ.items() if not (k.startswith("DJ_") or k.startswith("DJPROXY_"))}
        env.update({"DJ_SCHEMA_PREFIX": "myproject_", "DJPROXY_MIGRATION_KEY_FILE": self.key,
                    "DJ_CREATE_TABLES": "false"})
        out = subprocess.run([PROXY_BIN, "token", "issue", "--ttl", "10m", "--schema", "myproject_*"], env=env,
                             cwd=LOG_DIR, capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        token = out.stdout.strip().splitlines()[-1].strip()
        conn = connect(self.port, database=self.P)
        self.addCleanup(conn.close)
        with conn.cursor() as c:
            c.execute("SET @djproxy_migration = %s", (token,))
            c.execute("PREPARE m FROM 'CREATE TABLE mig (a INT)'")
            c.execute("SET @djproxy_migration = NULL")
        self.refused(conn, "EXECUTE m")
        self.assertFalse(table_exists(self.P, "mig"))


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
        self.assertEqual(p.stop(), "clean", p.log_tail())
        with open(audit, "rb") as f:
            raw = f.read()
        with open(p.log_path, "rb") as f:
            log = f.read()
        self.assertNotIn(secret.encode(), raw, "a token reached the audit log")
        self.assertNotIn(secret.encode(), log, "a token reached the operational log")
        withheld = [r for r in self.records(audit) if r.get("query_withheld")]
        self.assertEqual(len(withheld), len(statements), self.records(audit))
        for r in withheld:
            self.assertNotIn("query", r)
            self.assertNotIn("digest", r)
            self.assertEqual(r["event"], "reject", r)
            self.assertGreater(r["query_length"], 0, r)

    def test_enforce(self):
        self.check("enforce")

    def test_dry_run(self):
        self.check("dry-run")


if __name__ == "__main__":
    unittest.main()
