#!/usr/bin/env python3
"""Differential test of the production policy against a real MariaDB.

For every generated statement the policy decides (through policy_probe); what it
lets through is executed on a throwaway MariaDB as a privileged account, with the
same sql_mode, client charset and current schema, and the server then says what the
statement did: schema objects (information_schema digests), rows read or changed
outside the prefix (information_schema.TABLE_STATISTICS, userstat=1), canary values
in any result set, global variables, accounts and privileges, files written or read
by the server, and the session tracking the proxy depends on. An allowed statement
that did any of these is a BYPASS; it is shrunk to a minimal reproduction.

Usage: differential.py --probe PATH [--count N] [--seed S] [--db-dir DIR | --port P]
       [--findings FILE] [--time-limit SECONDS] [--no-exhaustive]
Exits 1 if a bypass or a false positive was found, 2 on a harness error.
"""
from __future__ import annotations

import argparse
import collections
import glob
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

import pymysql
from pymysql.constants import CLIENT

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import generator as gen  # noqa: E402
import ordinary  # noqa: E402

CANARY_VALUE = b"CANARY-7f3a9c1e"
CANARY_NUMBER = b"739141"
FILE_SECRET = b"FILESECRET-42d1c"
CANARY_PASSWORD = "canary-secret-pw"
PREFIX = "myproject_"
SYSTEM_SCHEMAS = ("information_schema", "performance_schema", "mysql", "sys")
# mysql tables the server reads by itself while serving ordinary statements
# (routines, help, engine-independent statistics, events, time zones).
INTERNAL_MYSQL = {"proc", "help_topic", "help_category", "help_relation", "help_keyword", "table_stats",
                  "column_stats", "index_stats", "event", "time_zone", "time_zone_name", "time_zone_transition",
                  "time_zone_transition_type", "time_zone_leap_second", "plugin", "servers", "func"}
VOLATILE_GLOBALS = {"GTID_BINLOG_POS", "GTID_CURRENT_POS", "GTID_BINLOG_STATE", "GTID_SLAVE_POS", "TIMESTAMP",
                    "LAST_INSERT_ID", "INSERT_ID", "IDENTITY", "RAND_SEED1", "RAND_SEED2", "WARNING_COUNT",
                    "ERROR_COUNT", "LAST_GTID", "PSEUDO_THREAD_ID", "IN_TRANSACTION", "SERVER_UID"}

def split_charset(charset):
    """A case's charset: "client", or "client/connection" when character_set_connection is
    another set (the server converts dynamic SQL's text between them)."""
    client, _, connection = charset.partition("/")
    return client, connection or client


TRACKING_SQL = ("SET @@session.session_track_schema=ON, @@session.session_track_system_variables=CONCAT_WS(',', "
                "NULLIF(@@session.session_track_system_variables,''), "
                "'sql_mode,character_set_client,character_set_connection,collation_connection'), "
                "@@session.sql_mode=@@session.sql_mode, @@session.character_set_client=@@session.character_set_client, "
                "@@session.collation_connection=@@session.collation_connection")


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# ----------------------------------------------------------------- the policy probe

class Probe:
    def __init__(self, path: str, server_version: str):
        self.path, self.version = path, server_version
        self.proc = None
        self.start()

    def start(self):
        self.proc = subprocess.Popen([self.path, "--server-version", self.version], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, bufsize=1 << 20)

    def close(self):
        if self.proc:
            self.proc.stdin.close()
            self.proc.wait(timeout=10)

    @staticmethod
    def line(i, sql: bytes, sql_mode, charset, schema, migration=False) -> bytes:
        client, connection = split_charset(charset)
        return (json.dumps({"id": i, "sql_hex": sql.hex(), "sql_mode": sql_mode, "charset": client,
                            "connection_charset": connection, "schema": schema, "migration": migration,
                            "multi": True}) + "\n").encode()

    def decide_many(self, items):
        """items: list of (sql, sql_mode, charset, schema, migration). One answer each."""
        lines = [self.line(i, *it) for i, it in enumerate(items)]
        try:
            return self._run(lines)
        except Exception as e:  # the probe crashed: find the statement, one by one
            log(f"probe failed on a batch ({e}); isolating")
            out = []
            for ln in lines:
                try:
                    out.extend(self._run([ln]))
                except Exception as e2:
                    out.append({"verdict": "probe-crash", "code": 0, "rule": "", "message": str(e2)})
            return out

    def _run(self, lines):
        if self.proc.poll() is not None:
            self.start()
        err = []

        def writer():
            try:
                for ln in lines:
                    self.proc.stdin.write(ln)
                self.proc.stdin.flush()
            except Exception as e:
                err.append(e)

        t = threading.Thread(target=writer, daemon=True)
        t.start()
        out = []
        for _ in lines:
            raw = self.proc.stdout.readline()
            if not raw:
                self.proc.kill()
                self.proc.wait()
                self.start()
                raise RuntimeError("policy_probe exited")
            out.append(json.loads(raw))
        t.join()
        if err:
            raise err[0]
        return out

    def decide(self, sql, sql_mode, charset, schema, migration=False):
        return self.decide_many([(sql, sql_mode, charset, schema, migration)])[0]


def forwarded(decision) -> bool:
    """Would the proxy send the statement to the server?"""
    return decision.get("verdict") == "allow"


# ----------------------------------------------------------------- the server

class Server:
    def __init__(self, args):
        self.args = args
        self.started = False
        if args.port:
            self.port = args.port
            self.sock = None
            self.datadir = None
        else:
            self.dir = os.path.abspath(args.db_dir)
            subprocess.run([os.path.join(ROOT, "scripts", "mariadb.sh"), "stop", self.dir], check=True)
            shutil.rmtree(self.dir, ignore_errors=True)
            subprocess.run([os.path.join(ROOT, "scripts", "mariadb.sh"), "start", self.dir], check=True,
                           stdout=sys.stderr, env=self.server_env())
            self.started = True
            self.port = int(open(os.path.join(self.dir, "port")).read())
            self.sock = os.path.join(self.dir, "mysqld.sock")
            self.datadir = os.path.join(self.dir, "data")
        self.files = os.path.abspath(args.files_dir or os.path.join(args.db_dir or "/tmp", "diff-files"))
        shutil.rmtree(self.files, ignore_errors=True)
        os.makedirs(self.files, exist_ok=True)
        os.chmod(self.files, 0o777)
        with open(os.path.join(self.files, "secret.txt"), "wb") as f:
            f.write(FILE_SECRET + b"\n")

    def server_env(self):
        """mariadbd puts its internal temporary tables in $TMPDIR: a private one, so that
        nothing else cleaning /tmp (or another server whose pid is the same in another
        pid namespace) removes them under it."""
        tmp = os.path.join(self.dir, "tmp")
        os.makedirs(tmp, exist_ok=True)
        return dict(os.environ, TMPDIR=tmp)

    def alive(self):
        try:
            pymysql.connect(host="127.0.0.1", port=self.port, user="djroot", password="djroot",
                            connect_timeout=5).close()
            return True
        except pymysql.MySQLError as e:
            return e.args[0] != 2003

    def restart(self):
        """The server died (a statement crashed it): keep its log, start it again."""
        if not self.started:
            raise RuntimeError("the MariaDB server died and was not started by the harness")
        err = os.path.join(self.dir, "error.log")
        text = open(err, "rb").read().decode("latin1") if os.path.exists(err) else ""
        at = text.rfind("got signal")
        qat = text.find("Query (", at) if at >= 0 else -1
        # the signal line and the query the dying thread ran (the harness's own or the case's)
        tail = (text[at:at + 200] + "\n" + text[qat:qat + 600]) if at >= 0 else text[-1500:]
        self.crashes = getattr(self, "crashes", 0) + 1
        shutil.copy(err, os.path.join(os.path.dirname(self.dir), f"mariadb-crash-{self.crashes}.log"))
        subprocess.run([os.path.join(ROOT, "scripts", "mariadb.sh"), "stop", self.dir])
        subprocess.run([os.path.join(ROOT, "scripts", "mariadb.sh"), "start", self.dir, str(self.port)], check=True,
                       stdout=sys.stderr, env=self.server_env())
        return tail

    def stop(self):
        if self.started:
            subprocess.run([os.path.join(ROOT, "scripts", "mariadb.sh"), "stop", self.dir])

    def admin(self):
        """The observer: root over the socket when we started the server, else djroot."""
        kw = dict(autocommit=True, client_flag=CLIENT.MULTI_STATEMENTS, use_unicode=False, read_timeout=60,
                  write_timeout=60, connect_timeout=10)
        if self.sock:
            c = pymysql.connect(unix_socket=self.sock, user="root", password="", **kw)
        else:
            c = pymysql.connect(host="127.0.0.1", port=self.port, user="djroot", password="djroot", **kw)
        c.encoding = "latin1"
        return c

    def executor(self):
        c = pymysql.connect(host="127.0.0.1", port=self.port, user="djroot", password="djroot", autocommit=True,
                            client_flag=CLIENT.MULTI_STATEMENTS, use_unicode=False, read_timeout=15,
                            write_timeout=15, connect_timeout=10, local_infile=False)
        c.encoding = "latin1"
        return c


def q(conn, sql, multi=False):
    """Runs sql (str or bytes); returns the rows of every result set."""
    cur = conn.cursor()
    cur.execute(sql)
    sets = [list(cur.fetchall() or ())]
    while cur.nextset():
        sets.append(list(cur.fetchall() or ()))
    cur.close()
    return sets if multi else sets[0]


WORLD_SQL = f"""
SET GLOBAL userstat=1;
SET GLOBAL event_scheduler=OFF;
DROP DATABASE IF EXISTS canary_db;
DROP DATABASE IF EXISTS myproject_diff;
CREATE DATABASE canary_db;
CREATE TABLE canary_db.t (id INT PRIMARY KEY, v VARCHAR(64), n INT, KEY ix (n)) ENGINE=InnoDB;
INSERT INTO canary_db.t VALUES (1, '{CANARY_VALUE.decode()}', {CANARY_NUMBER.decode()});
CREATE SEQUENCE canary_db.seq ENGINE=InnoDB;
CREATE VIEW canary_db.v AS SELECT id, v FROM canary_db.t;
CREATE PROCEDURE canary_db.p() SELECT v FROM canary_db.t;
CREATE FUNCTION canary_db.f() RETURNS VARCHAR(64) READS SQL DATA RETURN (SELECT v FROM canary_db.t LIMIT 1);
CREATE TRIGGER canary_db.tr BEFORE UPDATE ON canary_db.t FOR EACH ROW SET @dj_tr = 1;
CREATE EVENT canary_db.e ON SCHEDULE EVERY 1 DAY DISABLE DO SELECT 1;
CREATE DATABASE myproject_diff;
CREATE TABLE myproject_diff.w (id INT AUTO_INCREMENT PRIMARY KEY, note TEXT, KEY ix (id)) ENGINE=InnoDB;
INSERT INTO myproject_diff.w (note) VALUES ('row1');
CREATE TABLE myproject_diff.ld (line TEXT) ENGINE=InnoDB;
CREATE TABLE myproject_diff.sbtest1 (id INT PRIMARY KEY, k INT, c CHAR(120), pad CHAR(60)) ENGINE=InnoDB;
INSERT INTO myproject_diff.sbtest1 VALUES (1, 1, 'c', 'pad');
CREATE SEQUENCE myproject_diff.seq ENGINE=InnoDB;
CREATE VIEW myproject_diff.v AS SELECT id FROM myproject_diff.w;
CREATE PROCEDURE myproject_diff.p() SELECT 1;
CREATE FUNCTION myproject_diff.f() RETURNS INT RETURN 1;
CREATE TRIGGER myproject_diff.tr BEFORE UPDATE ON myproject_diff.w FOR EACH ROW SET @dj_tr = 1;
CREATE EVENT myproject_diff.e ON SCHEDULE EVERY 1 DAY DISABLE DO SELECT 1;
"""

USERS_SQL = f"""
DROP USER IF EXISTS canary_user@'%';
CREATE USER canary_user@'%' IDENTIFIED BY '{CANARY_PASSWORD}';
GRANT SELECT ON myproject_diff.* TO canary_user@'%';
ALTER USER djroot@'%' IDENTIFIED BY 'djroot' ACCOUNT UNLOCK;
GRANT ALL PRIVILEGES ON *.* TO djroot@'%' WITH GRANT OPTION;
"""

DIGEST_SQL = """
SELECT
 (SELECT MD5(GROUP_CONCAT(CONCAT_WS(0x1f,TABLE_SCHEMA,TABLE_NAME,COLUMN_NAME,COLUMN_TYPE,IFNULL(COLUMN_DEFAULT,'~'),
    IS_NULLABLE,EXTRA,COLUMN_COMMENT) ORDER BY TABLE_SCHEMA,TABLE_NAME,ORDINAL_POSITION SEPARATOR 0x1e))
  FROM information_schema.COLUMNS WHERE TABLE_SCHEMA NOT IN ('information_schema','performance_schema','mysql','sys')),
 (SELECT MD5(GROUP_CONCAT(CONCAT_WS(0x1f,TABLE_SCHEMA,TABLE_NAME,INDEX_NAME,COLUMN_NAME,SEQ_IN_INDEX,NON_UNIQUE)
    ORDER BY 1 SEPARATOR 0x1e)) FROM information_schema.STATISTICS
  WHERE TABLE_SCHEMA NOT IN ('information_schema','performance_schema')),
 (SELECT MD5(GROUP_CONCAT(CONCAT_WS(0x1f,ROUTINE_SCHEMA,ROUTINE_NAME,ROUTINE_TYPE,CREATED,LAST_ALTERED,DEFINER,
    ROUTINE_COMMENT,SECURITY_TYPE) ORDER BY 1 SEPARATOR 0x1e)) FROM information_schema.ROUTINES),
 (SELECT MD5(GROUP_CONCAT(CONCAT_WS(0x1f,TRIGGER_SCHEMA,TRIGGER_NAME,EVENT_OBJECT_TABLE,ACTION_STATEMENT)
    ORDER BY 1 SEPARATOR 0x1e)) FROM information_schema.TRIGGERS),
 (SELECT MD5(GROUP_CONCAT(CONCAT_WS(0x1f,EVENT_SCHEMA,EVENT_NAME,STATUS,EVENT_DEFINITION,IFNULL(INTERVAL_VALUE,''),
    EVENT_COMMENT) ORDER BY 1 SEPARATOR 0x1e)) FROM information_schema.EVENTS),
 (SELECT MD5(GROUP_CONCAT(CONCAT_WS(0x1f,SCHEMA_NAME,DEFAULT_CHARACTER_SET_NAME,DEFAULT_COLLATION_NAME,
    IFNULL(SCHEMA_COMMENT,'')) ORDER BY 1 SEPARATOR 0x1e)) FROM information_schema.SCHEMATA),
 (SELECT MD5(GROUP_CONCAT(CONCAT_WS(0x1f,TABLE_SCHEMA,TABLE_NAME,VIEW_DEFINITION) ORDER BY 1 SEPARATOR 0x1e))
  FROM information_schema.VIEWS WHERE TABLE_SCHEMA NOT IN ('sys')),
 (SELECT MD5(GROUP_CONCAT(CONCAT_WS(0x1f,GRANTEE,PRIVILEGE_TYPE,IS_GRANTABLE) ORDER BY 1 SEPARATOR 0x1e))
  FROM information_schema.USER_PRIVILEGES),
 (SELECT MD5(GROUP_CONCAT(CONCAT_WS(0x1f,GRANTEE,TABLE_SCHEMA,PRIVILEGE_TYPE) ORDER BY 1 SEPARATOR 0x1e))
  FROM information_schema.SCHEMA_PRIVILEGES),
 (SELECT MD5(GROUP_CONCAT(CONCAT_WS(0x1f,GRANTEE,TABLE_SCHEMA,TABLE_NAME,PRIVILEGE_TYPE) ORDER BY 1 SEPARATOR 0x1e))
  FROM information_schema.TABLE_PRIVILEGES),
 (SELECT MD5(GROUP_CONCAT(CONCAT_WS(0x1f,User,Host,Priv) ORDER BY 1 SEPARATOR 0x1e)) FROM mysql.global_priv),
 (SELECT MD5(GROUP_CONCAT(CONCAT_WS(0x1f,User,Host,Role) ORDER BY 1 SEPARATOR 0x1e)) FROM mysql.roles_mapping),
 (SELECT MD5(GROUP_CONCAT(CONCAT_WS(0x1f,Host,Db,User,Routine_name,Proc_priv) ORDER BY 1 SEPARATOR 0x1e))
  FROM mysql.procs_priv),
 (SELECT MD5(GROUP_CONCAT(CONCAT_WS(0x1f,Host,User,Proxied_host,Proxied_user) ORDER BY 1 SEPARATOR 0x1e))
  FROM mysql.proxies_priv),
 (SELECT MD5(GROUP_CONCAT(CONCAT_WS(0x1f,Server_name,Host) ORDER BY 1 SEPARATOR 0x1e)) FROM mysql.servers),
 (SELECT MD5(GROUP_CONCAT(CONCAT_WS(0x1f,name,dl) ORDER BY 1 SEPARATOR 0x1e)) FROM mysql.plugin),
 (SELECT COUNT(*) FROM myproject_diff.ld WHERE line LIKE '%FILESECRET%'),
 (SELECT MD5(GROUP_CONCAT(CONCAT_WS(0x1f,TABLE_SCHEMA,TABLE_NAME,TABLE_TYPE,IFNULL(ENGINE,''),TABLE_COMMENT)
    ORDER BY 1 SEPARATOR 0x1e)) FROM information_schema.TABLES
  WHERE TABLE_SCHEMA NOT IN ('information_schema','performance_schema')),
 (SELECT MD5(GROUP_CONCAT(CONCAT_WS(0x1f,VARIABLE_NAME,IFNULL(GLOBAL_VALUE,'~')) ORDER BY 1 SEPARATOR 0x1e))
  FROM information_schema.SYSTEM_VARIABLES WHERE VARIABLE_NAME NOT IN (@@VOLATILE@@))
"""
DIGEST_NAMES = ["columns", "indexes", "routines", "triggers", "events", "schemata", "views", "user_privileges",
                "schema_privileges", "table_privileges", "global_priv", "roles_mapping", "procs_priv",
                "proxies_priv", "servers", "plugins", "ld_secret_rows", "tables", "globals"]
ACCOUNT_DIGESTS = {"user_privileges", "schema_privileges", "table_privileges", "global_priv", "roles_mapping",
                   "procs_priv", "proxies_priv"}
DIGEST_SQL = DIGEST_SQL.replace("@@VOLATILE@@", ",".join("'%s'" % v for v in sorted(VOLATILE_GLOBALS)))
TABLES_SQL = ("SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE, IFNULL(ENGINE,''), TABLE_COMMENT FROM "
              "information_schema.TABLES WHERE TABLE_SCHEMA NOT IN ('information_schema','performance_schema')")
GLOBALS_SQL = "SELECT VARIABLE_NAME, GLOBAL_VALUE FROM information_schema.SYSTEM_VARIABLES WHERE GLOBAL_VALUE_ORIGIN <> 'AUTO' OR 1"


ENGINE_FILES = (".frm", ".ibd", ".opt", ".MYD", ".MYI", ".MAD", ".MAI", ".TRG", ".TRN", ".par", ".CSV", ".CSM",
                ".isl", ".MRG", ".ARZ", ".ARM", ".BAK")
DATADIR_OWN = ("ib", "aria_log", "ddl_recovery", "mysql_upgrade_info", "multi-master", "tc.log", "undo",
               "mariadb", "mysql", "#", "ibtmp", "ddl_log")


def in_prefix(schema: bytes | str) -> bool:
    if isinstance(schema, bytes):
        schema = schema.decode("utf-8", "replace")
    return schema.startswith(PREFIX)


class World:
    """The throwaway schemas, the observer connection and the executing connection."""

    def __init__(self, server: Server, statement_timeout: float):
        self.server = server
        self.timeout = statement_timeout
        self.admin = server.admin()
        q(self.admin, "SET SESSION group_concat_max_len = 1073741824, lock_wait_timeout = 20")
        self.build(full=True)
        self.exec = None
        self.exec_id = None
        self.exec_uses = 0
        self.reconnect()
        q(self.admin, "FLUSH TABLE_STATISTICS")
        self.password_hash = q(self.admin, f"SELECT PASSWORD('{CANARY_PASSWORD}')")[0][0]
        self.markers = [CANARY_VALUE, CANARY_VALUE.hex().encode(), CANARY_VALUE.hex().upper().encode(), FILE_SECRET,
                        FILE_SECRET.hex().upper().encode(), self.password_hash, self.password_hash[1:]]
        self.baseline()
        q(self.admin, "FLUSH TABLE_STATISTICS")
        self.last_sql = None

    def stray_files(self):
        """Files the server wrote into its data directory (INTO OUTFILE with a relative path)."""
        out = set()
        data = self.server.datadir
        if not data or not os.path.isdir(data):
            return out
        for entry in os.scandir(data):
            if entry.is_dir():
                for f in os.scandir(entry.path):
                    if not f.name.endswith(ENGINE_FILES) and f.name != "db.opt":
                        out.add(f.path)
            elif not entry.name.endswith(ENGINE_FILES) and not entry.name.startswith(DATADIR_OWN):
                out.add(entry.path)
        return out

    def remove_stray_files(self):
        for p in self.stray_files() - getattr(self, "base_stray", set()):
            try:
                os.remove(p)
            except OSError:
                pass

    def build(self, full=False):
        self.remove_stray_files()
        try:
            q(self.admin, WORLD_SQL, multi=True)
        except pymysql.MySQLError as e:
            log(f"world build failed once ({e}); retrying")
            self.admin = self.server.admin()
            q(self.admin, "SET SESSION group_concat_max_len = 1073741824, lock_wait_timeout = 20")
            self.remove_stray_files()
            q(self.admin, WORLD_SQL, multi=True)
        for (name,) in q(self.admin, "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA"):
            name = name.decode("utf-8", "replace")
            if name not in SYSTEM_SCHEMAS and name not in ("canary_db", "myproject_diff", "test"):
                q(self.admin, "DROP DATABASE `" + name.replace("`", "``") + "`")
        if full:
            self.reset_users()

    def reset_users(self):
        keep = {("root", "localhost"), ("djroot", "%"), ("dj", "%"), ("djed", "%"), ("djmigrate", "%"),
                ("mariadb.sys", "localhost"), ("canary_user", "%"), ("PUBLIC", "")}
        for user, host in q(self.admin, "SELECT User, Host FROM mysql.global_priv"):
            u, h = user.decode("utf-8", "replace"), host.decode("utf-8", "replace")
            if (u, h) not in keep:
                try:
                    q(self.admin, "DROP USER IF EXISTS '%s'@'%s'" % (u.replace("'", "''"), h.replace("'", "''")))
                except pymysql.MySQLError:
                    try:
                        q(self.admin, "DROP ROLE IF EXISTS '%s'" % u.replace("'", "''"))
                    except pymysql.MySQLError:
                        pass
        q(self.admin, USERS_SQL, multi=True)
        for role in ("dj_role",):
            q(self.admin, f"DROP ROLE IF EXISTS {role}")

    def reconnect(self):
        if self.exec is not None:
            try:
                self.exec.close()
            except Exception:
                pass
        for attempt in range(5):
            try:
                self.exec = self.server.executor()
                break
            except pymysql.MySQLError:
                self.reset_users()
                time.sleep(0.2 * attempt)
        self.exec.encoding = "latin1"
        self.exec_id = q(self.exec, "SELECT CONNECTION_ID()")[0][0]
        q(self.exec, TRACKING_SQL)
        self.exec_uses = 0

    def baseline(self):
        self.base_digest = self.digest()
        self.base_tables = set(self.aq(TABLES_SQL))
        self.base_globals = dict(self.aq(GLOBALS_SQL))
        self.base_files = set(os.listdir(self.server.files))
        self.base_stray = self.stray_files()

    def digest(self):
        return self.aq(DIGEST_SQL)[0]

    def aq(self, sql, multi=False):
        """An observer query; a transient server error is retried on a fresh connection."""
        for attempt in range(4):
            try:
                return q(self.admin, sql, multi)
            except pymysql.MySQLError as e:
                if attempt == 3:
                    raise
                log(f"observer query failed ({e}); retrying")
                time.sleep(0.2 * (attempt + 1))
                try:
                    self.admin.close()
                except Exception:
                    pass
                self.admin = self.server.admin()
                q(self.admin, "SET SESSION group_concat_max_len = 1073741824")

    # -- one case

    def prepare_session(self, sql_mode, charset, schema):
        if self.exec_uses >= 200:
            self.reconnect()
        self.exec_uses += 1
        client, connection = split_charset(charset)
        parts = ["ROLLBACK", "UNLOCK TABLES", "SET NAMES " + client, "SET character_set_connection = " + connection,
                 "SET SESSION sql_mode = '" + sql_mode + "'", f"SET SESSION max_statement_time = {self.timeout}",
                 "SET SESSION lock_wait_timeout = 5", "SET SESSION innodb_lock_wait_timeout = 5",
                 TRACKING_SQL]
        if schema:
            parts.append("USE `" + schema.replace("`", "``") + "`")
        try:
            q(self.exec, ";".join(parts), multi=True)
            if not schema:
                q(self.exec, "DROP DATABASE IF EXISTS dj_nodb_tmp; CREATE DATABASE dj_nodb_tmp; USE dj_nodb_tmp; "
                             "DROP DATABASE dj_nodb_tmp", multi=True)
        except Exception:
            self.reconnect()
            return self.prepare_session(sql_mode, charset, schema)

    def session_facts(self):
        r = q(self.exec, "SELECT DATABASE(), @@session.sql_mode, @@session.character_set_client, "
                         "@@session.session_track_schema, @@session.session_track_system_variables, "
                         "@@session.character_set_connection")[0]
        client, connection = r[2].decode(), r[5].decode()
        return {"schema": r[0].decode("utf-8", "replace") if r[0] is not None else None,
                "sql_mode": r[1].decode(), "charset": client if connection == client else f"{client}/{connection}",
                "track_schema": r[3].decode(), "track_vars": r[4].decode()}

    def execute(self, sql: bytes):
        """Runs one statement; returns (error text or None, every cell of every result set)."""
        cells = []
        self.last_sql = sql
        try:
            cur = self.exec.cursor()
            cur.execute(sql)
            while True:
                for row in cur.fetchall() or ():
                    cells.extend(row)
                if not cur.nextset():
                    break
            cur.close()
            return None, cells
        except pymysql.err.OperationalError as e:
            code = e.args[0] if e.args else 0
            if code in (2006, 2013, 2014) or "timed out" in str(e):
                self.kill_exec()
                self.reconnect()
                return f"connection lost: {e}", cells
            return f"{code}: {e.args[1] if len(e.args) > 1 else e}", cells
        except pymysql.MySQLError as e:
            return f"{e.args[0] if e.args else ''}: {e.args[1] if len(e.args) > 1 else e}", cells
        except Exception as e:  # the client library choked on the answer
            self.kill_exec()
            self.reconnect()
            return f"client error: {type(e).__name__}: {e}", cells

    def kill_exec(self):
        try:
            q(self.admin, f"KILL {int(self.exec_id)}")
        except Exception:
            pass

    def start_observation(self):
        self.aq("FLUSH TABLE_STATISTICS")

    def observe(self, cells, facts_list):
        """What the statements did that production forbids: {class: detail}."""
        found = {}
        stats = self.aq("SELECT TABLE_SCHEMA, TABLE_NAME, ROWS_READ, ROWS_CHANGED FROM "
                              "information_schema.TABLE_STATISTICS")
        for schema, table, read, changed in stats:
            s, t = schema.decode("utf-8", "replace"), table.decode("utf-8", "replace")
            if in_prefix(s) or s == "information_schema":
                continue
            if s == "mysql" and t in INTERNAL_MYSQL:
                continue
            if changed:
                found.setdefault("write-outside-prefix", []).append(f"{s}.{t} rows_changed={changed}")
            elif read:
                found.setdefault("read-outside-prefix", []).append(f"{s}.{t} rows_read={read}")
        for c in cells:
            if c is None:
                continue
            b = c if isinstance(c, bytes) else str(c).encode()
            for m in self.markers:
                if m in b:
                    found.setdefault("secret-in-result", []).append(m.decode("latin1")[:20])
                    break
            if b == CANARY_NUMBER:
                found.setdefault("secret-in-result", []).append("canary number")
        dig = self.digest()
        for name, a, b in zip(DIGEST_NAMES, self.base_digest, dig):
            if a == b or name in ("tables", "globals"):
                continue
            if name == "ld_secret_rows":
                found["server-file-read"] = [f"{b} rows of the server file loaded"]
            elif name in ACCOUNT_DIGESTS:
                found.setdefault("account-change", []).append(name)
            else:
                found.setdefault("schema-change", []).append(name)
        self.bookkeeping_created = None
        if dig[DIGEST_NAMES.index("tables")] != self.base_digest[DIGEST_NAMES.index("tables")]:
            tables = set(self.aq(TABLES_SQL))
            added, removed = tables - self.base_tables, self.base_tables - tables
            bookkeeping_only = not removed and all(in_prefix(r[0]) and r[1].startswith(b"~") and r[2] == b"BASE TABLE"
                                                   for r in added)
            if not bookkeeping_only:
                found.setdefault("schema-change", []).append(
                    "tables +%s -%s" % (sorted(b".".join(r[:2]).decode("latin1") for r in added),
                                        sorted(b".".join(r[:2]).decode("latin1") for r in removed)))
            elif "schema-change" in found and set(found["schema-change"]) <= {"columns", "indexes"}:
                del found["schema-change"]  # the bookkeeping table's own columns
            self.bookkeeping_created = added
        if dig[DIGEST_NAMES.index("globals")] != self.base_digest[DIGEST_NAMES.index("globals")]:
            globals_now = dict(self.aq(GLOBALS_SQL))
            changed = [k.decode() for k in globals_now if k.decode() not in VOLATILE_GLOBALS and
                       globals_now.get(k) != self.base_globals.get(k)]
            found["global-variable"] = changed or ["(digest)"]
        files = set(os.listdir(self.server.files))
        if files != self.base_files:
            found["server-file-write"] = sorted(files - self.base_files)
        stray = self.stray_files() - self.base_stray
        if stray:
            found.setdefault("server-file-write", []).extend(sorted(stray))
        for f in facts_list:
            if f is None:
                continue
            if f["schema"] and not in_prefix(f["schema"]):
                found["current-schema-outside-prefix"] = [f["schema"]]
            tv = f["track_vars"].lower()
            if f["track_schema"] != "ON" or not ("*" in tv or all(
                    v in tv for v in ("sql_mode", "character_set_client", "character_set_connection",
                                      "collation_connection"))):
                found["session-tracking-lost"] = [f"schema={f['track_schema']} vars={f['track_vars']}"]
        self.aq("FLUSH TABLE_STATISTICS")
        return found

    def restore(self, found):
        self.kill_exec()
        try:
            self.exec.close()
        except Exception:
            pass
        rebuilt = False
        if any(k in found for k in ("schema-change", "write-outside-prefix", "server-file-read")) or \
                getattr(self, "bookkeeping_created", None):
            self.build()
            self.bookkeeping_created = None
            rebuilt = True
        if "account-change" in found or "schema-change" in found:
            self.reset_users()
            rebuilt = True
        if "global-variable" in found:
            now = dict(self.aq(GLOBALS_SQL))
            for k, v in now.items():
                name = k.decode()
                if name in VOLATILE_GLOBALS or self.base_globals.get(k) == v:
                    continue
                old = self.base_globals.get(k)
                val = "NULL" if old is None else (old.decode() if re.fullmatch(rb"-?[0-9]+(\.[0-9]+)?", old) else
                                                  "'" + old.decode().replace("'", "''") + "'")
                try:
                    q(self.admin, f"SET GLOBAL {name} = {val}")
                except pymysql.MySQLError as e:
                    log(f"cannot restore global {name}: {e}")
        if "server-file-write" in found:
            self.remove_stray_files()
            for f in set(os.listdir(self.server.files)) - self.base_files:
                p = os.path.join(self.server.files, f)
                (shutil.rmtree if os.path.isdir(p) else os.remove)(p)
        self.reconnect()
        if rebuilt or "global-variable" in found:
            self.baseline()
        self.aq("FLUSH TABLE_STATISTICS")


# ----------------------------------------------------------------- running cases

class Runner:
    def __init__(self, probe: Probe, world: World):
        self.probe, self.world = probe, world
        self.stats = collections.Counter()

    def run_case(self, case: gen.Case, first_decision=None, steps=None):
        """Executes a case step by step. Returns (decisions, found, errors, facts)."""
        w = self.world
        steps = steps if steps is not None else case.steps
        sql_mode, charset, schema = case.sql_mode, case.charset, case.schema
        w.prepare_session(sql_mode, charset, schema)
        w.bookkeeping_created = None
        decisions, errors, cells, facts = [], [], [], []
        for i, sql in enumerate(steps):
            d = first_decision if (i == 0 and first_decision is not None) else \
                self.probe.decide(sql, sql_mode, charset, schema)
            decisions.append(d)
            if not forwarded(d):
                continue
            self.stats["executed"] += 1
            err, c = w.execute(sql)
            errors.append(err)
            cells.extend(c)
            try:
                f = w.session_facts()
            except Exception:
                w.reconnect()
                f = None
            facts.append(f)
            if f is not None and i + 1 < len(steps):
                # the proxy follows these through the server's session tracking
                sql_mode, charset = f["sql_mode"], f["charset"]
                schema = f["schema"] if f["schema"] else schema
        found = w.observe(cells, facts) if errors else {}
        return decisions, found, errors, facts


def case_json(case: gen.Case, steps=None):
    steps = steps if steps is not None else case.steps
    out = {"sql_hex": steps[-1].hex(), "sql": steps[-1].decode("utf-8", "backslashreplace"),
           "sql_mode": case.sql_mode, "charset": case.charset, "schema": case.schema, "migration": False}
    if len(steps) > 1:
        out["steps_before"] = [s.decode("utf-8", "backslashreplace") for s in steps[:-1]]
        out["steps_before_hex"] = [s.hex() for s in steps[:-1]]
    return out


def shrink(runner: Runner, case: gen.Case, classes: set, budget_s: float):
    """Deletes tokens, then bytes, from the last step while the bypass persists."""
    deadline = time.time() + budget_s
    steps = list(case.steps)
    tries = 0

    files = runner.world.server.files.encode() + b"/"
    keeps_path = files in case.steps[-1]

    def still(candidate_steps):
        nonlocal tries
        if keeps_path and candidate_steps[-1].count(files) != case.steps[-1].count(files):
            return False  # never let the server write a file elsewhere than the files directory
        tries += 1
        d, found, _, _ = runner.run_case(case, steps=candidate_steps)
        ok = bool(set(found) & classes) and forwarded(d[-1])
        if found:
            runner.world.restore(found)
        return ok

    # drop the steps before the last one if they are not needed
    while len(steps) > 1 and time.time() < deadline and still(steps[1:]):
        steps = steps[1:]
    cur = steps[-1]
    for unit in ("tok", "byte"):
        if unit == "tok":
            import re
            parts = [p for p in re.split(rb"(\s+|[(),;=]|/\*|\*/)", cur) if p]
        else:
            if len(cur) > 400:
                break
            parts = [bytes([b]) for b in cur]
        chunk = max(1, len(parts) // 2)
        while chunk >= 1 and time.time() < deadline:
            i = 0
            changed = False
            while i < len(parts) and time.time() < deadline:
                cand = parts[:i] + parts[i + chunk:]
                cand_sql = b"".join(cand)
                if cand and cand_sql.strip() and still(steps[:-1] + [cand_sql]):
                    parts = cand
                    changed = True
                else:
                    i += chunk
            cur = b"".join(parts)
            if not changed:
                chunk //= 2
    steps[-1] = cur
    return steps, tries


def check_false_positives(probe: Probe):
    """Statements production must let through: any rejection is a false positive."""
    fps = []
    items, meta = [], []
    for sql, sql_mode, charset, schema, migration, why in ordinary.cases(os.path.join(ROOT, "tests", "policy", "data")):
        items.append((sql, sql_mode, charset, schema, migration))
        meta.append(why)
    for (sql, sql_mode, charset, schema, migration), why, d in zip(items, meta, probe.decide_many(items)):
        if d["verdict"] in ("reject", "probe-crash") or (d["verdict"] == "rewrite" and
                                                         not sql.upper().startswith(b"CREATE TABLE IF NOT EXISTS")):
            fps.append({"kind": "false-positive", "source": why, "sql": sql.decode("utf-8", "backslashreplace"),
                        "sql_hex": sql.hex(), "sql_mode": sql_mode, "charset": charset, "schema": schema,
                        "migration": migration, "verdict": d["verdict"], "code": d.get("code"),
                        "rule": d.get("rule"), "message": d.get("message")})
    return len(items), fps


FILES_PLACEHOLDER = "/tmp/djproxy-diff-files"


def write_findings(path, records, files_dir):
    """Minimal reproductions, one per distinct statement; the run's files directory is
    written as /tmp/djproxy-diff-files (the policy's verdict does not depend on it)."""
    seen = set()
    with open(path, "w") as f:
        for m in records:
            m = dict(m)
            for k in ("sql", "original_sql"):
                if isinstance(m.get(k), str):
                    m[k] = m[k].replace(files_dir, FILES_PLACEHOLDER)
            if "sql_hex" in m:
                m["sql_hex"] = bytes.fromhex(m["sql_hex"]).replace(files_dir.encode(),
                                                                   FILES_PLACEHOLDER.encode()).hex()
            k = (m.get("sql_hex"), tuple(m.get("classes", [])), m.get("kind"), m.get("charset"))
            if k in seen:
                continue
            seen.add(k)
            f.write(json.dumps(m, sort_keys=True) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--probe", required=True)
    ap.add_argument("--count", type=int, default=20000, help="random statements (after the exhaustive ones)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--db-dir", default=None, help="start a throwaway MariaDB here (default: a temp dir)")
    ap.add_argument("--port", type=int, default=0, help="use a running MariaDB (djroot/djroot) instead")
    ap.add_argument("--files-dir", default=None)
    ap.add_argument("--findings", default=None, help="write bypasses and false positives here (JSON lines)")
    ap.add_argument("--time-limit", type=float, default=0, help="stop generating after this many seconds")
    ap.add_argument("--no-exhaustive", action="store_true")
    ap.add_argument("--shrink-budget", type=float, default=20.0, help="seconds per shrunk bypass")
    ap.add_argument("--max-shrinks", type=int, default=80)
    ap.add_argument("--batch", type=int, default=2000)
    ap.add_argument("--known-limit", type=int, default=10,
                    help="after this many bypasses by one payload, its further allowed variants are not executed")
    ap.add_argument("--statement-timeout", type=float, default=5.0)
    args = ap.parse_args()
    tmp = None
    if not args.port and not args.db_dir:
        import tempfile
        tmp = tempfile.mkdtemp(prefix="djdiff-")
        args.db_dir = tmp
    t0 = time.time()
    server = Server(args)
    rc = 0
    try:
        rc = run(args, server, t0)
    finally:
        server.stop()
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(rc)


def server_died(server, world, case, stats, crashes, args):
    """A statement the policy let through stopped the server: record it, restart, go on."""
    stats["server-crash"] += 1
    tail = server.restart()
    rec = {"kind": "server-crash", "classes": ["server-crash"], "family": case.family, "payload": case.payload,
           "disguises": case.disguises, **case_json(case),
           "last_sql": (world.last_sql or b"").decode("utf-8", "backslashreplace"),
           "last_sql_hex": (world.last_sql or b"").hex(), "error_log_tail": tail[-1500:]}
    crashes.append(rec)
    print(json.dumps(rec), flush=True)
    log(f"the server died after {world.last_sql!r}; restarted")
    return World(server, args.statement_timeout)


def run(args, server: Server, t0: float) -> int:
    world = World(server, args.statement_timeout)
    version = q(world.admin, "SELECT VERSION()")[0][0].decode()
    vnum = version.split("-")[0].split(".")
    gen.SERVER_VERSION = int(vnum[0]) * 10000 + int(vnum[1]) * 100 + int(vnum[2])
    probe = Probe(args.probe, version)
    runner = Runner(probe, world)
    stats = runner.stats

    n_fp_checked, fps = check_false_positives(probe)
    for fp in fps:
        print(json.dumps(fp), flush=True)
    log(f"false-positive check: {n_fp_checked} ordinary statements, {len(fps)} rejected")

    def source():
        if not args.no_exhaustive:
            yield from gen.exhaustive_cases()
        it = gen.random_cases(args.seed, server.files)
        for _ in range(args.count):
            yield next(it)

    bypasses = []
    signatures = collections.Counter()
    crashes = []
    known = collections.Counter()
    shrunk = {}
    batch = []
    done = False
    last_report = time.time()
    cache = {}
    src = source()
    while not done:
        batch = []
        for c in src:
            batch.append(c)
            if len(batch) >= args.batch:
                break
        if not batch:
            break
        stats["generated"] += len(batch)
        decisions = probe.decide_many([(c.steps[0], c.sql_mode, c.charset, c.schema, False) for c in batch])
        for case, d in zip(batch, decisions):
            stats["verdict:" + d["verdict"]] += 1
            if d["verdict"] == "probe-crash":
                stats["probe-crash"] += 1
                print(json.dumps({"kind": "probe-crash", **case_json(case), "message": d.get("message")}), flush=True)
                continue
            if len(case.steps) == 1 and not forwarded(d):
                continue
            stats["allowed"] += 1 if forwarded(d) else 0
            if forwarded(d) and known[case.payload] >= args.known_limit:
                stats["presumed"] += 1  # this payload already got through this often: not executed again
                continue
            key = (tuple(case.steps), case.sql_mode, case.charset, case.schema)
            if key in cache:
                stats["cached"] += 1
                continue
            cache[key] = True
            try:
                decs, found, errors, facts = runner.run_case(case, first_decision=d)
            except Exception as e:  # the harness must go on: rebuild everything
                if not server.alive():
                    world = runner.world = server_died(server, world, case, stats, crashes, args)
                    continue
                stats["harness-error"] += 1
                log(f"harness error on {case.steps!r}: {type(e).__name__}: {e}")
                try:
                    world.restore({"schema-change": [], "account-change": [], "global-variable": [],
                                   "server-file-write": []})
                except Exception as e2:
                    log(f"restore failed: {e2}")
                    world = runner.world = World(server, args.statement_timeout)
                continue
            for e in errors:
                stats["server-error" if e else "server-ok"] += 1
                if e and e.startswith("connection lost"):
                    stats["connection-lost"] += 1
            if not found:
                continue
            last = decs[-1]
            if not forwarded(last) and not any(forwarded(x) for x in decs):
                continue
            try:
                world.restore(found)
                # confirm: the same case again must show the same class of effect
                _, again, _, _ = runner.run_case(case)
                if again:
                    world.restore(again)
            except Exception as e:
                if not server.alive():
                    world = runner.world = server_died(server, world, case, stats, crashes, args)
                    continue
                stats["harness-error"] += 1
                log(f"restore failed ({type(e).__name__}: {e}); starting the world afresh")
                world = runner.world = World(server, args.statement_timeout)
                continue
            classes = set(found) & set(again)
            if not classes:
                stats["unconfirmed"] += 1
                log(f"unconfirmed effect {found} of {case.steps!r}")
                continue
            found = {k: v for k, v in found.items() if k in classes}
            stats["bypasses"] += 1
            known[case.payload] += 1
            sig = (tuple(sorted(classes)), case.family, case.payload)
            signatures[sig] += 1
            rec = {"kind": "bypass", "classes": sorted(classes), "family": case.family, "payload": case.payload,
                   "disguises": case.disguises, **case_json(case), "verdicts": [x["verdict"] for x in decs],
                   "rules": [x.get("rule") for x in decs], "statements": decs[-1].get("statements"),
                   "server": found, "server_errors": errors}
            if signatures[sig] == 1 and len(shrunk) < args.max_shrinks:
              try:
                min_steps, tries = shrink(runner, case, classes, args.shrink_budget)
                d_min = probe.decide(min_steps[-1], case.sql_mode, case.charset, case.schema)
                _, found_min, err_min, _ = runner.run_case(case, steps=min_steps)
                if found_min:
                    world.restore(found_min)
                if not set(found_min) & classes:  # the shrunk form did not reproduce: keep the original
                    min_steps, d_min, found_min = list(case.steps), d, found
                m = {"kind": "bypass", "classes": sorted(set(found_min) or classes), "family": case.family,
                     "payload": case.payload, "disguises": case.disguises, **case_json(case, min_steps),
                     "verdict": d_min["verdict"], "rule": d_min.get("rule"), "code": d_min.get("code"),
                     "policy_statements": d_min.get("statements"), "server": found_min,
                     "server_error": err_min[-1] if err_min else None, "original_sql": rec["sql"],
                     "shrink_tries": tries}
                shrunk[sig] = m
                print(json.dumps(m), flush=True)
              except Exception as e:
                log(f"shrinking failed: {type(e).__name__}: {e}")
                if not server.alive():
                    world = runner.world = server_died(server, world, case, stats, crashes, args)
                    continue
                world.restore({"schema-change": [], "account-change": [], "global-variable": [],
                               "server-file-write": []})
            bypasses.append(rec)
            if time.time() - last_report > 30:
                last_report = time.time()
                log(f"[{time.time() - t0:7.0f}s] generated {stats['generated']} allowed {stats['allowed']} "
                    f"executed {stats['executed']} bypasses {stats['bypasses']} ({len(signatures)} kinds)")
        if time.time() - last_report > 30:
            last_report = time.time()
            log(f"[{time.time() - t0:7.0f}s] generated {stats['generated']} allowed {stats['allowed']} "
                f"executed {stats['executed']} bypasses {stats['bypasses']} ({len(signatures)} kinds)")
        if args.time_limit and time.time() - t0 > args.time_limit:
            log("time limit reached")
            done = True
    probe.close()

    if args.findings:
        write_findings(args.findings, list(shrunk.values()) + crashes + fps, server.files)
    elapsed = time.time() - t0
    summary = {"generated": stats["generated"], "allowed": stats["allowed"], "executed": stats["executed"],
               "cached": stats["cached"], "presumed_bypasses_not_executed": stats["presumed"],
               "unconfirmed_effects": stats["unconfirmed"], "bypasses": stats["bypasses"], "bypass_kinds": len(signatures),
               "false_positives": len(fps), "ordinary_checked": n_fp_checked,
               "verdicts": {k[8:]: v for k, v in stats.items() if k.startswith("verdict:")},
               "server_errors": stats["server-error"], "harness_errors": stats["harness-error"],
               "probe_crashes": stats["probe-crash"], "server_crashes": stats["server-crash"], "connections_lost": stats["connection-lost"],
               "seconds": round(elapsed, 1)}
    log("bypass kinds:")
    for sig, n in signatures.most_common():
        log(f"  {n:6d}  {'+'.join(sig[0])}  {sig[1]}/{sig[2]}")
    print(json.dumps({"summary": summary}), flush=True)
    log(json.dumps(summary, indent=1))
    return 1 if (stats["bypasses"] or fps or stats["server-crash"] or stats["probe-crash"] or stats["harness-error"]) else 0


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    main()
