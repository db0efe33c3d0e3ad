"""A man in the middle on the path from the proxy to the server. TLS to the backend
vouches for what follows its handshake and for nothing before it: the greeting, and
any bytes behind it, come in clear. Real MariaDB behind a relay that edits them, real
pymysql in front."""
import json
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import unittest
import uuid

import pymysql

from djproxy_harness import LOG_DIR, PROXY_BIN, DjproxyProcess, db_ca, db_port, free_port
from test_operations import connect, production


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
    that the greeting's version string says `version` (None: as it was) and its connection
    id `connection_id`. TLS passes through untouched: the relay cannot read it, and needs
    not."""

    def __init__(self, version, connection_id=None):
        self.version = version.encode() if version is not None else None
        self.connection_id = connection_id
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
        version = self.version if self.version is not None else greeting[1:end]
        rest = greeting[end + 1:]
        if self.connection_id is not None:
            rest = self.connection_id.to_bytes(4, "little") + rest[4:]
        client.sendall(mysql_packet(sequence, greeting[:1] + version + b"\0" + rest))
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


TLS = {"DJPROXY_BACKEND_TLS_MODE": "verify-ca", "DJPROXY_BACKEND_TLS_CA": db_ca()}
NOT_KNOWN = "does not read executable comments as that version does"


class _VersionCase(unittest.TestCase):
    def setUp(self):
        self.schema = f"myproject_relabel_{uuid.uuid4().hex[:8]}"
        admin(f"CREATE DATABASE `{self.schema}`")
        self.addCleanup(admin, f"DROP DATABASE IF EXISTS `{self.schema}`")

    def tables(self):
        return admin(f"SELECT table_name FROM information_schema.tables WHERE table_schema = '{self.schema}'")

    def refused_by_proxy(self, cur, statement):
        with self.assertRaises(pymysql.MySQLError, msg=statement) as refused:
            cur.execute(statement)
            cur.fetchall()
        self.assertEqual(refused.exception.args[0], 1235, refused.exception.args)
        self.assertIn("djproxy", str(refused.exception.args[1]))

    def assert_reads_no_versioned_comment(self, port):
        """The server's version is not known: what hides in a versioned comment is refused,
        what runs on every server is read."""
        hidden = [f"/*M!100000 CREATE TABLE `{self.schema}`.relabelled (id INT) */",
                  f"/*M!100600 CREATE TABLE `{self.schema}`.relabelled (id INT) */",
                  f"/*M!100000 CREATE TABLE `{self.schema}`.relabelled (id INT) */ SELECT 1",
                  "SELECT 1 /*M!100000 , (SELECT COUNT(*) FROM mysql.user) */",
                  "SELECT 1 /*!80000 , (SELECT COUNT(*) FROM mysql.user) */",
                  "SELECT 1 /*!80000 , '*/ , (SELECT COUNT(*) FROM mysql.user) -- '*/",
                  "SELECT 1 /*!40101 + 1 */"]
        with connect(port, read_timeout=10) as c, c.cursor() as cur:
            for statement in hidden:
                self.refused_by_proxy(cur, statement)
            cur.execute("SELECT 1 /*! + 1 */")
            self.assertEqual(cur.fetchall(), ((2,),))
            cur.execute(f"CREATE TEMPORARY TABLE `{self.schema}`.scratch (id INT)")  # the session goes on
        self.assertEqual(self.tables(), ())


@unittest.skipUnless(PROXY_BIN, "no djproxy binary")
class GreetingRelabelled(_VersionCase):
    """The server's version decides which executable comments are SQL ("/*M!100000 ...*/"
    runs on MariaDB 10 and is a comment to MySQL). It came from the greeting, which TLS does
    not protect (review round 34: a relay that relabelled MariaDB as MySQL got a schema change
    past the policy as a comment), and whose text MariaDB's --version sets (round 35). The
    proxy now asks the server, with executable comments of the announced version and the
    next, whether it reads them as that version does; until it says so, no versioned
    comment is read."""

    def test_a_relabelled_greeting_reads_no_versioned_comment(self):
        # MySQL 8 reads "/*M!" as a comment; MariaDB 10.1 skips "/*M!100600"; pymysql reads
        # only the major number of "10.x-custom", and djproxy none of it. All lies about
        # the fixture's MariaDB 10.11.
        # 5.6.99 and 9.99.97: MySQL versions whose "/*!V" runs on MariaDB (below 50700) or on a
        # Galera node (99997) and whose "/*!V+1" does not (review round 36).
        for label in ["8.0.36", "5.5.5-10.1.0-MariaDB", "10.x-custom", "5.6.99", "9.99.97"]:
            for tls in (True, False):
                with self.subTest(label=label, tls=tls):
                    relay = RelabellingRelay(label)
                    self.addCleanup(relay.close)
                    with DjproxyProcess(production(TLS if tls else {}), backend_port=relay.port) as proxy:
                        self.assert_reads_no_versioned_comment(proxy.port)
                        self.assertEqual(proxy.stop(), "clean", proxy.log_tail())
                        log = proxy.log_tail(20000)
                    self.assertIn(f"the backend announced version '{label}' but {NOT_KNOWN}", log)

    def test_the_true_version_is_confirmed_once_per_connection(self):
        # What the proxy's own statements may leave. (Not FOUND_ROWS(): a new connection's is
        # whatever the server's thread last had.)
        first = "SELECT ROW_COUNT()"
        with pymysql.connect(host="127.0.0.1", port=db_port(), user="dj", password="djpass") as c, c.cursor() as cur:
            cur.execute(first)
            direct = cur.fetchall()
        for tls in (True, False):
            with self.subTest(tls=tls), DjproxyProcess(production(TLS if tls else {})) as proxy:
                with connect(proxy.port) as c, c.cursor() as cur:
                    cur.execute(first)
                    self.assertEqual(cur.fetchall(), direct)
                    for _ in range(3):
                        cur.execute("SELECT 1 /*M!100000 + 1 */ /*M!999999 + 2 */")
                        self.assertEqual(cur.fetchall(), ((2,),))
                    cur.execute("SHOW SESSION STATUS LIKE 'Com_select'")
                    # The proxy's question and the client's four.
                    self.assertEqual(int(cur.fetchall()[0][1]), 5)
                self.assertEqual(proxy.stop(), "clean", proxy.log_tail())
                self.assertNotIn(NOT_KNOWN, proxy.log_tail(20000))

    def test_audit_records_carry_no_connection_id_the_path_may_have_forged(self):
        # Before the server confirms it over TLS, the greeting's connection id may be
        # anyone's (review round 35, F2): the records before the first statement omit it.
        audit = os.path.join(LOG_DIR, f"relabel-audit-{uuid.uuid4().hex[:8]}.log")
        relay = RelabellingRelay(None, connection_id=77777)
        self.addCleanup(relay.close)
        env = production(dict(TLS, DJPROXY_AUDIT_LOG=audit))
        with DjproxyProcess(env, backend_port=relay.port) as proxy:
            with connect(proxy.port) as c, c.cursor() as cur:
                cur.execute("SELECT CONNECTION_ID()")
                real = cur.fetchall()[0][0]
            self.assertEqual(proxy.stop(), "clean", proxy.log_tail())
        with open(audit) as f:
            records = [json.loads(line) for line in f]
        ids = {r["event"]: r.get("server_connection_id") for r in records if "connection_id" in r}
        self.assertIsNone(ids["connect"], records)
        self.assertEqual(ids["disconnect"], real, records)
        self.assertNotIn(77777, [r.get("server_connection_id") for r in records], records)


@unittest.skipUnless(PROXY_BIN, "no djproxy binary")
class CustomVersionString(_VersionCase):
    """MariaDB's --version=STR sets the version in the greeting and in @@version alike, while
    the server reads executable comments by the version it was built as (review round 35).
    Real MariaDB 10.11 servers that call themselves 8.0.36, 11.4.2 and 5.6.99, and a Galera
    node (which also runs "/*!99997", its consistency check) that calls itself 9.99.97 (round
    36), each read some comment otherwise than a reader of the string would; the proxy reads
    no versioned comment for any of them, with TLS to them or without."""

    @classmethod
    def setUpClass(cls):
        cls.servers = {}
        here = os.path.dirname(os.path.abspath(__file__))
        cls.script = os.path.join(here, "..", "..", "scripts", "mariadb.sh")
        cls.tmp = tempfile.mkdtemp(prefix="djproxy-custom-version-")
        small = "--innodb-buffer-pool-size=32M --innodb-log-file-size=16M --max-connections=50"
        galera = ("--wsrep-on=ON --wsrep-provider=/usr/lib/galera/libgalera_smm.so --wsrep-cluster-address=gcomm:// "
                  f"--wsrep-provider-options=gmcast.listen_addr=tcp://127.0.0.1:{free_port()};base_port={free_port()} "
                  "--binlog-format=ROW --wsrep-cluster-name=djproxy-test --wsrep-node-address=127.0.0.1")
        # (what the server calls itself, its other options, "SELECT 1 <a comment>" that a
        # reader of the string takes for SELECT 1 or SELECT 2 and the server does not)
        for label, extra, comment, read in [("8.0.36", "", "/*M!101100 + 1 */", 1),
                                            ("11.4.2-MariaDB", "", "/*M!110000 + 1 */", 2),
                                            ("5.6.99", "", "/*M!100000 + 1 */", 1),
                                            ("9.99.97", galera, "/*!80000 + 1 */", 2)]:
            d = os.path.join(cls.tmp, label)
            env = dict(os.environ, MARIADB_EXTRA_ARGS=f"{small} --version={label} {extra}")
            subprocess.run([cls.script, "start", d], env=env, check=True, stdout=subprocess.DEVNULL)
            cls.servers[label] = (d, comment, read)

    @classmethod
    def tearDownClass(cls):
        for d, _, _ in cls.servers.values():
            subprocess.run([cls.script, "stop", d], check=False)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_a_version_string_set_by_the_operator_reads_no_versioned_comment(self):
        for label, (d, comment, read) in self.servers.items():
            with open(os.path.join(d, "port")) as f:
                port = int(f.read())
            ca = os.path.join(d, "tls", "ca.pem")
            for tls in (True, False):
                with self.subTest(label=label, tls=tls):
                    self.schema = f"myproject_custom_{uuid.uuid4().hex[:8]}"
                    direct = dict(host="127.0.0.1", port=port, user="djroot", password="djroot", autocommit=True)
                    with pymysql.connect(**direct) as c, c.cursor() as cur:
                        cur.execute("SELECT @@version")
                        self.assertEqual(cur.fetchall()[0][0], label)  # the server says what it was told
                        cur.execute(f"SELECT 1 {comment}")  # ... and reads comments otherwise
                        self.assertNotEqual(cur.fetchall(), ((read,),))
                        cur.execute(f"CREATE DATABASE `{self.schema}`")
                    env = production({"DJPROXY_BACKEND_TLS_MODE": "verify-ca", "DJPROXY_BACKEND_TLS_CA": ca}
                                     if tls else {})
                    with DjproxyProcess(env, backend_port=port) as proxy:
                        with connect(proxy.port, read_timeout=10) as c, c.cursor() as cur:
                            for statement in [
                                    f"/*M!100000 CREATE TABLE `{self.schema}`.bypass (x INT) */",
                                    f"/*M!100000 CREATE TABLE `{self.schema}`.bypass (x INT) */ SELECT 1",
                                    "SELECT 1 /*M!110000 , '*/ , (SELECT COUNT(*) FROM mysql.user) -- '*/",
                                    "SELECT 1 /*!80000 , '*/ , (SELECT COUNT(*) FROM mysql.user) -- '*/",
                                    f"SELECT 1 {comment}"]:
                                self.refused_by_proxy(cur, statement)
                            cur.execute("SELECT 1 /*! + 1 */")
                            self.assertEqual(cur.fetchall(), ((2,),))
                        self.assertEqual(proxy.stop(), "clean", proxy.log_tail())
                        log = proxy.log_tail(20000)
                    with pymysql.connect(**direct) as c, c.cursor() as cur:
                        cur.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                                    (self.schema,))
                        self.assertEqual(cur.fetchall(), ())
                        cur.execute(f"DROP DATABASE `{self.schema}`")
                    self.assertIn(f"the backend announced version '{label}' but {NOT_KNOWN}", log)


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
