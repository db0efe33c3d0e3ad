"""The client matrix (issue 17): one client script runs the same session directly against
MariaDB and through djproxy in production mode (prefix myproject_, create_tables=false,
policy enforced, TLS terminated by the proxy), and the two outputs must be equal apart
from the policy's documented refusals.

A client script takes one argument, a JSON object (host, port, user, password, schema,
ca, blob_size), and prints one JSON object: step name -> outcome. An error outcome is
{"errno": N, "sqlstate": "XXXXX" (where the client exposes it), "message": "..."}.

What may differ, and why:
- REFUSALS: statements production refuses. Directly they succeed; through the proxy
  they must fail with exactly the listed code and SQLSTATE. The messages are the
  proxy's own (they name the rule), so only the code is compared.
- PROXY_WORDED: errors the proxy answers itself, as the server would (a syntax error
  is not forwarded: 1064, 42000), whose message text says djproxy refused it. The
  code and SQLSTATE must match the server's; the message is not compared.
- TLS: through the proxy the server sees the proxy's leg, not the client's, so the
  server's Ssl_cipher describes a different handshake. The scripts print whether the
  server's session is encrypted and the protocol version each side negotiated.
"""
import hashlib
import json
import os
import subprocess
import tempfile

import pymysql
from pymysql.constants import CLIENT

from djproxy_harness import DjproxyProcess, db_ca, db_port
from test_enforcement import proxy_key_env, write_key

ER_TABLEACCESS_DENIED = 1142
ER_PARSE_ERROR = 1064
# step -> (errno, sqlstate) the proxy answers in production where the server succeeds.
REFUSALS = {"refused_create": (ER_TABLEACCESS_DENIED, "42000")}
# steps whose error the proxy words itself; code and SQLSTATE are the server's.
PROXY_WORDED = {"syntax"}
BLOB_SIZE = 30 * 1024 * 1024


def blob_digest(size=BLOB_SIZE):
    """The blob every script writes: bytes 0..255 repeated, so that every byte value,
    quotes, backslashes and NULs included, crosses the wire."""
    pattern = bytes(range(256))
    data = pattern * (size // 256) + pattern[:size % 256]
    return hashlib.sha256(data).hexdigest()


def admin(statements):
    conn = pymysql.connect(host="127.0.0.1", port=db_port(), user="djroot", password="djroot",
                           autocommit=True, client_flag=CLIENT.MULTI_STATEMENTS)
    try:
        with conn.cursor() as c:
            for sql in statements:
                c.execute(sql)
    finally:
        conn.close()


def reset_schema(schema):
    """Every run starts from the same rows, so both runs see the same server state."""
    admin([f"DROP DATABASE IF EXISTS {schema}",
           f"CREATE DATABASE {schema} CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci",
           f"CREATE TABLE {schema}.t (id INT PRIMARY KEY, v INT NOT NULL, s VARCHAR(4), "
           f"d DECIMAL(10,2) DEFAULT 1.50, ts DATETIME(3) DEFAULT '2024-02-29 13:14:15.123') "
           f"COMMENT 'matrix table'",
           f"INSERT INTO {schema}.t (id, v, s) VALUES (1, 1, 'a'), (2, 2, 'b')",
           f"CREATE TABLE {schema}.blobs (id INT PRIMARY KEY, b LONGBLOB)",
           f"CREATE VIEW {schema}.tv AS SELECT id, v FROM {schema}.t"])


def make_tls(directory):
    """A throwaway CA and a certificate for 127.0.0.1 / localhost that it signs."""
    ca, ca_key = os.path.join(directory, "ca.pem"), os.path.join(directory, "ca-key.pem")
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    csr, ext = os.path.join(directory, "cert.csr"), os.path.join(directory, "san.ext")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    with open(ext, "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    for cmd in (["req", "-x509", *ec, "-days", "2", "-subj", "/CN=djproxy matrix CA", "-keyout", ca_key, "-out", ca],
                ["req", *ec, "-subj", "/CN=localhost", "-keyout", key, "-out", csr],
                ["x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-days", "2",
                 "-extfile", ext, "-out", cert]):
        subprocess.run(["openssl", *cmd], check=True, capture_output=True, timeout=30)
    return ca, cert, key


class ProductionProxy:
    """`with ProductionProxy() as p:` djproxy in production with TLS on both legs:
    clients may use TLS (the throwaway CA at p.ca verifies it), the backend leg
    verifies the fixture server's CA. p.key_file signs migration tokens."""

    def __enter__(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="djproxy-matrix-")
        self.ca, cert, key = make_tls(self.tmp.name)
        self.key_file = write_key(os.path.join(self.tmp.name, "migration.key"))
        env = proxy_key_env(self.key_file)
        env.update({"DJPROXY_CLIENT_TLS_MODE": "preferred", "DJPROXY_CLIENT_TLS_CERT": cert,
                    "DJPROXY_CLIENT_TLS_KEY": key, "DJPROXY_BACKEND_TLS_MODE": "verify-ca",
                    "DJPROXY_BACKEND_TLS_CA": db_ca()})
        self.process = DjproxyProcess(env).start()
        self.port = self.process.port
        return self

    def __exit__(self, *exc):
        self.status = self.process.stop()
        self.tmp.cleanup()


def run_client(command, port, ca, schema, timeout=300, cwd=None):
    """One session of a client script; returns its parsed output."""
    reset_schema(schema)
    config = {"host": "127.0.0.1", "port": port, "user": "dj", "password": "djpass", "schema": schema,
              "ca": ca, "blob_size": BLOB_SIZE}
    p = subprocess.run([*command, json.dumps(config)], capture_output=True, text=True, timeout=timeout, cwd=cwd)
    if p.returncode != 0:
        raise AssertionError(f"{command} exited {p.returncode}:\n{p.stdout[-4000:]}\n{p.stderr[-4000:]}")
    try:
        return json.loads(p.stdout)
    except ValueError as e:
        raise AssertionError(f"{command} printed no JSON ({e}):\n{p.stdout[-4000:]}\n{p.stderr[-4000:]}")


def strip_documented(test, direct, proxied, path="", refusals=REFUSALS):
    """Checks and removes the documented differences, at any depth of the output
    (a script groups steps per API, e.g. {"mysqli": {...}, "pdo": {...}})."""
    for key in list(direct):
        d, p = direct[key], proxied.get(key)
        where = f"{path}.{key}" if path else key
        if key not in proxied:
            continue  # the comparison below shows what is missing
        if key in refusals:
            errno, sqlstate = refusals[key]
            test.assertFalse(isinstance(d, dict) and "errno" in d, f"{where} failed directly: {d}")
            test.assertIsInstance(p, dict, where)
            test.assertEqual(p.get("errno"), errno, f"{where}: {p}")
            if "sqlstate" in p:
                test.assertEqual(p["sqlstate"], sqlstate, where)
            direct.pop(key)
            proxied.pop(key)
        elif key in PROXY_WORDED:
            test.assertIsInstance(d, dict, where)
            test.assertEqual(d.get("errno"), ER_PARSE_ERROR, f"{where}: {d}")
            if isinstance(p, dict):
                p.pop("message", None)
            d.pop("message", None)
        elif isinstance(d, dict) and isinstance(p, dict):
            strip_documented(test, d, p, where, refusals)


def compare_client(test, command, schema, cwd=None, refusals=REFUSALS):
    """Runs the script directly and through the proxy and asserts equal outputs;
    returns the direct output for the test's own checks of what was compared."""
    with ProductionProxy() as proxy:
        try:
            direct = run_client(command, db_port(), db_ca(), schema, cwd=cwd)
            proxied = run_client(command, proxy.port, proxy.ca, schema, cwd=cwd)
        finally:
            test.assertTrue(proxy.process.alive(), proxy.process.log_tail())
    test.assertEqual(proxy.status, "clean", proxy.process.log_tail())
    admin([f"DROP DATABASE IF EXISTS {schema}"])
    strip_documented(test, direct, proxied, refusals=refusals)
    test.maxDiff = None
    test.assertEqual(direct, proxied)
    return direct


def check_coverage(test, out):
    """What every client's session must have shown directly, so that an equal output
    is not an empty one."""
    # PyMySQL keeps the length byte the server writes before the info text: endswith.
    test.assertTrue(out["update"]["info"].endswith("Rows matched: 2  Changed: 2  Warnings: 0"), out["update"])
    test.assertTrue(out["insert"]["info"].endswith("Records: 2  Duplicates: 0  Warnings: 0"), out["insert"])
    test.assertEqual(out["insert_ignore"]["warnings"], 1)
    test.assertEqual(out["syntax"]["errno"], ER_PARSE_ERROR)
    test.assertEqual(out["server_error"]["errno"], 1146)
    test.assertEqual(out["blob"]["digest"], blob_digest())
    test.assertEqual(out["blob"]["server"], [blob_digest(), BLOB_SIZE])
    test.assertTrue(out["tls"]["encrypted"], out["tls"])
    test.assertIn("Records: 2", json.dumps(out["multi"]))
    test.assertEqual(out["transaction"]["after_rollback"], out["transaction"]["before"])
    test.assertNotEqual(out["transaction"]["after_commit"], out["transaction"]["before"])
