"""Statements for the differential test: payloads x disguises.

A Case is a list of steps (one COM_QUERY each) plus the session facts it starts
with. Payloads are the things production must never let through (schema changes,
reads and writes outside the prefix, global variables, account changes, server file
I/O, secrets) and some it must (reads and writes inside the prefix). Disguises are
the ways a reader may mistake one statement for another: comments of every form,
executable comments of every version, quoting, sql_mode, multi-byte client
charsets, ODBC braces, multi-statements, SET lists, whitespace bytes.

Nothing here knows what the policy or the server decides: the harness asks both.
"""
from __future__ import annotations

import dataclasses
import random
import re
from typing import Callable, Iterator

CANARY_DB = "canary_db"
PREFIX_DB = "myproject_diff"
SERVER_VERSION = 101119  # replaced by the harness with the real server's

# Bytes the server may treat as space, and some it must not (the oracle tells).
WS_BYTES = [b" ", b"\t", b"\n", b"\r", b"\x0b", b"\x0c"]
ODD_WS_BYTES = [b"\x00", b"\x1c", b"\x1d", b"\x1e", b"\x1f", b"\x85", b"\xa0", b"\xe3\x80\x80", b"\xc2\xa0"]

SQL_MODES = ["", "STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION",
             "ANSI_QUOTES", "NO_BACKSLASH_ESCAPES", "ANSI_QUOTES,NO_BACKSLASH_ESCAPES", "ANSI",
             "PIPES_AS_CONCAT", "IGNORE_SPACE", "ORACLE", "MSSQL", "MYSQL323"]
CHARSETS = ["utf8mb4", "utf8mb4", "utf8mb4", "latin1", "gbk", "sjis", "cp932", "big5", "euckr", "ujis", "binary",
            "utf8mb3", "gb2312", "eucjpms", "ascii", "koi8r", "cp1250", "tis620"]
MB_CHARSETS = ["gbk", "sjis", "cp932", "big5"]
LEADS = [0x81, 0x8f, 0x95, 0x9f, 0xa1, 0xa4, 0xbf, 0xe0, 0xef, 0xf9, 0xfc, 0xfe, 0x80, 0xff]


def versions() -> list[str]:
    v = SERVER_VERSION
    return ["0", "00000", "32302", "40000", "50000", "50700", "80000", "99999", "100000", str(v - 1), str(v),
            str(v + 1), "999999", "110000", "1"]


@dataclasses.dataclass
class Step:
    sql: bytes


@dataclasses.dataclass
class Case:
    steps: list[bytes]
    family: str            # payload family, e.g. "read-canary"
    payload: str           # payload template name
    disguises: list[str]
    sql_mode: str = ""
    charset: str = "utf8mb4"
    schema: str | None = PREFIX_DB
    expect_effect: bool = True  # False: ordinary statements (allowed, nothing forbidden)


# ----------------------------------------------------------------- payloads
# Templates: tokens separated by single spaces (no spaces inside literals). Names in
# {braces}: {C} canary schema, {P} prefix schema, {F} files directory, {N} unique number.
# A payload may carry an expression form (a scalar subquery reading the canary) for
# disguises that need an expression, and a table-reference form.

@dataclasses.dataclass
class Payload:
    name: str
    family: str
    sql: str
    kind: str = "stmt"  # "query": a SELECT that can become a subquery / be parenthesised
    steps_before: tuple[str, ...] = ()


P: list[Payload] = []


def add(family: str, name: str, sql: str, kind: str = "stmt", before: tuple[str, ...] = ()):
    P.append(Payload(name, family, sql, kind, before))


# schema changes, outside and inside the prefix
for sch, tag in (("{C}", "out"), ("{P}", "in"), ("newdb_x", "bare")):
    add("ddl", f"create-table-{tag}", f"CREATE TABLE {sch}.dj_new ( a INT )")
    add("ddl", f"create-table-like-{tag}", f"CREATE TABLE {sch}.dj_new LIKE {PREFIX_DB}.w")
    add("ddl", f"create-table-select-{tag}", f"CREATE TABLE {sch}.dj_new AS SELECT 1 AS a")
    add("ddl", f"create-or-replace-{tag}", f"CREATE OR REPLACE TABLE {sch}.dj_new ( a INT )")
    add("ddl", f"create-view-{tag}", f"CREATE VIEW {sch}.dj_v AS SELECT 1 AS a")
    add("ddl", f"create-proc-{tag}", f"CREATE PROCEDURE {sch}.dj_p ( ) SELECT 1")
    add("ddl", f"create-func-{tag}", f"CREATE FUNCTION {sch}.dj_f ( ) RETURNS INT RETURN 1")
    add("ddl", f"create-seq-{tag}", f"CREATE SEQUENCE {sch}.dj_s")
    add("ddl", f"create-event-{tag}", f"CREATE EVENT {sch}.dj_e ON SCHEDULE EVERY 1 DAY DISABLE DO SELECT 1")
    add("ddl", f"alter-event-{tag}", f"ALTER EVENT {sch}.e COMMENT 'x'")
for sch, tag in (("{C}", "out"), ("{P}", "in")):
    tbl = "t" if sch == "{C}" else "w"
    add("ddl", f"drop-table-{tag}", f"DROP TABLE {sch}.{tbl}")
    add("ddl", f"drop-table-ifexists-{tag}", f"DROP TABLE IF EXISTS {sch}.{tbl}")
    add("ddl", f"alter-table-{tag}", f"ALTER TABLE {sch}.{tbl} ADD COLUMN zz INT")
    add("ddl", f"alter-comment-{tag}", f"ALTER TABLE {sch}.{tbl} COMMENT='x'")
    add("ddl", f"alter-online-{tag}", f"ALTER ONLINE TABLE {sch}.{tbl} ADD COLUMN zz INT")
    add("ddl", f"rename-table-{tag}", f"RENAME TABLE {sch}.{tbl} TO {sch}.{tbl}_renamed")
    add("ddl", f"truncate-{tag}", f"TRUNCATE TABLE {sch}.{tbl}")
    add("ddl", f"truncate-bare-{tag}", f"TRUNCATE {sch}.{tbl}")
    add("ddl", f"create-index-{tag}", f"CREATE INDEX dj_i ON {sch}.{tbl} ( id )")
    add("ddl", f"drop-index-{tag}", f"DROP INDEX ix ON {sch}.{tbl}")
    add("ddl", f"create-trigger-{tag}",
        f"CREATE TRIGGER {sch}.dj_tr BEFORE INSERT ON {sch}.{tbl} FOR EACH ROW SET @x=1")
    add("ddl", f"drop-view-{tag}", f"DROP VIEW {sch}.v")
    add("ddl", f"drop-proc-{tag}", f"DROP PROCEDURE {sch}.p")
    add("ddl", f"drop-func-{tag}", f"DROP FUNCTION {sch}.f")
    add("ddl", f"drop-trigger-{tag}", f"DROP TRIGGER {sch}.tr")
    add("ddl", f"drop-event-{tag}", f"DROP EVENT {sch}.e")
    add("ddl", f"drop-seq-{tag}", f"DROP SEQUENCE {sch}.seq")
    add("ddl", f"alter-seq-{tag}", f"ALTER SEQUENCE {sch}.seq RESTART 500")
    add("ddl", f"alter-view-{tag}", f"ALTER VIEW {sch}.v AS SELECT 2 AS a")
    add("ddl", f"alter-db-{tag}", f"ALTER DATABASE {sch} COMMENT 'x'")
    add("ddl", f"alter-db-charset-{tag}", f"ALTER SCHEMA {sch} CHARACTER SET latin1")
    add("ddl", f"drop-db-{tag}", f"DROP DATABASE {sch}")
    add("ddl", f"create-tmp-select-{tag}", f"CREATE TEMPORARY TABLE {PREFIX_DB}.dj_tmp AS SELECT * FROM {sch}.{tbl}")
    add("ddl", f"create-ine-{tag}", f"CREATE TABLE IF NOT EXISTS {sch}.dj_new ( a INT )")
    add("ddl", f"create-ine-existing-{tag}", f"CREATE TABLE IF NOT EXISTS {sch}.{tbl} ( a INT )")
    add("ddl", f"bookkeeping-{tag}", f"CREATE TABLE IF NOT EXISTS {sch}.`~dj_log` ( a INT )")
    add("ddl", f"bookkeeping-select-{tag}", f"CREATE TABLE IF NOT EXISTS {sch}.`~dj_log` ( a INT ) SELECT 1 AS a")
    add("ddl", f"bookkeeping-like-{tag}", f"CREATE TABLE IF NOT EXISTS {sch}.`~dj_log` LIKE {CANARY_DB}.t")
    add("ddl", f"bookkeeping-multi-{tag}",
        f"CREATE TABLE IF NOT EXISTS {sch}.`~dj_log` ( a INT ) , {sch}.dj_new ( b INT )")
add("ddl", "create-db", "CREATE DATABASE newdb_x")
add("ddl", "create-db-prefix", f"CREATE DATABASE {PREFIX_DB}_new")
add("ddl", "create-db-ine", "CREATE DATABASE IF NOT EXISTS newdb_x")
add("ddl", "create-schema", "CREATE SCHEMA newdb_x")
add("ddl", "create-table-unqualified", "CREATE TABLE dj_new ( a INT )")
add("ddl", "drop-table-unqualified", "DROP TABLE w")
add("ddl", "alter-table-unqualified", "ALTER TABLE w ADD COLUMN zz INT")
add("ddl", "create-index-unqualified", "CREATE INDEX dj_i ON w ( id )")
add("ddl", "create-view-unqualified", "CREATE VIEW dj_v AS SELECT 1 AS a")
add("ddl", "create-proc-unqualified", "CREATE PROCEDURE dj_p ( ) SELECT 1")
add("ddl", "create-seq-unqualified", "CREATE SEQUENCE dj_s")
add("ddl", "rename-into-prefix", f"RENAME TABLE {{C}}.t TO {PREFIX_DB}.stolen")
add("ddl", "rename-out-of-prefix", f"RENAME TABLE {PREFIX_DB}.w TO {{C}}.stolen")
add("ddl", "alter-rename-out", f"ALTER TABLE {PREFIX_DB}.w RENAME TO {{C}}.stolen")
add("ddl", "create-server", "CREATE SERVER dj_srv FOREIGN DATA WRAPPER mysql OPTIONS ( HOST '127.0.0.1' )")
add("ddl", "install-soname", "INSTALL SONAME 'ha_blackhole'")
add("ddl", "create-role", "CREATE ROLE dj_role")
add("ddl", "create-user", "CREATE USER dj_new_user@'%'")
add("ddl", "drop-user", "DROP USER canary_user@'%'")
add("ddl", "rename-user", "RENAME USER canary_user@'%' TO canary_user2@'%'")
add("ddl", "tmp-table-in-canary", "CREATE TEMPORARY TABLE {C}.dj_tmp ( a INT )")
add("ddl", "create-tmp-like-canary", f"CREATE TEMPORARY TABLE {PREFIX_DB}.dj_tmp LIKE {{C}}.t")

# reads of the canary
add("read", "select", "SELECT v FROM {C}.t", "query")
add("read", "select-star", "SELECT * FROM {C}.t", "query")
add("read", "select-count", "SELECT COUNT(*) FROM {C}.t", "query")
add("read", "select-qualified-col", "SELECT {C}.t.v FROM {C}.t", "query")
add("read", "subquery", "SELECT ( SELECT v FROM {C}.t ) AS x", "query")
add("read", "subquery-in", f"SELECT * FROM {PREFIX_DB}.w WHERE id IN ( SELECT id FROM {{C}}.t )", "query")
add("read", "exists", f"SELECT EXISTS ( SELECT 1 FROM {{C}}.t WHERE v LIKE 'CAN%' ) AS x", "query")
add("read", "derived", "SELECT * FROM ( SELECT v FROM {C}.t ) AS d", "query")
add("read", "join", f"SELECT t.v FROM {PREFIX_DB}.w JOIN {{C}}.t", "query")
add("read", "join-comma", f"SELECT * FROM {PREFIX_DB}.w , {{C}}.t", "query")
add("read", "join-paren", f"SELECT * FROM ( {PREFIX_DB}.w , {{C}}.t )", "query")
add("read", "left-join", f"SELECT * FROM {PREFIX_DB}.w LEFT JOIN {{C}}.t ON 1", "query")
add("read", "straight-join", f"SELECT * FROM {PREFIX_DB}.w STRAIGHT_JOIN {{C}}.t", "query")
add("read", "union", f"SELECT id FROM {PREFIX_DB}.w UNION SELECT v FROM {{C}}.t", "query")
add("read", "union-all-paren", f"( SELECT id FROM {PREFIX_DB}.w ) UNION ALL ( SELECT v FROM {{C}}.t )", "query")
add("read", "intersect", f"SELECT v FROM {{C}}.t INTERSECT SELECT v FROM {{C}}.t", "query")
add("read", "except", f"SELECT v FROM {{C}}.t EXCEPT SELECT id FROM {PREFIX_DB}.w", "query")
add("read", "cte", "WITH x AS ( SELECT v FROM {C}.t ) SELECT * FROM x", "query")
add("read", "cte-named-as-schema", "WITH {C} AS ( SELECT 1 AS v ) SELECT * FROM {C}.t", "query")
add("read", "cte-named-as-table", f"WITH t AS ( SELECT 1 AS v ) SELECT * FROM {{C}}.t", "query")
add("read", "cte-recursive", "WITH RECURSIVE r AS ( SELECT v FROM {C}.t ) SELECT * FROM r", "query")
add("read", "alias-as-schema", f"SELECT * FROM {PREFIX_DB}.w AS {{C}} , {{C}}.t", "query")
add("read", "alias-shadow", f"SELECT {{C}}.v FROM {{C}}.t AS {{C}}", "query")
add("read", "table-stmt", "TABLE {C}.t", "query")
add("read", "values-subquery", "VALUES ( ( SELECT v FROM {C}.t ) )", "query")
add("read", "view", "SELECT * FROM {C}.v", "query")
add("read", "func", "SELECT {C}.f() AS x", "query")
add("read", "func-space", "SELECT {C}.f ( ) AS x", "query")
add("read", "call", "CALL {C}.p()")
add("read", "call-noparen", "CALL {C}.p")
add("read", "nextval", "SELECT NEXTVAL({C}.seq) AS x", "query")
add("read", "next-value-for", "SELECT NEXT VALUE FOR {C}.seq AS x", "query")
add("read", "lastval", "SELECT LASTVAL({C}.seq) AS x", "query")
add("read", "setval", "SELECT SETVAL({C}.seq,1000) AS x", "query")
add("read", "seq-select", "SELECT * FROM {C}.seq", "query")
add("read", "oracle-nextval", "SELECT {C}.seq.nextval AS x", "query")
add("read", "do-subquery", "DO ( SELECT v FROM {C}.t )")
add("read", "set-var-subquery", "SET @dj = ( SELECT v FROM {C}.t )")
add("read", "select-into-var", "SELECT v FROM {C}.t INTO @dj")
add("read", "into-var-first", "SELECT v INTO @dj FROM {C}.t")
add("read", "insert-select", f"INSERT INTO {PREFIX_DB}.w ( note ) SELECT v FROM {{C}}.t")
add("read", "insert-select-paren", f"INSERT INTO {PREFIX_DB}.w ( note ) ( SELECT v FROM {{C}}.t )")
add("read", "insert-values-subq", f"INSERT INTO {PREFIX_DB}.w ( note ) VALUES ( ( SELECT v FROM {{C}}.t ) )")
add("read", "replace-select", f"REPLACE INTO {PREFIX_DB}.w ( id , note ) SELECT 99 , v FROM {{C}}.t")
add("read", "update-from-canary", f"UPDATE {PREFIX_DB}.w SET note = ( SELECT v FROM {{C}}.t )")
add("read", "update-multi-read", f"UPDATE {PREFIX_DB}.w , {{C}}.t SET w.note = t.v")
add("read", "delete-using-read", f"DELETE w FROM {PREFIX_DB}.w JOIN {{C}}.t ON 1")
add("read", "handler-open", "HANDLER {C}.t OPEN")
add("read", "handler-read", "HANDLER {C}.t OPEN AS dj_h", before=())
add("read", "show-create", "SHOW CREATE TABLE {C}.t")
add("read", "show-columns", "SHOW COLUMNS FROM t FROM {C}")
add("read", "describe", "DESCRIBE {C}.t")
add("read", "explain-select", "EXPLAIN SELECT v FROM {C}.t")
add("read", "analyze-select", "ANALYZE SELECT v FROM {C}.t")
add("read", "checksum", "CHECKSUM TABLE {C}.t")
add("read", "json-table", "SELECT * FROM JSON_TABLE ( ( SELECT CONCAT('[\"',v,'\"]') FROM {C}.t ) , '$[*]' COLUMNS ( x TEXT PATH '$' ) ) AS j", "query")
add("read", "mysql-user", "SELECT * FROM mysql.user", "query")
add("read", "mysql-global-priv", "SELECT * FROM mysql.global_priv", "query")
add("read", "pfs", "SELECT * FROM performance_schema.threads", "query")
add("read", "sys", "SELECT * FROM sys.processlist", "query")
add("read", "for-system-time", "SELECT v FROM {C}.t FOR SYSTEM_TIME ALL", "query")
add("read", "lock-in-share", "SELECT v FROM {C}.t LOCK IN SHARE MODE", "query")
add("read", "odbc-oj", f"SELECT * FROM {{ oj {PREFIX_DB}.w LEFT OUTER JOIN {{C}}.t ON 1 }}", "query")
add("read", "odbc-expr", "SELECT { x ( SELECT v FROM {C}.t ) } AS x", "query")
add("read", "odbc-schema-expr", "SELECT { {C} ( SELECT v FROM {C}.t ) } AS x", "query")
add("read", "dot-table", "SELECT v FROM .t", "query")  # harmless: current schema

# writes to the canary
add("write", "update", "UPDATE {C}.t SET v = 'x'")
add("write", "update-low", "UPDATE LOW_PRIORITY IGNORE {C}.t SET v = 'x'")
add("write", "delete", "DELETE FROM {C}.t")
add("write", "delete-quick", "DELETE QUICK IGNORE FROM {C}.t")
add("write", "insert", "INSERT INTO {C}.t VALUES ( 2 , 'x' , 1 )")
add("write", "insert-set", "INSERT {C}.t SET id = 2 , v = 'x'")
add("write", "insert-ignore", "INSERT IGNORE INTO {C}.t ( id , v ) VALUES ( 2 , 'x' )")
add("write", "insert-odku", f"INSERT INTO {PREFIX_DB}.w ( id ) VALUES ( 1 ) ON DUPLICATE KEY UPDATE note = ( SELECT v FROM {{C}}.t )")
add("write", "replace", "REPLACE INTO {C}.t VALUES ( 1 , 'x' , 1 )")
add("write", "update-multi", f"UPDATE {PREFIX_DB}.w , {{C}}.t SET t.v = 'x'")
add("write", "update-multi-join", f"UPDATE {PREFIX_DB}.w JOIN {{C}}.t ON 1 SET t.v = 'x'")
add("write", "delete-multi", f"DELETE t FROM {{C}}.t JOIN {PREFIX_DB}.w")
add("write", "delete-multi-using", f"DELETE FROM t USING {{C}}.t , {PREFIX_DB}.w")
add("write", "delete-alias-schema", f"DELETE {{C}} FROM {{C}}.t AS {{C}}")
add("write", "delete-returning", "DELETE FROM {C}.t RETURNING v")
add("write", "insert-returning", "INSERT INTO {C}.t ( id , v ) VALUES ( 3 , 'x' ) RETURNING id")
add("write", "update-view", "UPDATE {C}.v SET v = 'x'")
add("write", "update-seq", "SELECT SETVAL({C}.seq,1000000) AS x", "query")
add("write", "load-data-local", "LOAD DATA LOCAL INFILE 'x' INTO TABLE {C}.t")
add("write", "lock-tables", "LOCK TABLES {C}.t WRITE")
add("write", "update-unqualified-after-use", "UPDATE t SET v = 'x'", before=("USE {C}",))

# global variables and session tracking
for g in ("SET GLOBAL max_connections = 3999",
          "SET @@global.max_connections = 3999",
          "SET @@GLOBAL.max_connections = 3999",
          "SET @@global . max_connections = 3999",
          "SET @@`global`.max_connections = 3999",
          "SET @@global.`max_connections` = 3999",
          "SET @dj = 1 , GLOBAL max_connections = 3999",
          "SET @dj = 1 , @@global.max_connections = 3999",
          "SET SESSION wait_timeout = 100 , GLOBAL max_connections = 3999",
          "SET LOCAL wait_timeout = 100 , @@global.max_connections = 3999",
          "SET wait_timeout = 100 , GLOBAL max_user_connections = 7",
          "SET NAMES utf8mb4 , GLOBAL max_connections = 3999",
          "SET CHARACTER SET utf8mb4 , GLOBAL max_connections = 3999",
          "SET sql_mode = '' , GLOBAL max_connections = 3999",
          "SET @dj = ( SELECT 1 ) , GLOBAL max_connections = 3999",
          "SET GLOBAL long_query_time = 3",
          "SET GLOBAL event_scheduler = ON",
          "SET GLOBAL sql_mode = 'ANSI'",
          "SET GLOBAL userstat = 0",
          "SET GLOBAL general_log_file = '{F}/genlog'",
          "SET @@global.general_log = 1",
          "SET GLOBAL TRANSACTION ISOLATION LEVEL SERIALIZABLE",
          "SET STATEMENT max_statement_time = 100 FOR SET GLOBAL max_connections = 3999",
          "SET DEFAULT ROLE NONE FOR canary_user@'%'",
          "SET @@session.session_track_schema = OFF",
          "SET session_track_schema = OFF",
          "SET @dj = 1 , session_track_system_variables = ''",
          "SET SESSION session_track_state_change = OFF , @@session.session_track_system_variables = 'autocommit'",
          "SET @@local.session_track_system_variables = ''",
          "SET session_track_transaction_info = STATE"):
    add("global", "set:" + g.split("=")[0][:40].strip(), g)

# accounts
for a in ("SET PASSWORD FOR canary_user@'%' = PASSWORD('x')",
          "SET PASSWORD = PASSWORD('djroot')",
          "SET @dj = 1 , PASSWORD FOR canary_user@'%' = PASSWORD('x')",
          "ALTER USER canary_user@'%' IDENTIFIED BY 'x'",
          "ALTER USER CURRENT_USER() IDENTIFIED BY 'djroot'",
          "ALTER USER canary_user@'%' ACCOUNT LOCK",
          "GRANT ALL ON *.* TO canary_user@'%'",
          f"GRANT SELECT ON {{C}}.* TO canary_user@'%'",
          f"GRANT SELECT ON {PREFIX_DB}.* TO canary_user@'%'",
          f"GRANT SELECT ON {PREFIX_DB}.w TO canary_user@'%'",
          f"REVOKE ALL ON *.* FROM canary_user@'%'",
          "GRANT PROXY ON ''@'%' TO canary_user@'%'",
          "CREATE USER IF NOT EXISTS dj_new_user@'%' IDENTIFIED BY 'x'",
          "CREATE OR REPLACE USER canary_user@'%'"):
    add("account", "acct:" + a[:40], a)

# server file I/O
add("file", "outfile", f"SELECT id FROM {PREFIX_DB}.w INTO OUTFILE '{{F}}/o{{N}}'")
add("file", "outfile-first", f"SELECT 1 INTO OUTFILE '{{F}}/o{{N}}'")
add("file", "dumpfile", "SELECT 1 INTO DUMPFILE '{F}/d{N}'")
add("file", "outfile-union", f"SELECT 1 UNION SELECT 2 INTO OUTFILE '{{F}}/u{{N}}'")
add("file", "outfile-cte", "WITH x AS ( SELECT 1 ) SELECT * FROM x INTO OUTFILE '{F}/c{N}'")
add("file", "outfile-lines", "SELECT 1 INTO OUTFILE '{F}/l{N}' LINES TERMINATED BY 'x'")
add("file", "load-file", "SELECT LOAD_FILE('{F}/secret.txt') AS x", "query")
add("file", "load-file-hex", "SELECT HEX(LOAD_FILE('{F}/secret.txt')) AS x", "query")
add("file", "load-data", f"LOAD DATA INFILE '{{F}}/secret.txt' INTO TABLE {PREFIX_DB}.ld")
add("file", "load-data-low", f"LOAD DATA LOW_PRIORITY INFILE '{{F}}/secret.txt' INTO TABLE {PREFIX_DB}.ld")
add("file", "load-data-concurrent", f"LOAD DATA CONCURRENT INFILE '{{F}}/secret.txt' IGNORE INTO TABLE {PREFIX_DB}.ld")
add("file", "load-xml", f"LOAD XML INFILE '{{F}}/secret.txt' INTO TABLE {PREFIX_DB}.ld")
add("file", "load-data-local-nolocal", f"LOAD DATA /*!99999 LOCAL */ INFILE '{{F}}/secret.txt' INTO TABLE {PREFIX_DB}.ld")

# Words MariaDB 10.11 reads as names though its reserved-word page lists them (review
# round 11, 2026-12-06): around a read of the canary, as aliases, qualifiers, CTE names
# and schema names, and WINDOW where it begins a clause.
for w in ("database", "schema", "option", "position", "general", "slow", "ignore_server_ids",
          "master_heartbeat_period", "window"):
    add("read", f"kw-qualifier-{w}", f"SELECT {w}.v FROM {{C}}.t {w}" if w != "window" else
        f"SELECT {w}.v FROM {{C}}.t AS `{w}`", "query")
    add("read", f"kw-alias-{w}", f"SELECT 1 AS {w} , ( SELECT v FROM {{C}}.t ) AS x", "query")
    add("read", f"kw-join-{w}", f"SELECT x.v FROM {PREFIX_DB}.w {w if w != 'window' else 'k'} , {{C}}.t x", "query")
    add("read", f"kw-cte-{w}", f"WITH {w} AS ( SELECT v FROM {{C}}.t ) SELECT * FROM {w}", "query")
    add("ddl", f"kw-schema-{w}", f"CREATE TABLE {w}.dj_new ( {w} INT )")
add("read", "kw-window-clause",
    "SELECT v , ROW_NUMBER ( ) OVER w FROM {C}.t WINDOW w AS ( ORDER BY v )", "query")

# secrets
add("secret", "show-create-user", "SHOW CREATE USER canary_user@'%'")
add("secret", "show-create-user-bare", "SHOW CREATE USER canary_user")
add("secret", "show-grants-for", "SHOW GRANTS FOR canary_user@'%'")
add("secret", "show-grants-for-bare", "SHOW GRANTS FOR canary_user")
add("secret", "mysql-user-password", "SELECT authentication_string FROM mysql.user", "query")
add("secret", "global-priv", "SELECT Priv FROM mysql.global_priv", "query")
add("secret", "show-processlist", "SHOW FULL PROCESSLIST")

# dynamic SQL and compound statements around a canary read (the payload inside is
# built by the 'dynamic' disguise; these are fixed forms)
add("read", "execute-immediate", "EXECUTE IMMEDIATE 'SELECT v FROM {C}.t'")
add("read", "execute-immediate-concat", "EXECUTE IMMEDIATE CONCAT('SELECT v FROM canary','_db.t')")
add("read", "prepare-execute", "PREPARE dj_s FROM 'SELECT v FROM {C}.t'", before=())
add("read", "begin-not-atomic", "BEGIN NOT ATOMIC SELECT v FROM {C}.t ; END")
add("read", "if-block", "IF 1 THEN SELECT v FROM {C}.t ; END IF")

# ordinary statements production allows: their effects must not be forbidden ones
add("ok", "ok-select", f"SELECT * FROM {PREFIX_DB}.w", "query")
add("ok", "ok-insert", f"INSERT INTO {PREFIX_DB}.w ( note ) VALUES ( 'a' )")
add("ok", "ok-update", f"UPDATE {PREFIX_DB}.w SET note = 'b' WHERE id = 1")
add("ok", "ok-is", "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'canary_db'", "query")
add("ok", "ok-tmp", f"CREATE TEMPORARY TABLE {PREFIX_DB}.dj_tmp ( a INT )")
add("ok", "ok-show", f"SHOW TABLES FROM {PREFIX_DB}")
add("ok", "ok-set", "SET @dj = 1")

# Multi-step payloads: the steps before the last run first (their own verdicts are
# asked of the policy too); the last one is the payload the disguises apply to.
MULTI = [
    ("read", "handler-two-step", ["HANDLER {C}.t OPEN AS dj_h"], "HANDLER dj_h READ FIRST"),
    # Review round 12: dynamic SQL's text goes to character_set_connection and back before
    # the server reads it; in sjis a backslash comes back as 0x815F, in ujis A1 C0 as one.
    ("read", "conn-charset-sjis", ["SET CHARACTER SET sjis"],
     "EXECUTE IMMEDIATE 'SELECT ''\\\\'' AS a, ( SELECT GROUP_CONCAT(v) FROM {C}.t ) AS b, ''#'' AS c'"),
    ("read", "conn-charset-sjis-names", ["SET NAMES sjis", "SET character_set_connection = utf8mb4"],
     "EXECUTE IMMEDIATE 'SELECT ''\\\\'' AS x, v AS y FROM {C}.t -- '''"),
    ("read", "conn-charset-sjis-collation", ["SET NAMES sjis", "SET collation_connection = latin1_bin"],
     "EXECUTE IMMEDIATE 'SELECT ''\\\\'' AS a, ( SELECT GROUP_CONCAT(v) FROM {C}.t ) AS b, ''#'' AS c'"),
    ("global", "conn-charset-sjis-set", ["SET CHARACTER SET sjis"],
     "EXECUTE IMMEDIATE 'SET @a = ''\\\\'', GLOBAL max_connections = 3999 -- '''"),
    ("read", "handler-unqualified", ["HANDLER {C}.t OPEN"], "HANDLER t READ FIRST"),
    ("read", "prepare-two-step", ["PREPARE dj_s FROM 'SELECT v FROM {C}.t'"], "EXECUTE dj_s"),
    ("read", "prepare-from-var", ["SET @dj_q = 'SELECT v FROM {C}.t'", "PREPARE dj_s FROM @dj_q"], "EXECUTE dj_s"),
    ("read", "exec-immediate-var", ["SET @dj_q = CONCAT('SELECT v FROM canary','_db.t')"], "EXECUTE IMMEDIATE @dj_q"),
    ("read", "use-then-read", ["USE {C}"], "SELECT v FROM t"),
    ("write", "prepare-write", ["PREPARE dj_s FROM 'DELETE FROM {C}.t'"], "EXECUTE dj_s"),
    ("ddl", "prepare-ddl", ["SET @dj_q = 'DROP TABLE {C}.t'"], "EXECUTE IMMEDIATE @dj_q"),
    ("read", "into-var-then-select", ["SELECT v INTO @dj FROM {C}.t"], "SELECT @dj"),
    ("read", "tmp-then-insert", [f"CREATE TEMPORARY TABLE {PREFIX_DB}.dj_tmp ( v TEXT )"],
     f"INSERT INTO {PREFIX_DB}.dj_tmp SELECT v FROM {{C}}.t"),
    ("read", "ansi-then-dq", ["SET sql_mode = 'ANSI_QUOTES'"], 'SELECT v FROM "{C}".t'),
    ("read", "nbe-then-string", ["SET sql_mode = 'NO_BACKSLASH_ESCAPES'"], "SELECT 'a\\' , ( SELECT v FROM {C}.t ) -- '"),
    ("read", "names-gbk-then-string", ["SET NAMES gbk"], b"SELECT '\xbf\\' , ( SELECT v FROM {C}.t ) -- '"),
    ("read", "charset-sjis-then-string", ["SET CHARACTER SET sjis"], b"SELECT '\x95\\' , ( SELECT v FROM {C}.t ) -- '"),
    ("read", "csc-big5-then-string", ["SET character_set_client = big5"], b"SELECT '\xa4\\' , ( SELECT v FROM {C}.t ) -- '"),
    ("global", "oracle-then", ["SET sql_mode = 'ORACLE'"], "SET GLOBAL max_connections = 3999"),
]


def fill(template: str | bytes, n: int, files: str) -> bytes:
    if isinstance(template, bytes):
        return template.replace(b"{C}", CANARY_DB.encode()).replace(b"{P}", PREFIX_DB.encode())
    s = template.replace("{C}", CANARY_DB).replace("{P}", PREFIX_DB).replace("{F}", files).replace("{N}", str(n))
    return s.encode("utf-8", "surrogateescape")


# ----------------------------------------------------------------- disguises
# A disguise takes the statement as a list of tokens (bytes) and a mutable context
# (sql_mode, charset, steps) and returns the new token list.

IDENTS = {CANARY_DB, PREFIX_DB, "t", "w", "v", "seq", "f", "p", "e", "mysql", "dj_new", "newdb_x", "ld",
          "performance_schema", "sys", "max_connections"}
KEYWORDS = re.compile(rb"^[A-Za-z_]+$")


@dataclasses.dataclass
class Ctx:
    rng: random.Random
    sql_mode: str
    charset: str
    prefix_steps: list[bytes]
    names: list[str]
    schema: str | None = PREFIX_DB


def d_whitespace(toks, ctx):
    r = ctx.rng
    pool = WS_BYTES + (ODD_WS_BYTES if r.random() < 0.3 else [])
    out = []
    for i, t in enumerate(toks):
        out.append(t)
        if i + 1 < len(toks) and t == b" ":
            out[-1] = b"".join(r.choice(pool) for _ in range(r.randint(1, 3)))
    ctx.names.append("whitespace")
    return out


def comment_bytes(r: random.Random) -> bytes:
    kind = r.randrange(10)
    if kind == 0:
        return b"/**/"
    if kind == 1:
        return b"/* x */"
    if kind == 2:
        return b"#" + bytes([r.randrange(0x20, 0x7f)]) + b"\n"
    if kind == 3:
        return b"-- x\n"
    if kind == 4:
        return b"--" + bytes([r.randrange(0, 0x21)]) + b"x\n"
    if kind == 5:
        return b"/*!*/"
    if kind == 6:
        return b"/*!" + r.choice(versions()).encode() + b" */"
    if kind == 7:
        return b"/*M!" + r.choice(versions()).encode() + b" */"
    if kind == 8:
        return b"/* /* */"
    return b"/*" + bytes([r.randrange(0, 256)]) + b"*/"


def d_comment(toks, ctx):
    r = ctx.rng
    seps = [i for i, t in enumerate(toks) if t == b" "]
    if not seps:
        return toks
    out = list(toks)
    for i in r.sample(seps, min(len(seps), r.randint(1, 3))):
        c = comment_bytes(r)
        out[i] = r.choice([c, b" " + c + b" ", c + b" ", b" " + c])
        ctx.names.append("comment:" + c[:5].decode("latin1"))
    return out


def d_exec_comment(toks, ctx):
    """Wraps a span of tokens in /*!VER ... */ or /*M!VER ... */."""
    r = ctx.rng
    words = [i for i, t in enumerate(toks) if t != b" "]
    if len(words) < 1:
        return toks
    a = r.choice(words)
    b = r.choice([w for w in words if w >= a])
    ver = r.choice(versions() + [""])
    head = r.choice([b"/*!", b"/*M!"]) if ver else b"/*!"
    opener = head + ver.encode() + r.choice([b" ", b"", b"\n"])
    out = toks[:a] + [opener] + toks[a:b + 1] + [r.choice([b" */", b"*/"])] + toks[b + 1:]
    ctx.names.append(f"exec-comment:{head.decode()}{ver}")
    return out


def d_exec_hide(toks, ctx):
    """A benign start whose rest the server may or may not read, depending on version."""
    r = ctx.rng
    ver = r.choice(versions())
    head = r.choice([b"/*!", b"/*M!"])
    body = b"".join(toks)
    form = r.randrange(4)
    if form == 0:
        out = b"SELECT 1 " + head + ver.encode() + b" ; " + body + b" */"
    elif form == 1:
        out = head + ver.encode() + b" " + body + b" */"
    elif form == 2:
        out = b"/*!" + ver.encode() + b" /* */ " + body + b" */"
    else:
        out = b"SELECT 1 /* " + head + ver.encode() + b" */ ; " + body
    ctx.names.append(f"exec-hide{form}:{head.decode()}{ver}")
    return [out]


def quote_ident(name: bytes, style: int) -> bytes:
    if style == 0:
        return b"`" + name + b"`"
    if style == 1:
        return b'"' + name + b'"'
    if style == 2:
        return name.upper()
    return name


def d_quote(toks, ctx):
    r = ctx.rng
    style = r.choice([0, 0, 1])
    if style == 1 and "ANSI_QUOTES" not in ctx.sql_mode and r.random() < 0.8:
        ctx.sql_mode = "ANSI_QUOTES" if not ctx.sql_mode else ctx.sql_mode + ",ANSI_QUOTES"
    out = []
    for t in toks:
        parts = re.split(rb"(\.)", t)
        new = []
        for p in parts:
            if p.decode("latin1") in IDENTS and r.random() < 0.8:
                new.append(quote_ident(p, style))
            elif p == b"." and r.random() < 0.3:
                new.append(r.choice([b" . ", b"/**/./**/", b"\n.", b". "]))
            else:
                new.append(p)
        out.append(b"".join(new))
    ctx.names.append("quote:" + ["backtick", "ansi-dq", "upper", "bare"][style])
    return out


def d_case(toks, ctx):
    r = ctx.rng
    out = []
    for t in toks:
        if KEYWORDS.match(t) and t.decode() not in IDENTS:
            t = bytes(c ^ 0x20 if chr(c).isalpha() and r.random() < 0.5 else c for c in t)
        out.append(t)
    ctx.names.append("case")
    return out


def string_trick(ctx) -> tuple[bytes, bytes]:
    """An opening that a reader may take as an unterminated string/identifier."""
    r = ctx.rng
    form = r.randrange(7)
    lead = bytes([r.choice(LEADS)])
    if form == 0:
        ctx.charset = r.choice(MB_CHARSETS)
        return b"SELECT 'a" + lead + b"\\' , ", b" -- '"
    if form == 1:
        ctx.sql_mode = r.choice(["NO_BACKSLASH_ESCAPES", "ANSI_QUOTES,NO_BACKSLASH_ESCAPES", ""])
        return b"SELECT 'a\\' , ", b" -- '"
    if form == 2:
        ctx.charset = r.choice(MB_CHARSETS + ["utf8mb4"])
        return b"SELECT 1 AS `a" + lead + b"` , ", b" -- `"
    if form == 3:
        ctx.sql_mode = r.choice(["ANSI_QUOTES", "", "NO_BACKSLASH_ESCAPES"])
        return b'SELECT "a\\" , ', b' -- "'
    if form == 4:
        ctx.charset = r.choice(MB_CHARSETS)
        ctx.sql_mode = r.choice(["ANSI_QUOTES", ""])
        return b'SELECT "a' + lead + b'\\" , ', b' -- "'
    if form == 5:
        ctx.charset = r.choice(MB_CHARSETS)
        return b"SELECT _binary'a" + lead + b"\\' , ", b" -- '"
    ctx.charset = r.choice(MB_CHARSETS)
    return b"SELECT X'" + lead.hex().encode() + b"' , 'a" + lead + b"\\' , ", b" -- '"


def d_string_confusion(toks, ctx, payload: Payload):
    head, tail = string_trick(ctx)
    body = b"".join(toks)
    r = ctx.rng
    if payload.kind == "query" and r.random() < 0.6:
        out = head + b"( " + body + b" )" + tail
    else:
        out = head[:-2].rstrip(b" ,") + b" ; " + body + tail
    ctx.names.append("string-confusion:" + ctx.charset + ":" + ctx.sql_mode)
    return [out]


def d_odbc(toks, ctx, payload: Payload):
    r = ctx.rng
    body = b"".join(toks)
    if payload.kind == "query":
        w = r.choice([b"x", b"fn", b"d", b"oj", CANARY_DB.encode(), b"ts"])
        out = b"SELECT { " + w + b" ( " + body + b" ) } AS x"
    else:
        out = b"{ x " + body + b" }"
    ctx.names.append("odbc")
    return [out]


def d_multi(toks, ctx):
    r = ctx.rng
    body = b"".join(toks)
    sep = r.choice([b";", b"; ", b";\n", b" ;/**/", b";#\n", b";-- \n"])
    form = r.randrange(4)
    if form == 0:
        out = b"SELECT 1" + sep + body
    elif form == 1:
        out = body + sep + b"SELECT 1"
    elif form == 2:
        out = b"SET @dj=1" + sep + body + sep
    else:
        out = b"DO 1" + sep + b"DO 2" + sep + body
    ctx.names.append(f"multi{form}")
    return [out]


def d_set_statement(toks, ctx):
    ctx.names.append("set-statement-for")
    return [b"SET STATEMENT max_statement_time = 100 FOR "] + toks


def d_wrap_query(toks, ctx, payload: Payload):
    r = ctx.rng
    body = b"".join(toks)
    form = r.randrange(6)
    if payload.kind != "query":
        form = r.choice([3, 4, 5])
    if form == 0:
        out = b"( " + body + b" )"
    elif form == 1:
        out = b"SELECT * FROM ( " + body + b" ) AS dj_d"
    elif form == 2:
        out = b"SELECT 1 UNION ( " + body + b" )"
    elif form == 3:
        out = b"ANALYZE " + body
    elif form == 4:
        out = b"EXPLAIN " + body
    else:
        out = b"EXPLAIN FORMAT=JSON " + body
    ctx.names.append(f"wrap{form}")
    return [out]


def sql_string(body: bytes) -> bytes:
    return b"'" + body.replace(b"\\", b"\\\\").replace(b"'", b"''") + b"'"


def d_dynamic(toks, ctx):
    r = ctx.rng
    body = b"".join(toks)
    form = r.randrange(5)
    if form == 0:
        out = b"EXECUTE IMMEDIATE " + sql_string(body)
    elif form == 1:
        cut = r.randint(0, len(body))
        out = b"EXECUTE IMMEDIATE CONCAT(" + sql_string(body[:cut]) + b"," + sql_string(body[cut:]) + b")"
    elif form == 2:
        out = b"PREPARE dj_s FROM " + sql_string(body) + b"; EXECUTE dj_s"
    elif form == 3:
        out = b"BEGIN NOT ATOMIC " + body + b"; END"
    else:
        out = b"IF 1 THEN " + body + b"; END IF"
    ctx.names.append(f"dynamic{form}")
    return [out]


def d_set_list(toks, ctx, payload: Payload):
    """A SET statement whose first item is ordinary and a later one is the payload."""
    body = b"".join(toks)
    if not body.upper().startswith(b"SET "):
        return toks
    r = ctx.rng
    first = r.choice([b"@dj = 1", b"NAMES utf8mb4", b"wait_timeout = 100", b"@dj = 'a,b'", b"@dj = ( 1 )",
                      b"sql_mode = ''", b"@dj = 'x' ' , GLOBAL'"])
    out = b"SET " + first + b" , " + body[4:]
    ctx.names.append("set-list")
    return [out]


def d_mode(toks, ctx):
    ctx.sql_mode = ctx.rng.choice(SQL_MODES)
    ctx.names.append("mode:" + ctx.sql_mode)
    return toks


def d_charset(toks, ctx):
    ctx.charset = ctx.rng.choice(CHARSETS)
    ctx.names.append("charset:" + ctx.charset)
    return toks


def d_mb_ident(toks, ctx):
    """Multi-byte characters in identifiers and strings next to the names."""
    r = ctx.rng
    ctx.charset = r.choice(MB_CHARSETS)
    lead = bytes([r.choice(LEADS)])
    trail = r.choice([b"\\", b"`", b"'", b'"', b"@"])
    out = list(toks)
    i = r.randrange(len(out) + 1)
    form = r.randrange(3)
    if form == 0:
        ins = b" /* " + lead + trail + b" */ "
    elif form == 1:
        ins = b" `" + lead + trail + b"` "
    else:
        ins = b" '" + lead + trail + b"' "
    out.insert(i, ins)
    ctx.names.append(f"mb-ident{form}:{ctx.charset}:{lead.hex()}{trail.hex()}")
    return out


def d_no_schema(toks, ctx):
    ctx.schema = None
    ctx.names.append("no-schema")
    return toks


SIMPLE = [d_whitespace, d_comment, d_comment, d_exec_comment, d_exec_comment, d_quote, d_case, d_mode, d_charset,
          d_set_statement, d_multi, d_mb_ident, d_exec_hide, d_no_schema]
WITH_PAYLOAD = [d_string_confusion, d_string_confusion, d_odbc, d_wrap_query, d_set_list]
LATE = [d_dynamic]


def tokens(sql: bytes) -> list[bytes]:
    out = []
    for i, part in enumerate(sql.split(b" ")):
        if i:
            out.append(b" ")
        out.append(part)
    return out


def random_cases(seed: int, files: str) -> Iterator[Case]:
    r = random.Random(seed)
    n = 0
    while True:
        n += 1
        multi = r.random() < 0.08
        if multi:
            family, name, before, last = r.choice(MULTI)
            payload = Payload(name, family, last if isinstance(last, str) else last.decode("latin1"), "stmt")
            base = fill(last, n, files)
            pre = [fill(b, n, files) for b in before]
        else:
            payload = r.choice(P)
            base = fill(payload.sql, n, files)
            pre = [fill(b, n, files) for b in payload.steps_before]
        ctx = Ctx(r, "", "utf8mb4", [], [])
        toks = tokens(base)
        k = r.choice([0, 1, 1, 1, 2, 2, 3])
        for _ in range(k):
            if r.random() < 0.3:
                toks = r.choice(WITH_PAYLOAD)(toks, ctx, payload)
            else:
                toks = r.choice(SIMPLE)(toks, ctx)
        if r.random() < 0.05:
            toks = d_dynamic(toks, ctx)
        yield Case(pre + [b"".join(toks)], payload.family, payload.name, ctx.names, ctx.sql_mode, ctx.charset,
                   ctx.schema, payload.family != "ok")


# ----------------------------------------------------------------- exhaustive
# Short templates with one byte slot (and a few two-part slots), every byte, in the
# modes and charsets where a byte is read differently.

EXHAUSTIVE_TEMPLATES: list[tuple[str, bytes, list[tuple[str, str]]]] = [
    ("dash-comment", b"SELECT 1 --{b}( SELECT v FROM canary_db.t )", [("", "utf8mb4")]),
    ("dash-comment-newline", b"SELECT 1 --{b}x\n, ( SELECT v FROM canary_db.t )", [("", "utf8mb4")]),
    ("hash-comment", b"SELECT 1 #{b}\n, ( SELECT v FROM canary_db.t )", [("", "utf8mb4")]),
    ("block-comment", b"SELECT 1 /*{b}*/ , ( SELECT v FROM canary_db.t )", [("", "utf8mb4")]),
    ("ws-ddl", b"DROP{b}TABLE canary_db.t", [("", "utf8mb4"), ("", "latin1"), ("", "gbk")]),
    ("ws-before-dot", b"SELECT v FROM canary_db{b}.t", [("", "utf8mb4")]),
    ("ws-after-select", b"SELECT{b}v FROM canary_db.t", [("", "utf8mb4"), ("", "latin1")]),
    ("exec-after-bang", b"SELECT 1 /*!{b} , ( SELECT v FROM canary_db.t ) */", [("", "utf8mb4")]),
    ("exec-m-after-bang", b"SELECT 1 /*M!{b} , ( SELECT v FROM canary_db.t ) */", [("", "utf8mb4")]),
    ("string-lead-backslash", b"SELECT 'a{b}\\' , ( SELECT v FROM canary_db.t ) -- '",
     [("", c) for c in ("gbk", "sjis", "cp932", "big5", "utf8mb4", "latin1", "euckr", "ujis", "gb2312", "eucjpms")]),
    ("ident-lead-backtick", b"SELECT 1 AS `a{b}` , ( SELECT v FROM canary_db.t ) AS `x`",
     [("", c) for c in ("gbk", "sjis", "big5", "utf8mb4")]),
    ("dq-lead-backslash", b"SELECT \"a{b}\\\" , ( SELECT v FROM canary_db.t ) -- \"",
     [("", c) for c in ("gbk", "sjis", "big5")] + [("ANSI_QUOTES", "gbk")]),
    ("comment-lead-star", b"SELECT 1 /* {b}*/ , ( SELECT v FROM canary_db.t ) -- */",
     [("", c) for c in ("gbk", "sjis", "big5", "utf8mb4")]),
    ("escape-in-string", b"SELECT '\\{b}' , ( SELECT v FROM canary_db.t ) -- '",
     [("", "utf8mb4"), ("NO_BACKSLASH_ESCAPES", "utf8mb4"), ("", "gbk")]),
    ("ident-char", b"SELECT v FROM canary_db.t{b}", [("", "utf8mb4"), ("", "latin1")]),
    # Dynamic SQL's text converted to character_set_connection and back (review round 12),
    # each byte doubled, so that a backslash reaches the text as one,
    # and the same text with one character set, which the server reads as it arrives.
    ("conn-charset-byte", b"EXECUTE IMMEDIATE 'SELECT ''{b}{b}'' AS a, ( SELECT v FROM canary_db.t ) AS b, ''#'' AS c'",
     [("", c) for c in ("sjis/latin1", "sjis/utf8mb4", "ujis/latin1", "ujis/utf8mb4", "gbk/latin1", "big5/utf8mb4",
                        "sjis", "ujis")]),
    ("conn-charset-a1-byte",
     b"EXECUTE IMMEDIATE 'SELECT ''\xa1{b}'' AS a, '' , ( SELECT v FROM canary_db.t ) AS b -- '' AS c'",
     [("", c) for c in ("ujis/latin1", "ujis/utf8mb4", "ujis", "sjis/latin1")]),
    ("lead-before-set", b"SET @dj = '{b}\\' , GLOBAL max_connections = 3999 -- '",
     [("", c) for c in ("gbk", "sjis", "big5", "utf8mb4")]),
]


def exhaustive_cases() -> Iterator[Case]:
    for name, tpl, modes in EXHAUSTIVE_TEMPLATES:
        for mode, cs in modes:
            for b in range(256):
                sql = tpl.replace(b"{b}", bytes([b]))
                yield Case([sql], "ddl" if name.startswith("ws-ddl") else ("global" if name == "lead-before-set" else "read"),
                           "exhaustive:" + name, [f"byte:{b:02x}", "mode:" + mode, "charset:" + cs], mode, cs)
    # executable comment versions x placement
    for ver in versions() + ["", "5", "50", "500", "5000", "1000000", "0000000"]:
        for head in (b"/*!", b"/*M!"):
            for tpl in (b"SELECT 1 {h}{v} , ( SELECT v FROM canary_db.t ) */",
                        b"{h}{v} DROP TABLE canary_db.t */",
                        b"SELECT 1 {h}{v}; DROP TABLE canary_db.t */",
                        b"SET @dj=1 {h}{v} , GLOBAL max_connections = 3999 */",
                        b"SELECT 1 {h}{v} /* */ , ( SELECT v FROM canary_db.t ) */",
                        b"SELECT 1 /* {h}{v} */ , ( SELECT v FROM canary_db.t ) -- */"):
                sql = tpl.replace(b"{h}", head).replace(b"{v}", ver.encode())
                yield Case([sql], "read", "exhaustive:exec-version", [f"exec:{head.decode()}{ver}"])
    # '-- ' followed by every byte 0x00-0x20 in front of a canary read on the next line
    for b in range(0x21):
        for tail in (b"\n, ( SELECT v FROM canary_db.t )", b", ( SELECT v FROM canary_db.t )"):
            sql = b"SELECT 1 --" + bytes([b]) + tail
            yield Case([sql], "read", "exhaustive:dashdash-byte", [f"byte:{b:02x}"])
