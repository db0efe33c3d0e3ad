// One client-matrix session (see tests/integration/client_matrix.py) with Node's mysql2:
// `node session.js '<config JSON>'`. query() is the text protocol, execute() and
// prepare() are server-side prepared statements (COM_STMT_PREPARE / EXECUTE).
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const mysql = require('mysql2/promise');

const cfg = JSON.parse(process.argv[2]);
const S = cfg.schema;

function connect(tls) {
  const opts = {
    host: cfg.host, port: cfg.port, user: cfg.user, password: cfg.password, database: S,
    multipleStatements: true, supportBigNumbers: true, bigNumberStrings: true, dateStrings: true,
    charset: 'utf8mb4_general_ci',
  };
  if (tls) opts.ssl = { ca: fs.readFileSync(cfg.ca), rejectUnauthorized: true };
  return mysql.createConnection(opts);
}

function value(v) {
  if (Buffer.isBuffer(v)) return 'hex:' + v.toString('hex');
  if (typeof v === 'bigint') return v.toString();
  return v;
}

function fieldMeta(fields) {
  return (fields || []).map((f) => [f.catalog, f.schema, f.table, f.orgTable, f.name, f.orgName,
    f.characterSet, f.columnLength, f.columnType, f.flags, f.decimals]);
}

function outcome(res, fields) {
  if (Array.isArray(res)) return { rows: res.map((r) => r.map(value)) };
  return { affected: res.affectedRows, insert_id: value(res.insertId), info: res.info,
    warnings: res.warningStatus, status: res.serverStatus, changed: res.changedRows };
}

function error(e) {
  return { errno: e.errno, sqlstate: e.sqlState, code: e.code, message: e.sqlMessage };
}

async function step(conn, sql, params, opts = {}) {
  try {
    const call = opts.prepared ? conn.execute.bind(conn) : conn.query.bind(conn);
    const [res, fields] = await call({ sql, rowsAsArray: true }, params);
    const out = outcome(res, fields);
    if (opts.meta) out.meta = fieldMeta(fields);
    return out;
  } catch (e) {
    if (e.errno === undefined) throw e;
    return error(e);
  }
}

async function multi(conn, sql) {
  try {
    const [results] = await conn.query({ sql, rowsAsArray: true });
    return results.map((r) => outcome(r));
  } catch (e) {
    if (e.errno === undefined) throw e;
    return [error(e)];
  }
}

async function rows(conn) {
  return (await step(conn, `SELECT id, v, s FROM ${S}.t ORDER BY id`)).rows;
}

async function main() {
  const out = {};
  const conn = await connect(false);
  out.text_select = await step(conn, `SELECT id, v, s, d, ts FROM ${S}.t ORDER BY id`, [], { meta: true });
  out.alltypes = await step(conn, 'SELECT * FROM myproject_it.alltypes ORDER BY id', [], { meta: true });
  out.alltypes_prepared = await step(conn, 'SELECT * FROM myproject_it.alltypes WHERE id > ? ORDER BY id', [0],
    { meta: true, prepared: true });
  out.update = await step(conn, `UPDATE ${S}.t SET v = v + 1`);
  out.insert = await step(conn, `INSERT INTO ${S}.t (id, v, s) VALUES (3, 3, 'c'), (4, 4, 'd')`);
  out.insert_ignore = await step(conn, `INSERT IGNORE INTO ${S}.t (id, v, s) VALUES (1, 1, 'a'), (5, 5, 'e')`);
  out.show_warnings = await step(conn, 'SHOW WARNINGS');
  out.truncation = await step(conn, `UPDATE ${S}.t SET s = 'toolong' WHERE id = 5`);
  out.syntax = await step(conn, 'SELEC 1');
  out.server_error = await step(conn, `SELECT * FROM ${S}.no_such_table`);
  out.prepared_select = await step(conn, `SELECT id, v, s FROM ${S}.t WHERE id > ? ORDER BY id`, [2],
    { prepared: true, meta: true });
  out.prepared_update = await step(conn, `UPDATE ${S}.t SET s = ? WHERE id <= ?`, ['z', 2], { prepared: true });
  out.prepared_insert = await step(conn, `INSERT INTO ${S}.t (id, v, s) VALUES (?, ?, ?), (?, ?, ?)`,
    [8, 8, 'h', 9, 9, 'i'], { prepared: true });
  out.prepared_error = await step(conn, `INSERT INTO ${S}.t (id, v, s) VALUES (?, ?, ?)`, [8, 8, 'h'],
    { prepared: true });
  out.parameters = await step(conn, `SELECT id, s FROM ${S}.t WHERE id IN (?, ?) AND s <> ? ORDER BY id`,
    [1, 3, "it's"]);
  out.multi = await multi(conn, `UPDATE ${S}.t SET v = v + 10 WHERE id < 3; `
    + `INSERT INTO ${S}.t (id, v, s) VALUES (6, 6, 'f'), (7, 7, 'g'); SELECT COUNT(*) FROM ${S}.t`);
  const tx = { before: await rows(conn) };
  await conn.beginTransaction();
  await step(conn, `DELETE FROM ${S}.t WHERE id = 1`);
  await conn.rollback();
  tx.after_rollback = await rows(conn);
  await conn.beginTransaction();
  tx.update = await step(conn, `UPDATE ${S}.t SET v = 0 WHERE id = 2`);
  await conn.commit();
  tx.after_commit = await rows(conn);
  out.transaction = tx;

  const pattern = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  const size = cfg.blob_size;
  const data = Buffer.alloc(size);
  for (let i = 0; i < size; i += 256) pattern.copy(data, i, 0, Math.min(256, size - i));
  const blob = { insert: await step(conn, `INSERT INTO ${S}.blobs VALUES (?, ?)`, [1, data], { prepared: true }) };
  const digest = (b) => crypto.createHash('sha256').update(b).digest('hex');
  const [text] = await conn.query(`SELECT b FROM ${S}.blobs WHERE id = 1`);
  blob.digest = digest(text[0].b);
  const [binary] = await conn.execute(`SELECT b FROM ${S}.blobs WHERE id = ?`, [1]);
  blob.digest_prepared = digest(binary[0].b);
  blob.server = (await step(conn, `SELECT SHA2(b, 256), LENGTH(b) FROM ${S}.blobs`)).rows[0];
  blob.server[1] = Number(blob.server[1]);
  out.blob = blob;

  const prepared = await conn.prepare(`SELECT id, v, s FROM ${S}.t WHERE id = ? AND s = ?`);
  out.metadata = {
    prepare_columns: fieldMeta(prepared.statement.columns),
    prepare_parameters: fieldMeta(prepared.statement.parameters),
    show_tables: await step(conn, 'SHOW FULL TABLES'),
    show_columns: await step(conn, `SHOW FULL COLUMNS FROM ${S}.t`),
    show_create: await step(conn, `SHOW CREATE TABLE ${S}.t`),
    // Not SHOW INDEX: its Cardinality is an estimate InnoDB refreshes in the background.
    indexes: await step(conn, 'SELECT INDEX_NAME, SEQ_IN_INDEX, COLUMN_NAME, NON_UNIQUE, NULLABLE, INDEX_TYPE '
      + 'FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX',
    [S], { prepared: true }),
    columns: await step(conn, 'SELECT TABLE_NAME, COLUMN_NAME, ORDINAL_POSITION, COLUMN_DEFAULT, IS_NULLABLE, '
      + 'DATA_TYPE, COLUMN_TYPE, COLUMN_KEY, EXTRA, COLUMN_COMMENT FROM information_schema.COLUMNS '
      + 'WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME, ORDINAL_POSITION', [S], { prepared: true }),
    tables: await step(conn, 'SELECT TABLE_NAME, TABLE_TYPE, ENGINE, TABLE_COMMENT FROM information_schema.TABLES '
      + 'WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME', [S]),
    database: await step(conn, 'SELECT DATABASE(), CURRENT_USER()'),
  };
  await prepared.close();
  // Last, so that the table they create directly is in no listing above.
  out.prepared_refused = await step(conn, `CREATE TABLE ${S}.refused_prepared (id INT)`, [], { prepared: true });
  out.refused_create = await step(conn, `CREATE TABLE ${S}.refused (id INT)`);
  await conn.end();

  const tls = await connect(true);
  const [status] = await tls.query("SHOW SESSION STATUS WHERE Variable_name IN ('Ssl_version', 'Ssl_cipher')");
  const server = Object.fromEntries(status.map((r) => [r.Variable_name, r.Value]));
  out.tls = {
    encrypted: (server.Ssl_cipher || '') !== '',
    server_version: server.Ssl_version,
    client_protocol: tls.connection.stream.getProtocol(),
    select: await step(tls, 'SELECT ?, COUNT(*) FROM myproject_it.numbers', ['over tls'], { prepared: true }),
  };
  await tls.end();
  process.stdout.write(JSON.stringify(out, null, 1) + '\n');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
