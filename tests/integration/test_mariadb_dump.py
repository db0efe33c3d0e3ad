"""mariadb-dump through djproxy in production writes the same dump as directly against
MariaDB, routines (procedures, functions, Oracle-mode packages), triggers and events
included (issue 17 item 2: SHOW PACKAGE STATUS was refused with 1235). Only the
"Dump completed on <date>" line may differ.
"""
import os
import shutil
import subprocess
import tempfile
import unittest

import pymysql
from pymysql.constants import CLIENT

from djproxy_harness import DjproxyProcess, db_port, through_proxy
from test_enforcement import proxy_key_env, write_key

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
                       capture_output=True, text=True, timeout=120)
    lines = [l for l in p.stdout.splitlines() if not l.startswith("-- Dump completed on ")]
    return p.returncode, p.stderr, lines


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


if __name__ == "__main__":
    unittest.main()
