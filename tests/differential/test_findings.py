"""Every minimal reproduction the differential harness ever found stays fixed: each
bypass in findings.jsonl must be refused by the policy, each false positive allowed.
Runs the policy through policy_probe, with the session facts each finding was found in."""
import json
import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
PROBE = os.environ.get("DJPROXY_POLICY_PROBE", "")


class Findings(unittest.TestCase):
    def test_every_finding_stays_fixed(self):
        if not PROBE:
            self.skipTest("DJPROXY_POLICY_PROBE not set")
        with open(os.path.join(HERE, "findings.jsonl")) as f:
            findings = [json.loads(line) for line in f if line.strip()]
        self.assertGreater(len(findings), 0)
        feed = "".join(json.dumps({"id": i, "sql_hex": d["sql_hex"], "sql_mode": d.get("sql_mode", ""),
                                   "charset": d.get("charset", "utf8mb4"), "schema": d.get("schema"),
                                   "migration": d.get("migration", False)}) + "\n"
                       for i, d in enumerate(findings))
        out = subprocess.run([PROBE], input=feed, capture_output=True, text=True, check=True)
        verdicts = [json.loads(line) for line in out.stdout.splitlines()]
        self.assertEqual(len(verdicts), len(findings))
        for d, v in zip(findings, verdicts):
            with self.subTest(kind=d["kind"], sql=d["sql"][:200]):
                if d["kind"] == "bypass":
                    self.assertEqual(v["verdict"], "reject", f"{d['sql'][:200]!r} is forwarded again: {v}")
                else:
                    self.assertIn(v["verdict"], ("allow", "rewrite"), f"{d['sql'][:200]!r} refused again: {v}")


if __name__ == "__main__":
    unittest.main()
