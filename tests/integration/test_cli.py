"""The mariadb CLI: one script piped through it directly and via djproxy, outputs equal."""
import os
import subprocess
import unittest

from djproxy_harness import DjproxyProcess, db_port, through_proxy

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cli_session.sql")


def cli(port, *extra):
    with open(SCRIPT, "rb") as f:
        r = subprocess.run(["mariadb", "--no-defaults", "-h", "127.0.0.1", "-P", str(port), "-udj", "-pdjpass",
                            "--force", "--table", "--show-warnings", "--ssl=0", *extra, "myproject_it"],
                           stdin=f, capture_output=True, timeout=60)
    return r.returncode, r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")


class MariadbCli(unittest.TestCase):
    maxDiff = 3000

    def test_script_output_identical(self):
        direct = cli(db_port())
        if through_proxy():
            with DjproxyProcess() as p:
                proxied = cli(p.port)
                self.assertTrue(p.alive(), p.log_tail())
                self.assertEqual(p.stop(), "clean", p.log_tail())
        else:
            proxied = cli(db_port())
        self.assertEqual(direct, proxied)
        code, out, err = direct
        # --force: the missing table is reported and the rest runs (exit code 0 with --force)
        self.assertIn("ERROR 1146 (42S02) at line 12", err)
        self.assertIn("after the error", out)
        self.assertIn("n: 15", out)
        self.assertRegex(out, r"\|\s+2000 \|\s+2001000 \|")
        self.assertIn("2001:db8::1", out)

    def test_status_command(self):
        """The CLI's `status` reports the same server, charset and protocol through the proxy."""
        def status(port):
            r = subprocess.run(["mariadb", "--no-defaults", "-h", "127.0.0.1", "-P", str(port), "-udj", "-pdjpass",
                                "--ssl=0", "-e", "status"], capture_output=True, timeout=30, text=True)
            keep = ("Current user", "Server version", "Protocol version", "Server characterset",
                    "Db     characterset", "Client characterset", "Conn.  characterset", "SSL")
            return [l for l in r.stdout.splitlines() if l.strip().startswith(keep)]
        direct = status(db_port())
        self.assertTrue(any("dj@" in l for l in direct), direct)
        if through_proxy():
            with DjproxyProcess() as p:
                self.assertEqual(direct, status(p.port))


if __name__ == "__main__":
    unittest.main()
