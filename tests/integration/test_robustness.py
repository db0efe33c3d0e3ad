"""A client cannot crash the proxy, hold a session forever, or keep rights it no
longer has: oversized commands, a client that stops half-way, a pooled connection
reset after a migration. Real MariaDB, real pymysql, raw packets where a driver
would not send them."""
import socket
import struct
import subprocess
import tempfile
import time
import unittest

import pymysql

from djproxy_harness import PROXY_BIN, DjproxyProcess, db_port

KEY = "robustness-test-key-" + "r" * 40


def production(extra=None):
    env = {"DJPROXY_POLICY_MODE": "enforce", "DJ_CREATE_TABLES": "false", "DJ_SCHEMA_PREFIX": "myproject_",
           "DJPROXY_MIGRATION_KEY": KEY}
    env.update(extra or {})
    return env


def connect(port, **kw):
    return pymysql.connect(host="127.0.0.1", port=port, user="dj", password="djpass", autocommit=True, **kw)


def send_command(conn, command, payload):
    """One raw command packet (under 16 MiB), as a driver would frame it."""
    body = bytes([command]) + payload
    conn._write_bytes(struct.pack("<I", len(body))[:3] + b"\x00" + body)
    conn._next_seq_id = 1


def read_error_code(conn):
    try:
        conn._read_packet()
    except pymysql.err.MySQLError as e:
        return e.args[0]
    return None


@unittest.skipUnless(PROXY_BIN, "no djproxy binary")
class Robustness(unittest.TestCase):
    def test_oversized_schema_and_option_commands_are_refused_and_the_session_goes_on(self):
        with DjproxyProcess(production()) as proxy:
            c = connect(proxy.port)
            for command, name in ((0x02, "COM_INIT_DB"), (0x04, "COM_FIELD_LIST"), (0x11, "COM_CHANGE_USER"),
                                  (0x1B, "COM_SET_OPTION")):
                with self.subTest(command=name):
                    send_command(c, command, b"myproject_" + b"x" * 100_000)
                    self.assertEqual(read_error_code(c), 1153)
                    with c.cursor() as cur:  # the same session still works
                        cur.execute("SELECT 1")
                        self.assertEqual(cur.fetchone()[0], 1)
            c.close()
            self.assertTrue(proxy.alive())

    def test_a_client_that_stops_half_way_is_closed_at_the_idle_timeout(self):
        with DjproxyProcess(production({"DJPROXY_TIMEOUTS_IDLE": "1s"})) as proxy:
            c = connect(proxy.port)
            # A header announcing 1000 bytes, then only 10 of them.
            c._write_bytes(struct.pack("<I", 1000)[:3] + b"\x00" + b"\x03SELECT 1 ")
            sock = c._sock
            sock.settimeout(8)
            started = time.monotonic()
            try:
                data = sock.recv(100)
            except ConnectionResetError:
                data = b""
            # Closed (EOF) by the proxy, not by our own 8 s timeout.
            self.assertEqual(data, b"")
            self.assertLess(time.monotonic() - started, 6)
            with connect(proxy.port) as other, other.cursor() as cur:
                cur.execute("SELECT 2")
                self.assertEqual(cur.fetchone()[0], 2)

    def test_reset_connection_ends_a_token_migration(self):
        env = {"PATH": "/usr/bin:/bin", "DJPROXY_MIGRATION_KEY": KEY, "DJ_SCHEMA_PREFIX": "myproject_"}
        token = subprocess.run([PROXY_BIN, "token", "issue", "--schema", "myproject_*", "--ttl", "5m"], env=env,
                               check=True, capture_output=True, text=True,
                               cwd=tempfile.gettempdir()).stdout.strip().splitlines()[-1]
        with DjproxyProcess(production()) as proxy:
            c = connect(proxy.port)
            with c.cursor() as cur:
                cur.execute("SET @djproxy_migration = %s", (token,))
                cur.execute("CREATE DATABASE IF NOT EXISTS myproject_reset_test")
            send_command(c, 0x1F, b"")  # COM_RESET_CONNECTION, as connection pools send it
            c._read_ok_packet()
            with c.cursor() as cur:
                with self.assertRaises(pymysql.err.OperationalError) as refused:
                    cur.execute("CREATE TABLE myproject_reset_test.t (id INT)")
                self.assertEqual(refused.exception.args[0], 1142)
            c.close()
        with pymysql.connect(host="127.0.0.1", port=db_port(), user="djroot", password="djroot",
                             autocommit=True) as d, d.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'myproject_reset_test'")
            self.assertEqual(cur.fetchone()[0], 0)  # the refused CREATE TABLE did not happen
            cur.execute("DROP DATABASE myproject_reset_test")


if __name__ == "__main__":
    unittest.main()
