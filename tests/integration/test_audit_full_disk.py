"""The audit log on a filesystem that fills up and then gets space back (issue 16):
records stay whole, every lost event is counted in /metrics, an audit_gap record tells
the DBA how many, and /readyz says the sink is degraded while traffic keeps flowing.
A real 64 KiB tmpfs, a real proxy, real pymysql."""
import json
import os
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request

import pymysql

from djproxy_harness import PROXY_BIN, DjproxyProcess

PAD = "x" * 300  # makes each statement record about 600 bytes


def http_get(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def metric(port, name):
    status, body = http_get(port, "/metrics")
    assert status == 200, body
    for line in body.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in /metrics")


def wait_for(predicate, what, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def mount_tiny_tmpfs(test):
    if os.geteuid() != 0:
        test.skipTest("mounting a tmpfs needs root")
    where = tempfile.mkdtemp(prefix="djproxy-fulldisk-")
    test.addCleanup(os.rmdir, where)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", where], capture_output=True, text=True)
    if r.returncode != 0:
        test.skipTest(f"cannot mount a tmpfs here: {r.stderr.strip()}")
    test.addCleanup(subprocess.run, ["umount", "-l", where], check=False)
    return where


@unittest.skipUnless(PROXY_BIN, "no djproxy binary")
class AuditOnFullDisk(unittest.TestCase):
    def test_records_stay_whole_and_lost_events_are_counted_and_announced(self):
        where = mount_tiny_tmpfs(self)
        filler = os.path.join(where, "filler")
        with open(filler, "wb") as f:
            f.write(b"f" * 16384)  # freed later: the disk gets space back
        audit = os.path.join(where, "audit.log")
        env = {"DJPROXY_AUDIT_LOG": audit, "DJPROXY_AUDIT_ALL_STATEMENTS": "true"}
        with DjproxyProcess(env) as proxy:
            c = pymysql.connect(host="127.0.0.1", port=proxy.port, user="dj", password="djpass", autocommit=True)
            sent = 0
            with c.cursor() as cur:
                # 64 KiB hold about a hundred records: this fills the disk many times over.
                for _ in range(400):
                    cur.execute(f"SELECT 1 /* {PAD} */")
                    sent += 1
                wait_for(lambda: metric(proxy.admin_port, "djproxy_audit_events_dropped_total") > 0,
                         "events dropped on the full disk")
                status, body = http_get(proxy.admin_port, "/readyz")
                self.assertEqual(status, 200, body)  # degraded, not down: traffic flows
                self.assertIn("audit log degraded", body)

                # The writer may still be behind the flood; free space only once it has
                # handled it all (the counter stops moving), or the backlog refills it.
                last = [-1.0]

                def settled():
                    now = metric(proxy.admin_port, "djproxy_audit_events_dropped_total")
                    done, last[0] = now == last[0], now
                    time.sleep(0.3)
                    return done
                wait_for(settled, "the writer to handle the flood")
                os.unlink(filler)
                # What the writer still held from the flood may fill the freed space
                # again: send until a record written after it shows up.
                def marker_written():
                    cur.execute(f"SELECT 2 /* after space came back {sent} */")
                    with open(audit, "rb") as f:
                        return f"after space came back {sent}".encode() in f.read()
                try:
                    wait_for(lambda: (time.sleep(0.1), marker_written())[1], "a record after space came back")
                except AssertionError:
                    with open(audit, "rb") as f:
                        tail = f.read()[-1500:]
                    print(os.statvfs(where), tail, proxy.log_tail(1500))
                    raise
                sent += 1
            c.close()
            dropped = metric(proxy.admin_port, "djproxy_audit_events_dropped_total")
            errors = metric(proxy.admin_port, "djproxy_audit_write_errors_total")
            status, body = http_get(proxy.admin_port, "/readyz")
            self.assertEqual((status, body), (200, "ready\n"))
            self.assertEqual(proxy.stop(), "clean", proxy.log_tail())

        with open(audit, "rb") as f:
            data = f.read()
        self.assertTrue(data.endswith(b"\n"))
        records = []
        for n, line in enumerate(data.split(b"\n")[:-1]):
            with self.subTest(line=n):
                records.append(json.loads(line))  # whole or absent: no torn line
        gaps = [r for r in records if r["event"] == "audit_gap"]
        self.assertTrue(gaps, "an audit_gap record announces the loss")
        lost = sum(g["events_lost"] for g in gaps)
        statements = sum(1 for r in records if r["event"] == "statement")
        print(f"\nfull disk: {sent} statements sent, {statements} statement records kept, "
              f"{len(records)} records, {len(gaps)} audit_gap record(s) announcing {lost} lost, "
              f"dropped counter {dropped:.0f}, write errors {errors:.0f}")
        self.assertGreater(dropped, 0)
        self.assertEqual(lost, dropped, "every lost event is announced in the log")
        # The gap comes before the records written once space came back.
        last_gap = max(i for i, r in enumerate(records) if r["event"] == "audit_gap")
        first_after = min(i for i, r in enumerate(records) if "after space came back" in r.get("query", ""))
        self.assertLess(last_gap, first_after)


if __name__ == "__main__":
    unittest.main()
