#!/usr/bin/python3
"""scripts/run.sh stops djproxy and its MariaDB on every way out: INT (Ctrl-C), TERM
(`timeout`, a supervisor), HUP (a closed terminal), each sent to the script alone as a
supervisor does, and djproxy ending by itself.

    test_run_script.py --repo REPO --build-dir BUILD [unittest options]
"""
import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

OPTIONS = argparse.Namespace(repo=None, build_dir=None)
READY = "Ctrl-C stops djproxy and MariaDB."


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def session_processes(sid):
    """{pid: command name} of the live processes in session `sid`."""
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        state, session = fields[0], int(fields[3])
        if session == sid and state != "Z":
            out[int(entry.name)] = name
    return out


class RunScript(unittest.TestCase):
    run_dir = None

    @classmethod
    def setUpClass(cls):
        # One run directory for every case: MariaDB is initialised once.
        cls.run_dir = Path(tempfile.mkdtemp(prefix="djproxy-run-sh-"))

    @classmethod
    def tearDownClass(cls):
        pid_file = cls.run_dir / "mariadb" / "pid"
        if pid_file.exists():  # a failed case may leave it; never leave a server behind
            subprocess.run(["bash", str(Path(OPTIONS.repo) / "scripts" / "mariadb.sh"), "stop",
                            str(cls.run_dir / "mariadb")], check=False)
        shutil.rmtree(cls.run_dir, ignore_errors=True)

    def start(self, until=READY):
        env = dict(os.environ, DJPROXY_RUN_DIR=str(self.run_dir), DJPROXY_PORT=str(free_port()),
                   DJPROXY_BUILD_DIR=str(OPTIONS.build_dir))
        # A session of its own: signals go to the script only (as a supervisor or a
        # terminal's SIGHUP to its shell do), and what it starts is found by session.
        proc = subprocess.Popen(["bash", "scripts/run.sh"], cwd=OPTIONS.repo, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                start_new_session=True)
        self.addCleanup(self.kill_session, proc.pid)
        output = []
        deadline = time.monotonic() + 300
        for line in proc.stdout:
            output.append(line)
            if until(line) if callable(until) else line.strip() == until:
                return proc, output
            if time.monotonic() > deadline:
                break
        self.fail("run.sh did not get ready:\n" + "".join(output))

    def start_serving(self):
        proc, output = self.start()
        started = session_processes(proc.pid)
        names = sorted(started.values())
        self.assertIn("djproxy", names, started)
        self.assertIn("mariadbd", names, started)
        return proc, output

    def kill_session(self, sid):
        """After a failed case: nothing the script started may outlive the test."""
        for pid in session_processes(sid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def finish(self, proc, output, expected_rc):
        try:
            rest, _ = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            rest = "(run.sh did not exit within 60 s)"
        log = "".join(output) + rest
        deadline = time.monotonic() + 10
        while session_processes(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(session_processes(proc.pid), {}, "left running\n" + log)
        self.assertIn("stopped djproxy and MariaDB", rest, log)
        self.assertEqual(proc.returncode, expected_rc, log)

    def test_signals_stop_both(self):
        for sig in (signal.SIGHUP, signal.SIGTERM, signal.SIGINT):
            with self.subTest(signal=sig.name):
                proc, output = self.start_serving()
                proc.send_signal(sig)
                self.finish(proc, output, 128 + sig)

    def test_timeout_signalling_the_whole_group(self):
        # `timeout 240 bash scripts/run.sh` sends TERM to the script and all it started.
        proc, output = self.start_serving()
        os.killpg(proc.pid, signal.SIGTERM)
        self.finish(proc, output, 128 + signal.SIGTERM)

    def test_signal_while_mariadb_starts(self):
        # Right after the build, the script is starting MariaDB: what it started must
        # not survive it.
        proc, output = self.start(until=lambda line: "ninja:" in line or "Linking CXX executable" in line)
        deadline = time.monotonic() + 60
        while "mariadbd" not in session_processes(proc.pid).values() and time.monotonic() < deadline:
            time.sleep(0.01)
        self.assertIn("mariadbd", session_processes(proc.pid).values(), "MariaDB did not start")
        proc.send_signal(signal.SIGTERM)
        self.finish(proc, output, 128 + signal.SIGTERM)

    def test_djproxy_ending_stops_mariadb(self):
        proc, output = self.start_serving()
        (proxy_pid,) = [pid for pid, name in session_processes(proc.pid).items() if name == "djproxy"]
        os.kill(proxy_pid, signal.SIGKILL)
        self.finish(proc, output, 128 + signal.SIGKILL)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--repo", required=True)
    parser.add_argument("--build-dir", required=True)
    options, rest = parser.parse_known_args()
    OPTIONS.repo, OPTIONS.build_dir = options.repo, options.build_dir
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2)
