"""mariadb-dump through djproxy in production writes the same dump as directly against
MariaDB, routines (procedures, functions, Oracle-mode packages), triggers and events
included (issue 17 item 2: SHOW PACKAGE STATUS was refused with 1235). Only the
"Dump completed on <date>" line may differ. A dump taken through the proxy restores
through the proxy into a fresh schema in a migration session (a signed token), and the
restored schema dumps as the original does.
"""
import os
import shutil
import subprocess
import tempfile
import unittest

import pymysql
from pymysql.constants import CLIENT

from djproxy_harness import DjproxyProcess, db_port, through_proxy
from test_enforcement import issue_token, proxy_key_env, write_key

SCHEMA = "myproject_dump"
SETUP = [
    f"DROP DATABASE IF EXISTS {SCHEMA}",
    f"CREATE DATABASE {SCHEMA}",
    f"CREATE TABLE {SCHEMA}.t (id INT PRIMARY KEY, v INT, s VARCHAR(8))",
    f"INSERT INTO {SCHEMA}.t VALUES (1, 1, 'a'), (2, 2, 'b')",
    f"CREATE VIEW {SCHEMA}.v AS SELECT id, v FROM {SCHEMA}.t",
    f"CREATE PROCEDURE {SCHEMA}.p(IN a INT) SELECT a + 1",
    f"CREATE FUNCTION {SCHEMA}.f(a INT) RETURNS INT DETERMINISTIC RETURN a * 2",
    f"CREATE TRIGGER {SCHEMA}.tr BEFORE INSERT ON {SCHEMA}.t FOR EACH ROW SET NEW.v = NEW.v + 0",
    f"CREATE EVENT {SCHEMA}.ev ON SCHEDULE EVERY 1 DAY DISABLE DO DELETE FROM {SCHEMA}.t WHERE id < 0",
    "SET sql_mode = ORACLE",
    f"CREATE PACKAGE {SCHEMA}.pk AS FUNCTION g RETURN INT; END",
    f"CREATE PACKAGE BODY {SCHEMA}.pk AS FUNCTION g RETURN INT AS BEGIN RETURN 1; END; END",
]
# A schema whose objects name no schema (the server keeps a trigger's or an event's
# qualified names verbatim), dumped without CREATE DATABASE / USE, restores elsewhere.
SOURCE, RESTORED = "myproject_dump_source", "myproject_dump_restored"
SOURCE_SETUP = [
    f"DROP DATABASE IF EXISTS {SOURCE}",
    f"DROP DATABASE IF EXISTS {RESTORED}",
    f"CREATE DATABASE {SOURCE}",
    f"USE {SOURCE}",
    "CREATE TABLE t (id INT PRIMARY KEY, v INT, s VARCHAR(8), b BLOB, KEY (v))",
    "CREATE TABLE c (id INT PRIMARY KEY, t_id INT, FOREIGN KEY (t_id) REFERENCES t (id))",
    "INSERT INTO t VALUES (1, 1, 'a', x'00ff27'), (2, 2, 'b''c', NULL)",
    "INSERT INTO c VALUES (10, 1)",
    "CREATE VIEW v AS SELECT id, v FROM t",
    "CREATE PROCEDURE p(IN a INT) SELECT a + 1",
    "CREATE FUNCTION f(a INT) RETURNS INT DETERMINISTIC RETURN a * 2",
    "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.v = NEW.v + 0",
    "CREATE EVENT ev ON SCHEDULE EVERY 1 DAY DISABLE DO DELETE FROM t WHERE id < 0",
]
# No Oracle-mode package here: the dump recreates one under sql_mode ORACLE, whose
# grammar the proxy does not read, so it refuses that part of a restore even in a
# migration session (README, Limits).
RESTORE_OPTIONS = ["--routines", "--triggers", "--events", "--single-transaction"]
OPTION_SETS = [
    ["--routines", "--triggers", "--events", "--single-transaction", "--databases", SCHEMA],
    ["--no-data", "--routines", "--databases", SCHEMA],
    ["--single-transaction", SCHEMA],
]


def admin(statements):
    conn = pymysql.connect(host="127.0.0.1", port=db_port(), user="djroot", password="djroot", autocommit=True)
    try:
        with conn.cursor() as c:
            for sql in statements:
                c.execute(sql)
    finally:
        conn.close()


def dump(port, options):
    p = subprocess.run(["mariadb-dump", "-h127.0.0.1", f"-P{port}", "-udj", "-pdjpass"] + options,
                       capture_output=True, timeout=120)
    # Blobs are dumped as raw bytes: kept as they are, through surrogate escapes.
    text = p.stdout.decode("utf-8", "surrogateescape")
    lines = [l for l in text.split("\n") if not l.startswith("-- Dump completed on ")]
    return p.returncode, p.stderr.decode("utf-8", "replace"), lines


def restore(port, token, schema, text=None):
    """The mariadb CLI as a DBA runs it: the token is the session's first statement.
    djroot, because the dump names its objects' definer (djroot), which only an
    account with SET USER may set."""
    init = [f"--init-command=SET @djproxy_migration = '{token}'"] if token else []
    p = subprocess.run(["mariadb", "--no-defaults", "-h127.0.0.1", f"-P{port}", "-udjroot", "-pdjroot", "--ssl=0",
                        *init, schema],
                       input=text.encode("utf-8", "surrogateescape"), capture_output=True, timeout=120)
    return p.returncode, (p.stdout + p.stderr).decode("utf-8", "replace")


@unittest.skipUnless(shutil.which("mariadb-dump"), "mariadb-dump not installed")
class MariadbDump(unittest.TestCase):
    def test_dumps_match_a_direct_connection(self):
        if not through_proxy():
            self.skipTest("no djproxy binary")
        admin(SETUP)
        with tempfile.TemporaryDirectory(prefix="djproxy-dump-") as tmp:
            proxy = DjproxyProcess(proxy_key_env(write_key(os.path.join(tmp, "migration.key")))).start()
            try:
                for options in OPTION_SETS:
                    with self.subTest(options=" ".join(options)):
                        direct = dump(db_port(), options)
                        proxied = dump(proxy.port, options)
                        self.assertEqual(direct[0], 0, direct[1])
                        self.assertEqual(proxied[0], 0, proxied[1])
                        self.assertEqual(direct[2], proxied[2])
                        if "--routines" in options:  # the comparison saw what it is about
                            text = "\n".join(direct[2])
                            for what in ("PROCEDURE `p`", "FUNCTION `f`", "PACKAGE BODY \"pk\"", "TRIGGER"):
                                self.assertIn(what, text)
            finally:
                self.assertTrue(proxy.alive(), proxy.log_tail())
                self.assertEqual(proxy.stop(), "clean", proxy.log_tail())

    def test_a_dump_through_the_proxy_restores_through_it_in_a_migration_session(self):
        if not through_proxy():
            self.skipTest("no djproxy binary")
        admin(SOURCE_SETUP)
        with tempfile.TemporaryDirectory(prefix="djproxy-dump-") as tmp:
            key_file = write_key(os.path.join(tmp, "migration.key"))
            proxy = DjproxyProcess(proxy_key_env(key_file)).start()
            try:
                code, err, lines = dump(proxy.port, RESTORE_OPTIONS + [SOURCE])
                self.assertEqual(code, 0, err)
                rc, token, out = issue_token(key_file)
                self.assertEqual(rc, 0, out)
                # Without the token, production refuses the restore's first DDL.
                refused = restore(proxy.port, None, "", f"CREATE DATABASE {RESTORED}")
                self.assertNotEqual(refused[0], 0)
                self.assertIn("ERROR 1044", refused[1])
                self.assertEqual(restore(proxy.port, token, "", f"CREATE DATABASE {RESTORED}"), (0, ""))
                self.assertEqual(restore(proxy.port, token, RESTORED, "\n".join(lines)), (0, ""))
            finally:
                self.assertTrue(proxy.alive(), proxy.log_tail())
                self.assertEqual(proxy.stop(), "clean", proxy.log_tail())
        original = dump(db_port(), RESTORE_OPTIONS + [SOURCE])
        restored = dump(db_port(), RESTORE_OPTIONS + [RESTORED])
        admin([f"DROP DATABASE IF EXISTS {RESTORED}", f"DROP DATABASE IF EXISTS {SOURCE}"])
        self.assertEqual(restored[0], 0, restored[1])
        # The dump's comments name the schema; nothing else may differ.
        def comment(line):
            return line.replace(RESTORED, SOURCE) if line.startswith("-- ") else line
        self.maxDiff = None
        self.assertEqual(original[2], [comment(l) for l in restored[2]])
        text = "\n".join(restored[2])
        for what in ("PROCEDURE `p`", "FUNCTION `f`", "TRIGGER", "EVENT `ev`",
                     "VIEW `v`", "INSERT INTO `t` VALUES", "FOREIGN KEY"):
            self.assertIn(what, text)


if __name__ == "__main__":
    unittest.main()
