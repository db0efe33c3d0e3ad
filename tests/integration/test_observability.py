"""What DBAs and platform engineers see of the proxy: the audit log's events and
fields, /metrics counted against the traffic sent, /healthz and /readyz, and a broken
audit destination that is reported while traffic goes on. Real MariaDB, real pymysql."""
import hashlib
import json
import os
import re
import socket
import ssl
import struct
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request
import uuid

import pymysql

from djproxy_harness import PROXY_BIN, DjproxyProcess, RefusingPort, db_ca, db_port

KEY = "obs-test-key-" + "k" * 40  # >= 32 bytes
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def production(extra=None):
    env = {"DJPROXY_POLICY_MODE": "enforce", "DJ_CREATE_TABLES": "false", "DJ_SCHEMA_PREFIX": "myproject_",
           "DJPROXY_MIGRATION_KEY": KEY}
    env.update(extra or {})
    return env


def direct():
    return pymysql.connect(host="127.0.0.1", port=db_port(), user="djroot", password="djroot", autocommit=True)


def connect(port, user="dj", password="djpass", **kw):
    return pymysql.connect(host="127.0.0.1", port=port, user=user, password=password, autocommit=True, **kw)


def health_command(admin_port, *args):
    """`djproxy health` configured by environment only, as the image's HEALTHCHECK runs it."""
    env = {"PATH": "/usr/bin:/bin", "DJPROXY_ADMIN_LISTEN": f"127.0.0.1:{admin_port}",
           "DJ_HOST": f"127.0.0.1:{db_port()}", "DJPROXY_CLIENT_TLS_MODE": "off", "DJPROXY_BACKEND_TLS_MODE": "off"}
    return subprocess.run([PROXY_BIN, "health", *args], env=env, capture_output=True, text=True, timeout=30)


def issue_token(schema="myproject_*", ttl="10m"):
    env = {"PATH": "/usr/bin:/bin", "DJPROXY_MIGRATION_KEY": KEY, "DJ_SCHEMA_PREFIX": "myproject_"}
    out = subprocess.run([PROXY_BIN, "token", "issue", "--schema", schema, "--ttl", ttl], env=env, check=True,
                         capture_output=True, text=True, cwd=tempfile.gettempdir()).stdout
    return out.strip().splitlines()[-1]


def http_get(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def metrics(port):
    status, body = http_get(port, "/metrics")
    assert status == 200, body
    values = {}
    for line in body.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values


def delta(after, before, name):
    return after.get(name, 0.0) - before.get(name, 0.0)


@unittest.skipUnless(PROXY_BIN, "no djproxy binary")
class Observability(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.schema = "myproject_obs" + uuid.uuid4().hex[:8]
        with direct() as c, c.cursor() as cur:
            cur.execute(f"CREATE DATABASE {cls.schema}")
            cur.execute(f"CREATE TABLE {cls.schema}.existing (id INT PRIMARY KEY)")

    @classmethod
    def tearDownClass(cls):
        with direct() as c, c.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {cls.schema}")

    def read_audit(self, path):
        events = []
        with open(path, "rb") as f:
            for raw in f:
                line = json.loads(raw)  # every line is one JSON object
                self.assertRegex(line["timestamp"], TIMESTAMP)
                events.append(line)
        return events

    def expect(self, events, event, **fields):
        for e in events:
            if e["event"] == event and all(e.get(k) == v for k, v in fields.items()):
                return e
        self.fail(f"no {event} event with {fields} in:\n" + "\n".join(json.dumps(e) for e in events))

    def test_audit_log_has_every_event_with_its_fields(self):
        s = self.schema
        with tempfile.TemporaryDirectory() as tmp:
            audit = os.path.join(tmp, "audit.jsonl")
            proxy = DjproxyProcess(production({"DJPROXY_AUDIT_LOG": audit})).start()
            try:
                with self.assertRaises(pymysql.err.OperationalError):
                    connect(proxy.port, password="wrong")
                token = issue_token()
                c = connect(proxy.port)
                with c.cursor() as cur:
                    with self.assertRaises(pymysql.err.OperationalError):
                        cur.execute(f"CREATE TABLE {s}.made (id INT, note VARCHAR(9) DEFAULT 'x')")
                    cur.execute(f"CREATE TABLE IF NOT EXISTS {s}.existing (id INT PRIMARY KEY)")
                    cur.execute(f"CREATE TABLE IF NOT EXISTS `{s}`.`~lineage` (table_name VARCHAR(64) PRIMARY KEY)")
                    with self.assertRaises(pymysql.err.OperationalError):
                        cur.execute("SET @djproxy_migration = 'djm1.not.a-token'")
                    cur.execute("SET @djproxy_migration = %s", (token,))
                    cur.execute(f"CREATE TABLE {s}.migrated (id INT PRIMARY KEY)")
                    cur.execute("SET @djproxy_migration = NULL")
                c.close()
            finally:
                self.assertEqual(proxy.stop(), "clean")
            events = self.read_audit(audit)

        self.expect(events, "startup")
        self.expect(events, "shutdown")
        failed = self.expect(events, "auth_failed", user="dj")
        self.assertEqual(failed["error_code"], 1045)
        connected = self.expect(events, "connect", user="dj")
        for field in ("connection_id", "server_connection_id", "host", "port", "tls"):
            self.assertIn(field, connected)
        self.assertEqual(connected["host"], "127.0.0.1")

        rejected = self.expect(events, "reject", error_code=1142, rule="schema-change")
        self.assertEqual(rejected["query"], f"CREATE TABLE {s}.made (id INT, note VARCHAR(9) DEFAULT 'x')")
        self.assertEqual(rejected["query_length"], len(rejected["query"]))
        self.assertNotIn("'x'", rejected["digest"])  # literals replaced
        self.assertEqual(rejected["statement_kind"], "ddl")
        self.assertEqual(rejected["decision"], "reject")
        self.assertIn("djproxy:", rejected["message"])

        self.expect(events, "rewrite", decision="rewrite")
        self.expect(events, "bookkeeping", decision="allow")
        denied = self.expect(events, "migration_denied", decision="reject")
        self.assertIn("malformed", denied["message"])
        begun = self.expect(events, "migration_begin")
        self.assertRegex(begun["token_id"], r"^[0-9a-f]{32}$")
        change = self.expect(events, "schema_change", token_id=begun["token_id"])
        self.assertIn("migrated", change["query"])
        self.expect(events, "migration_end", token_id=begun["token_id"])
        gone = self.expect(events, "disconnect", user="dj")
        self.assertGreater(gone["duration_ms"], 0)
        self.assertGreater(gone["bytes_in"], 0)
        self.assertGreater(gone["bytes_out"], 0)
        with direct() as d, d.cursor() as cur:  # the audited rejection really did not happen
            cur.execute("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema=%s AND table_name='made'",
                        (s,))
            self.assertEqual(cur.fetchone()[0], 0)

    def test_change_user_ends_a_token_migration_in_the_audit_log(self):
        """COM_CHANGE_USER ends a token's migration (the server resets the session); the
        audit log must close it with migration_end, as for COM_RESET_CONNECTION (review
        round 26)."""
        from test_change_user import CApi
        s = self.schema
        with tempfile.TemporaryDirectory() as tmp:
            audit = os.path.join(tmp, "audit.jsonl")
            proxy = DjproxyProcess(production({"DJPROXY_AUDIT_LOG": audit})).start()
            try:
                c = CApi()
                c.connect(proxy.port, "dj", "djpass")
                self.assertEqual(c.lib.mysql_query(c.handle, f"SET @djproxy_migration = '{issue_token()}'".encode()), 0,
                                 c.error())
                self.assertEqual(c.change_user("dj", "djpass", s), 0, c.error())
                refused = c.scalar(f"CREATE TABLE {s}.after_change (id INT)")
                self.assertEqual(refused[:2], ("error", 1142), "the migration outlived COM_CHANGE_USER")
                c.close()
            finally:
                self.assertEqual(proxy.stop(), "clean")
            events = self.read_audit(audit)
        begun = self.expect(events, "migration_begin", user="dj")
        ended = self.expect(events, "migration_end", token_id=begun["token_id"], user="dj")
        self.assertIn("COM_CHANGE_USER", ended["message"])

    def audit_of_migration_user_session(self, session):
        """Runs session(c) on a C API connection logged in as the migration user djmigrate
        through a production proxy with an audit log; returns the audit events."""
        from test_change_user import CApi
        with tempfile.TemporaryDirectory() as tmp:
            audit = os.path.join(tmp, "audit.jsonl")
            proxy = DjproxyProcess(production({"DJPROXY_AUDIT_LOG": audit,
                                               "DJPROXY_MIGRATION_USERS": "djmigrate"})).start()
            try:
                c = CApi()
                c.connect(proxy.port, "djmigrate", "migpass")
                session(c)
                c.close()
            finally:
                self.assertEqual(proxy.stop(), "clean")
            return self.read_audit(audit)

    def test_change_user_ends_a_migration_users_migration_in_the_audit_log(self):
        """The migration of a migration user ends too when the session changes account,
        and begins again when it changes back: begin and end events pair up (review
        round 27)."""
        s = self.schema

        def session(c):
            self.assertEqual(c.change_user("dj", "djpass", s), 0, c.error())
            refused = c.scalar(f"CREATE TABLE {s}.after_change_to_dj (id INT)")
            self.assertEqual(refused[:2], ("error", 1142), "the migration user's migration outlived its account")
            self.assertEqual(c.change_user("djmigrate", "migpass", s), 0, c.error())
        events = self.audit_of_migration_user_session(session)
        migration = [(e["event"], e["user"]) for e in events if e["event"] in ("migration_begin", "migration_end")]
        self.assertEqual(migration, [("migration_begin", "djmigrate"), ("migration_end", "djmigrate"),
                                     ("migration_begin", "djmigrate"), ("migration_end", "djmigrate")])

    def test_a_refused_change_user_keeps_the_migration_users_migration_open_in_the_audit_log(self):
        """A COM_CHANGE_USER the server refuses leaves the session as the migration user it
        was: its migration, ended in the log when the change was asked for, begins again
        (review round 28: one begin, then two ends, and schema changes in between)."""
        s = self.schema

        def session(c):
            self.assertNotEqual(c.change_user("djmigrate", "wrong-password", s), 0)
            self.assertEqual(c.lib.mysql_query(c.handle, f"CREATE TABLE {s}.kept_migration (id INT)".encode()), 0,
                             c.error())
        events = self.audit_of_migration_user_session(session)
        with direct() as d, d.cursor() as cur:
            cur.execute(f"DROP TABLE {s}.kept_migration")
        seen = [e["event"] for e in events if e["event"] in ("migration_begin", "migration_end", "auth_failed",
                                                              "schema_change")]
        self.assertEqual(seen, ["migration_begin", "migration_end", "auth_failed", "migration_begin", "schema_change",
                                "migration_end"])

    def test_a_migration_user_with_a_token_ends_both_migrations_on_change_user(self):
        """A migration user that sets a token holds two migrations in the log, its account's
        and the token's: COM_CHANGE_USER ends both, refused or not, and a refused change
        begins the account's again (review round 29: one end for two begins)."""
        s = self.schema
        for password, kept in (("djpass", False), ("wrong-password", True)):
            with self.subTest(refused=kept):
                def session(c):
                    self.assertEqual(c.lib.mysql_query(c.handle, f"SET @djproxy_migration = '{issue_token()}'".encode()),
                                     0, c.error())
                    self.assertEqual(c.change_user("dj", password, s) != 0, kept, c.error())
                events = self.audit_of_migration_user_session(session)
                seen = [(e["event"], e["user"], bool(e.get("token_id"))) for e in events
                        if e["event"] in ("migration_begin", "migration_end")]
                expected = [("migration_begin", "djmigrate", False), ("migration_begin", "djmigrate", True),
                            ("migration_end", "djmigrate", True), ("migration_end", "djmigrate", False)]
                if kept:
                    expected += [("migration_begin", "djmigrate", False), ("migration_end", "djmigrate", False)]
                self.assertEqual(seen, expected)

    def test_a_migration_ends_in_the_audit_log_when_its_session_does(self):
        """A client that disconnects inside a migration (a token's or a migration user's),
        or is closed by the proxy's shutdown, leaves no migration open in the audit log:
        migration_end comes before the session's disconnect (review round 27)."""
        with tempfile.TemporaryDirectory() as tmp:
            audit = os.path.join(tmp, "audit.jsonl")
            proxy = DjproxyProcess(production({"DJPROXY_AUDIT_LOG": audit,
                                               "DJPROXY_MIGRATION_USERS": "djmigrate"})).start()
            try:
                with connect(proxy.port) as c, c.cursor() as cur:
                    cur.execute(f"SET @djproxy_migration = '{issue_token()}'")
                with connect(proxy.port, "djmigrate", "migpass"):
                    pass
                held = connect(proxy.port, "djmigrate", "migpass")  # still open at shutdown
                held.ping()
            finally:
                self.assertEqual(proxy.stop(), "clean")
            events = self.read_audit(audit)
        for user, sessions in (("dj", 1), ("djmigrate", 2)):
            seen = [e["event"] for e in events if e.get("user") == user and
                    e["event"] in ("migration_begin", "migration_end", "disconnect")]
            self.assertEqual(seen, ["migration_begin", "migration_end", "disconnect"] * sessions, user)
        ends = [e for e in events if e["event"] == "migration_end"]
        self.assertEqual({e["message"] for e in ends}, {"session ended"})
        token = self.expect(events, "migration_begin", user="dj")["token_id"]
        self.assertEqual([e["token_id"] for e in ends if e["user"] == "dj"], [token])

    def test_dry_run_violation_is_audited_and_forwarded(self):
        s = self.schema
        with tempfile.TemporaryDirectory() as tmp:
            audit = os.path.join(tmp, "audit.jsonl")
            with DjproxyProcess(production({"DJPROXY_AUDIT_LOG": audit, "DJPROXY_POLICY_MODE": "dry-run"})) as proxy:
                with connect(proxy.port) as c, c.cursor() as cur:
                    cur.execute(f"CREATE TABLE {s}.dry (id INT)")  # forwarded: dry run
            events = self.read_audit(audit)
        violation = self.expect(events, "dry_run_violation", rule="schema-change")
        self.assertEqual(violation["decision"], "would_reject")
        with direct() as d, d.cursor() as cur:
            cur.execute(f"DROP TABLE {s}.dry")  # it exists: the statement went through

    def test_dry_run_tells_a_new_table_from_an_existing_one(self):
        """CREATE TABLE IF NOT EXISTS in a dry run: forwarded either way, and audited as
    what production would do. Review round 26: a new table was audited as a rewrite."""
        s = self.schema
        with direct() as d, d.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS {s}.dry_new")
        with tempfile.TemporaryDirectory() as tmp:
            audit = os.path.join(tmp, "audit.jsonl")
            with DjproxyProcess(production({"DJPROXY_AUDIT_LOG": audit, "DJPROXY_POLICY_MODE": "dry-run"})) as proxy:
                with connect(proxy.port) as c, c.cursor() as cur:
                    cur.execute(f"CREATE TABLE IF NOT EXISTS {s}.dry_new (id INT)")
                    cur.execute(f"CREATE TABLE IF NOT EXISTS {s}.existing (id INT PRIMARY KEY)")
                    cur.execute("SHOW WARNINGS")  # the server's own answer: it was forwarded
                    self.assertEqual([w[1] for w in cur.fetchall()], [1050])
            events = self.read_audit(audit)
        created = [e for e in events if "dry_new" in e.get("query", "")]
        self.assertEqual([(e["event"], e["decision"], e.get("error_code")) for e in created],
                         [("dry_run_violation", "would_reject", 1142)])
        kept = [e for e in events if "existing (id INT" in e.get("query", "")]
        self.assertEqual([(e["event"], e["decision"]) for e in kept], [("rewrite", "rewrite")])
        self.assertIn("forwarded", kept[0]["message"])
        with direct() as d, d.cursor() as cur:
            cur.execute(f"DROP TABLE {s}.dry_new")  # it exists: the statement went through

    def test_metrics_count_the_traffic_sent(self):
        s = self.schema
        with DjproxyProcess(production()) as proxy:
            c = connect(proxy.port)
            # The harness's readiness probe (a connect and close) may still be counted
            # until the proxy notices the close: a slow machine or ASan takes a moment.
            deadline = time.monotonic() + 10
            before = metrics(proxy.admin_port)
            while before.get("djproxy_connections_current") != 1.0 and time.monotonic() < deadline:
                time.sleep(0.05)
                before = metrics(proxy.admin_port)
            self.assertEqual(before.get("djproxy_connections_current"), 1.0)
            with c.cursor() as cur:
                for i in range(5):
                    cur.execute(f"SELECT id FROM {s}.existing WHERE id = %s", (i,))
                for i in range(3):
                    with self.assertRaises(pymysql.err.OperationalError):
                        cur.execute(f"DROP TABLE {s}.existing")
                for i in range(2):
                    with self.assertRaises(pymysql.err.OperationalError):
                        cur.execute("SELECT * FROM mysql.user")
            second = connect(proxy.port)
            after = metrics(proxy.admin_port)
            self.assertEqual(delta(after, before, 'djproxy_commands_total{command="COM_QUERY"}'), 10)
            self.assertEqual(delta(after, before, 'djproxy_decisions_total{verdict="allow",rule="none"}'), 5)
            self.assertEqual(delta(after, before, 'djproxy_decisions_total{verdict="reject",rule="schema-change"}'), 3)
            self.assertEqual(delta(after, before, 'djproxy_decisions_total{verdict="reject",rule="system-schema"}'), 2)
            self.assertEqual(delta(after, before, "djproxy_connections_total"), 1)
            self.assertEqual(after["djproxy_connections_current"], 2)
            self.assertEqual(delta(after, before, "djproxy_analysis_duration_seconds_count"), 10)
            self.assertGreater(delta(after, before, 'djproxy_bytes_total{direction="client_to_server"}'), 10 * 20)
            self.assertGreater(delta(after, before, 'djproxy_bytes_total{direction="server_to_client"}'), 0)
            c.close()
            second.close()

    def test_health_and_readiness(self):
        with DjproxyProcess(production()) as proxy:
            self.assertEqual(http_get(proxy.admin_port, "/healthz")[0], 200)
            self.assertEqual(http_get(proxy.admin_port, "/readyz")[0], 200)
            self.assertEqual(http_get(proxy.admin_port, "/nope")[0], 404)
            self.assertEqual(health_command(proxy.admin_port).returncode, 0)
            self.assertEqual(health_command(proxy.admin_port, "--ready").returncode, 0)
        with RefusingPort() as closed, DjproxyProcess(production(), backend_port=closed) as proxy:  # backend down
            self.assertEqual(http_get(proxy.admin_port, "/healthz")[0], 200)
            status, body = http_get(proxy.admin_port, "/readyz")
            self.assertEqual(status, 503, body)
            self.assertEqual(health_command(proxy.admin_port).returncode, 0)
            ready = health_command(proxy.admin_port, "--ready")
            self.assertEqual(ready.returncode, 1, ready.stderr)
            self.assertIn("503", ready.stderr)
        # The proxy gone: nothing answers on its admin port.
        gone = health_command(proxy.admin_port)
        self.assertEqual(gone.returncode, 1, gone.stderr)
        self.assertIn("connect", gone.stderr)

    def test_health_command_with_explicit_admin_address(self):
        with DjproxyProcess(production()) as proxy:
            env = {"PATH": "/usr/bin:/bin"}
            ok = subprocess.run([PROXY_BIN, "health", "--admin", f"127.0.0.1:{proxy.admin_port}"], env=env,
                                capture_output=True, text=True, timeout=30)
            self.assertEqual(ok.returncode, 0, ok.stderr)
            self.assertIn("/healthz: ok", ok.stdout)
            # The proxy's MySQL port does not speak HTTP: no 200 from it, and no hang.
            wrong = subprocess.run([PROXY_BIN, "health", "--admin", f"127.0.0.1:{proxy.port}", "--timeout", "2"],
                                   env=env, capture_output=True, text=True, timeout=30)
            self.assertEqual(wrong.returncode, 1, wrong.stdout)

    def test_broken_audit_destination_is_reported_and_traffic_goes_on(self):
        s = self.schema
        with DjproxyProcess(production({"DJPROXY_AUDIT_LOG": "/dev/full"})) as proxy:
            with connect(proxy.port) as c, c.cursor() as cur:
                for _ in range(20):
                    with self.assertRaises(pymysql.err.OperationalError):
                        cur.execute(f"CREATE TABLE {s}.nope (id INT)")
                    cur.execute(f"SELECT COUNT(*) FROM {s}.existing")
                    self.assertEqual(cur.fetchone()[0], 0)
            deadline_metrics = metrics(proxy.admin_port)
            for _ in range(50):  # the audit thread writes asynchronously
                if deadline_metrics.get("djproxy_audit_write_errors_total", 0) > 0:
                    break
                import time
                time.sleep(0.1)
                deadline_metrics = metrics(proxy.admin_port)
            self.assertGreater(deadline_metrics.get("djproxy_audit_write_errors_total", 0), 0)
            self.assertTrue(proxy.alive())
            with connect(proxy.port) as c, c.cursor() as cur:  # still serving
                cur.execute("SELECT 1")
                self.assertEqual(cur.fetchone()[0], 1)



def _packet(seq, payload):
    return struct.pack("<I", len(payload))[:3] + bytes([seq]) + payload


def _native_password(password, scramble):
    stage1 = hashlib.sha1(password).digest()
    stage2 = hashlib.sha1(stage1).digest()
    mask = hashlib.sha1(scramble + stage2).digest()
    return bytes(a ^ b for a, b in zip(stage1, mask))


class _TlsByHand:
    """A client that logs in over TLS one step at a time, so that a test chooses how its
    bytes arrive: its TLS ClientHello in the same write as its SSLRequest (as a client
    does when its writes coalesce), or on its own after a pause."""

    CAPS = 0x1 | 0x200 | 0x800 | 0x8000 | 0x80000  # long password, 4.1, SSL, secure connection, plugin auth

    def __init__(self, port, hello_with_request):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        greeting = self._read_plain()
        rest = greeting[greeting.index(b"\0", 1) + 1:]
        scramble = rest[4:12] + rest[31:43]  # after the thread id; the second part after 19 bytes of fields
        fields = struct.pack("<IIB23x", self.CAPS, 1 << 24, 45)
        request = _packet(1, fields)
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE  # the proxy's generated certificate
        self.incoming, self.outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = ctx.wrap_bio(self.incoming, self.outgoing)
        try:
            self.tls.do_handshake()
        except ssl.SSLWantReadError:
            pass
        hello = self.outgoing.read()
        if hello_with_request:
            self.sock.sendall(request + hello)
        else:
            self.sock.sendall(request)
            time.sleep(0.3)
            self.sock.sendall(hello)
        while True:
            try:
                self.tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                self._flush()
                self._pull()
        self._flush()
        login = _packet(2, fields + b"dj\0" + bytes([20]) + _native_password(b"djpass", scramble) +
                        b"mysql_native_password\0")
        self.send(login)
        answer = self.read()
        if answer[:1] != b"\x00":
            raise AssertionError(f"login over TLS failed: {answer!r}")
        quit_ = _packet(0, b"\x01")
        self.send(quit_)
        self.sent_after_request = len(login) + len(quit_)
        self.sent_in_clear = len(request)
        self.local_port = self.sock.getsockname()[1]

    def _read_plain(self):
        header = self.sock.recv(4, socket.MSG_WAITALL)
        return self.sock.recv(header[0] | header[1] << 8 | header[2] << 16, socket.MSG_WAITALL)

    def _flush(self):
        data = self.outgoing.read()
        if data:
            self.sock.sendall(data)

    def _pull(self):
        data = self.sock.recv(65536)
        if not data:
            raise AssertionError("the proxy closed the connection in the TLS handshake")
        self.incoming.write(data)

    def send(self, data):
        self.tls.write(data)
        self._flush()

    def read(self):
        while True:
            try:
                header = self.tls.read(4)
                break
            except ssl.SSLWantReadError:
                self._pull()
        payload = b""
        length = header[0] | header[1] << 8 | header[2] << 16
        while len(payload) < length:
            try:
                payload += self.tls.read(length - len(payload))
            except ssl.SSLWantReadError:
                self._pull()
        return payload

    def close(self):
        self.sock.close()


@unittest.skipUnless(PROXY_BIN, "no djproxy binary")
class TlsByteCounts(unittest.TestCase):
    """A TLS session's bytes_in counts what the client sent in the clear and, after the TLS
    handshake, the plaintext it sent through TLS, however its TLS hello arrived (review
    round 19: a hello read together with the SSLRequest was counted, one read later not)."""

    def test_bytes_in_do_not_depend_on_how_the_hello_arrived(self):
        with tempfile.TemporaryDirectory() as tmp:
            audit = os.path.join(tmp, "audit.jsonl")
            proxy = DjproxyProcess(production({"DJPROXY_AUDIT_LOG": audit, "DJPROXY_CLIENT_TLS_MODE": "required",
                                               "DJPROXY_BACKEND_TLS_MODE": "verify-ca",
                                               "DJPROXY_BACKEND_TLS_CA": db_ca()}))
            proxy.start()
            try:
                clients = [_TlsByHand(proxy.port, together) for together in (True, False)]
                for c in clients:
                    c.close()
                want = {c.local_port: c.sent_in_clear + c.sent_after_request for c in clients}
                deadline = time.monotonic() + 10
                got = {}
                while time.monotonic() < deadline and len(got) < len(want):
                    time.sleep(0.1)
                    with open(audit, "rb") as f:
                        for raw in f:
                            e = json.loads(raw)
                            if e["event"] == "disconnect" and e.get("port") in want:
                                got[e["port"]] = e["bytes_in"]
            finally:
                self.assertEqual(proxy.stop(), "clean")
        self.assertEqual(got, want)

if __name__ == "__main__":
    unittest.main()
