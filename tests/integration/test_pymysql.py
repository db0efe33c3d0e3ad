"""pymysql sessions, DataJoint-like, run directly and through djproxy; results equal."""
import hashlib
import random
import ssl
import unittest

import pymysql

from djproxy_harness import DjproxyProcess, db_ca, db_port, through_proxy


def admin(sql):
    conn = pymysql.connect(host="127.0.0.1", port=db_port(), user="djroot", password="djroot",
                           autocommit=True, client_flag=pymysql.constants.CLIENT.MULTI_STATEMENTS)
    try:
        with conn.cursor() as c:
            c.execute(sql)
    finally:
        conn.close()


def connect(port, **kw):
    args = dict(host="127.0.0.1", port=port, user="dj", password="djpass", charset="utf8mb4",
                autocommit=True, connect_timeout=10, read_timeout=60, write_timeout=60,
                program_name="djproxy-it", init_command=None)
    args.update(kw)
    return pymysql.connect(**args)


def run(cursor, out, sql, args=None):
    """Executes and records what the client sees (description, rows, rowcount, errors)."""
    out.append(("sql", sql[:80]))
    try:
        cursor.execute(sql, args)
        out.append(("desc", cursor.description))
        out.append(("rows", cursor.fetchall()))
        out.append(("rowcount", cursor.rowcount, cursor.lastrowid))
    except pymysql.MySQLError as e:
        out.append(("error", e.args))


def after(transcript, sql_prefix):
    """The rows recorded for the first statement starting with sql_prefix."""
    i = next(i for i, e in enumerate(transcript) if e[0] == "sql" and e[1].startswith(sql_prefix))
    return next(e[1] for e in transcript[i:] if e[0] == "rows")


def blob(n, seed):
    return random.Random(seed).randbytes(n)


class _Compare(unittest.TestCase):
    """Starts a djproxy per test (when there is one) and compares direct vs proxied."""
    proxy_env = {}

    def setUp(self):
        self.proxy = None
        if through_proxy():
            self.proxy = DjproxyProcess(self.proxy_env).start()
            self.addCleanup(self._stop)

    def _stop(self):
        self.assertTrue(self.proxy.alive(), "djproxy died; log:\n" + self.proxy.log_tail())
        self.assertEqual(self.proxy.stop(), "clean", self.proxy.log_tail())

    def compare(self, session, prepare=None):
        """Runs session(port, out) directly and through the proxy; returns the direct transcript."""
        sides = []
        for port in (db_port(), self.proxy.port if self.proxy else db_port()):
            if prepare:
                admin(prepare)
            out = []
            session(port, out)
            sides.append(out)
        self.maxDiff = 2000
        if sides[0] != sides[1]:
            for i, (a, b) in enumerate(zip(sides[0], sides[1])):
                if a != b:
                    self.fail(f"transcripts differ at entry {i}:\n direct: {a!r:.2000}\n  proxy: {b!r:.2000}\n"
                              + (self.proxy.log_tail() if self.proxy else ""))
            self.fail(f"transcripts differ in length: {len(sides[0])} vs {len(sides[1])}")
        return sides[0]


class PyMySQL(_Compare):
    def test_datajoint_like_session(self):
        payloads = [blob(1000, 1), blob(3 * 1024 * 1024, 2), b"\x00'\"\\\n\r\x1a%_", b""]

        def session(port, out):
            conn = connect(port)
            with conn.cursor() as c:
                run(c, out, "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION,ONLY_FULL_GROUP_BY'")
                run(c, out, "SELECT @@sql_mode, @@autocommit, CURRENT_USER()")
                run(c, out, "SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE %s",
                    ("myproject\\_it",))
                run(c, out, "SHOW TABLES IN `myproject_it` LIKE 'it\\_py%%'")
                run(c, out, "SELECT table_name, table_comment FROM information_schema.tables "
                            "WHERE table_schema = %s AND table_name = %s", ("myproject_it", "it_py"))
                run(c, out, "SELECT column_name, column_type, is_nullable, column_key, column_default, "
                            "column_comment FROM information_schema.columns WHERE table_schema = %s "
                            "AND table_name = %s ORDER BY ordinal_position", ("myproject_it", "it_py"))
                run(c, out, "SHOW CREATE TABLE `myproject_it`.`it_py`")
                # DataJoint inserts blobs as escaped binary literals inside COM_QUERY.
                for i, p in enumerate(payloads):
                    run(c, out, "INSERT INTO `myproject_it`.`it_py` (`id`, `name`, `data`) VALUES (%s, %s, %s)",
                        (i, f"name-{i} ünï ✓", p))
                run(c, out, "INSERT INTO `myproject_it`.`it_py` (`id`, `name`, `data`) VALUES (%s, %s, %s)",
                    (0, "duplicate", b""))  # 1062
                run(c, out, "SELECT `id`, `name`, `data` FROM `myproject_it`.`it_py` ORDER BY `id`")
                run(c, out, "SELECT `id`, LENGTH(`data`), SHA2(`data`, 256) FROM `myproject_it`.`it_py` ORDER BY `id`")
                # Transactions, as DataJoint's populate does.
                run(c, out, "START TRANSACTION WITH CONSISTENT SNAPSHOT")
                run(c, out, "INSERT INTO `myproject_it`.`it_py` VALUES (100, 'rolled back', NULL)")
                run(c, out, "ROLLBACK")
                conn.begin()
                run(c, out, "INSERT INTO `myproject_it`.`it_py` VALUES (101, 'committed', NULL)")
                conn.commit()
                run(c, out, "SELECT COUNT(*), SUM(`id`) FROM `myproject_it`.`it_py`")
                run(c, out, "DELETE FROM `myproject_it`.`it_py` WHERE `id` = 101")
                run(c, out, "SELECT no_such_column FROM `myproject_it`.`it_py`")
                run(c, out, "SELECT * FROM `myproject_it`.`alltypes` ORDER BY id")
            with conn.cursor(pymysql.cursors.SSCursor) as c:  # unbuffered, streamed
                run(c, out, "SELECT n, label FROM `myproject_it`.`numbers` ORDER BY n")
            conn.select_db("myproject_it")
            with conn.cursor() as c:
                run(c, out, "SELECT DATABASE()")
            out.append(("ping", conn.ping(reconnect=False)))
            conn.close()

        t = self.compare(session, "DROP TABLE IF EXISTS myproject_it.it_py; CREATE TABLE myproject_it.it_py "
                                  "(id INT PRIMARY KEY, name VARCHAR(64) COMMENT 'a name', data LONGBLOB) "
                                  "COMMENT 'python table' DEFAULT CHARSET=utf8mb4")
        fetched = after(t, "SELECT `id`, `name`, `data` FROM")
        self.assertEqual([hashlib.sha256(r[2]).hexdigest() for r in fetched],
                         [hashlib.sha256(p).hexdigest() for p in payloads])
        count, total = after(t, "SELECT COUNT(*), SUM(`id`)")[0]
        self.assertEqual((count, int(total)), (5, 107))  # ids 0..3 and 101; 100 was rolled back
        self.assertTrue(any(e[0] == "error" and e[1][0] == 1062 for e in t))
        self.assertTrue(any(e[0] == "error" and e[1][0] == 1054 for e in t))
        self.assertIn(("rows", (("myproject_it",),)), t)
        big = hashlib.sha256(payloads[1]).hexdigest()
        self.assertTrue(any(e[0] == "rows" and any(big in map(str, r) for r in e[1]) for e in t))

    def test_login_errors_and_attributes(self):
        def session(port, out):
            # (client_ed25519 logins need pynacl, not packaged for pymysql here: the C API suite covers them)
            for user, pw, db in (("dj", "wrong", None), ("djroot", "djroot", "myproject_it"),
                                 ("dj", "djpass", "myproject_missing")):
                try:
                    conn = connect(port, user=user, password=pw, database=db)
                    with conn.cursor() as c:
                        run(c, out, "SELECT CURRENT_USER(), DATABASE()")
                    conn.close()
                except pymysql.MySQLError as e:
                    out.append(("connect error", e.args))
        t = self.compare(session)
        self.assertEqual(t[0][0], "connect error")
        self.assertEqual(t[0][1][0], 1045)
        self.assertIn(("rows", (("djroot@%", "myproject_it"),)), t)
        self.assertEqual(t[-1][1][0], 1049)


class PyMySQLTls(_Compare):
    proxy_env = {"DJPROXY_CLIENT_TLS_MODE": "required", "DJPROXY_BACKEND_TLS_MODE": "verify-ca"}

    def setUp(self):
        self.proxy_env = dict(self.proxy_env, DJPROXY_BACKEND_TLS_CA=db_ca())
        super().setUp()

    def test_tls_session(self):
        def session(port, out):
            if port == db_port():
                ctx = ssl.create_default_context(cafile=db_ca())
            else:  # the proxy's generated self-signed certificate
                ctx = ssl.create_default_context()
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            conn = connect(port, ssl=ctx)
            out.append(("tls", conn._sock.version() is not None and conn._sock.cipher() is not None))
            with conn.cursor() as c:
                run(c, out, "SELECT VARIABLE_VALUE <> '' FROM information_schema.SESSION_STATUS "
                            "WHERE VARIABLE_NAME = 'SSL_CIPHER'")
                p = blob(2 * 1024 * 1024, 9)
                run(c, out, "SELECT SHA2(%s, 256), LENGTH(%s)", (p, p))
                run(c, out, "SELECT * FROM `myproject_it`.`alltypes` ORDER BY id")
            conn.close()
            for _ in range(5):  # several fresh TLS handshakes in a row
                try:
                    connect(port, ssl=ctx, user="dj", password="wrong")
                except pymysql.MySQLError as e:
                    out.append(("connect error", e.args))
                conn = connect(port, ssl=ctx)
                out.append(("tls again", conn._sock.cipher() is not None))
                conn.close()
        t = self.compare(session)
        self.assertIn(("tls", True), t)
        self.assertIn(("rows", ((1,),)), t)
        self.assertEqual(t[-2][1][0], 1045)
        self.assertEqual(t[-1], ("tls again", True))


if __name__ == "__main__":
    unittest.main()
