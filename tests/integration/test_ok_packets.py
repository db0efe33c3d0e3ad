"""OK, EOF and ERR packets through djproxy are byte for byte what MariaDB sends a direct
client with the same capabilities (issue 17: PHP's mysqlnd rejected re-encoded OKs whose
info text had lost its length prefix).

pymysql carries the handshake; every packet read after it is recorded raw. The
capability combinations are CLIENT_SESSION_TRACK and CLIENT_DEPRECATE_EOF on and off.
"""
import itertools
import unittest

import pymysql
from pymysql.constants import CLIENT

from djproxy_harness import DjproxyProcess, db_port, through_proxy

SESSION_TRACK = 1 << 23
DEPRECATE_EOF = 1 << 24

SETUP = ("DROP TABLE IF EXISTS myproject_it.it_ok; "
         "CREATE TABLE myproject_it.it_ok (id INT PRIMARY KEY, v INT, s VARCHAR(4)); "
         "INSERT INTO myproject_it.it_ok VALUES (1, 1, 'a'), (2, 2, 'b')")

# Statements answered by OK or ERR only (no result set), so that a client that
# asked for CLIENT_DEPRECATE_EOF reads them as pymysql does.
OK_STATEMENTS = [
    "UPDATE myproject_it.it_ok SET v = v + 1",                       # info "Rows matched: 2 ..."
    "UPDATE myproject_it.it_ok SET v = v WHERE id = 1",              # matched, not changed
    "INSERT INTO myproject_it.it_ok VALUES (3, 3, 'c'), (4, 4, 'd')",  # info "Records: 2 ..."
    "INSERT INTO myproject_it.it_ok VALUES (5, 5, 'e')",             # no info
    "INSERT IGNORE INTO myproject_it.it_ok VALUES (5, 5, 'e'), (6, 6, 'f')",  # warning + info
    "UPDATE myproject_it.it_ok SET s = 'toolong' WHERE id = 1",      # truncation warning
    "INSERT INTO myproject_it.it_ok VALUES (1, 1, 'a')",             # ERR 1062
    "DELETE FROM myproject_it.it_ok WHERE id > 4",
    "BEGIN",                                                         # status: in transaction
    "UPDATE myproject_it.it_ok SET v = 0 WHERE id = 2",
    "COMMIT",
    "USE myproject_it",                                              # schema change (tracked)
    "SET @x = 1",
]
MULTI = ("UPDATE myproject_it.it_ok SET v = v + 1; INSERT INTO myproject_it.it_ok VALUES (7, 7, 'g'), "
         "(8, 8, 'h'); INSERT IGNORE INTO myproject_it.it_ok VALUES (7, 7, 'g'); DELETE FROM "
         "myproject_it.it_ok WHERE id > 6")
# With classic EOFs, result sets too: their EOF packets carry status and warnings.
RESULT_STATEMENTS = [
    "SELECT id, v, s FROM myproject_it.it_ok ORDER BY id",
    "SELECT CAST('x' AS INT)",                                        # warning counted in EOF
    "SHOW WARNINGS",
]


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


def record(port, flags, sql_mode_strict):
    """Every packet the client reads after the handshake, per statement."""
    conn = pymysql.connect(host="127.0.0.1", port=port, user="dj", password="djpass", autocommit=True,
                           charset="utf8mb4", client_flag=CLIENT.MULTI_STATEMENTS | flags,
                           connect_timeout=10, read_timeout=60)
    packets = []
    original = conn._read_packet

    def capture(*a, **kw):
        p = original(*a, **kw)
        packets.append(bytes(p._data))
        return p

    conn._read_packet = capture
    out = []
    statements = list(OK_STATEMENTS) + [MULTI]
    if not flags & DEPRECATE_EOF:
        statements += RESULT_STATEMENTS
    try:
        with conn.cursor() as c:
            c.execute("SET SESSION sql_mode = " + ("'STRICT_ALL_TABLES'" if sql_mode_strict else "''"))
            for sql in statements:
                del packets[:]
                try:
                    c.execute(sql)
                    while c.nextset():
                        pass
                except pymysql.MySQLError:
                    pass
                out.append((sql, list(packets)))
    finally:
        conn.close()
    return out


class OkPacketLayout(unittest.TestCase):
    def test_every_capability_combination_matches_the_server(self):
        if not through_proxy():
            self.skipTest("no djproxy binary")
        proxy = DjproxyProcess().start()
        try:
            for track, deprecate in itertools.product((False, True), repeat=2):
                flags = (SESSION_TRACK if track else 0) | (DEPRECATE_EOF if deprecate else 0)
                with self.subTest(session_track=track, deprecate_eof=deprecate):
                    sides = []
                    for port in (db_port(), proxy.port):
                        admin(SETUP)
                        sides.append(record(port, flags, False))
                    for (sql, direct), (_, proxied) in zip(*sides):
                        self.assertEqual([p.hex() for p in direct], [p.hex() for p in proxied],
                                         f"{sql} (session_track={track}, deprecate_eof={deprecate})")
                    # A sanity check that the comparison saw what it is about.
                    update = sides[0][0][1]
                    self.assertIn(b"Rows matched", update[0])
        finally:
            self.assertTrue(proxy.alive(), proxy.log_tail())
            self.assertEqual(proxy.stop(), "clean", proxy.log_tail())


if __name__ == "__main__":
    unittest.main()
