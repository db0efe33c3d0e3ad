"""Every keyword the server knows, in the places a name goes: the server is the oracle.

Each keyword of information_schema.KEYWORDS (and each word djproxy holds reserved) is
sent in eight name positions, once directly to MariaDB and once through the proxy
(production, as djroot). Where the server reads the word as a name (the statement runs,
or fails with unknown column / unknown table), the proxy must not refuse it as invalid
SQL; where the server answers 1064, the proxy must not have read a name that the server
reserves. The few known differences are listed below with the reason they stay.
"""
import unittest

import pymysql

import test_enforcement as enf
from test_enforcement import admin, admin_conn, connect

ER_PARSE_ERROR = 1064
# The statement ran, or the word was read as a column or a table that does not exist.
NAME_ERRORS = {1054, 1146}

FORMS = [
    "SELECT {w} FROM t",
    "SELECT 1 AS {w}",
    "SELECT 1 {w}",
    "SELECT {w}.id FROM t {w}",
    "SELECT id FROM t AS {w}",
    "INSERT INTO t ({w}) VALUES (1)",
    "UPDATE t SET {w} = 1 WHERE 0",
    "SELECT * FROM {w}",
]

# Read differently, and safely: the proxy refuses what the server would run. All are a
# word right before '.', which the server reads as a name whatever the word
# (sql/sql_lex.cc, MY_LEX_IDENT): select options and UNKNOWN right after SELECT (the
# allow-list reader takes them as the option and as IS UNKNOWN's word), and the
# unreserved words the older reader steers by, which it will not join to a '.'.
KNOWN_REFUSED = {(w, "SELECT {w}.id FROM t {w}") for w in [
    "SQL_BUFFER_RESULT", "SQL_CACHE", "SQL_NO_CACHE", "UNKNOWN",
    "ANY", "BEGIN", "LOCAL", "QUICK", "SOME", "VALUE"]}
# Read differently, and safely: the proxy forwards what the server refuses with 1064.
# DEFAULT is a value to the reader (DEFAULT(col), VALUES (DEFAULT)); SOUNDS begins
# SOUNDS LIKE for the server and is an alias to the reader.
KNOWN_FORWARDED = {
    ("DEFAULT", "SELECT {w} FROM t"),
    ("SOUNDS", "SELECT 1 {w}"),
}


def setUpModule():
    enf.setUpModule()


def tearDownModule():
    enf.tearDownModule()


def outcome(conn, sql):
    """'ok', or the error number and message."""
    try:
        with conn.cursor() as c:
            c.execute(sql)
            c.fetchall()
        return "ok", ""
    except pymysql.MySQLError as e:
        return e.args[0], str(e.args[1])


class KeywordNames(enf._Base):
    def test_every_keyword_in_every_name_position(self):
        P = self.P
        admin(f"CREATE TABLE `{P}`.t (id INT)")
        words = {r[0].upper() for r in admin("SELECT WORD FROM information_schema.KEYWORDS")}
        # Words the server's reserved-word page lists but its grammar takes as names.
        words |= {"DATABASE", "SCHEMA", "OPTION", "POSITION", "GENERAL", "SLOW", "IGNORE_SERVER_IDS",
                  "MASTER_HEARTBEAT_PERIOD", "WINDOW", "PORTION", "MASTER_DEMOTE_TO_SLAVE"}
        words = sorted(w for w in words if w.replace("_", "").isalnum() and not w[0].isdigit())
        self.assertGreater(len(words), 600)
        direct = admin_conn(database=P)
        self.addCleanup(direct.close)
        proxied = connect(self.port, "djroot", "djroot", database=P)
        self.addCleanup(proxied.close)
        refused, forwarded, names = [], [], 0
        for w in words:
            for form in FORMS:
                sql = form.format(w=w)
                server, _ = outcome(direct, sql)
                code, message = outcome(proxied, sql)
                by_proxy = code != "ok" and message.startswith("djproxy")
                if server == "ok" or server in NAME_ERRORS:
                    names += 1
                    if by_proxy and (w, form) not in KNOWN_REFUSED:
                        refused.append(f"{sql}: {message[:120]}")
                elif server == ER_PARSE_ERROR and not by_proxy and (w, form) not in KNOWN_FORWARDED:
                    forwarded.append(sql)
        self.assertGreater(names, 2000)
        self.assertEqual(refused, [], "the server reads a name, the proxy refused it")
        self.assertEqual(forwarded, [], "the server reserves the word, the proxy read a name")
        # The session is still usable. ID is a keyword too: its INSERT ran directly and
        # through the proxy, and no other did.
        self.assertEqual(self.rows(proxied, "SELECT 1"), ((1,),))
        self.assertEqual(admin(f"SELECT COUNT(*) FROM `{P}`.t"), ((2,),))


if __name__ == "__main__":
    unittest.main()
