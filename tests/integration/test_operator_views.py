"""The operators' views shipped under docker/: every djproxy_* metric the Grafana dashboard
and the Prometheus alert rules name exists in a running proxy's /metrics, and the rules
(and the dashboard's queries) are valid PromQL to promtool, whose rule tests show the
alerts fire on the series they are meant for. Real MariaDB, real proxy, real scrape."""
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest
import urllib.request
from pathlib import Path

import pymysql
import yaml

from djproxy_harness import PROXY_BIN, DjproxyProcess

REPO = Path(__file__).resolve().parents[2]
DASHBOARD = REPO / "docker" / "grafana" / "djproxy-dashboard.json"
RULES = REPO / "docker" / "prometheus" / "djproxy-alerts.yaml"
RULE_TESTS = REPO / "docker" / "prometheus" / "djproxy-alerts.test.yaml"
METRIC = re.compile(r"\bdjproxy_[a-z0-9_]+")
SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? \S+$")
# Grafana's variables, replaced by values PromQL accepts so promtool can parse the query.
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h", "$instance": ".*"}


def dashboard_queries():
    def walk(panels):
        for panel in panels:
            yield from (t["expr"] for t in panel.get("targets") or [] if t.get("expr"))
            yield from walk(panel.get("panels") or [])

    with open(DASHBOARD) as f:
        dashboard = json.load(f)
    queries = list(walk(dashboard["panels"]))
    for variable in dashboard.get("templating", {}).get("list", []):
        query = variable.get("query")
        if isinstance(query, dict):
            query = query.get("query")
        if variable.get("type") == "query" and query:
            queries.append(query)
    return queries


def rule_expressions():
    with open(RULES) as f:
        doc = yaml.safe_load(f)
    return [rule["expr"] for group in doc["groups"] for rule in group["rules"]]


def exposed_names(text):
    """Families (# TYPE) and sample names of a scrape."""
    names = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            names.add(line.split()[2])
        elif line and not line.startswith("#"):
            m = SAMPLE.match(line)
            assert m, f"not a sample: {line}"
            names.add(m.group(1))
    return names


def promtool():
    return shutil.which("promtool")


class OperatorViews(unittest.TestCase):
    def test_every_metric_named_exists_in_metrics(self):
        if not PROXY_BIN:
            self.skipTest("no djproxy binary")
        used = {name for text in dashboard_queries() + rule_expressions() for name in METRIC.findall(text)}
        self.assertGreaterEqual(len(used), 15, sorted(used))
        env = {"DJPROXY_POLICY_MODE": "enforce", "DJ_CREATE_TABLES": "false", "DJ_SCHEMA_PREFIX": "myproject_"}
        with DjproxyProcess(env) as proxy:
            # A refused statement, so the labelled series have samples as well as a TYPE.
            conn = pymysql.connect(host="127.0.0.1", port=proxy.port, user="dj", password="djpass")
            with conn, conn.cursor() as cur, self.assertRaises(pymysql.MySQLError):
                cur.execute("CREATE TABLE myproject_views.t (id INT)")
            with urllib.request.urlopen(f"http://127.0.0.1:{proxy.admin_port}/metrics", timeout=10) as r:
                exposed = exposed_names(r.read().decode())
            self.assertEqual(proxy.stop(), "clean")
        self.assertIn('djproxy_rejects_by_user_total', exposed)
        self.assertIn('djproxy_backend_up', exposed)
        missing = used - exposed
        self.assertFalse(missing, f"named by the dashboard or the rules but not in /metrics: {sorted(missing)}")

    def test_rejects_by_user_over_the_wire(self):
        """Enforced rejects count under the authenticated user; a name refused before the
        server accepted it takes no label of its own."""
        if not PROXY_BIN:
            self.skipTest("no djproxy binary")
        env = {"DJPROXY_POLICY_MODE": "enforce", "DJ_CREATE_TABLES": "false", "DJ_SCHEMA_PREFIX": "myproject_"}
        with DjproxyProcess(env) as proxy:
            with self.assertRaises(pymysql.MySQLError) as refused:
                pymysql.connect(host="127.0.0.1", port=proxy.port, user="djroot", password="djroot", database="mysql")
            self.assertEqual(refused.exception.args[0], 1044)
            for user, password, times in (("dj", "djpass", 2), ("djroot", "djroot", 1)):
                conn = pymysql.connect(host="127.0.0.1", port=proxy.port, user=user, password=password)
                with conn, conn.cursor() as cur:
                    for _ in range(times):
                        with self.assertRaises(pymysql.MySQLError) as e:
                            cur.execute("CREATE TABLE myproject_views.t (id INT)")
                        self.assertEqual(e.exception.args[0], 1142)
                    cur.execute("SELECT 1")
            with urllib.request.urlopen(f"http://127.0.0.1:{proxy.admin_port}/metrics", timeout=10) as r:
                samples = {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
                           for line in r.read().decode().splitlines() if line and not line.startswith("#")}
            self.assertEqual(proxy.stop(), "clean")
        self.assertEqual(samples.get('djproxy_rejects_by_user_total{user="dj"}'), 2)
        self.assertEqual(samples.get('djproxy_rejects_by_user_total{user="djroot"}'), 1)
        self.assertEqual(samples.get('djproxy_rejects_by_user_total{user="other"}'), 1)
        self.assertEqual(samples.get("djproxy_backend_up"), 1)

    def test_rules_are_valid_and_fire_as_meant(self):
        with open(RULES) as f:
            doc = yaml.safe_load(f)
        names = set()
        for group in doc["groups"]:
            self.assertTrue(group["name"] and group["rules"])
            for rule in group["rules"]:
                with self.subTest(alert=rule.get("alert")):
                    self.assertLessEqual({"alert", "expr", "labels", "annotations"}, set(rule))
                    self.assertIn(rule["labels"]["severity"], ("critical", "warning", "info"))
                    self.assertIn("summary", rule["annotations"])
                    self.assertNotIn(rule["alert"], names, "alert names are unique")
                    names.add(rule["alert"])
        tool = promtool()
        if tool is None:
            self.skipTest("promtool is not installed (scripts/setup.sh installs prometheus)")
        r = subprocess.run([tool, "check", "rules", str(RULES)], capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        r = subprocess.run([tool, "test", "rules", str(RULE_TESTS)], capture_output=True, text=True, timeout=120,
                           cwd=RULE_TESTS.parent)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        with open(RULE_TESTS) as f:
            tested = {a["alertname"] for t in yaml.safe_load(f)["tests"] for a in t.get("alert_rule_test") or []}
        self.assertEqual(names - tested, set(), "every alert has a promtool test")

    def test_dashboard_queries_parse(self):
        queries = dashboard_queries()
        self.assertGreaterEqual(len(queries), 20)
        tool = promtool()
        if tool is None:
            self.skipTest("promtool is not installed (scripts/setup.sh installs prometheus)")
        rules = []
        for i, query in enumerate(queries):
            expr = query
            for variable, value in GRAFANA_VARIABLES.items():
                expr = expr.replace(variable, value)
            if expr.startswith("label_values("):
                # Grafana's own function: its metric argument must still be a selector.
                expr = re.match(r"label_values\(([^,]+),", expr).group(1).strip()
            self.assertNotIn("$", expr, f"a Grafana variable this test does not know: {query}")
            rules.append({"record": f"dashboard:query_{i}", "expr": expr})
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "dashboard-queries.yaml")
            with open(path, "w") as f:
                yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}, f)
            r = subprocess.run([tool, "check", "rules", path], capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)


if __name__ == "__main__":
    unittest.main()
