"""GRANT and REVOKE in a migration, over the wire, with the server as the oracle (review of
2026-12-05, round 3):

- a database-level grant names a pattern: `_` and `%` match any character, so
  `GRANT ... ON myproject_a.*` also granted `myprojectXa`, outside the prefix; only the
  escaped form (`myproject\\_a`) names one schema and is forwarded;
- what follows the accounts can change them: `IDENTIFIED BY` set another account's
  password; only `TO | FROM accounts [WITH GRANT OPTION]` is forwarded.

The migration account here holds GRANT OPTION, as a real one must, so only the proxy
stands in the way; each outcome is checked on the server directly.
"""
import random
import unittest

import pymysql

from djproxy_harness import PROXY_BIN, DjproxyProcess
from test_decide_command import admin


def uid():
    return "%08x" % random.SystemRandom().getrandbits(32)


class GrantsInAMigration(unittest.TestCase):
    def setUp(self):
        if not PROXY_BIN:
            self.skipTest("needs the djproxy binary (DJPROXY_IT_PROXY_BIN)")
        u = uid()
        self.P, self.X = f"myproject_g{u}", f"myprojectXg{u}"  # X: what `_` matches
        self.grantor, self.grantee, self.victim = f"gmig{u}", f"gee{u}", f"gvic{u}"
        for s in (self.P, self.X):
            admin(f"CREATE DATABASE `{s}`")
            self.addCleanup(admin, f"DROP DATABASE IF EXISTS `{s}`")
        admin(f"CREATE TABLE `{self.X}`.canary (v INT)")
        admin(f"INSERT INTO `{self.X}`.canary VALUES (42)")
        admin(f"CREATE TABLE `{self.P}`.t (v INT)")
        admin(f"CREATE USER '{self.grantor}'@'%' IDENTIFIED BY 'gpass'")
        admin(f"GRANT ALL ON *.* TO '{self.grantor}'@'%' WITH GRANT OPTION")
        admin(f"CREATE USER '{self.grantee}'@'%' IDENTIFIED BY 'epass'")
        admin(f"CREATE USER '{self.victim}'@'%' IDENTIFIED BY 'vpass'")
        for user in (self.grantor, self.grantee, self.victim):
            self.addCleanup(admin, f"DROP USER IF EXISTS '{user}'@'%'")
        p = DjproxyProcess({"DJPROXY_POLICY_MODE": "enforce", "DJ_CREATE_TABLES": "false",
                            "DJ_SCHEMA_PREFIX": "myproject_", "DJPROXY_MIGRATION_USERS": self.grantor}).start()

        def stop():
            self.assertEqual(p.stop(), "clean", p.log_tail())
        self.addCleanup(stop)
        self.conn = pymysql.connect(host="127.0.0.1", port=p.port, user=self.grantor, password="gpass",
                                    autocommit=True, connect_timeout=10, read_timeout=60)
        self.addCleanup(self.conn.close)

    def grants(self, user):
        return " ".join(r[0] for r in admin(f"SHOW GRANTS FOR '{user}'@'%'"))

    def refused(self, sql):
        with self.conn.cursor() as c:
            with self.assertRaises(pymysql.MySQLError, msg=sql) as cm:
                c.execute(sql)
        self.assertEqual(cm.exception.args[0], 1235, (sql, cm.exception.args))
        self.assertTrue(str(cm.exception.args[1]).startswith("djproxy"), cm.exception.args)

    def test_a_database_grant_is_a_pattern(self):
        P, E = self.P, self.grantee
        for sql in (f"GRANT SELECT ON `{P}`.* TO '{E}'@'%'",
                    f"GRANT SELECT ON `myproject_%`.* TO '{E}'@'%'",
                    f"GRANT SELECT ON `{P}%`.* TO '{E}'@'%'"):
            self.refused(sql)
        self.assertNotIn(P, self.grants(E))
        escaped = P.replace("_", "\\_")
        with self.conn.cursor() as c:
            c.execute(f"GRANT SELECT ON `{escaped}`.* TO '{E}'@'%'")
        self.assertIn(f"`{escaped}`", self.grants(E))
        # What the grantee can read: its own schema, and not what `_` would have matched.
        direct = pymysql.connect(host="127.0.0.1", port=int(admin("SELECT @@port")[0][0]), user=E,
                                 password="epass", autocommit=True)
        self.addCleanup(direct.close)
        with direct.cursor() as c:
            c.execute(f"SELECT COUNT(*) FROM `{P}`.t")
            with self.assertRaises(pymysql.MySQLError):
                c.execute(f"SELECT v FROM `{self.X}`.canary")
        with self.conn.cursor() as c:
            c.execute(f"REVOKE SELECT ON `{escaped}`.* FROM '{E}'@'%'")
        self.assertNotIn(f"`{escaped}`", self.grants(E))

    def test_the_accounts_are_all_a_grant_may_name(self):
        P, V = self.P, self.victim
        hash_before = admin(f"SELECT priv FROM mysql.global_priv WHERE user='{V}'")
        for sql in (f"GRANT SELECT ON `{P}`.t TO '{V}'@'%' IDENTIFIED BY 'pwned'",
                    f"GRANT SELECT ON `{P}`.t TO '{self.grantee}'@'%', '{V}'@'%' IDENTIFIED BY 'pwned'",
                    f"GRANT SELECT ON `{P}`.t TO '{V}'@'%' IDENTIFIED VIA mysql_native_password "
                    f"USING PASSWORD('pwned')",
                    f"GRANT SELECT ON `{P}`.t TO '{V}'@'%' REQUIRE NONE",
                    f"GRANT SELECT ON `{P}`.t TO '{V}'@'%' WITH MAX_USER_CONNECTIONS 1",
                    f"GRANT SELECT ON `{P}`.t TO PUBLIC"):
            self.refused(sql)
        self.assertEqual(admin(f"SELECT priv FROM mysql.global_priv WHERE user='{V}'"),
                         hash_before)
        self.assertNotIn(f"`{P}`.`t`", self.grants(V))
        with self.assertRaises(pymysql.MySQLError):  # the old password still holds, the new one does not
            pymysql.connect(host="127.0.0.1", port=int(admin("SELECT @@port")[0][0]), user=V, password="pwned")
        with self.conn.cursor() as c:
            c.execute(f"GRANT SELECT, INSERT ON `{P}`.t TO '{V}'@'%' WITH GRANT OPTION")
        self.assertIn(f"`{P}`.`t`", self.grants(V))


if __name__ == "__main__":
    unittest.main()
