"""One decision point (issue 15): what the session once decided on its own, now decided
by policy::decide_command and so audited and counted like every other decision; prepared
executions in the audit log (issue 16 item 3); schema listings as the server answers them
(issue 17 item 4). Real MariaDB, pymysql, server-side prepares sent packet by packet."""
import json
import os
import random
import tempfile
import time
import unittest
import urllib.request

import pymysql

import raw_protocol
from djproxy_harness import PROXY_BIN, DjproxyProcess, db_port


def uid():
    return "%08x" % random.SystemRandom().getrandbits(32)


def production(extra=None):
    env = {"DJPROXY_POLICY_MODE": "enforce", "DJ_CREATE_TABLES": "false", "DJ_SCHEMA_PREFIX": "myproject_"}
    env.update(extra or {})
    return env


def admin(sql):
    conn = pymysql.connect(host="127.0.0.1", port=db_port(), user="djroot", password="djroot", autocommit=True)
    try:
        with conn.cursor() as c:
            c.execute(sql)
            return c.fetchall()
    finally:
        conn.close()


def connect(port, user="dj", password="djpass", **kw):
    return pymysql.connect(host="127.0.0.1", port=port, user=user, password=password, autocommit=True,
                           connect_timeout=10, read_timeout=60, **kw)


def metrics(admin_port):
    with urllib.request.urlopen(f"http://127.0.0.1:{admin_port}/metrics", timeout=5) as r:
        body = r.read().decode()
    out = {}
    for line in body.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def read_audit(path, want, timeout=5.0):
    """The audit log's records once `want(records)` holds (the writer flushes within 20 ms)."""
    deadline = time.monotonic() + timeout
    while True:
        records = []
        if os.path.exists(path):
            with open(path, "rb") as f:
                records = [json.loads(line) for line in f if line.strip()]
        if want(records) or time.monotonic() > deadline:
            return records
        time.sleep(0.05)


@unittest.skipUnless(PROXY_BIN, "no djproxy binary")
class DecidedOnce(unittest.TestCase):
    def setUp(self):
        self.P = f"myproject_dc{uid()}"
        admin(f"CREATE DATABASE `{self.P}`")
        admin(f"CREATE TABLE `{self.P}`.items (id INT PRIMARY KEY)")
        admin(f"INSERT INTO `{self.P}`.items VALUES (1), (2), (3)")
        self.addCleanup(admin, f"DROP DATABASE IF EXISTS `{self.P}`")
        self.tmp = tempfile.TemporaryDirectory(prefix="djproxy-dc-")
        self.addCleanup(self.tmp.cleanup)
        self.audit = os.path.join(self.tmp.name, "audit.jsonl")

    def proxy(self, extra):
        p = DjproxyProcess(production({"DJPROXY_AUDIT_LOG": self.audit, **extra})).start()
        self.addCleanup(p.stop)
        return p

    def test_prepared_create_if_not_exists_is_refused_audited_and_counted(self):
        """Once refused by the session on its own: no audit line, no decision metric."""
        p = self.proxy({})
        conn = connect(p.port, database=self.P)
        self.addCleanup(conn.close)
        before = metrics(p.admin_port)
        sql = f"CREATE TABLE IF NOT EXISTS `{self.P}`.items (id INT PRIMARY KEY)"
        with self.assertRaises(pymysql.MySQLError) as cm:
            raw_protocol.prepare(conn, sql)
        self.assertEqual(cm.exception.args[0], 1235, cm.exception.args)
        self.assertIn("cannot be prepared", cm.exception.args[1])
        with conn.cursor() as c:  # the session goes on
            c.execute("SELECT COUNT(*) FROM items")
            self.assertEqual(c.fetchall(), ((3,),))
        after = metrics(p.admin_port)
        name = 'djproxy_decisions_total{verdict="reject",rule="fail-closed"}'
        self.assertEqual(after.get(name, 0) - before.get(name, 0), 1)
        records = read_audit(self.audit, lambda rs: any(r.get("command") == "COM_STMT_PREPARE" for r in rs))
        refused = [r for r in records if r.get("command") == "COM_STMT_PREPARE"]
        self.assertEqual(len(refused), 1, records)
        self.assertEqual(refused[0]["event"], "reject")
        self.assertEqual(refused[0]["rule"], "fail-closed")
        self.assertEqual(refused[0]["error_code"], 1235)
        self.assertEqual(refused[0]["query"], sql)

    def test_dry_run_with_an_unknown_sql_mode_says_would_reject(self):
        """Once audited as `reject` although the statement was forwarded."""
        p = self.proxy({"DJPROXY_POLICY_MODE": "dry-run"})
        conn = connect(p.port, database=self.P)
        self.addCleanup(conn.close)
        with conn.cursor() as c:
            c.execute("SET sql_mode = 'ORACLE'")
            c.execute("SELECT COUNT(*) FROM items")  # forwarded: dry run
            self.assertEqual(c.fetchall(), ((3,),))
        records = read_audit(self.audit, lambda rs: any("ORACLE" in r.get("message", "") for r in rs))
        mode = [r for r in records if "ORACLE" in r.get("message", "")]
        self.assertEqual(len(mode), 1, records)
        self.assertEqual(mode[0]["event"], "dry_run_violation")
        self.assertEqual(mode[0]["decision"], "would_reject")
        self.assertEqual(mode[0]["rule"], "fail-closed")

    def test_unknown_sql_mode_refused_in_production(self):
        p = self.proxy({})
        conn = connect(p.port, database=self.P)
        self.addCleanup(conn.close)
        with conn.cursor() as c:
            c.execute("SET sql_mode = 'ORACLE'")
            with self.assertRaises(pymysql.MySQLError) as cm:
                c.execute("SELECT COUNT(*) FROM items")
            self.assertEqual(cm.exception.args[0], 1235)
            self.assertIn("ORACLE", cm.exception.args[1])

    def test_every_execution_is_a_statement_event(self):
        """audit.all_statements: 320 executions once gave 22 events, one per prepare."""
        p = self.proxy({"DJPROXY_AUDIT_ALL_STATEMENTS": "true"})
        conn = connect(p.port, database=self.P)
        self.addCleanup(conn.close)
        select = raw_protocol.prepare(conn, "SELECT id FROM items WHERE id > 1")
        do = raw_protocol.prepare(conn, f"UPDATE `{self.P}`.items SET id = id WHERE id = 1")
        for _ in range(7):
            self.assertEqual(raw_protocol.execute(conn, select), 2)
        for _ in range(5):
            self.assertEqual(raw_protocol.execute(conn, do), 0)
        raw_protocol.close(conn, select)
        with conn.cursor() as c:
            c.execute("SELECT 1")
        executions = lambda rs: [r for r in rs if r.get("command") == "COM_STMT_EXECUTE"]
        records = read_audit(self.audit, lambda rs: len(executions(rs)) >= 12)
        got = executions(records)
        self.assertEqual(len(got), 12, records)
        for r in got:
            self.assertEqual(r["event"], "statement")
            self.assertEqual(r["decision"], "allow")
        self.assertEqual(sum(1 for r in got if r.get("digest") == "SELECT id FROM items WHERE id > ?"), 7, got)
        self.assertEqual(sum(1 for r in got if r.get("digest", "").startswith("UPDATE")), 5, got)
        self.assertEqual(sum(1 for r in got if r.get("statement_kind") == "dml"), 5, got)
        prepares = [r for r in records if r.get("command") == "COM_STMT_PREPARE"]
        self.assertEqual(len(prepares), 2, records)


@unittest.skipUnless(PROXY_BIN, "no djproxy binary")
class SchemaListings(unittest.TestCase):
    """SHOW DATABASES and information_schema.SCHEMATA list what the server lists for the
    account, through the proxy as directly: the grants govern visibility (issue 17)."""

    def setUp(self):
        u = uid()
        self.P, self.O = f"myproject_ls{u}", f"outside_ls{u}"
        self.user = f"lsprefix{u}"
        admin(f"CREATE DATABASE `{self.P}`")
        admin(f"CREATE DATABASE `{self.O}`")
        admin(f"CREATE USER '{self.user}'@'%' IDENTIFIED BY 'pw'")
        admin(f"GRANT ALL PRIVILEGES ON `myproject\\_%`.* TO '{self.user}'@'%'")
        self.addCleanup(admin, f"DROP DATABASE IF EXISTS `{self.P}`")
        self.addCleanup(admin, f"DROP DATABASE IF EXISTS `{self.O}`")
        self.addCleanup(admin, f"DROP USER IF EXISTS '{self.user}'@'%'")

    def listings(self, port, user, password):
        conn = connect(port, user, password)
        try:
            with conn.cursor() as c:
                c.execute("SHOW DATABASES")
                show = {r[0] for r in c.fetchall()}
                c.execute("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA")
                schemata = {r[0] for r in c.fetchall()}
            return show, schemata
        finally:
            conn.close()

    def test_listings_are_the_servers(self):
        with DjproxyProcess(production()) as p:
            for user, password in ((self.user, "pw"), ("djroot", "djroot")):
                with self.subTest(user=user):
                    before = self.listings(db_port(), user, password)
                    proxied = self.listings(p.port, user, password)
                    after = self.listings(db_port(), user, password)
                    # Tests running beside this one create and drop schemas between the
                    # listings: a name the two direct listings disagree on, or that only
                    # the proxied one shows, is one of theirs. Every other name must match.
                    moving = set()
                    for i in range(2):
                        moving |= (before[i] ^ after[i]) | (proxied[i] - before[i] - after[i])
                    self.assertNotIn(self.P, moving)
                    self.assertNotIn(self.O, moving)
                    for i in range(2):
                        self.assertEqual(proxied[i] - moving, before[i] - moving)
                    show, schemata = proxied
                    self.assertEqual(show - moving, schemata - moving)
                    self.assertIn(self.P, show)
                    if user == "djroot":
                        self.assertIn(self.O, show)
                        self.assertIn("mysql", show)
                    else:
                        self.assertNotIn(self.O, show)  # the server's grants, not the proxy, hide it
                        self.assertTrue(all(n.startswith("myproject_") or n == "information_schema" for n in show),
                                        show)
            # Listing is not access: the schemas outside the prefix stay refused.
            conn = connect(p.port, "djroot", "djroot")
            try:
                with self.assertRaises(pymysql.MySQLError) as cm:
                    conn.select_db(self.O)
                self.assertEqual(cm.exception.args[0], 1044)
            finally:
                conn.close()


if __name__ == "__main__":
    unittest.main()
