"""The client matrix (issue 17): each driver runs the same session directly and through
djproxy in production, and the outputs must be equal apart from the documented
refusals (client_matrix.py says which and why). One class per driver, one ctest each,
so that they run in parallel; each uses a schema of its own."""
import importlib.util
import os
import shutil
import sys
import unittest

from client_matrix import check_coverage, compare_client
from djproxy_harness import through_proxy

CLIENTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "clients")
NODE_DIR = os.path.join(CLIENTS, "node")


def has_module(name):
    return importlib.util.find_spec(name) is not None


class _Matrix(unittest.TestCase):
    def setUp(self):
        if not through_proxy():
            self.skipTest("no djproxy binary")


class PyMySQL(_Matrix):
    def test_session_matches_a_direct_connection(self):
        out = compare_client(self, [sys.executable, os.path.join(CLIENTS, "python_dbapi_session.py"), "pymysql"],
                             "myproject_cm_pymysql")
        check_coverage(self, out)
        self.assertEqual(out["syntax"]["class"], "ProgrammingError")
        self.assertEqual(out["tls"]["client_protocol"], "TLSv1.3")


@unittest.skipUnless(has_module("MySQLdb"), "python3-mysqldb not installed (scripts/setup.sh)")
class Mysqlclient(_Matrix):
    def test_session_matches_a_direct_connection(self):
        out = compare_client(self, [sys.executable, os.path.join(CLIENTS, "python_dbapi_session.py"), "mysqldb"],
                             "myproject_cm_mysqldb")
        check_coverage(self, out)
        self.assertEqual(out["syntax"]["class"], "ProgrammingError")


@unittest.skipUnless(shutil.which("node") and os.path.isdir(os.path.join(NODE_DIR, "node_modules", "mysql2")),
                     "node or mysql2 missing (scripts/setup.sh runs npm ci in tests/clients/node)")
class NodeMysql2(_Matrix):
    def test_session_matches_a_direct_connection(self):
        refusals = {"refused_create": (1142, "42000"), "prepared_refused": (1142, "42000")}
        out = compare_client(self, ["node", os.path.join(NODE_DIR, "session.js")], "myproject_cm_node",
                             refusals=refusals)
        check_coverage(self, out)
        self.assertEqual(out["syntax"]["sqlstate"], "42000")
        self.assertEqual(out["blob"]["digest_prepared"], out["blob"]["digest"])
        self.assertEqual(out["prepared_error"]["errno"], 1062)
        self.assertEqual(out["tls"]["client_protocol"], "TLSv1.3")


if __name__ == "__main__":
    unittest.main()
