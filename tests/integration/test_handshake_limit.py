"""Connections in their handshake are bounded (limits.max_handshakes). Each one holds a
server connection from accept until it authenticates, since pass-through authentication
needs the server's greeting; clients that never answer the greeting must not be able to
take every server thread. Past the limit a connection gets 1040 at once, in place of the
greeting, and no backend connection is opened. Real MariaDB, real PyMySQL, raw sockets
for the clients that stall."""
import socket
import struct
import time
import unittest

import pymysql

from djproxy_harness import PROXY_BIN, DjproxyProcess, db_ca, db_port
from test_observability import metrics
from test_operations import seconds_until_eof

CLIENT_LONG_PASSWORD = 0x1
CLIENT_PROTOCOL_41 = 0x200
CLIENT_SSL = 0x800
CLIENT_SECURE_CONNECTION = 0x8000
CLIENT_PLUGIN_AUTH = 0x80000


def direct():
    return pymysql.connect(host="127.0.0.1", port=db_port(), user="djroot", password="djroot", autocommit=True)


def connect(port, user="dj", password="djpass"):
    # read_timeout: a connection the proxy held instead of answering would end as 2013.
    return pymysql.connect(host="127.0.0.1", port=port, user=user, password=password, autocommit=True,
                           connect_timeout=30, read_timeout=30)


def read_packet(sock):
    """(sequence, payload) of one packet, or None when the peer closed first."""
    def exactly(n):
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            if not chunk:
                return None
            data += chunk
        return data
    header = exactly(4)
    if header is None:
        return None
    length = header[0] | header[1] << 8 | header[2] << 16
    payload = exactly(length)
    return None if payload is None else (header[3], payload)


def stalled_client(port):
    """A client that reads the greeting and never answers it."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    packet = read_packet(sock)
    if packet is None or packet[1][:1] != b"\x0a":
        sock.close()
        raise AssertionError(f"expected a protocol-10 greeting, got {packet!r}")
    return sock, packet[1]


def greeting_capabilities(greeting):
    version_end = greeting.index(b"\0", 1)
    pos = version_end + 1 + 4 + 8 + 1  # connection id, scramble part 1, filler
    low = struct.unpack_from("<H", greeting, pos)[0]
    high = struct.unpack_from("<H", greeting, pos + 2 + 1 + 2)[0]  # after charset and status
    return low | high << 16


def in_handshake(admin):
    """Server connections still in their handshake. Counted by state, not as a growth of
    Threads_connected: the suite runs tests in parallel, and another test's connections
    closing meanwhile made a growth of 4 read as 3 in CI."""
    with admin.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = 'unauthenticated user'")
        return int(cur.fetchone()[0])


def wait_for_gauge(test, proxy, name, value, limit_s=30.0):
    """Polls /metrics until `name` equals `value` (the proxy notices a closed client
    asynchronously; at start the admin listener may open after the client port); fails
    with the last value seen after `limit_s`."""
    deadline = time.monotonic() + limit_s
    while True:
        try:
            seen = metrics(proxy.admin_port).get(name)
        except OSError as e:  # URLError: not listening yet
            seen = f"no /metrics: {e}"
        if seen == value or time.monotonic() > deadline:
            test.assertEqual(seen, value, f"{name}; log:\n{proxy.log_tail()}")
            return
        time.sleep(0.05)


@unittest.skipUnless(PROXY_BIN, "no djproxy binary")
class HandshakeLimit(unittest.TestCase):
    N = 4       # limits.max_handshakes
    EXTRA = 16  # clients that come while N stall

    def test_stalled_clients_hold_at_most_the_limit_and_the_next_gets_1040_at_once(self):
        n = self.N
        env = {"DJPROXY_LIMITS_MAX_HANDSHAKES": str(n),
               "DJPROXY_TIMEOUTS_HANDSHAKE": "300s"}  # only the test ends the stalled handshakes
        with DjproxyProcess(env) as proxy, direct() as admin:
            wait_for_gauge(self, proxy, "djproxy_handshakes_in_progress", 0)  # the harness's own probe
            m = metrics(proxy.admin_port)
            self.assertEqual(m["djproxy_handshakes_max"], n)
            self.assertEqual(m["djproxy_connections_max"], 1000)
            self.assertEqual(m["djproxy_handshakes_refused_total"], 0)

            stalled = [stalled_client(proxy.port)[0] for _ in range(n)]
            try:
                m = metrics(proxy.admin_port)
                self.assertEqual(m["djproxy_handshakes_in_progress"], n)

                # The next client is refused in place of the greeting, while the N stall.
                start = time.monotonic()
                with self.assertRaises(pymysql.err.OperationalError) as cm:
                    connect(proxy.port)
                took = time.monotonic() - start
                print(f"refused with {cm.exception.args} after {took:.3f} s")
                self.assertEqual(cm.exception.args[0], 1040, cm.exception.args)
                # PyMySQL up to 1.0.2 drops the first 6 characters of a pre-handshake message.
                self.assertIn("limits.max_handshakes", cm.exception.args[1])

                # More clients that would stall: each gets the ERR, none gets a greeting.
                for i in range(self.EXTRA):
                    with socket.create_connection(("127.0.0.1", proxy.port), timeout=30) as s:
                        packet = read_packet(s)
                        self.assertIsNotNone(packet, f"client {i}: closed without an answer")
                        sequence, payload = packet
                        self.assertEqual(sequence, 0)
                        self.assertEqual(payload[:3], b"\xff\x10\x04", f"client {i}: {payload!r}")  # 1040
                        self.assertNotEqual(payload[3:4], b"#")  # pre-handshake layout

                # Asked of the server directly: only the N handshakes hold a connection there.
                # Unbounded, every one of the N + 1 + EXTRA clients would (another test's
                # connections running meanwhile are the margin).
                # The server may not have listed the last leg yet: the count is read until it
                # reaches N, for a while.
                deadline = time.monotonic() + 10
                while (held := in_handshake(admin)) < n and time.monotonic() < deadline:
                    time.sleep(0.05)
                print(f"{held} server connections in their handshake for {n} stalled + {1 + self.EXTRA} refused clients")
                self.assertGreaterEqual(held, n)
                self.assertLess(held, n + self.EXTRA // 2)

                m = metrics(proxy.admin_port)
                self.assertEqual(m["djproxy_handshakes_in_progress"], n)
                self.assertEqual(m["djproxy_handshakes_refused_total"], 1 + self.EXTRA)
                self.assertEqual(m["djproxy_connections_rejected_total"], 0)  # not the connection limit
            finally:
                for s in stalled:
                    s.close()

            # The stalled clients gone, their slots come back and a login works.
            wait_for_gauge(self, proxy, "djproxy_handshakes_in_progress", 0)
            with connect(proxy.port) as c, c.cursor() as cur:
                cur.execute("SELECT 1")
                self.assertEqual(cur.fetchall(), ((1,),))
                # Authenticated: no longer a handshake, though the connection stays.
                self.assertEqual(metrics(proxy.admin_port)["djproxy_handshakes_in_progress"], 0)
            self.assertEqual(proxy.stop(), "clean", proxy.log_tail())

    def test_failed_logins_timeouts_broken_tls_and_vanished_clients_give_the_slot_back(self):
        env = {"DJPROXY_LIMITS_MAX_HANDSHAKES": "2", "DJPROXY_TIMEOUTS_HANDSHAKE": "2s",
               "DJPROXY_CLIENT_TLS_MODE": "preferred", "DJPROXY_BACKEND_TLS_MODE": "verify-ca",
               "DJPROXY_BACKEND_TLS_CA": db_ca()}
        with DjproxyProcess(env) as proxy:
            wait_for_gauge(self, proxy, "djproxy_handshakes_in_progress", 0)
            # Authentication failures, more of them than the limit: had one kept its slot,
            # the third would get 1040 instead of the server's 1045.
            for i in range(5):
                with self.assertRaises(pymysql.err.OperationalError) as cm:
                    connect(proxy.port, password="wrong")
                self.assertEqual(cm.exception.args[0], 1045, (i, cm.exception.args))

            # Handshake timeouts: the proxy closes both at the deadline.
            stalled = [stalled_client(proxy.port)[0] for _ in range(2)]
            for s in stalled:
                self.assertIsNotNone(seconds_until_eof(s, 60.0), "a stalled handshake was never timed out")
                s.close()
            wait_for_gauge(self, proxy, "djproxy_handshakes_in_progress", 0)

            # A TLS handshake that fails: SSLRequest, then bytes that are not TLS.
            for _ in range(2):
                sock, greeting = stalled_client(proxy.port)
                with sock:
                    self.assertTrue(greeting_capabilities(greeting) & CLIENT_SSL, "the proxy offered no TLS")
                    caps = CLIENT_LONG_PASSWORD | CLIENT_PROTOCOL_41 | CLIENT_SSL | CLIENT_SECURE_CONNECTION | \
                        CLIENT_PLUGIN_AUTH
                    payload = struct.pack("<IIB", caps, 1 << 24, 45) + b"\0" * 23
                    sock.sendall(struct.pack("<I", len(payload))[:3] + b"\x01" + payload)
                    sock.sendall(b"this is not a TLS ClientHello\r\n" * 8)
                    self.assertIsNotNone(seconds_until_eof(sock, 60.0))
            wait_for_gauge(self, proxy, "djproxy_handshakes_in_progress", 0)

            # Clients that go away in the middle of their handshake.
            for _ in range(3):
                sock, _ = stalled_client(proxy.port)
                sock.close()
            wait_for_gauge(self, proxy, "djproxy_handshakes_in_progress", 0)

            self.assertEqual(metrics(proxy.admin_port)["djproxy_handshakes_refused_total"], 0)
            with connect(proxy.port) as c, c.cursor() as cur:
                cur.execute("SELECT 1")
                self.assertEqual(cur.fetchall(), ((1,),))
            self.assertEqual(proxy.stop(), "clean", proxy.log_tail())


if __name__ == "__main__":
    unittest.main()
