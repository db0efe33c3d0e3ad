"""Dynamic SQL whose text the server converts before reading it (review round 12).

MariaDB stores a string literal in character_set_connection and converts the text of
PREPARE ... FROM '...' / EXECUTE IMMEDIATE '...' back to character_set_client before it
parses it (sql/sql_prepare.cc, get_dynamic_sql_string). When the two differ, the round
trip can move backslashes: in sjis a backslash comes back as the two-byte 0x815F, in ujis
the two bytes A1 C0 come back as a backslash. The text the proxy read is then not the text
the server runs. Such dynamic SQL is refused; with one character set it still runs.

Attacks run as djroot through the proxy (production), an account the server lets do
anything; every refusal is checked on the server directly.
"""
import struct
import time
import unittest

import pymysql
import pymysql.constants

import raw_protocol
import test_enforcement as enf
from test_enforcement import admin, connect, scalar

ER_NOT_SUPPORTED_YET = 1235
ER_UNKNOWN_STMT_HANDLER = 1243

# Ways a client gets a connection character set other than its own, all forwarded.
SETUPS = {
    "sjis, SET CHARACTER SET": (["SET CHARACTER SET sjis"], "sjis"),
    "sjis, SET character_set_connection": (["SET NAMES sjis", "SET character_set_connection = utf8mb4"], "sjis"),
    "sjis, SET collation_connection": (["SET NAMES sjis", "SET collation_connection = latin1_swedish_ci"], "sjis"),
    "ujis, SET CHARACTER SET": (["SET CHARACTER SET ujis"], "ujis"),
    "ujis, SET character_set_connection": (["SET NAMES ujis", "SET character_set_connection = utf8mb4"], "ujis"),
}


def attacks(other):
    """The review's statements, as wire bytes: what the proxy read as one string literal
    holds a read of another schema or a change of the server once converted."""
    sjis = [
        b"EXECUTE IMMEDIATE 'SELECT ''\\\\'' AS a, (SELECT GROUP_CONCAT(v) FROM `" + other +
        b"`.t) AS b, ''#'' AS c'",
        b"EXECUTE IMMEDIATE 'SET @a = ''\\\\'', GLOBAL max_connections = 4242 -- '''",
        b"PREPARE djs FROM 'SELECT ''\\\\'' AS x, v AS y FROM `" + other + b"`.t -- '''",
    ]
    ujis = [
        b"EXECUTE IMMEDIATE 'SELECT ''\xa1\xc0'' AS a, '' , (SELECT GROUP_CONCAT(v) FROM `" + other +
        b"`.t) AS b -- '' AS c'",
        b"PREPARE djs FROM 'SELECT ''\xa1\xc0'' AS a, '' , (SELECT v FROM `" + other + b"`.t) AS b -- '' AS c'",
    ]
    return {"sjis": sjis, "ujis": ujis}


def setUpModule():
    enf.setUpModule()


def tearDownModule():
    enf.tearDownModule()


class ConvertedDynamicSql(enf._Base):
    def session(self, charset, setup):
        conn = connect(self.port, "djroot", "djroot", database=self.P, charset=charset)
        self.addCleanup(conn.close)
        with conn.cursor() as c:
            for sql in setup:
                c.execute(sql)
        return conn

    def test_refused_when_the_connection_character_set_differs(self):
        before = scalar("SELECT @@global.max_connections")
        for name, (setup, charset) in SETUPS.items():
            conn = self.session(charset, setup)
            for sql in attacks(self.O.encode())[charset]:
                with self.subTest(setup=name, sql=sql):
                    with conn.cursor() as c:
                        with self.assertRaises(pymysql.MySQLError) as cm:
                            c.execute(sql)
                            rows = c.fetchall()
                            self.fail(f"forwarded, returned {rows!r}")
                    code, message = cm.exception.args[0], str(cm.exception.args[1])
                    self.assertTrue(message.startswith("djproxy"), message)
                    self.assertEqual(code, ER_NOT_SUPPORTED_YET, message)
                    self.assertIn("character_set_connection", message)
            with conn.cursor() as c:  # nothing was prepared under the name
                with self.assertRaises(pymysql.MySQLError):
                    c.execute("EXECUTE djs")
                # The session goes on, and ordinary statements are read as before.
                c.execute("SELECT id FROM items ORDER BY id")
                self.assertEqual(c.fetchall(), ((1,), (2,), (3,)))
        self.assertEqual(scalar("SELECT @@global.max_connections"), before)
        self.assertEqual(self.outside_rows(), ((1, "secret-1", None), (2, "secret-2", None)))

    def test_runs_again_with_one_character_set(self):
        for charset in ("sjis", "ujis", "utf8mb4"):
            with self.subTest(charset=charset):
                conn = self.session(charset, [f"SET NAMES {charset}", "SET character_set_connection = latin1"])
                with conn.cursor() as c:
                    with self.assertRaises(pymysql.MySQLError) as cm:
                        c.execute("EXECUTE IMMEDIATE 'SELECT 1'")
                    self.assertEqual(cm.exception.args[0], ER_NOT_SUPPORTED_YET)
                    c.execute(f"SET NAMES {charset}")
                    c.execute("EXECUTE IMMEDIATE 'SELECT v FROM items WHERE id = 2'")
                    self.assertEqual(c.fetchall(), (("two",),))
                    c.execute("PREPARE djs FROM 'SELECT ''x'' AS a, id FROM items WHERE id = ?'")
                    c.execute("SET @k = 3")
                    c.execute("EXECUTE djs USING @k")
                    self.assertEqual(c.fetchall(), (("x", 3),))
                    # The attack's text under one character set is read as the server reads
                    # it: one string literal and a comment, so it returns the literal only.
                    c.execute(b"EXECUTE IMMEDIATE 'SELECT ''\\\\'' AS a, (SELECT GROUP_CONCAT(v) FROM `" +
                              self.O.encode() + b"`.t) AS b, ''#'' AS c'")
                    rows = c.fetchall()
                    self.assertEqual(len(rows), 1)
                    self.assertEqual(len(rows[0]), 1)
                    self.assertNotIn("secret", repr(rows))

    def test_a_change_of_the_connection_set_ends_its_packet(self):
        # The packet is read with the state it starts with: a change of the connection's
        # character set followed by dynamic SQL in the same packet is refused whole.
        conn = connect(self.port, "djroot", "djroot", database=self.P, charset="sjis",
                       client_flag=pymysql.constants.CLIENT.MULTI_STATEMENTS)
        self.addCleanup(conn.close)
        attack = attacks(self.O.encode())["sjis"][0]
        for change in (b"SET character_set_connection = latin1", b"SET @a = 1, collation_connection = latin1_bin",
                       b"SET CHARACTER SET sjis"):
            with self.subTest(change=change):
                with conn.cursor() as c:
                    with self.assertRaises(pymysql.MySQLError) as cm:
                        c.execute(change + b"; " + attack)
                        rows = c.fetchall()
                        while c.nextset():
                            rows += c.fetchall()
                        self.fail(f"forwarded, returned {rows!r}")
                    self.assertEqual(cm.exception.args[0], ER_NOT_SUPPORTED_YET, cm.exception.args)
                    self.assertIn("last statement of its packet", str(cm.exception.args[1]))
                    c.execute("SELECT @@character_set_connection")
                    self.assertEqual(c.fetchall(), (("sjis",),))

    def reprepare_setup(self, conn):
        """A statement that uses a temporary table, and the table made anew: the server
        prepares the statement again from its text at its next execution."""
        with conn.cursor() as c:
            c.execute("DROP TEMPORARY TABLE IF EXISTS tmp")
            c.execute("CREATE TEMPORARY TABLE tmp (v VARCHAR(50))")

    def test_a_statement_runs_only_in_the_character_set_it_was_read_in(self):
        # Review round 13: read in utf8mb4, the text is one string after `\'`; read again
        # in sjis after the table changed, 0x81 0x5C is one character, the string ends and
        # the UNION reads another schema.
        text = (b"SELECT 0x41 AS a UNION SELECT HEX('\x81\\') UNION SELECT v FROM `" + self.O.encode() +
                b"`.t -- ') AS x FROM tmp")
        sql_text = text.replace(b"\\", b"\\\\").replace(b"'", b"''")
        for form in ("sql", "binary"):
            with self.subTest(form=form):
                conn = connect(self.port, "djroot", "djroot", database=self.P, charset="utf8mb4")
                self.addCleanup(conn.close)
                self.reprepare_setup(conn)
                with conn.cursor() as c:
                    if form == "sql":
                        c.execute(b"PREPARE djs FROM '" + sql_text + b"'")
                        c.execute("EXECUTE djs")
                        self.assertEqual(c.fetchall(), ((b"A",),))  # tmp is empty
                    else:
                        statement = raw_protocol.prepare(conn, text)
                        self.assertEqual(raw_protocol.execute(conn, statement), 1)
                self.reprepare_setup(conn)
                with conn.cursor() as c:
                    c.execute("SET NAMES sjis")
                with self.assertRaises(pymysql.MySQLError) as cm:
                    if form == "sql":
                        with conn.cursor() as c:
                            c.execute("EXECUTE djs")
                            self.fail(f"forwarded, returned {c.fetchall()!r}")
                    else:
                        rows = raw_protocol.execute(conn, statement)
                        self.fail(f"forwarded, returned {rows} rows")
                self.assertEqual(cm.exception.args[0], ER_NOT_SUPPORTED_YET, cm.exception.args)
                self.assertIn("another client character set", str(cm.exception.args[1]))
                # Back in the set it was read in, it runs (and reads what it read before).
                with conn.cursor() as c:
                    c.execute("SET NAMES utf8mb4")
                if form == "sql":
                    with conn.cursor() as c:
                        c.execute("EXECUTE djs")
                        self.assertEqual(c.fetchall(), ((b"A",),))
                else:
                    self.assertEqual(raw_protocol.execute(conn, statement), 1)
                    # Prepared again in sjis, it is read in sjis: refused, it reads another schema.
                    with conn.cursor() as c:
                        c.execute("SET NAMES sjis")
                    with self.assertRaises(pymysql.MySQLError) as cm:
                        raw_protocol.prepare(conn, text)
                    self.assertTrue(str(cm.exception.args[1]).startswith("djproxy"), cm.exception.args)

    def send_split(self, conn, command, statement_id, size):
        """A command larger than the proxy's buffer, naming a statement, sent in two writes:
        the first ends right after the command byte (review round 16)."""
        payload = bytes([command]) + struct.pack("<I", statement_id) + b"\0" * (size - 5)
        packet = struct.pack("<I", len(payload))[:3] + b"\0" + payload
        conn._sock.sendall(packet[:5])
        time.sleep(0.3)
        conn._sock.sendall(packet[5:])
        conn._next_seq_id = 1

    def test_the_statement_prepared_last_after_a_refused_prepare(self):
        # Directly, a prepare that fails leaves no statement prepared last (id 0xFFFFFFFF);
        # a prepare the proxy refuses never reaches the server, which would still have the
        # one before. Large commands too, whose id arrives after the command byte.
        conn = connect(self.port, "djroot", "djroot", database=self.P)
        self.addCleanup(conn.close)
        kept = raw_protocol.prepare(conn, b"SELECT id FROM items")
        with self.assertRaises(pymysql.MySQLError) as cm:
            raw_protocol.prepare(conn, b"SELECT v FROM `" + self.O.encode() + b"`.t")
        self.assertTrue(str(cm.exception.args[1]).startswith("djproxy"), cm.exception.args)
        self.send_split(conn, 0x1A, 0xFFFFFFFF, 70000)  # COM_STMT_RESET: answered, as the server would
        with self.assertRaises(pymysql.MySQLError) as cm:
            conn._read_packet()
        self.assertEqual(cm.exception.args[0], ER_UNKNOWN_STMT_HANDLER, cm.exception.args)
        self.send_split(conn, 0x19, 0xFFFFFFFF, 70000)  # COM_STMT_CLOSE: dropped, never answered
        with conn.cursor() as c:  # in step: the next answer is this query's
            c.execute("SELECT 7")
            self.assertEqual(c.fetchall(), ((7,),))
        self.assertEqual(raw_protocol.execute(conn, kept), 3)  # not closed
        # A close padded past the buffer closes it for the proxy too (review round 17).
        self.send_split(conn, 0x19, kept, 70000)
        with self.assertRaises(pymysql.MySQLError) as cm:
            raw_protocol.execute(conn, kept)
        self.assertEqual(cm.exception.args[0], ER_NOT_SUPPORTED_YET, cm.exception.args)
        self.assertTrue(str(cm.exception.args[1]).startswith("djproxy"), cm.exception.args)

    def test_a_close_of_the_statement_prepared_last_closes_it_by_its_id(self):
        # COM_STMT_CLOSE of 0xFFFFFFFF closes the statement prepared last on the server;
        # the proxy forgets it too, so its own id is refused as not seen prepared, as after
        # a close by that id, and a loop of such closes does not fill the session's records
        # (review round 22). Before, the execute reached the server, which answered 1243.
        conn = connect(self.port, "djroot", "djroot", database=self.P)
        self.addCleanup(conn.close)
        for _ in range(2):
            statement = raw_protocol.prepare(conn, b"SELECT id FROM items")
            self.assertEqual(raw_protocol.execute(conn, statement), 3)
            raw_protocol.close(conn, 0xFFFFFFFF)
            with self.assertRaises(pymysql.MySQLError) as cm:
                raw_protocol.execute(conn, statement)
            self.assertEqual(cm.exception.args[0], ER_NOT_SUPPORTED_YET, cm.exception.args)
            self.assertIn("not seen prepared", str(cm.exception.args[1]))
        kept = raw_protocol.prepare(conn, b"SELECT id FROM items")
        self.assertEqual(raw_protocol.execute(conn, kept), 3)  # a later statement is unaffected

    def test_known_from_the_start_of_the_session(self):
        # A client that logs in with sjis has sjis on both sides: dynamic SQL runs at once.
        conn = connect(self.port, "djroot", "djroot", database=self.P, charset="sjis")
        self.addCleanup(conn.close)
        with conn.cursor() as c:
            c.execute("EXECUTE IMMEDIATE 'SELECT COUNT(*) FROM items'")
            self.assertEqual(c.fetchall(), ((3,),))


if __name__ == "__main__":
    unittest.main()
