"""Statements production must let through (false-positive check).

cases(data_dir) yields (sql bytes, sql_mode, charset, schema, migration, source):
the DataJoint traces in tests/policy/data with the session state they had (phase
"prod-migration" runs in a migration session; statements that production rightly
refuses - schema changes outside a migration, SET GLOBAL, lineage deletes and
writes of user tables - are left out), and the first statements of common clients, transactions,
information_schema lookups, SHOW of the session's own schema, blobs.
"""
from __future__ import annotations

import glob
import json
import os

DJ_SQL_MODE = "NO_ZERO_DATE,NO_ZERO_IN_DATE,ERROR_FOR_DIVISION_BY_ZERO,STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION,ONLY_FULL_GROUP_BY"
DEFAULT_MODE = "STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION"

DDL_START = ("CREATE ", "DROP ", "ALTER ", "RENAME ", "TRUNCATE ", "SET GLOBAL")


def production_refuses(sql: str) -> bool:
    u = sql.lstrip().upper()
    if u.startswith("CREATE TABLE IF NOT EXISTS"):
        return False  # bookkeeping tables allowed, others answered by the proxy (rewrite)
    if u.startswith(DDL_START):
        return True
    if u.startswith("DELETE FROM `") and "`.`~LINEAGE`" in u and "TABLE_NAME = '~" not in u:
        return True
    # The upsert that follows that DELETE when DataJoint declares a user table writes the
    # table's lineage rows: migration sessions only, as the DELETE (and any INSERT of them).
    if u.startswith("INSERT INTO `") and "`.`~LINEAGE`" in u and "VALUES ('~" not in u:
        return True
    return False


CLIENT_INIT = [
    # mysqlclient / MySQLdb, PyMySQL
    "SET NAMES utf8mb4", "SET autocommit=0", "SET AUTOCOMMIT = 1", "SELECT @@version", "SHOW WARNINGS",
    "SELECT VERSION()", "SELECT DATABASE()", "SELECT CONNECTION_ID()", "SELECT 1",
    # node mysql2
    "SELECT @@max_allowed_packet", "SELECT @@session.transaction_isolation",
    # Connector/J
    "/* mysql-connector-j-8.2.0 (Revision: 06a1f724497fd81c6a659131fda822c9e5085b6c) */SELECT  "
    "@@session.auto_increment_increment AS auto_increment_increment, @@character_set_client AS "
    "character_set_client, @@character_set_connection AS character_set_connection, @@character_set_results AS "
    "character_set_results, @@character_set_server AS character_set_server, @@collation_server AS "
    "collation_server, @@collation_connection AS collation_connection, @@init_connect AS init_connect, "
    "@@interactive_timeout AS interactive_timeout, @@license AS license, @@lower_case_table_names AS "
    "lower_case_table_names, @@max_allowed_packet AS max_allowed_packet, @@net_write_timeout AS "
    "net_write_timeout, @@performance_schema AS performance_schema, @@sql_mode AS sql_mode, "
    "@@system_time_zone AS system_time_zone, @@time_zone AS time_zone, @@transaction_isolation AS "
    "transaction_isolation, @@wait_timeout AS wait_timeout",
    "SET character_set_results = NULL", "SET autocommit=1", "SHOW VARIABLES",
    "SELECT @@session.transaction_read_only", "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
    "SET SESSION TRANSACTION READ ONLY",
    # MariaDB Connector/J and Connector/C
    "set autocommit=1, sql_mode = concat(@@sql_mode,',STRICT_TRANS_TABLES')",
    "SET NAMES utf8mb4 COLLATE utf8mb4_unicode_ci", "SELECT @@max_allowed_packet, @@system_time_zone, "
    "@@time_zone, @@auto_increment_increment",
    # PHP PDO / mysqli
    "SET NAMES 'utf8mb4'", "SET CHARACTER SET utf8mb4", "SET time_zone = '+00:00'",
    # mariadb-dump
    "/*!40100 SET @@SQL_MODE='' */", "/*!40103 SET TIME_ZONE='+00:00' */", "SHOW VARIABLES LIKE 'gtid\\_mode'",
    "SELECT LOGFILE_GROUP_NAME, FILE_NAME, TOTAL_EXTENTS, INITIAL_SIZE, ENGINE, EXTRA FROM "
    "INFORMATION_SCHEMA.FILES WHERE FILE_TYPE = 'UNDO LOG' AND FILE_NAME IS NOT NULL",
    "SHOW TABLES", "LOCK TABLES `w` READ /*!32311 LOCAL */", "SHOW TABLE STATUS LIKE 'w'",
    "SET SQL_QUOTE_SHOW_CREATE=1", "SET SESSION character_set_results = 'binary'", "show create table `w`",
    "SET SESSION character_set_results = 'utf8mb4'", "show fields from `w`",
    "SELECT /*!40001 SQL_NO_CACHE */ `id`, `note` FROM `w`", "UNLOCK TABLES",
    "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ", "START TRANSACTION /*!40100 WITH CONSISTENT SNAPSHOT */",
    "SAVEPOINT sp", "ROLLBACK TO SAVEPOINT sp", "RELEASE SAVEPOINT sp", "show triggers like 'w'",
    "SHOW CREATE DATABASE IF NOT EXISTS `myproject_diff`", "/*!50003 SET @saved_cs_client = @@character_set_client */",
    "SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0",
    "SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0",
    "/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */",
    "/*!40101 SET NAMES utf8mb4 */",
    # sysbench oltp_read_write (text protocol form)
    "SELECT c FROM sbtest1 WHERE id=1", "SELECT c FROM sbtest1 WHERE id BETWEEN 1 AND 100",
    "SELECT SUM(k) FROM sbtest1 WHERE id BETWEEN 1 AND 100",
    "SELECT c FROM sbtest1 WHERE id BETWEEN 1 AND 100 ORDER BY c",
    "SELECT DISTINCT c FROM sbtest1 WHERE id BETWEEN 1 AND 100 ORDER BY c",
    "UPDATE sbtest1 SET k=k+1 WHERE id=1", "UPDATE sbtest1 SET c='x' WHERE id=1", "DELETE FROM sbtest1 WHERE id=2",
    "INSERT INTO sbtest1 (id, k, c, pad) VALUES (2, 1, 'c', 'p')",
    # transactions
    "BEGIN", "START TRANSACTION", "START TRANSACTION READ ONLY", "START TRANSACTION READ WRITE", "COMMIT",
    "ROLLBACK", "COMMIT WORK", "ROLLBACK AND NO CHAIN", "SET autocommit = 0",
    "SELECT * FROM myproject_diff.w FOR UPDATE", "SELECT * FROM w LOCK IN SHARE MODE",
    # information_schema lookups
    "SELECT * FROM information_schema.tables WHERE table_schema = 'myproject_diff'",
    "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'myproject_diff' AND TABLE_NAME = 'w'",
    "SELECT * FROM INFORMATION_SCHEMA.SCHEMATA", "SELECT * FROM `information_schema`.`KEY_COLUMN_USAGE`",
    "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()",
    "SELECT * FROM information_schema.PROCESSLIST WHERE ID = CONNECTION_ID()",
    # SHOW of the session's own schema
    "SHOW TABLES FROM myproject_diff", "SHOW FULL TABLES", "SHOW CREATE TABLE myproject_diff.w",
    "SHOW INDEX FROM w", "SHOW COLUMNS FROM w", "SHOW FULL COLUMNS FROM `w` IN `myproject_diff`", "DESCRIBE w",
    "DESC myproject_diff.w", "EXPLAIN SELECT * FROM w", "SHOW TABLE STATUS", "SHOW CREATE DATABASE myproject_diff",
    "SHOW DATABASES", "SHOW VARIABLES LIKE 'sql_mode'", "SHOW SESSION STATUS LIKE 'Threads%'",
    "SHOW CHARACTER SET", "SHOW COLLATION", "SHOW ENGINES", "SHOW GRANTS", "SELECT CURRENT_USER()",
    "SHOW CREATE PROCEDURE myproject_diff.p", "SHOW PROCEDURE STATUS WHERE Db = 'myproject_diff'",
    "SHOW KEYS FROM `myproject_diff`.`w`", "SHOW TABLES in `myproject_diff` LIKE \"~log\"",
    # the prefix schema's own objects
    "SELECT myproject_diff.f()", "CALL myproject_diff.p()", "SELECT NEXTVAL(myproject_diff.seq)",
    "SELECT * FROM myproject_diff.v", "HANDLER myproject_diff.w OPEN", "HANDLER w READ FIRST", "HANDLER w CLOSE",
    "USE myproject_diff", "SET @a = (SELECT COUNT(*) FROM w)", "SELECT * FROM w INTO @x",
    "INSERT INTO w (note) VALUES ('it''s'), ('a\\'b'), ('back\\\\slash')",
    "CREATE TEMPORARY TABLE tmp1 (a INT)", "DROP TEMPORARY TABLE IF EXISTS tmp1",
    "WITH x AS (SELECT 1 AS a) SELECT * FROM x", "SELECT 1 UNION SELECT 2", "DO 1", "SELECT 'information_schema'",
    "SELECT 'canary_db.t' AS not_a_table", "SELECT `canary_db` FROM (SELECT 1 AS canary_db) AS d",
    "SELECT * FROM w WHERE note = 'DROP TABLE canary_db.t'", "SELECT * FROM w -- DROP TABLE x",
    "SELECT * FROM w /* SET GLOBAL x=1 */", "SELECT 1; SELECT 2", "SET @x = 'SET GLOBAL max_connections=1'",
    "SET sql_mode = 'ANSI_QUOTES'", "SET NAMES gbk",
    "LOAD DATA LOCAL INFILE '/tmp/x.csv' INTO TABLE w",
    "SELECT GET_LOCK('myproject_diff.lock', 0)", "SELECT RELEASE_LOCK('myproject_diff.lock')",
    "SET SESSION wait_timeout = 28800", "SET @@session.net_read_timeout = 60", "KILL QUERY 999999",
]


def blobs():
    b = bytes(range(256))
    esc = b.replace(b"\\", b"\\\\").replace(b"'", b"\\'").replace(b"\x00", b"\\0")
    yield b"INSERT INTO myproject_diff.w (note) VALUES (X'" + b.hex().encode() + b"')"
    yield b"INSERT INTO myproject_diff.w (note) VALUES (_binary'" + esc + b"')"
    yield b"INSERT INTO myproject_diff.w (note) VALUES ('" + esc + b"')"
    yield b"INSERT INTO myproject_diff.w (note) VALUES (0x" + (b * 64).hex().encode() + b")"
    yield b"SELECT * FROM myproject_diff.w WHERE note = '" + esc * 16 + b"'"


def cases(data_dir):
    for f in sorted(glob.glob(os.path.join(data_dir, "*.jsonl"))):
        users = {}
        for line in open(f, encoding="utf-8"):
            j = json.loads(line)
            if "command" in j:
                if j["command"] == "Connect":
                    users[j.get("conn")] = j.get("arg", "")
                continue
            if users.get(j.get("conn"), "").startswith("root@"):
                continue  # the capture harness, not a worker
            sql, phase = j["sql"], j.get("phase") or ""
            migration = phase == "prod-migration" or "migration" in phase
            if not migration and production_refuses(sql):
                continue
            yield (sql.encode(), DJ_SQL_MODE, "utf8mb4", None, migration, f"{os.path.basename(f)}:{phase}")
    for sql in CLIENT_INIT:
        for schema in ("myproject_diff",):
            yield (sql.encode(), DEFAULT_MODE, "utf8mb4", schema, False, "client")
    for sql in blobs():
        for cs in ("utf8mb4", "latin1", "binary"):
            yield (sql, DEFAULT_MODE, cs, "myproject_diff", False, "blob:" + cs)
    # multi-byte strings whose trail byte is a backslash, as a client in that charset writes them
    for cs, ch in (("gbk", b"\x95\x5c"), ("sjis", b"\x95\x5c"), ("cp932", b"\x95\x5c"), ("big5", b"\xa5\x5c")):
        yield (b"INSERT INTO myproject_diff.w (note) VALUES ('" + ch + b"')", DEFAULT_MODE, cs, "myproject_diff",
               False, "mb:" + cs)
        yield (b"SELECT * FROM myproject_diff.w WHERE note = '" + ch + b"' AND id > 0", DEFAULT_MODE, cs,
               "myproject_diff", False, "mb:" + cs)
