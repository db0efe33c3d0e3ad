"""Server-side prepared statements over pymysql's connection, packet by packet:
COM_STMT_PREPARE, COM_STMT_EXECUTE (no parameters) and COM_STMT_CLOSE, as
mysqlclient, Connector/J or mysql2 send them. pymysql itself prepares nothing on
the server."""
import struct

from pymysql.constants import COMMAND


def _read_until_eof(conn):
    while True:
        pkt = conn._read_packet()
        if pkt.is_eof_packet():
            return


def prepare(conn, sql):
    """Returns the statement id; raises the server's (or the proxy's) error."""
    conn._execute_command(COMMAND.COM_STMT_PREPARE, sql)
    first = conn._read_packet()  # raises on ERR
    data = first.get_all_data()
    statement_id, columns, params = struct.unpack("<IHH", data[1:9])
    if params:
        _read_until_eof(conn)
    if columns:
        _read_until_eof(conn)
    return statement_id


def execute(conn, statement_id):
    """Executes a statement without parameters; returns the number of rows."""
    conn._execute_command(COMMAND.COM_STMT_EXECUTE, struct.pack("<IBI", statement_id, 0, 1))
    first = conn._read_packet()
    if first.is_ok_packet():
        return 0
    _read_until_eof(conn)  # column definitions
    rows = 0
    while True:
        pkt = conn._read_packet()
        if pkt.is_eof_packet():
            return rows
        rows += 1


def close(conn, statement_id):
    conn._execute_command(COMMAND.COM_STMT_CLOSE, struct.pack("<I", statement_id))
