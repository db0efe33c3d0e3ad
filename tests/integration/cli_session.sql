-- Piped through the mariadb CLI (batch mode, --force) directly and via djproxy.
SELECT id, c_int, c_decimal, c_varchar, HEX(c_blob), c_json, c_inet6 FROM alltypes ORDER BY id;
SELECT * FROM numbers WHERE n BETWEEN 10 AND 15\G
SET @a = 'variable';
SELECT @a, DATABASE(), CURRENT_USER();
USE information_schema;
SELECT TABLE_NAME FROM TABLES WHERE TABLE_SCHEMA = 'myproject_it' AND TABLE_NAME NOT LIKE 'it\_%' ORDER BY TABLE_NAME;
USE myproject_it;
CALL multi(3);
SELECT 1/0;
SHOW WARNINGS;
SELECT * FROM no_such_table;
SELECT 'after the error';
SELECT COUNT(*), SUM(n) FROM numbers;
