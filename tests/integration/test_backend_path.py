"""A man in the middle on the path from the proxy to the server. TLS to the backend
vouches for what follows its handshake and for nothing before it: the greeting, and
any bytes behind it, come in clear. Real MariaDB behind a relay that edits them, real
pymysql in front."""
import os
import socket
import ssl
import threading
import unittest
import uuid

import pymysql

from djproxy_harness import PROXY_BIN, DjproxyProcess, db_ca, db_port


def production(extra=None):
    env = {"DJPROXY_POLICY_MODE": "enforce", "DJ_CREATE_TABLES": "false", "DJ_SCHEMA_PREFIX": "myproject_"}
    env.update(extra or {})
    return env


def connect(port, user="dj", password="djpass", **kw):
    return pymysql.connect(host="127.0.0.1", port=port, user=user, password=password, autocommit=True, **kw)


def admin(sql):
    with pymysql.connect(host="127.0.0.1", port=db_port(), user="djroot", password="djroot", autocommit=True) as c:
        with c.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()


def read_packet(sock):
    """(sequence, payload) of one MySQL packet, or (None, b"") at the end."""
    head = b""
    while len(head) < 4:
        part = sock.recv(4 - len(head))
        if not part:
            return None, b""
        head += part
    length = int.from_bytes(head[:3], "little")
    payload = b""
    while len(payload) < length:
        part = sock.recv(length - len(payload))
        if not part:
            return None, b""
        payload += part
    return head[3], payload


def mysql_packet(sequence, payload):
    return len(payload).to_bytes(3, "little") + bytes([sequence]) + payload


class RelabellingRelay:
    """Listens, and relays each connection to the fixture MariaDB byte for byte, except
    that the greeting's version string says `version`. TLS passes through untouched:
    the relay cannot read it, and needs not."""

    def __init__(self, version):
        self.version = version.encode()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self):
        self.listener.close()

    def _accept(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, client):
        try:
            server = socket.create_connection(("127.0.0.1", db_port()))
        except OSError:
            client.close()
            return
        sequence, greeting = read_packet(server)
        if sequence is None or greeting[:1] != b"\x0a":
            client.close()
            server.close()
            return
        end = greeting.index(b"\0", 1)
        client.sendall(mysql_packet(sequence, greeting[:1] + self.version + greeting[end:]))
        threading.Thread(target=self._pump, args=(server, client), daemon=True).start()
        self._pump(client, server)

    @staticmethod
    def _pump(source, sink):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        for s in (source, sink):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()


@unittest.skipUnless(PROXY_BIN, "no djproxy binary")
class GreetingRelabelled(unittest.TestCase):
    """Review round 34: the server's version decides which executable comments are SQL
    ("/*M!100000 ...*/" runs on MariaDB 10 and is a comment to MySQL), and it came from
    the greeting, which TLS does not protect. A relay that relabelled MariaDB as MySQL got
    a schema change past the policy as a comment, and MariaDB ran it. With TLS to the
    backend the proxy now asks the server its version over TLS and reads by that."""

    def setUp(self):
        self.schema = f"myproject_relabel_{uuid.uuid4().hex[:8]}"
        admin(f"CREATE DATABASE `{self.schema}`")
        self.addCleanup(admin, f"DROP DATABASE IF EXISTS `{self.schema}`")

    def tables(self):
        return admin(f"SELECT table_name FROM information_schema.tables WHERE table_schema = '{self.schema}'")

    def test_the_version_over_tls_decides_executable_comments(self):
        # MySQL 8 reads "/*M!" as a comment; MariaDB 10.1 skips "/*M!100600"; both are
        # lies about the fixture's MariaDB 10.11.
        for label, hidden in [("8.0.36", f"/*M!100000 CREATE TABLE `{{s}}`.relabelled (id INT) */"),
                              ("5.5.5-10.1.0-MariaDB", f"/*M!100600 CREATE TABLE `{{s}}`.relabelled (id INT) */"),
                              ("8.0.36", f"SELECT 1 /*M!100000 FROM mysql.user */")]:
            with self.subTest(label=label, hidden=hidden):
                statement = hidden.format(s=self.schema)
                relay = RelabellingRelay(label)
                self.addCleanup(relay.close)
                env = production({"DJPROXY_BACKEND_TLS_MODE": "verify-ca", "DJPROXY_BACKEND_TLS_CA": db_ca()})
                with DjproxyProcess(env, backend_port=relay.port) as proxy:
                    with connect(proxy.port, read_timeout=10) as c, c.cursor() as cur:
                        with self.assertRaises(pymysql.MySQLError, msg=statement) as refused:
                            cur.execute(statement)
                        self.assertNotIn(refused.exception.args[0], (1064, 1065), refused.exception.args)
                        self.assertIn("djproxy", str(refused.exception.args[1]))
                        # Read as MariaDB 10.11 reads it: the comment runs.
                        cur.execute("SELECT 1 /*M!100000 + 1 */")
                        self.assertEqual(cur.fetchall(), ((2,),))
                        cur.execute("SELECT 1 /*M!999999 + 1 */")
                        self.assertEqual(cur.fetchall(), ((1,),))
                    self.assertEqual(proxy.stop(), "clean", proxy.log_tail())
                    log = proxy.log_tail(20000)
                self.assertEqual(self.tables(), ())
                self.assertIn(f"the backend's greeting said version '{label}'", log)

    def test_without_tls_the_greeting_is_read_and_no_question_asked(self):
        # In clear, whoever can edit the greeting can edit every statement; the proxy reads
        # the greeting and does not ask again (a connection costs the server nothing more).
        env = production()
        with DjproxyProcess(env) as proxy:
            with connect(proxy.port) as c, c.cursor() as cur:
                cur.execute("SELECT 1 /*M!100000 + 1 */")
                self.assertEqual(cur.fetchall(), ((2,),))
                cur.execute("SHOW SESSION STATUS LIKE 'Com_select'")
                selects = int(cur.fetchall()[0][1])
                self.assertEqual(selects, 1, "the proxy asked the server something of its own")
            self.assertEqual(proxy.stop(), "clean", proxy.log_tail())

    def test_without_tls_a_greeting_it_cannot_read_is_asked_about(self):
        relay = RelabellingRelay("10.x-custom")  # pymysql reads the major number; djproxy, not the rest
        self.addCleanup(relay.close)
        with DjproxyProcess(production(), backend_port=relay.port) as proxy:
            with connect(proxy.port) as c, c.cursor() as cur:
                cur.execute("SELECT 1 /*M!100000 + 1 */")
                self.assertEqual(cur.fetchall(), ((2,),))
                statement = f"/*M!100000 CREATE TABLE `{self.schema}`.relabelled (id INT) */"
                with self.assertRaises(pymysql.MySQLError) as refused:
                    cur.execute(statement)
                self.assertIn("djproxy", str(refused.exception.args[1]))
            self.assertEqual(proxy.stop(), "clean", proxy.log_tail())
            log = proxy.log_tail(20000)
        self.assertEqual(self.tables(), ())
        self.assertIn("the backend's greeting said version '10.x-custom'", log)

    def test_with_tls_the_question_is_asked_once_per_connection(self):
        env = production({"DJPROXY_BACKEND_TLS_MODE": "verify-ca", "DJPROXY_BACKEND_TLS_CA": db_ca()})
        with DjproxyProcess(env) as proxy:
            with connect(proxy.port) as c, c.cursor() as cur:
                for _ in range(3):
                    cur.execute("SELECT 1 /*M!100000 + 1 */")
                    self.assertEqual(cur.fetchall(), ((2,),))
                cur.execute("SHOW SESSION STATUS LIKE 'Com_select'")
                # The version question and the client's three.
                self.assertEqual(int(cur.fetchall()[0][1]), 4)
            self.assertEqual(proxy.stop(), "clean", proxy.log_tail())
            log = proxy.log_tail(20000)
        self.assertNotIn("the backend's greeting said", log)


@unittest.skipUnless(PROXY_BIN, "no djproxy binary")
class BytesBeforeBackendTls(unittest.TestCase):
    """What arrives between the backend's greeting and TLS did not come through TLS: a man
    in the middle can add it, and TLS vouches only for what follows. Review round 33: an OK
    packet put behind the greeting was read after the handshake as the server's answer to
    the login, and the client was logged in although the server, over TLS, refused it."""

    def test_an_ok_injected_before_tls_logs_nobody_in(self):
        with socket.create_connection(("127.0.0.1", db_port())) as real:
            _, greeting = read_packet(real)  # the fixture server's, CLIENT_SSL included
        listener = socket.create_server(("127.0.0.1", 0))
        self.addCleanup(listener.close)
        server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls_dir = os.path.dirname(db_ca())
        server_tls.load_cert_chain(os.path.join(tls_dir, "server.pem"), os.path.join(tls_dir, "server-key.pem"))
        logins = []  # what the fake server saw of each login, over TLS

        def serve(conn):
            with conn:
                injected = mysql_packet(2, b"\x00\x00\x00\x02\x00\x00\x00")  # OK, as if to the login
                conn.sendall(mysql_packet(0, greeting) + injected)
                read_packet(conn)  # the SSLRequest
                try:
                    tls = server_tls.wrap_socket(conn, server_side=True)
                    sequence, _ = read_packet(tls)
                except (ssl.SSLError, OSError):
                    return
                logins.append(sequence)
                if sequence is not None:
                    refusal = b"\xff" + (1045).to_bytes(2, "little") + b"#28000Access denied (over TLS)"
                    tls.sendall(mysql_packet(sequence + 1, refusal))
                tls.close()

        def accept():  # every connection: the harness's readiness probe makes one too
            while True:
                try:
                    conn, _ = listener.accept()
                except OSError:
                    return
                threading.Thread(target=serve, args=(conn,), daemon=True).start()

        threading.Thread(target=accept, daemon=True).start()
        env = production({"DJPROXY_BACKEND_TLS_MODE": "verify-ca", "DJPROXY_BACKEND_TLS_CA": db_ca()})
        with DjproxyProcess(env, backend_port=listener.getsockname()[1]) as proxy:
            with self.assertRaises(pymysql.err.OperationalError) as refused:
                connect(proxy.port, read_timeout=10).close()
            # Refused by the proxy (1043, bytes before TLS) or by the server over TLS (1045);
            # a client logged in by the injected OK fails later, on its first statement (2013).
            self.assertIn(refused.exception.args[0], (1043, 1045), refused.exception.args)
            self.assertEqual(proxy.stop(), "clean", proxy.log_tail())
        self.assertEqual(logins, [], "the proxy went on to TLS and sent the login")
