"""Migration tokens signed with Ed25519, over the wire: a sidecar that holds only the
public key lets a DBA-issued token run DDL, refuses tokens of another key, of the HMAC
scheme and tampered ones, and cannot mint a token itself. Real MariaDB, real pymysql."""
import os
import subprocess
import tempfile
import unittest
import uuid

import pymysql

from djproxy_harness import PROXY_BIN, DjproxyProcess, db_port


def direct():
    return pymysql.connect(host="127.0.0.1", port=db_port(), user="djroot", password="djroot", autocommit=True)


def run(args, env, check=True):
    base = {"PATH": "/usr/bin:/bin", "DJ_SCHEMA_PREFIX": "myproject_"}
    base.update(env)
    return subprocess.run([PROXY_BIN, *args], env=base, capture_output=True, text=True, check=check,
                          cwd=tempfile.gettempdir(), timeout=30)


@unittest.skipUnless(PROXY_BIN, "no djproxy binary")
class PublicKeyTokens(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.dba = os.path.join(cls.tmp.name, "dba")
        cls.other = os.path.join(cls.tmp.name, "other")
        run(["token", "keygen", "--out", cls.dba], {})
        run(["token", "keygen", "--out", cls.other], {})
        cls.schema = "myproject_pk" + uuid.uuid4().hex[:8]
        with direct() as c, c.cursor() as cur:
            cur.execute(f"CREATE DATABASE {cls.schema}")

    @classmethod
    def tearDownClass(cls):
        with direct() as c, c.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {cls.schema}")
        cls.tmp.cleanup()

    def issue(self, private_key):
        out = run(["token", "issue", "--schema", "myproject_*", "--ttl", "10m"],
                  {"DJPROXY_MIGRATION_PRIVATE_KEY": private_key}).stdout
        return out.strip().splitlines()[-1]

    def sidecar_env(self):
        return {"DJPROXY_POLICY_MODE": "enforce", "DJ_CREATE_TABLES": "false", "DJ_SCHEMA_PREFIX": "myproject_",
                "DJPROXY_MIGRATION_PUBLIC_KEY": self.dba + ".pub"}

    def test_sidecar_with_the_public_key_accepts_the_dbas_token_and_refuses_others(self):
        s = self.schema
        token = self.issue(self.dba + ".key")
        self.assertTrue(token.startswith("dje1."), token)
        forged = self.issue(self.other + ".key")
        hmac = run(["token", "issue", "--schema", "myproject_*", "--ttl", "10m"],
                   {"DJPROXY_MIGRATION_KEY": "hmac-key-" + "h" * 40}).stdout.strip().splitlines()[-1]
        tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
        with DjproxyProcess(self.sidecar_env()) as proxy:
            with pymysql.connect(host="127.0.0.1", port=proxy.port, user="dj", password="djpass",
                                 autocommit=True) as c, c.cursor() as cur:
                with self.assertRaises(pymysql.err.OperationalError) as refused:
                    cur.execute(f"CREATE TABLE {s}.before (id INT)")
                self.assertEqual(refused.exception.args[0], 1142)
                for bad in (forged, hmac, tampered):
                    with self.subTest(token=bad[:12]):
                        with self.assertRaises(pymysql.err.OperationalError):
                            cur.execute("SET @djproxy_migration = %s", (bad,))
                        with self.assertRaises(pymysql.err.OperationalError):
                            cur.execute(f"CREATE TABLE {s}.forged (id INT)")
                cur.execute("SET @djproxy_migration = %s", (token,))
                cur.execute(f"CREATE TABLE {s}.migrated (id INT PRIMARY KEY)")
                cur.execute("SET @djproxy_migration = NULL")
                with self.assertRaises(pymysql.err.OperationalError):
                    cur.execute(f"CREATE TABLE {s}.after (id INT)")
            self.assertEqual(proxy.stop(), "clean")
        with direct() as d, d.cursor() as cur:  # the server shows what the proxy let through, and only that
            cur.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (s,))
            self.assertEqual(sorted(r[0] for r in cur.fetchall()), ["migrated"])

    def test_sidecar_settings_cannot_issue_a_token(self):
        env = self.sidecar_env()
        env.pop("DJPROXY_POLICY_MODE")
        out = run(["token", "issue", "--schema", "myproject_*", "--ttl", "10m"], env, check=False)
        self.assertNotEqual(out.returncode, 0, out.stdout)
        self.assertNotIn("dje1.", out.stdout)
        self.assertNotIn("djm1.", out.stdout)
        self.assertIn("private", (out.stderr + out.stdout).lower())


if __name__ == "__main__":
    unittest.main()
