<?php
// One client-matrix session (see client_matrix.py) with PHP's mysqli and PDO (mysqlnd),
// run directly against MariaDB and through djproxy by test_php_clients.py, which diffs
// the two outputs. Every outcome (result, info string, error code, warning PHP raised)
// is recorded, never fatal, so that a proxy that breaks the protocol shows up as a
// difference rather than a crash.
// Usage: php php_client_session.php '<config JSON>'
$cfg = json_decode($argv[1], true);
$S = $cfg['schema'];
$out = ['warnings' => []];
set_error_handler(function ($no, $msg) use (&$out) {
    $out['warnings'][] = $msg;
    return true;
});
mysqli_report(MYSQLI_REPORT_OFF);

// Binary strings are not valid JSON text: they print as hex, as the other clients do.
function value($v) {
    return is_string($v) && !preg_match('//u', $v) ? 'hex:' . bin2hex($v) : $v;
}

function values($rows) {
    return array_map(fn($r) => array_map('value', $r), $rows);
}

function blob_data($size) {
    $pattern = '';
    for ($i = 0; $i < 256; $i++) $pattern .= chr($i);
    return substr(str_repeat($pattern, intdiv($size, 256) + 1), 0, $size);
}

function mysqli_fields($res) {
    return array_map(fn($f) => [$f->catalog, $f->db, $f->table, $f->orgtable, $f->name, $f->orgname,
        $f->charsetnr, $f->length, $f->type, $f->flags, $f->decimals], $res->fetch_fields());
}

function mysqli_outcome($db, $res, $meta = false) {
    if ($res === false) return ['errno' => $db->errno, 'sqlstate' => $db->sqlstate, 'message' => $db->error];
    if ($res instanceof mysqli_result) {
        $r = ['rows' => values($res->fetch_all(MYSQLI_NUM))];
        if ($meta) $r['meta'] = mysqli_fields($res);
        return $r;
    }
    return ['affected' => $db->affected_rows, 'insert_id' => $db->insert_id, 'info' => $db->info,
        'warnings' => $db->warning_count];
}

function mysqli_connect_to($cfg, $tls) {
    $db = mysqli_init();
    $flags = 0;
    if ($tls) {
        $db->ssl_set(null, null, $cfg['ca'], null, null);
        $db->options(MYSQLI_OPT_SSL_VERIFY_SERVER_CERT, true);
        $flags = MYSQLI_CLIENT_SSL;
    }
    if (!@$db->real_connect($cfg['host'], $cfg['user'], $cfg['password'], $cfg['schema'], $cfg['port'], null, $flags)) {
        return null;
    }
    $db->set_charset('utf8mb4');
    return $db;
}

function run_mysqli($cfg) {
    $S = $cfg['schema'];
    $r = [];
    $db = mysqli_connect_to($cfg, false);
    if (!$db) return ['connect' => mysqli_connect_errno()];
    $q = fn($sql, $meta = false) => mysqli_outcome($db, $db->query($sql), $meta);
    $r['text_select'] = $q("SELECT id, v, s, d, ts FROM $S.t ORDER BY id", true);
    $r['alltypes'] = $q("SELECT * FROM myproject_it.alltypes ORDER BY id", true);
    $r['update'] = $q("UPDATE $S.t SET v = v + 1");
    $r['insert'] = $q("INSERT INTO $S.t (id, v, s) VALUES (3, 3, 'c'), (4, 4, 'd')");
    $r['insert_ignore'] = $q("INSERT IGNORE INTO $S.t (id, v, s) VALUES (1, 1, 'a'), (5, 5, 'e')");
    $r['show_warnings'] = $q("SHOW WARNINGS");
    $r['truncation'] = $q("UPDATE $S.t SET s = 'toolong' WHERE id = 5");
    $r['syntax'] = $q("SELEC 1");
    $r['server_error'] = $q("SELECT * FROM $S.no_such_table");
    $multi = [];
    if ($db->multi_query("UPDATE $S.t SET v = v + 10 WHERE id < 3; INSERT INTO $S.t (id, v, s) VALUES (6, 6, 'f'), (7, 7, 'g'); SELECT COUNT(*) FROM $S.t")) {
        do {
            $res = $db->store_result();
            $multi[] = mysqli_outcome($db, $res === false && $db->errno == 0 ? true : $res);
        } while ($db->more_results() && $db->next_result());
    }
    $multi[] = ['errno' => $db->errno];
    $r['multi'] = $multi;
    $st = $db->prepare("SELECT * FROM myproject_it.alltypes WHERE id > ? ORDER BY id");
    if ($st) {
        $min = 0;
        $st->bind_param('i', $min);
        $st->execute();
        $res = $st->get_result();
        $r['alltypes_prepared'] = ['rows' => values($res->fetch_all(MYSQLI_NUM)), 'meta' => mysqli_fields($res),
            'params' => $st->param_count];
        $st->close();
    } else {
        $r['alltypes_prepared'] = ['errno' => $db->errno];
    }
    $st = $db->prepare("UPDATE $S.t SET s = ? WHERE id <= ?");
    if ($st) {
        $s = 'z'; $id = 2;
        $st->bind_param('si', $s, $id);
        $st->execute();
        $r['prepared_update'] = ['affected' => $st->affected_rows, 'errno' => $st->errno, 'info' => $db->info];
        $st->close();
    } else {
        $r['prepared_update'] = ['errno' => $db->errno];
    }
    $tx = ['before' => $q("SELECT id, v, s FROM $S.t ORDER BY id")['rows']];
    $db->begin_transaction();
    $db->query("DELETE FROM $S.t WHERE id = 1");
    $db->rollback();
    $tx['after_rollback'] = $q("SELECT id, v, s FROM $S.t ORDER BY id")['rows'];
    $db->begin_transaction();
    $tx['update'] = $q("UPDATE $S.t SET v = 0 WHERE id = 2");
    $db->commit();
    $tx['after_commit'] = $q("SELECT id, v, s FROM $S.t ORDER BY id")['rows'];
    $r['transaction'] = $tx;

    // The blob goes as COM_STMT_SEND_LONG_DATA chunks and comes back as a text row.
    $data = blob_data($cfg['blob_size']);
    $st = $db->prepare("INSERT INTO $S.blobs VALUES (1, ?)");
    if (!$st) return $r + ['blob' => ['errno' => $db->errno]];
    $null = null;
    $st->bind_param('b', $null);
    foreach (str_split($data, 4 << 20) as $chunk) $st->send_long_data(0, $chunk);
    $blob = ['insert' => $st->execute() ? ['affected' => $st->affected_rows] : ['errno' => $st->errno]];
    $st->close();
    unset($data);
    $res = $db->query("SELECT b FROM $S.blobs WHERE id = 1");
    $blob['digest'] = $res ? hash('sha256', $res->fetch_row()[0]) : ['errno' => $db->errno];
    $row = $db->query("SELECT SHA2(b, 256), LENGTH(b) FROM $S.blobs")->fetch_row();
    $blob['server'] = [$row[0], (int)$row[1]];
    $r['blob'] = $blob;

    $r['metadata'] = [
        'show_tables' => $q("SHOW FULL TABLES"),
        'show_columns' => $q("SHOW FULL COLUMNS FROM $S.t"),
        'show_create' => $q("SHOW CREATE TABLE $S.t"),
        // Not SHOW INDEX: its Cardinality is an estimate InnoDB refreshes in the background.
        'indexes' => $q("SELECT INDEX_NAME, SEQ_IN_INDEX, COLUMN_NAME, NON_UNIQUE, NULLABLE, INDEX_TYPE FROM "
            . "information_schema.STATISTICS WHERE TABLE_SCHEMA = '$S' ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX"),
        'columns' => $q("SELECT TABLE_NAME, COLUMN_NAME, ORDINAL_POSITION, COLUMN_DEFAULT, IS_NULLABLE, DATA_TYPE, "
            . "COLUMN_TYPE, COLUMN_KEY, EXTRA, COLUMN_COMMENT FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '$S' "
            . "ORDER BY TABLE_NAME, ORDINAL_POSITION"),
        'database' => $q("SELECT DATABASE(), CURRENT_USER()"),
    ];
    // Last, so that the table it creates directly is in no listing above.
    $st = $db->prepare("CREATE TABLE $S.refused (id INT)");
    $r['prepared_refused'] = $st ? ['prepared' => true] : ['errno' => $db->errno, 'sqlstate' => $db->sqlstate];
    $r['refused_create'] = $q("CREATE TABLE $S.refused (id INT)");
    $r['ping'] = $db->ping();
    $db->close();

    $tls = mysqli_connect_to($cfg, true);
    if (!$tls) {
        $r['tls'] = ['connect' => mysqli_connect_errno(), 'error' => mysqli_connect_error()];
    } else {
        $status = $tls->query("SHOW SESSION STATUS WHERE Variable_name IN ('Ssl_version', 'Ssl_cipher')")->fetch_all();
        $server = array_column($status, 1, 0);
        $r['tls'] = ['encrypted' => ($server['Ssl_cipher'] ?? '') !== '', 'server_version' => $server['Ssl_version'] ?? null,
            'select' => mysqli_outcome($tls, $tls->query("SELECT 'over tls', COUNT(*) FROM myproject_it.numbers"))];
        $tls->close();
    }
    return $r;
}

function pdo_try($f) {
    try {
        return $f();
    } catch (PDOException $e) {
        return ['errno' => $e->errorInfo[1] ?? null, 'sqlstate' => $e->errorInfo[0] ?? $e->getCode(),
            'message' => $e->errorInfo[2] ?? $e->getMessage()];
    }
}

function pdo_connect_to($cfg, $tls) {
    $opts = [
        PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION,
        PDO::ATTR_EMULATE_PREPARES => false,  // server-side prepared statements
        PDO::MYSQL_ATTR_MULTI_STATEMENTS => true,
    ];
    if ($tls) {
        $opts[PDO::MYSQL_ATTR_SSL_CA] = $cfg['ca'];
        $opts[PDO::MYSQL_ATTR_SSL_VERIFY_SERVER_CERT] = true;
    }
    return new PDO("mysql:host={$cfg['host']};port={$cfg['port']};dbname={$cfg['schema']};charset=utf8mb4",
        $cfg['user'], $cfg['password'], $opts);
}

function run_pdo($cfg) {
    $S = $cfg['schema'];
    $r = [];
    try {
        $db = pdo_connect_to($cfg, false);
    } catch (PDOException $e) {
        return ['connect' => $e->getCode()];
    }
    $rows = fn($sql) => pdo_try(fn() => values($db->query($sql)->fetchAll(PDO::FETCH_NUM)));
    $r['update'] = pdo_try(fn() => $db->exec("UPDATE $S.t SET v = v + 100"));
    $r['insert'] = pdo_try(fn() => $db->exec("INSERT INTO $S.t (id, v, s) VALUES (17, 7, 'g'), (18, 8, 'h')"));
    $r['multi'] = pdo_try(fn() => $db->exec("UPDATE $S.t SET v = v + 1 WHERE id > 16; INSERT INTO $S.t (id, v, s) VALUES (19, 9, 'i'), (20, 10, 'j')"));
    $r['after_multi'] = $rows("SELECT COUNT(*) FROM $S.t");
    $r['refused_create'] = pdo_try(fn() => $db->exec("CREATE TABLE $S.refused_pdo (id INT)"));
    $r['syntax'] = pdo_try(fn() => $db->query("SELEC 1"));
    $r['server_error'] = pdo_try(fn() => $db->query("SELECT * FROM $S.no_such_table"));
    $r['prepared_select'] = pdo_try(function () use ($db, $S) {
        $st = $db->prepare("SELECT id, v, s, d, ts FROM $S.t WHERE id > ? ORDER BY id");
        $st->execute([5]);
        $meta = [];
        for ($i = 0; $i < $st->columnCount(); $i++) $meta[] = $st->getColumnMeta($i);
        return ['rows' => values($st->fetchAll(PDO::FETCH_NUM)), 'meta' => $meta];
    });
    $r['alltypes_prepared'] = pdo_try(function () use ($db) {
        $st = $db->prepare("SELECT * FROM myproject_it.alltypes WHERE id > ? ORDER BY id");
        $st->execute([0]);
        return values($st->fetchAll(PDO::FETCH_NUM));
    });
    $r['prepared_update'] = pdo_try(function () use ($db, $S) {
        $st = $db->prepare("UPDATE $S.t SET s = ? WHERE id > ?");
        $st->execute(['y', 17]);
        return $st->rowCount();
    });
    $r['transaction'] = pdo_try(function () use ($db, $S, $rows) {
        $before = $rows("SELECT id, v, s FROM $S.t ORDER BY id");
        $db->beginTransaction();
        $db->exec("DELETE FROM $S.t WHERE id = 1");
        $db->rollBack();
        $after_rollback = $rows("SELECT id, v, s FROM $S.t ORDER BY id");
        $db->beginTransaction();
        $n = $db->exec("UPDATE $S.t SET v = -1 WHERE id = 2");
        $db->commit();
        return [$before, $after_rollback, $n, $rows("SELECT id, v, s FROM $S.t ORDER BY id")];
    });
    $r['blob'] = pdo_try(function () use ($db, $S, $cfg) {
        $data = blob_data($cfg['blob_size']);
        $st = $db->prepare("INSERT INTO $S.blobs VALUES (2, ?)");
        $st->bindParam(1, $data, PDO::PARAM_LOB);
        $st->execute();
        unset($data);
        $st = $db->prepare("SELECT b FROM $S.blobs WHERE id = ?");
        $st->execute([2]);
        return ['digest' => hash('sha256', $st->fetchColumn()),
            'server' => $db->query("SELECT SHA2(b, 256), LENGTH(b) FROM $S.blobs WHERE id = 2")->fetch(PDO::FETCH_NUM)];
    });
    $r['tls'] = pdo_try(function () use ($cfg) {
        $tls = pdo_connect_to($cfg, true);
        $status = $tls->query("SHOW SESSION STATUS WHERE Variable_name IN ('Ssl_version', 'Ssl_cipher')")
            ->fetchAll(PDO::FETCH_KEY_PAIR);
        return ['encrypted' => ($status['Ssl_cipher'] ?? '') !== '', 'server_version' => $status['Ssl_version'] ?? null];
    });
    return $r;
}

// A connection the client gave up on shows as a difference, not as a crash.
foreach (['mysqli' => 'run_mysqli', 'pdo' => 'run_pdo'] as $api => $run) {
    try {
        $out[$api] = $run($cfg);
    } catch (Throwable $e) {
        $out[$api] = ['fatal' => get_class($e) . ': ' . $e->getMessage()];
    }
}
echo json_encode($out, JSON_PRETTY_PRINT | JSON_INVALID_UTF8_SUBSTITUTE), "\n";
