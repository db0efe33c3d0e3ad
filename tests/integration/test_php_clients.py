"""PHP mysqli and PDO (php-cli, php-mysql's mysqlnd) in the client matrix (issue 17):
through djproxy in production mode they give the same results as directly against
MariaDB. mysqlnd once rejected re-encoded OK packets whose info string had lost its
length prefix, warning "RSET_HEADER packet additional data length is past" and failing
with 2014/2006, so every PHP warning is part of the output.

php_client_session.php runs one session and prints every outcome as JSON;
client_matrix.py compares it and says what may differ.
"""
import os
import shutil
import unittest

from client_matrix import ER_PARSE_ERROR, ER_TABLEACCESS_DENIED, blob_digest, check_coverage, compare_client
from djproxy_harness import through_proxy

HERE = os.path.dirname(os.path.abspath(__file__))


@unittest.skipUnless(shutil.which("php"), "php-cli not installed (scripts/setup.sh)")
class PhpClients(unittest.TestCase):
    def test_mysqli_and_pdo_match_a_direct_connection(self):
        if not through_proxy():
            self.skipTest("no djproxy binary")
        refusals = {"refused_create": (ER_TABLEACCESS_DENIED, "42000"),
                    "prepared_refused": (ER_TABLEACCESS_DENIED, "42000")}
        direct = compare_client(self, ["php", "-d", "memory_limit=1G", os.path.join(HERE, "php_client_session.php")],
                                "myproject_cm_php", refusals=refusals)
        # The comparison saw what it is about: info strings, multi-results, the errors.
        self.assertEqual(direct["warnings"], [])
        check_coverage(self, direct["mysqli"])
        self.assertEqual(direct["mysqli"]["syntax"]["sqlstate"], "42000")
        self.assertEqual(direct["mysqli"]["multi"][1]["info"], "Records: 2  Duplicates: 0  Warnings: 0")
        pdo = direct["pdo"]
        self.assertEqual(pdo["syntax"]["errno"], ER_PARSE_ERROR)
        self.assertEqual(pdo["syntax"]["sqlstate"], "42000")
        self.assertEqual(pdo["server_error"]["errno"], 1146)
        self.assertEqual(pdo["blob"]["digest"], blob_digest())
        self.assertTrue(pdo["tls"]["encrypted"], pdo["tls"])


if __name__ == "__main__":
    unittest.main()
