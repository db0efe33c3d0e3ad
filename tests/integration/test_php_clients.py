"""PHP mysqli and PDO (php-cli, php-mysql's mysqlnd) through djproxy in production
mode give the same results as directly against MariaDB (issue 17: mysqlnd rejected
re-encoded OK packets whose info string had lost its length prefix, warning
"RSET_HEADER packet additional data length is past" and failing with 2014/2006).

php_client_session.php runs one session and prints every outcome as JSON; the only
documented difference is the refused CREATE TABLE outside a migration session (1142).
"""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

import pymysql
from pymysql.constants import CLIENT

from djproxy_harness import DjproxyProcess, db_port, through_proxy
from test_enforcement import proxy_key_env, write_key

HERE = os.path.dirname(os.path.abspath(__file__))
SETUP = ("DROP TABLE IF EXISTS myproject_it.php_t; DROP TABLE IF EXISTS myproject_it.php_refused; "
         "DROP TABLE IF EXISTS myproject_it.php_refused_pdo; "
         "CREATE TABLE myproject_it.php_t (id INT PRIMARY KEY, v INT, s VARCHAR(4)); "
         "INSERT INTO myproject_it.php_t VALUES (1, 1, 'a'), (2, 2, 'b')")
ER_TABLEACCESS_DENIED = 1142
ER_PARSE_ERROR = 1064


def admin(sql):
    conn = pymysql.connect(host="127.0.0.1", port=db_port(), user="djroot", password="djroot",
                           autocommit=True, client_flag=CLIENT.MULTI_STATEMENTS)
    try:
        with conn.cursor() as c:
            c.execute(sql)
            while c.nextset():
                pass
    finally:
        conn.close()


def php_session(port):
    admin(SETUP)
    p = subprocess.run(["php", os.path.join(HERE, "php_client_session.php"), str(port)],
                       capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        raise AssertionError(f"php exited {p.returncode}: {p.stdout}\n{p.stderr}")
    return json.loads(p.stdout)


@unittest.skipUnless(shutil.which("php"), "php-cli not installed (scripts/setup.sh)")
class PhpClients(unittest.TestCase):
    def test_mysqli_and_pdo_match_a_direct_connection(self):
        if not through_proxy():
            self.skipTest("no djproxy binary")
        with tempfile.TemporaryDirectory(prefix="djproxy-php-") as tmp:
            proxy = DjproxyProcess(proxy_key_env(write_key(os.path.join(tmp, "migration.key")))).start()
            try:
                direct = php_session(db_port())
                proxied = php_session(proxy.port)
            finally:
                self.assertTrue(proxy.alive(), proxy.log_tail())
                self.assertEqual(proxy.stop(), "clean", proxy.log_tail())
        # The comparison saw what it is about: info strings, multi-results, the errors.
        self.assertEqual(direct["mysqli"]["update"]["info"], "Rows matched: 2  Changed: 2  Warnings: 0")
        self.assertEqual(direct["mysqli"]["insert"]["info"], "Records: 2  Duplicates: 0  Warnings: 0")
        self.assertEqual(direct["mysqli"]["syntax"]["errno"], ER_PARSE_ERROR)
        self.assertEqual(direct["pdo"]["syntax"]["errno"], ER_PARSE_ERROR)
        self.assertEqual(direct["mysqli"]["multi"][1]["info"], "Records: 2  Duplicates: 0  Warnings: 0")
        self.assertEqual(direct["warnings"], [])
        # The documented refusal: production refuses DDL outside a migration session.
        for client in ("mysqli", "pdo"):
            refused_directly = direct[client]["refused"]
            self.assertFalse(isinstance(refused_directly, dict) and "errno" in refused_directly, client)
            self.assertEqual(proxied[client]["refused"]["errno"], ER_TABLEACCESS_DENIED, client)
            self.assertEqual(proxied[client]["refused"]["sqlstate"], "42000", client)
            direct[client].pop("refused")
            proxied[client].pop("refused")
        self.maxDiff = None
        self.assertEqual(direct, proxied)


if __name__ == "__main__":
    unittest.main()
