"""One client-matrix session (see tests/integration/client_matrix.py) with a Python DB-API
driver: `python3 python_dbapi_session.py pymysql|mysqldb '<config JSON>'`.

Neither driver has a binary-protocol prepared statement API, so server-side prepared
statements are SQL's PREPARE/EXECUTE, which the server prepares and keeps all the same.
Errors print the exception class (what DataJoint catches) and the code; the Python
drivers do not keep the SQLSTATE.
"""
import datetime
import decimal
import hashlib
import json
import sys

DRIVER = sys.argv[1]
CFG = json.loads(sys.argv[2])
S = CFG["schema"]

if DRIVER == "pymysql":
    import pymysql as db
    from pymysql.constants import CLIENT
else:
    import MySQLdb as db
    from MySQLdb.constants import CLIENT


def connect(tls=False):
    kw = dict(host=CFG["host"], port=CFG["port"], user=CFG["user"], charset="utf8mb4",
              client_flag=CLIENT.MULTI_STATEMENTS | CLIENT.MULTI_RESULTS)
    if DRIVER == "pymysql":
        kw.update(password=CFG["password"], database=S, max_allowed_packet=1 << 30, autocommit=True)
        if tls:
            kw.update(ssl_ca=CFG["ca"], ssl_verify_cert=True, ssl_verify_identity=True)
        return db.connect(**kw)
    kw.update(passwd=CFG["password"], db=S)
    if tls:
        # libmariadb verifies the certificate against the CA and the host name.
        kw.update(ssl={"ca": CFG["ca"]})
    conn = db.connect(**kw)
    conn.autocommit(True)
    return conn


def value(v):
    if isinstance(v, (bytes, bytearray)):
        return "hex:" + bytes(v).hex()
    if isinstance(v, (decimal.Decimal, datetime.date, datetime.time, datetime.timedelta)):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, set):
        return sorted(v)
    return v


def text(v):
    return v.decode() if isinstance(v, bytes) else v


def field_metadata(cur):
    """The driver's own column metadata of the last result."""
    meta = {"description": [list(map(value, d)) for d in cur.description or []]}
    if DRIVER == "pymysql":
        meta["fields"] = [[text(x) for x in (f.catalog, f.db, f.table_name, f.org_table, f.name, f.org_name,
                                             f.charsetnr, f.length, f.type_code, f.flags, f.scale)]
                          for f in cur._result.fields]
    else:
        meta["flags"] = list(cur.description_flags or [])
    return meta


def status(conn, cur):
    if DRIVER == "pymysql":
        r = cur._result
        info = r.message.decode() if r.message else None
        return {"affected": r.affected_rows, "insert_id": r.insert_id, "warnings": r.warning_count, "info": info}
    return {"affected": cur.rowcount, "insert_id": conn.insert_id(), "warnings": conn.warning_count(),
            "info": conn.info()}


def outcome(conn, cur):
    if cur.description:
        return {"rows": [[value(v) for v in row] for row in cur.fetchall()]}
    return status(conn, cur)


def error(e):
    return {"errno": e.args[0], "class": type(e).__name__, "message": e.args[1] if len(e.args) > 1 else None}


def step(conn, sql, args=None, meta=False):
    cur = conn.cursor()
    try:
        cur.execute(sql, args)
        out = outcome(conn, cur)
        if meta:
            out["meta"] = field_metadata(cur)
        return out
    except db.MySQLError as e:
        return error(e)
    finally:
        cur.close()


def multi(conn, sql):
    cur = conn.cursor()
    results = []
    try:
        cur.execute(sql)
        while True:
            results.append(outcome(conn, cur))
            if not cur.nextset():
                break
    except db.MySQLError as e:
        results.append(error(e))
    cur.close()
    return results


def rows(conn):
    return step(conn, f"SELECT id, v, s FROM {S}.t ORDER BY id")["rows"]


def main():
    out = {}
    conn = connect()
    out["text_select"] = step(conn, f"SELECT id, v, s, d, ts FROM {S}.t ORDER BY id", meta=True)
    out["alltypes"] = step(conn, "SELECT * FROM myproject_it.alltypes ORDER BY id", meta=True)
    out["update"] = step(conn, f"UPDATE {S}.t SET v = v + 1")
    out["insert"] = step(conn, f"INSERT INTO {S}.t (id, v, s) VALUES (3, 3, 'c'), (4, 4, 'd')")
    out["insert_ignore"] = step(conn, f"INSERT IGNORE INTO {S}.t (id, v, s) VALUES (1, 1, 'a'), (5, 5, 'e')")
    out["show_warnings"] = step(conn, "SHOW WARNINGS")
    out["truncation"] = step(conn, f"UPDATE {S}.t SET s = 'toolong' WHERE id = 5")
    out["syntax"] = step(conn, "SELEC 1")
    out["server_error"] = step(conn, f"SELECT * FROM {S}.no_such_table")
    out["prepared"] = multi(conn, f"PREPARE q FROM 'SELECT id, v, s FROM {S}.t WHERE id > ? ORDER BY id'; "
                                  f"EXECUTE q USING 2; PREPARE u FROM 'UPDATE {S}.t SET s = ? WHERE id <= ?'; "
                                  "EXECUTE u USING 'z', 2; DEALLOCATE PREPARE q; DEALLOCATE PREPARE u")
    out["parameters"] = step(conn, f"SELECT id, s FROM {S}.t WHERE id IN (%s, %s) AND s <> %s ORDER BY id",
                             (1, 3, "it's"))
    out["multi"] = multi(conn, f"UPDATE {S}.t SET v = v + 10 WHERE id < 3; "
                               f"INSERT INTO {S}.t (id, v, s) VALUES (6, 6, 'f'), (7, 7, 'g'); "
                               f"SELECT COUNT(*) FROM {S}.t")
    tx = {"before": rows(conn)}
    conn.begin()
    step(conn, f"DELETE FROM {S}.t WHERE id = 1")
    conn.rollback()
    tx["after_rollback"] = rows(conn)
    conn.begin()
    tx["update"] = step(conn, f"UPDATE {S}.t SET v = 0 WHERE id = 2")
    conn.commit()
    tx["after_commit"] = rows(conn)
    out["transaction"] = tx

    pattern = bytes(range(256))
    size = CFG["blob_size"]
    data = pattern * (size // 256) + pattern[:size % 256]
    blob = {"insert": step(conn, f"INSERT INTO {S}.blobs VALUES (1, %s)", (data,))}
    del data
    cur = conn.cursor()
    cur.execute(f"SELECT b FROM {S}.blobs WHERE id = 1")
    blob["digest"] = hashlib.sha256(cur.fetchone()[0]).hexdigest()
    cur.close()
    blob["server"] = step(conn, f"SELECT SHA2(b, 256), LENGTH(b) FROM {S}.blobs")["rows"][0]
    out["blob"] = blob

    out["metadata"] = {
        "show_tables": step(conn, "SHOW FULL TABLES"),
        "show_columns": step(conn, f"SHOW FULL COLUMNS FROM {S}.t"),
        "show_create": step(conn, f"SHOW CREATE TABLE {S}.t"),
        # Not SHOW INDEX: its Cardinality is an estimate InnoDB refreshes in the background.
        "indexes": step(conn, "SELECT INDEX_NAME, SEQ_IN_INDEX, COLUMN_NAME, NON_UNIQUE, NULLABLE, INDEX_TYPE "
                              "FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = %s "
                              "ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX", (S,)),
        "columns": step(conn, "SELECT TABLE_NAME, COLUMN_NAME, ORDINAL_POSITION, COLUMN_DEFAULT, IS_NULLABLE, "
                              "DATA_TYPE, COLUMN_TYPE, COLUMN_KEY, EXTRA, COLUMN_COMMENT FROM "
                              "information_schema.COLUMNS WHERE TABLE_SCHEMA = %s "
                              "ORDER BY TABLE_NAME, ORDINAL_POSITION", (S,)),
        "tables": step(conn, "SELECT TABLE_NAME, TABLE_TYPE, ENGINE, TABLE_COMMENT FROM information_schema.TABLES "
                             "WHERE TABLE_SCHEMA = %s ORDER BY TABLE_NAME", (S,)),
        "database": step(conn, "SELECT DATABASE(), CURRENT_USER()"),
    }
    # Last, so that the table it creates directly is in no listing above.
    out["refused_create"] = step(conn, f"CREATE TABLE {S}.refused (id INT)")
    conn.close()

    tls = connect(tls=True)
    cur = tls.cursor()
    cur.execute("SHOW SESSION STATUS WHERE Variable_name IN ('Ssl_version', 'Ssl_cipher')")
    server = dict(cur.fetchall())
    cur.close()
    out["tls"] = {"encrypted": server.get("Ssl_cipher", "") != "", "server_version": server.get("Ssl_version"),
                  "select": step(tls, "SELECT %s, COUNT(*) FROM myproject_it.numbers", ("over tls",))}
    if DRIVER == "pymysql":
        out["tls"]["client_protocol"] = tls._sock.version()
    tls.close()
    print(json.dumps(out, indent=1, sort_keys=True))


main()
