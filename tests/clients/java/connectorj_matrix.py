"""Connector/J in the client matrix, on demand (scripts/connectorj.sh sets the
environment: the fixture MariaDB, the djproxy binary, CONNECTORJ_CLASSPATH). The
same comparison as tests/integration/test_client_matrix.py."""
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "integration"))

from client_matrix import BLOB_SIZE, blob_digest, compare_client  # noqa: E402


class ConnectorJ(unittest.TestCase):
    def test_session_matches_a_direct_connection(self):
        out = compare_client(self, ["java", "-cp", os.environ["CONNECTORJ_CLASSPATH"], "Session"],
                             "myproject_cm_connectorj")
        # What the comparison saw.
        self.assertEqual(out["syntax"]["errno"], 1064)
        self.assertEqual(out["server_error"]["errno"], 1146)
        self.assertEqual(out["blob"]["digest"], blob_digest())
        self.assertEqual(out["blob"]["digest_text"], blob_digest())
        self.assertEqual(out["blob"]["server"]["rows"], [[blob_digest(), BLOB_SIZE]])
        self.assertEqual(out["batch_prepared"], "[1, 1, 1]")
        self.assertEqual(out["batch_error"]["errno"], 1062)
        self.assertTrue(out["tls"]["encrypted"], out["tls"])
        self.assertIn("myproject_cm_connectorj", [r[0] for r in out["metadata"]["catalogs"]])
        self.assertEqual(len(out["metadata"]["columns"]), 5)
        print("\nConnector/J:", out["metadata"]["driver"], "| server:", out["metadata"]["product"])


if __name__ == "__main__":
    unittest.main()
