"""Test helper: spawn `djproxy serve` on free loopback ports in front of the fixture
MariaDB, wait until it accepts, stop it at the end and say whether it crashed.

Environment (set by tests/integration/CMakeLists.txt):
  DJPROXY_IT_DB_DIR     fixture MariaDB dir (DIR/port, DIR/tls/ca.pem)
  DJPROXY_IT_LOG_DIR    where each proxy's stderr goes
  DJPROXY_IT_PROXY_BIN  the djproxy binary ('' = none yet)
  DJPROXY_IT_TARGET     both | direct
"""
import os
import signal
import socket
import subprocess
import time

DB_DIR = os.environ.get("DJPROXY_IT_DB_DIR", "")
LOG_DIR = os.environ.get("DJPROXY_IT_LOG_DIR", "/tmp")
PROXY_BIN = os.environ.get("DJPROXY_IT_PROXY_BIN", "")


def db_port():
    if not DB_DIR:
        raise RuntimeError("DJPROXY_IT_DB_DIR is not set (run through ctest)")
    with open(os.path.join(DB_DIR, "port")) as f:
        return int(f.read().strip())


def db_ca():
    return os.path.join(DB_DIR, "tls", "ca.pem")


def through_proxy():
    return os.environ.get("DJPROXY_IT_TARGET", "both") != "direct" and bool(PROXY_BIN)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RefusingPort:
    """`with RefusingPort() as port:` a loopback port where connections are refused, held
    for the block: a socket bound there without listening keeps every other process
    (a parallel test's server, say) from taking the port meanwhile."""

    def __enter__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        return self.sock.getsockname()[1]

    def __exit__(self, *exc):
        self.sock.close()


class DjproxyProcess:
    """`with DjproxyProcess({...}) as p:` -> p.port; on exit asserts nothing, but
    p.stop() returns 'clean' or what went wrong (crash signal, exit code)."""

    def __init__(self, extra_env=None, backend_port=None):
        self.extra_env = extra_env or {}
        self.backend_port = backend_port
        self.proc = None
        self.port = None
        self.admin_port = None
        self.log_path = None

    def start(self):
        if not PROXY_BIN:
            raise RuntimeError("no djproxy binary (DJPROXY_IT_PROXY_BIN)")
        self.port, admin = free_port(), free_port()
        self.admin_port = admin
        env = {k: v for k, v in os.environ.items()  # hermetic: only what we set
               if not (k.startswith("DJ_") or k.startswith("DJPROXY_"))}
        env.update({
            "DJPROXY_LISTEN": f"127.0.0.1:{self.port}",
            "DJPROXY_ADMIN_LISTEN": f"127.0.0.1:{admin}",
            "DJ_HOST": f"127.0.0.1:{self.backend_port or db_port()}",
            "DJPROXY_CLIENT_TLS_MODE": "off",
            "DJPROXY_BACKEND_TLS_MODE": "off",
            # The relay is proven transparent with the policy in dry run; enforcement
            # suites pass DJPROXY_POLICY_MODE=enforce.
            "DJPROXY_POLICY_MODE": "dry-run",
            "DJPROXY_THREADS": "2",
        })
        env.update(self.extra_env)
        self.log_path = os.path.join(LOG_DIR, f"djproxy-py-{os.getpid()}-{self.port}.log")
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([PROXY_BIN, "serve"], env=env, stdin=subprocess.DEVNULL,
                                     stdout=log, stderr=log, cwd=LOG_DIR)
        log.close()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"djproxy exited during start-up; log:\n{self.log_tail()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                # The admin listener is bound after the proxy's own (proxy/server.cpp): a test
                # that asks it at once could find it not yet listening (seen under ASan).
                if "DJPROXY_ADMIN_LISTEN" not in self.extra_env:
                    socket.create_connection(("127.0.0.1", self.admin_port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"djproxy did not listen within 15 s; log:\n{self.log_tail()}")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        """SIGTERM, SIGKILL after 10 s; returns 'clean' or a description."""
        if self.proc is None:
            return "never started"
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                return "did not exit within 10 s of SIGTERM"
        rc = self.proc.returncode
        if rc == 0 or rc == -signal.SIGTERM:
            return "clean"
        return f"killed by signal {-rc}" if rc < 0 else f"exit code {rc}"

    def log_tail(self, n=4000):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-n:].decode("utf-8", "replace")
        except OSError:
            return ""

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
