// One client-matrix session (see tests/integration/client_matrix.py) with MariaDB
// Connector/J: `java -cp mariadb-java-client.jar:. Session '<config JSON>'`. Run on
// demand by scripts/connectorj.sh, not by the test command. Server-side prepared
// statements (useServerPrepStmts), batches, DatabaseMetaData, a 30 MB blob, TLS.
import java.security.MessageDigest;
import java.sql.*;
import java.util.*;
import java.util.regex.*;

public class Session {
  static Map<String, Object> cfg = new LinkedHashMap<>();
  static String S;

  // The config is one flat JSON object of strings and integers.
  static void parseConfig(String json) {
    Matcher m = Pattern.compile("\"(\\w+)\"\\s*:\\s*(\"((?:[^\"\\\\]|\\\\.)*)\"|-?\\d+)").matcher(json);
    while (m.find()) cfg.put(m.group(1), m.group(3) != null ? m.group(3).replace("\\/", "/") : Long.valueOf(m.group(2)));
  }

  static Connection connect(boolean tls) throws SQLException {
    String url = "jdbc:mariadb://" + cfg.get("host") + ":" + cfg.get("port") + "/" + S
        + "?useServerPrepStmts=true&allowMultiQueries=true&useBulkStmts=false";
    Properties p = new Properties();
    p.setProperty("user", (String) cfg.get("user"));
    p.setProperty("password", (String) cfg.get("password"));
    if (tls) {
      p.setProperty("useSsl", "true");
      p.setProperty("serverSslCert", (String) cfg.get("ca"));
    }
    return DriverManager.getConnection(url, p);
  }

  static Object value(Object v) throws SQLException {
    if (v == null || v instanceof Number || v instanceof Boolean || v instanceof String) return v;
    if (v instanceof byte[]) return "hex:" + hex((byte[]) v);
    if (v instanceof Blob) return "hex:" + hex(((Blob) v).getBytes(1, (int) ((Blob) v).length()));
    if (v instanceof Clob) return ((Clob) v).getSubString(1, (int) ((Clob) v).length());
    return v.toString();
  }

  static String hex(byte[] b) {
    StringBuilder s = new StringBuilder(b.length * 2);
    for (byte x : b) s.append(String.format("%02x", x));
    return s.toString();
  }

  static List<Object> rows(ResultSet rs) throws SQLException {
    List<Object> out = new ArrayList<>();
    int n = rs.getMetaData().getColumnCount();
    while (rs.next()) {
      List<Object> row = new ArrayList<>();
      for (int i = 1; i <= n; i++) row.add(value(rs.getObject(i)));
      out.add(row);
    }
    return out;
  }

  static List<Object> meta(ResultSetMetaData m) throws SQLException {
    List<Object> out = new ArrayList<>();
    for (int i = 1; i <= m.getColumnCount(); i++) {
      out.add(Arrays.asList(m.getCatalogName(i), m.getTableName(i), m.getColumnName(i), m.getColumnLabel(i),
          m.getColumnType(i), m.getColumnTypeName(i), m.getColumnClassName(i), m.getPrecision(i), m.getScale(i),
          m.isNullable(i), m.isSigned(i), m.isAutoIncrement(i), m.getColumnDisplaySize(i)));
    }
    return out;
  }

  static Map<String, Object> error(SQLException e) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("errno", e.getErrorCode());
    m.put("sqlstate", e.getSQLState());
    // Connector/J adds its own context to the server's text: the connection id, which
    // differs between any two connections, and the query.
    String msg = e.getMessage();
    m.put("message", msg == null ? null : msg.replaceAll("(?s)\\nQuery is:.*", "").replaceAll("^\\(conn=\\d+\\) ", ""));
    m.put("class", e.getClass().getSimpleName());
    return m;
  }

  static int warnings(Statement st) throws SQLException {
    int n = 0;
    for (SQLWarning w = st.getWarnings(); w != null; w = w.getNextWarning()) n++;
    return n;
  }

  interface Step { Object run() throws Exception; }

  static Object step(Step s) throws Exception {
    try {
      return s.run();
    } catch (SQLException e) {
      return error(e);
    }
  }

  static Object exec(Connection c, String sql, boolean meta) throws Exception {
    return step(() -> {
      try (Statement st = c.createStatement()) {
        Map<String, Object> m = new LinkedHashMap<>();
        if (st.execute(sql)) {
          ResultSet rs = st.getResultSet();
          m.put("rows", rows(rs));
          if (meta) m.put("meta", meta(rs.getMetaData()));
        } else {
          m.put("affected", st.getUpdateCount());
        }
        m.put("warnings", warnings(st));
        return m;
      }
    });
  }

  static Object prepared(Connection c, String sql, Object... args) throws Exception {
    return step(() -> {
      try (PreparedStatement st = c.prepareStatement(sql)) {
        for (int i = 0; i < args.length; i++) st.setObject(i + 1, args[i]);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("parameters", st.getParameterMetaData().getParameterCount());
        if (st.execute()) {
          ResultSet rs = st.getResultSet();
          m.put("rows", rows(rs));
          m.put("meta", meta(rs.getMetaData()));
        } else {
          m.put("affected", st.getUpdateCount());
        }
        return m;
      }
    });
  }

  static Object multi(Connection c, String sql) throws Exception {
    return step(() -> {
      List<Object> out = new ArrayList<>();
      try (Statement st = c.createStatement()) {
        boolean rs = st.execute(sql);
        while (true) {
          if (rs) out.add(rows(st.getResultSet()));
          else if (st.getUpdateCount() != -1) out.add(st.getUpdateCount());
          else break;
          rs = st.getMoreResults();
        }
      }
      return out;
    });
  }

  static Object metaRows(ResultSet rs, String... columns) throws SQLException {
    List<Object> out = new ArrayList<>();
    try (rs) {
      while (rs.next()) {
        List<Object> row = new ArrayList<>();
        for (String col : columns) row.add(value(rs.getObject(col)));
        out.add(row);
      }
    }
    return out;
  }

  static String sha256(byte[] b) throws Exception {
    return hex(MessageDigest.getInstance("SHA-256").digest(b));
  }

  public static void main(String[] argv) throws Exception {
    parseConfig(argv[0]);
    S = (String) cfg.get("schema");
    Map<String, Object> out = new LinkedHashMap<>();
    Connection c = connect(false);
    String t = S + ".t";
    out.put("text_select", exec(c, "SELECT id, v, s, d, ts FROM " + t + " ORDER BY id", true));
    out.put("alltypes", exec(c, "SELECT * FROM myproject_it.alltypes ORDER BY id", true));
    out.put("alltypes_prepared", prepared(c, "SELECT * FROM myproject_it.alltypes WHERE id > ? ORDER BY id", 0));
    out.put("update", exec(c, "UPDATE " + t + " SET v = v + 1", false));
    out.put("insert", exec(c, "INSERT INTO " + t + " (id, v, s) VALUES (3, 3, 'c'), (4, 4, 'd')", false));
    out.put("insert_ignore", exec(c, "INSERT IGNORE INTO " + t + " (id, v, s) VALUES (1, 1, 'a'), (5, 5, 'e')", false));
    out.put("syntax", exec(c, "SELEC 1", false));
    out.put("server_error", exec(c, "SELECT * FROM " + S + ".no_such_table", false));
    out.put("prepared_select", prepared(c, "SELECT id, v, s FROM " + t + " WHERE id > ? ORDER BY id", 2));
    out.put("prepared_update", prepared(c, "UPDATE " + t + " SET s = ? WHERE id <= ?", "z", 2));
    out.put("prepared_error", prepared(c, "INSERT INTO " + t + " (id, v, s) VALUES (?, ?, ?)", 1, 1, "a"));
    out.put("batch_prepared", step(() -> {
      try (PreparedStatement st = c.prepareStatement("INSERT INTO " + t + " (id, v, s) VALUES (?, ?, ?)")) {
        for (int i = 10; i < 13; i++) {
          st.setInt(1, i);
          st.setInt(2, i);
          st.setString(3, "b" + i);
          st.addBatch();
        }
        return Arrays.toString(st.executeBatch());
      }
    }));
    out.put("batch_text", step(() -> {
      try (Statement st = c.createStatement()) {
        st.addBatch("UPDATE " + t + " SET v = v + 1 WHERE id >= 10");
        st.addBatch("INSERT INTO " + t + " (id, v, s) VALUES (13, 13, 'b13')");
        return Arrays.toString(st.executeBatch());
      }
    }));
    out.put("batch_error", step(() -> {
      try (PreparedStatement st = c.prepareStatement("INSERT INTO " + t + " (id, v, s) VALUES (?, 0, 'x')")) {
        st.setInt(1, 14);
        st.addBatch();
        st.setInt(1, 14);
        st.addBatch();
        return Arrays.toString(st.executeBatch());
      } catch (BatchUpdateException e) {
        Map<String, Object> m = error(e);
        m.put("counts", Arrays.toString(e.getUpdateCounts()));
        return m;
      }
    }));
    out.put("multi", multi(c, "UPDATE " + t + " SET v = v + 10 WHERE id < 3; INSERT INTO " + t
        + " (id, v, s) VALUES (6, 6, 'f'), (7, 7, 'g'); SELECT COUNT(*) FROM " + t));
    Map<String, Object> tx = new LinkedHashMap<>();
    String all = "SELECT id, v, s FROM " + t + " ORDER BY id";
    tx.put("before", exec(c, all, false));
    c.setAutoCommit(false);
    exec(c, "DELETE FROM " + t + " WHERE id = 1", false);
    c.rollback();
    tx.put("after_rollback", exec(c, all, false));
    tx.put("update", exec(c, "UPDATE " + t + " SET v = 0 WHERE id = 2", false));
    c.commit();
    c.setAutoCommit(true);
    tx.put("after_commit", exec(c, all, false));
    out.put("transaction", tx);

    int size = ((Long) cfg.get("blob_size")).intValue();
    byte[] data = new byte[size];
    for (int i = 0; i < size; i++) data[i] = (byte) i;
    Map<String, Object> blob = new LinkedHashMap<>();
    blob.put("insert", prepared(c, "INSERT INTO " + S + ".blobs VALUES (?, ?)", 1, data));
    data = null;
    try (PreparedStatement st = c.prepareStatement("SELECT b FROM " + S + ".blobs WHERE id = ?")) {
      st.setInt(1, 1);
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        blob.put("digest", sha256(rs.getBytes(1)));
      }
    }
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT b FROM " + S + ".blobs")) {
      rs.next();
      blob.put("digest_text", sha256(rs.getBytes(1)));
    }
    blob.put("server", exec(c, "SELECT SHA2(b, 256), LENGTH(b) FROM " + S + ".blobs", false));
    out.put("blob", blob);

    DatabaseMetaData md = c.getMetaData();
    Map<String, Object> meta = new LinkedHashMap<>();
    meta.put("product", md.getDatabaseProductName() + " " + md.getDatabaseProductVersion());
    meta.put("driver", md.getDriverName() + " " + md.getDriverVersion());
    meta.put("catalogs", metaRows(md.getCatalogs(), "TABLE_CAT"));
    meta.put("tables", metaRows(md.getTables(S, null, "%", null), "TABLE_CAT", "TABLE_NAME", "TABLE_TYPE", "REMARKS"));
    meta.put("columns", metaRows(md.getColumns(S, null, "t", "%"), "TABLE_NAME", "COLUMN_NAME", "DATA_TYPE",
        "TYPE_NAME", "COLUMN_SIZE", "DECIMAL_DIGITS", "NULLABLE", "COLUMN_DEF", "ORDINAL_POSITION", "IS_AUTOINCREMENT"));
    meta.put("primary_keys", metaRows(md.getPrimaryKeys(S, null, "t"), "TABLE_NAME", "COLUMN_NAME", "KEY_SEQ", "PK_NAME"));
    meta.put("index_info", metaRows(md.getIndexInfo(S, null, "t", false, false), "INDEX_NAME", "COLUMN_NAME", "NON_UNIQUE"));
    meta.put("procedures", metaRows(md.getProcedures("myproject_it", null, "%"), "PROCEDURE_NAME", "PROCEDURE_TYPE"));
    out.put("metadata", meta);
    // Last, so that the table it creates directly is in no listing above.
    out.put("refused_create", exec(c, "CREATE TABLE " + S + ".refused (id INT)", false));
    c.close();

    Map<String, Object> tls = new LinkedHashMap<>();
    try (Connection s = connect(true); Statement st = s.createStatement();
         ResultSet rs = st.executeQuery("SHOW SESSION STATUS WHERE Variable_name IN ('Ssl_version', 'Ssl_cipher')")) {
      Map<String, String> status = new HashMap<>();
      while (rs.next()) status.put(rs.getString(1), rs.getString(2));
      tls.put("encrypted", !status.getOrDefault("Ssl_cipher", "").isEmpty());
      tls.put("server_version", status.get("Ssl_version"));
      tls.put("select", prepared(s, "SELECT ?, COUNT(*) FROM myproject_it.numbers", "over tls"));
    } catch (SQLException e) {
      tls.put("connect", error(e));
    }
    out.put("tls", tls);
    StringBuilder sb = new StringBuilder();
    json(sb, out);
    System.out.println(sb);
  }

  static void json(StringBuilder sb, Object v) {
    if (v == null) {
      sb.append("null");
    } else if (v instanceof Map) {
      sb.append('{');
      boolean first = true;
      for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
        if (!first) sb.append(',');
        first = false;
        json(sb, e.getKey().toString());
        sb.append(':');
        json(sb, e.getValue());
      }
      sb.append('}');
    } else if (v instanceof List) {
      sb.append('[');
      boolean first = true;
      for (Object o : (List<?>) v) {
        if (!first) sb.append(',');
        first = false;
        json(sb, o);
      }
      sb.append(']');
    } else if (v instanceof Boolean || v instanceof Integer || v instanceof Long || v instanceof Short
        || v instanceof Byte) {
      sb.append(v);
    } else {
      // Everything else as text: floats and decimals keep the driver's own rendering.
      String s = v.toString();
      sb.append('"');
      for (char ch : s.toCharArray()) {
        if (ch == '"' || ch == '\\') sb.append('\\').append(ch);
        else if (ch < 0x20) sb.append(String.format("\\u%04x", (int) ch));
        else sb.append(ch);
      }
      sb.append('"');
    }
  }
}
