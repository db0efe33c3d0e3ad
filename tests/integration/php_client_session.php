<?php
// One PHP client session, run directly against MariaDB and through djproxy by
// test_php_clients.py, which diffs the two outputs. Every outcome (result, info
// string, error code, warning PHP raised) is recorded, never fatal, so that a proxy
// that breaks the protocol shows up as a difference rather than a crash.
// Usage: php php_client_session.php <port>
$port = (int)$argv[1];
$t = 'myproject_it.php_t';
$out = ['warnings' => []];
set_error_handler(function ($no, $msg) use (&$out) {
    $out['warnings'][] = $msg;
    return true;
});
mysqli_report(MYSQLI_REPORT_OFF);

function mysqli_outcome($db, $res) {
    if ($res === false) return ['errno' => $db->errno, 'sqlstate' => $db->sqlstate];
    if ($res instanceof mysqli_result) return ['rows' => $res->fetch_all(MYSQLI_NUM)];
    return ['affected' => $db->affected_rows, 'info' => $db->info, 'warnings' => $db->warning_count];
}

function run_mysqli($port, $t) {
    $r = [];
    $db = new mysqli('127.0.0.1', 'dj', 'djpass', 'myproject_it', $port);
    if ($db->connect_errno) return ['connect' => $db->connect_errno];
    foreach ([
        'update' => "UPDATE $t SET v = v + 1",
        'insert' => "INSERT INTO $t VALUES (3, 3, 'c'), (4, 4, 'd')",
        'refused' => "CREATE TABLE myproject_it.php_refused (id INT)",
        'syntax' => "SELEC 1",
        'select' => "SELECT id, v, s FROM $t ORDER BY id",
    ] as $k => $sql) {
        $r[$k] = mysqli_outcome($db, $db->query($sql));
    }
    $multi = [];
    if ($db->multi_query("UPDATE $t SET v = v + 10 WHERE id < 3; INSERT INTO $t VALUES (5, 5, 'e'), (6, 6, 'f'); SELECT COUNT(*) FROM $t")) {
        do {
            $res = $db->store_result();
            $multi[] = mysqli_outcome($db, $res === false && $db->errno == 0 ? true : $res);
        } while ($db->more_results() && $db->next_result());
    }
    $multi[] = ['errno' => $db->errno];
    $r['multi'] = $multi;
    $st = $db->prepare("SELECT id, v, s FROM $t WHERE id > ? ORDER BY id");
    if ($st) {
        $min = 2;
        $st->bind_param('i', $min);
        $st->execute();
        $r['prepared_select'] = $st->get_result()->fetch_all(MYSQLI_NUM);
        $st->close();
    } else {
        $r['prepared_select'] = ['errno' => $db->errno];
    }
    $st = $db->prepare("UPDATE $t SET s = ? WHERE id <= ?");
    if ($st) {
        $s = 'z'; $id = 4;
        $st->bind_param('si', $s, $id);
        $st->execute();
        $r['prepared_update'] = ['affected' => $st->affected_rows, 'errno' => $st->errno];
        $st->close();
    } else {
        $r['prepared_update'] = ['errno' => $db->errno];
    }
    $db->begin_transaction();
    $db->query("DELETE FROM $t WHERE id = 1");
    $db->rollback();
    $db->begin_transaction();
    $a = mysqli_outcome($db, $db->query("UPDATE $t SET v = 0 WHERE id = 2"));
    $db->commit();
    $r['transaction'] = [$a, mysqli_outcome($db, $db->query("SELECT id, v, s FROM $t ORDER BY id"))];
    $r['ping'] = $db->ping();
    $db->close();
    return $r;
}

function pdo_try($f) {
    try {
        return $f();
    } catch (PDOException $e) {
        return ['errno' => $e->errorInfo[1] ?? null, 'sqlstate' => $e->errorInfo[0] ?? $e->getCode()];
    }
}

function run_pdo($port, $t) {
    $r = [];
    try {
        $db = new PDO("mysql:host=127.0.0.1;port=$port;dbname=myproject_it;charset=utf8mb4", 'dj', 'djpass', [
            PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION,
            PDO::ATTR_EMULATE_PREPARES => false,  // server-side prepared statements
        ]);
    } catch (PDOException $e) {
        return ['connect' => $e->getCode()];
    }
    $r['update'] = pdo_try(fn() => $db->exec("UPDATE $t SET v = v + 100"));
    $r['insert'] = pdo_try(fn() => $db->exec("INSERT INTO $t VALUES (7, 7, 'g'), (8, 8, 'h')"));
    $r['multi'] = pdo_try(fn() => $db->exec("UPDATE $t SET v = v + 1 WHERE id > 6; INSERT INTO $t VALUES (9, 9, 'i'), (10, 10, 'j')"));
    $r['after_multi'] = pdo_try(fn() => $db->query("SELECT COUNT(*) FROM $t")->fetchAll(PDO::FETCH_NUM));
    $r['refused'] = pdo_try(fn() => $db->exec("CREATE TABLE myproject_it.php_refused_pdo (id INT)"));
    $r['syntax'] = pdo_try(fn() => $db->query("SELEC 1"));
    $r['prepared_select'] = pdo_try(function () use ($db, $t) {
        $st = $db->prepare("SELECT id, v, s FROM $t WHERE id > ? ORDER BY id");
        $st->execute([5]);
        return $st->fetchAll(PDO::FETCH_NUM);
    });
    $r['prepared_update'] = pdo_try(function () use ($db, $t) {
        $st = $db->prepare("UPDATE $t SET s = ? WHERE id > ?");
        $st->execute(['y', 8]);
        return $st->rowCount();
    });
    $r['transaction'] = pdo_try(function () use ($db, $t) {
        $db->beginTransaction();
        $db->exec("DELETE FROM $t WHERE id = 1");
        $db->rollBack();
        $db->beginTransaction();
        $n = $db->exec("UPDATE $t SET v = -1 WHERE id = 3");
        $db->commit();
        return [$n, $db->query("SELECT id, v, s FROM $t ORDER BY id")->fetchAll(PDO::FETCH_NUM)];
    });
    return $r;
}

$out['mysqli'] = run_mysqli($port, $t);
$out['pdo'] = run_pdo($port, $t);
echo json_encode($out, JSON_PRETTY_PRINT), "\n";
