"""`djproxy explain --json` and the proxy agree (issue 15's acceptance): every case of the
policy's table (tests/policy, dumped by policy_cases_dump) whose session facts a MariaDB
10.11 server can present is sent through a proxy with the case's settings, and explain is
asked with the same settings and flags for the same facts. What the proxy did (rejected
with which code and message, or forwarded) must be what explain says it does; the
protocol-level cases (COM_INIT_DB, COM_FIELD_LIST, COM_STMT_PREPARE) too.

The statements run as accounts without privileges (one in migration.users): whatever
the proxy forwards, the server refuses to change anything."""
import concurrent.futures
import json
import os
import random
import subprocess
import unittest

import pymysql
from pymysql.constants import CLIENT, COMMAND

import raw_protocol
from djproxy_harness import LOG_DIR, PROXY_BIN, DjproxyProcess, db_port

DUMP = os.environ.get("DJPROXY_IT_POLICY_CASES_DUMP", "")
KEY = "explain-agreement-key-" + "k" * 32
SCHEMA = "myproject_full"
USER, MIGRATOR, PASSWORD = "djexplain", "djexplainmig", "explainpw"
# Facts this server cannot present: another server, another client character set.
UNREPRODUCIBLE = {"mysql8", "old_maria", "gbk", "sjis", "latin1"}


def admin(sql):
    conn = pymysql.connect(host="127.0.0.1", port=db_port(), user="djroot", password="djroot", autocommit=True)
    try:
        with conn.cursor() as c:
            c.execute(sql)
    finally:
        conn.close()


def settings_env(flags):
    env = {"DJPROXY_POLICY_MODE": "dry-run" if "dry" in flags else "enforce",
           "DJ_CREATE_TABLES": "true" if "dev" in flags else "false",
           "DJPROXY_MIGRATION_USERS": MIGRATOR, "DJPROXY_MIGRATION_KEY": KEY}
    if "no_prefix" not in flags:
        env["DJ_SCHEMA_PREFIX"] = "myproject_"
    if "lctn1" in flags:
        env["DJPROXY_POLICY_LOWER_CASE_TABLE_NAMES"] = "1"
    if "no_temp" in flags:
        env["DJPROXY_POLICY_TEMPORARY_TABLES"] = "false"
    if "no_book" in flags:
        env["DJPROXY_POLICY_BOOKKEEPING_TABLES"] = "false"
    if "files" in flags:
        env["DJPROXY_POLICY_SERVER_FILES"] = "true"
    return env


def hermetic(extra):
    env = {k: v for k, v in os.environ.items() if not (k.startswith("DJ_") or k.startswith("DJPROXY_"))}
    env.update(extra)
    return env


def explain(flags, sql, command="query", schema=SCHEMA, user=None):
    """explain --json with the proxy's settings (the same environment) and the facts."""
    args = [PROXY_BIN, "explain", "--json", "--command", command,
            "--multi-statements", "true" if "multi" in flags else "false"]
    if schema is not None:
        args += ["--schema", schema]
    modes = [m for f, m in (("ansi", "ANSI_QUOTES"), ("nbe", "NO_BACKSLASH_ESCAPES"), ("pipes", "PIPES_AS_CONCAT"))
             if f in flags]
    if modes or "auto_create" in flags:  # exactly these modes: NO_AUTO_CREATE_USER is not among them
        args += ["--sql-mode", ",".join(modes)]
    if "mig_user" in flags:
        args += ["--migration"]
    if "mig_token" in flags:
        args += ["--migration-scope", "myproject_a*", "--migration-scope", SCHEMA]
    if "dev" in flags:
        args += ["--create-tables"]
    if "conn_latin1" in flags:
        args += ["--connection-charset", "latin1"]
    if user is not None:
        args += ["--user", user]
    args += ["--", sql]
    p = subprocess.run(args, env=hermetic(settings_env(flags)), cwd=LOG_DIR, capture_output=True, timeout=60)
    if p.returncode != 0:
        raise AssertionError(f"explain failed ({p.returncode}): {p.stdout!r} {p.stderr!r}")
    return json.loads(p.stdout)


def issue_token():
    env = hermetic({"DJPROXY_MIGRATION_KEY": KEY, "DJ_SCHEMA_PREFIX": "myproject_", "DJ_CREATE_TABLES": "false"})
    out = subprocess.run([PROXY_BIN, "token", "issue", "--schema", "myproject_a*", "--schema", SCHEMA, "--ttl", "30m"],
                         env=env, cwd=LOG_DIR, capture_output=True, text=True, timeout=30, check=True).stdout
    return out.strip().splitlines()[-1].strip()


def observed(run):
    """('reject', code, message) when the proxy answered with its own ERR, else ('forward',)."""
    try:
        run()
    except pymysql.MySQLError as e:
        code, message = e.args[0], str(e.args[1]) if len(e.args) > 1 else ""
        if message.startswith("djproxy:"):
            return ("reject", code, message)
    except UnicodeDecodeError:
        pass  # the server's answer came (a column named by non-UTF-8 bytes): forwarded
    return ("forward",)


def expected(decision):
    if decision["action"] == "ask_table_exists" and not decision["enforced"]:
        return ("forward",)  # a dry run forwards it whatever the answer
    if decision["action"] in ("reject", "ask_table_exists"):
        # ask_table_exists: the table is missing (or invisible to an account without
        # privileges), so the proxy answers with the schema change's refusal.
        return ("reject", decision["code"], decision["message"])
    return (decision["action"],)


@unittest.skipUnless(PROXY_BIN and DUMP, "needs the djproxy binary and policy_cases_dump")
class ExplainAgreesWithTheProxy(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        admin(f"CREATE DATABASE IF NOT EXISTS `{SCHEMA}`")
        admin(f"CREATE TABLE IF NOT EXISTS `{SCHEMA}`.djproxy_explain_probe (id INT)")
        for user in (USER, MIGRATOR):
            admin(f"CREATE USER IF NOT EXISTS '{user}'@'%' IDENTIFIED BY '{PASSWORD}'")
            # A table-level grant lets the account name the schema at login, and nothing more.
            admin(f"GRANT SELECT ON `{SCHEMA}`.djproxy_explain_probe TO '{user}'@'%'")
        cls.proxies = {}
        cls.token = issue_token()
        cls.cases = [json.loads(l) for l in subprocess.run([DUMP], capture_output=True, text=True, check=True,
                                                           timeout=60).stdout.splitlines() if l.strip()]

    @classmethod
    def tearDownClass(cls):
        for p in cls.proxies.values():
            p.stop()
        for user in (USER, MIGRATOR):
            admin(f"DROP USER IF EXISTS '{user}'@'%'")

    def proxy(self, flags):
        key = tuple(sorted(settings_env(flags).items()))
        if key not in self.proxies:
            self.proxies[key] = DjproxyProcess(settings_env(flags)).start()
        return self.proxies[key]

    def session(self, flags, database=SCHEMA):
        p = self.proxy(flags)
        conn = pymysql.connect(host="127.0.0.1", port=p.port, user=MIGRATOR if "mig_user" in flags else USER,
                               password=PASSWORD, database=database, autocommit=True, connect_timeout=10,
                               read_timeout=30, client_flag=CLIENT.MULTI_STATEMENTS if "multi" in flags else 0)
        with conn.cursor() as c:
            modes = [m for f, m in (("ansi", "ANSI_QUOTES"), ("nbe", "NO_BACKSLASH_ESCAPES"),
                                    ("pipes", "PIPES_AS_CONCAT")) if f in flags]
            if modes or "auto_create" in flags:
                c.execute(f"SET SESSION sql_mode = '{','.join(modes)}'")
            if "mig_token" in flags:
                c.execute("SET @djproxy_migration = %s", (self.token,))
            if "conn_latin1" in flags:
                c.execute("SET character_set_connection = latin1")
        return conn

    def run_case(self, case):
        flags = set(case["flags"])
        sql = bytes.fromhex(case["sql_hex"])
        command = "prepare" if "prepare" in flags else "query"
        decision = explain(flags, sql.decode("utf-8", "surrogateescape"), command,
                           schema=None if "no_db" in flags else SCHEMA)
        conn = self.session(flags, database=None if "no_db" in flags else SCHEMA)
        try:
            if command == "prepare":
                got = observed(lambda: raw_protocol.prepare(conn, sql))
            else:
                def run():
                    with conn.cursor() as c:
                        c.execute(sql)
                        while c.nextset():
                            pass
                got = observed(run)
        finally:
            conn.close()
        return decision, got

    def test_every_case_of_the_policy_table(self):
        cases = [c for c in self.cases if not (set(c["flags"]) & UNREPRODUCIBLE)
                 # A NUL byte cannot be a command-line argument.
                 and "00" not in [c["sql_hex"][i:i + 2] for i in range(0, len(c["sql_hex"]), 2)]
                 # The account's own password may be changed without privileges.
                 and not (b"PASSWORD" in bytes.fromhex(c["sql_hex"]).upper() and
                          set(c["flags"]) & {"dev", "mig_user", "mig_token", "dry"})]
        self.assertGreater(len(cases), 400)
        for c in cases:  # every proxy started before the threads share them
            self.proxy(set(c["flags"]))
        disagreements = []
        actions = {}
        with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:
            for case, result in zip(cases, pool.map(self.safe_run, cases)):
                decision, got = result
                if isinstance(decision, Exception):
                    disagreements.append((case, repr(decision), None))
                    continue
                actions[decision["action"]] = actions.get(decision["action"], 0) + 1
                if decision["action"] == "intercept_token":
                    # Answered by the proxy: OK, or the token's refusal (explain has no key).
                    if got != ("forward",) and not (got[0] == "reject" and "token" in got[2]):
                        disagreements.append((case, decision["action"], got))
                elif got != expected(decision):
                    disagreements.append((case, expected(decision), got))
        print(f"\n  {len(cases)} cases compared over the wire; explain's actions: {actions}")
        self.assertEqual(disagreements, [], "\n".join(
            f"{bytes.fromhex(c['sql_hex'])!r} {c['flags']}: explain {e} proxy {g}" for c, e, g in disagreements[:20]))
        self.assertGreater(actions.get("reject", 0), 100)
        self.assertGreater(actions.get("forward", 0), 100)

    def safe_run(self, case):
        try:
            return self.run_case(case)
        except Exception as e:  # noqa: BLE001 - reported with its case
            return e, None

    def test_protocol_commands(self):
        """The commands the session decides besides statements, with explain's --command
    (COM_CHANGE_USER: pymysql cannot send it; the C API suite covers it over the wire)."""
        flags = set()
        other = f"outside_ex{random.randrange(1 << 30)}"
        checks = []
        conn = self.session(flags)
        try:
            checks.append((explain(flags, "mysql", "init_db"), observed(lambda: conn.select_db("mysql"))))
            checks.append((explain(flags, other, "init_db"), observed(lambda: conn.select_db(other))))
            checks.append((explain(flags, SCHEMA, "init_db"), observed(lambda: conn.select_db(SCHEMA))))
            def field_list(table):
                conn._execute_command(COMMAND.COM_FIELD_LIST, table + "\0")
                while not conn._read_packet().is_eof_packet():  # column definitions, then EOF
                    pass
            checks.append((explain(flags, "djproxy_explain_probe", "field_list"),
                           observed(lambda: field_list("djproxy_explain_probe"))))
            for sql in ("CREATE TABLE IF NOT EXISTS `myproject_full`.`t` (a int)", "SELECT 1", "DROP TABLE t"):
                checks.append((explain(flags, sql, "prepare"), observed(lambda: raw_protocol.prepare(conn, sql))))
        finally:
            conn.close()
        for decision, got in checks:
            with self.subTest(decision=decision["message"] or decision["action"]):
                self.assertEqual(got, expected(decision))


if __name__ == "__main__":
    unittest.main()
