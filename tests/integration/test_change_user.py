"""COM_CHANGE_USER that the server refuses: the server answers 1045 and keeps the
connection, as the account it was before (sql_parse.cc, COM_CHANGE_USER; MariaDB's own
test main.change_user_notembedded). Through djproxy the client must see the same, not a
closed connection. Run with the C API (libmariadb, as mysqltest and the mariadb client
use it), directly and through the proxy in development and production mode."""
import ctypes
import unittest

from djproxy_harness import PROXY_BIN, DjproxyProcess, db_port, through_proxy


class CApi:
    """The few libmariadb calls the test needs, on one connection."""

    def __init__(self):
        lib = ctypes.CDLL("libmariadb.so.3")
        lib.mysql_init.restype = ctypes.c_void_p
        lib.mysql_init.argtypes = [ctypes.c_void_p]
        lib.mysql_real_connect.restype = ctypes.c_void_p
        lib.mysql_real_connect.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p,
                                           ctypes.c_char_p, ctypes.c_uint, ctypes.c_char_p, ctypes.c_ulong]
        lib.mysql_change_user.restype = ctypes.c_char  # my_bool
        lib.mysql_change_user.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p]
        lib.mysql_query.restype = ctypes.c_int
        lib.mysql_query.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        lib.mysql_store_result.restype = ctypes.c_void_p
        lib.mysql_store_result.argtypes = [ctypes.c_void_p]
        lib.mysql_fetch_row.restype = ctypes.POINTER(ctypes.c_char_p)
        lib.mysql_fetch_row.argtypes = [ctypes.c_void_p]
        lib.mysql_free_result.argtypes = [ctypes.c_void_p]
        lib.mysql_errno.restype = ctypes.c_uint
        lib.mysql_errno.argtypes = [ctypes.c_void_p]
        lib.mysql_error.restype = ctypes.c_char_p
        lib.mysql_error.argtypes = [ctypes.c_void_p]
        lib.mysql_close.argtypes = [ctypes.c_void_p]
        self.lib = lib
        self.handle = lib.mysql_init(None)

    def error(self):
        return self.lib.mysql_errno(self.handle), self.lib.mysql_error(self.handle).decode()

    def connect(self, port, user, password, db=None):
        ok = self.lib.mysql_real_connect(self.handle, b"127.0.0.1", user.encode(), password.encode(),
                                         db.encode() if db else None, port, None, 0)
        if not ok:
            raise AssertionError(f"connect failed: {self.error()}")

    def change_user(self, user, password, db=None):
        """0 when it worked, else the error code."""
        failed = self.lib.mysql_change_user(self.handle, user.encode(), password.encode(),
                                            db.encode() if db else None)
        return self.error()[0] if failed != b"\0" else 0

    def scalar(self, sql):
        if self.lib.mysql_query(self.handle, sql.encode()) != 0:
            return ("error",) + self.error()
        result = self.lib.mysql_store_result(self.handle)
        row = self.lib.mysql_fetch_row(result)
        value = row[0].decode() if row and row[0] is not None else None
        self.lib.mysql_free_result(result)
        return value

    def close(self):
        self.lib.mysql_close(self.handle)


class RefusedChangeUser(unittest.TestCase):
    def session(self, port):
        """What the client sees: a refused change of user, then the connection in use."""
        c = CApi()
        try:
            c.connect(port, "dj", "djpass", "myproject_cu")
            seen = [c.scalar("SELECT CURRENT_USER()")]
            seen.append(c.change_user("dj", "wrong password"))
            seen.append(c.change_user("nosuchuser", "x"))
            # Still connected, as the account and schema it had.
            seen.append(c.scalar("SELECT CONCAT(CURRENT_USER(), ' ', DATABASE())"))
            seen.append(c.change_user("djroot", "djroot", "myproject_cu"))
            seen.append(c.scalar("SELECT CONCAT(CURRENT_USER(), ' ', DATABASE())"))
            return seen
        finally:
            c.close()

    def setUp(self):
        admin = CApi()
        try:
            admin.connect(db_port(), "djroot", "djroot")
            admin.scalar("CREATE DATABASE IF NOT EXISTS myproject_cu")
        finally:
            admin.close()

    def test_direct(self):
        self.assertEqual(self.session(db_port()),
                         ["dj@%", 1045, 1045, "dj@% myproject_cu", 0, "djroot@% myproject_cu"])

    @unittest.skipUnless(PROXY_BIN and through_proxy(), "no djproxy binary")
    def test_through_djproxy_as_directly(self):
        expected = self.session(db_port())
        for mode, env in (("development", {}),
                          ("production", {"DJPROXY_POLICY_MODE": "enforce", "DJ_CREATE_TABLES": "false",
                                          "DJ_SCHEMA_PREFIX": "myproject_"})):
            with self.subTest(mode=mode), DjproxyProcess(env) as proxy:
                self.assertEqual(self.session(proxy.port), expected, proxy.log_tail())
                self.assertEqual(proxy.stop(), "clean", proxy.log_tail())


if __name__ == "__main__":
    unittest.main()
