// Integration-test helpers on the libmysqlclient C API (MariaDB Connector/C):
// a Session that runs statements and writes everything a client can observe into a
// transcript (metadata, values byte for byte, NULLs, affected rows, status, warnings,
// errors), so a session run directly and through djproxy can be compared exactly.
#pragma once

#include <mysql.h>
#include <openssl/evp.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "djproxy_process.hpp"

namespace djit {

inline std::string sha256_hex(const void* data, size_t n) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_Digest(data, n, md, &len, EVP_sha256(), nullptr);
  static const char* hx = "0123456789abcdef";
  std::string s;
  for (unsigned i = 0; i < len; ++i) {
    s += hx[md[i] >> 4];
    s += hx[md[i] & 15];
  }
  return s;
}

// Deterministic pseudo-random bytes (every byte value appears, including 0, \, ').
inline std::string random_bytes(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  std::mt19937 rng(seed);
  for (size_t i = 0; i < n; i += 4) {
    uint32_t v = rng();
    for (size_t j = 0; j < 4 && i + j < n; ++j) s[i + j] = static_cast<char>(v >> (8 * j));
  }
  return s;
}

// Short values verbatim (non-printables escaped); long ones as length + SHA-256.
inline std::string show_bytes(const char* p, size_t n) {
  if (!p) return "NULL";
  if (n > 200) return "<" + std::to_string(n) + " bytes sha256=" + sha256_hex(p, n) + ">";
  std::string s = "'";
  char buf[8];
  for (size_t i = 0; i < n; ++i) {
    unsigned char c = static_cast<unsigned char>(p[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'') {
      s += static_cast<char>(c);
    } else {
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      s += buf;
    }
  }
  return s + "'";
}

struct ConnectOptions {
  std::string user = "dj";
  std::string password = "djpass";
  std::string db;
  unsigned long flags = 0;
  bool tls = false;               // require TLS, without verifying the certificate
  std::string tls_ca;             // verify against this CA (direct to the server)
  bool local_infile = false;
  unsigned read_timeout = 60;     // seconds; bounds every test against a hung proxy
  std::vector<std::pair<std::string, std::string>> attrs;
};

using MysqlPtr = std::unique_ptr<MYSQL, void (*)(MYSQL*)>;

inline MysqlPtr null_mysql() { return MysqlPtr(nullptr, [](MYSQL*) {}); }

// Opens a connection; on failure returns null and fills errno/sqlstate/message.
inline MysqlPtr open_mysql(unsigned port, const ConnectOptions& o, std::string* error = nullptr,
                           unsigned* error_no = nullptr) {
  MYSQL* m = mysql_init(nullptr);
  unsigned timeout = 10;
  mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
  mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &o.read_timeout);
  mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &o.read_timeout);
  unsigned long max_packet = 1024UL * 1024 * 1024;
  mysql_options(m, MYSQL_OPT_MAX_ALLOWED_PACKET, &max_packet);
  mysql_options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
  my_bool no = 0, yes = 1;
  if (o.tls || !o.tls_ca.empty()) {
    mysql_options(m, MYSQL_OPT_SSL_ENFORCE, &yes);
    if (!o.tls_ca.empty()) {
      mysql_options(m, MYSQL_OPT_SSL_CA, o.tls_ca.c_str());
      mysql_options(m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &yes);
    } else {
      mysql_options(m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &no);
    }
  } else {
    // Connector/C 3.3 would otherwise use TLS whenever the server offers it.
    mysql_options(m, MYSQL_OPT_SSL_ENFORCE, &no);
  }
  unsigned infile = o.local_infile ? 1 : 0;
  mysql_options(m, MYSQL_OPT_LOCAL_INFILE, &infile);
  for (auto& [k, v] : o.attrs) mysql_options4(m, MYSQL_OPT_CONNECT_ATTR_ADD, k.c_str(), v.c_str());
  if (!mysql_real_connect(m, "127.0.0.1", o.user.c_str(), o.password.c_str(), o.db.empty() ? nullptr : o.db.c_str(),
                          port, nullptr, o.flags)) {
    if (error) *error = std::to_string(mysql_errno(m)) + " (" + mysql_sqlstate(m) + ") " + mysql_error(m);
    if (error_no) *error_no = mysql_errno(m);
    mysql_close(m);
    return null_mysql();
  }
  return MysqlPtr(m, mysql_close);
}

// One client session against one port, recording what the client observes.
class Session {
 public:
  Session(unsigned port, bool proxied) : port_(port), proxied_(proxied) {}
  unsigned port() const { return port_; }
  bool proxied() const { return proxied_; }
  std::string text() const { return out_.str(); }
  std::ostringstream& out() { return out_; }

  void note(const std::string& s) { out_ << s << "\n"; }

  MysqlPtr connect(const ConnectOptions& o) {
    std::string err;
    auto m = open_mysql(port_, o, &err);
    if (m) {
      out_ << "CONNECT " << o.user << " ok db=" << (o.db.empty() ? "-" : o.db)
           << " server=" << mysql_get_server_info(m.get()) << "\n";
    } else {
      out_ << "CONNECT " << o.user << " ERR " << err << "\n";
    }
    return m;
  }

  void error(MYSQL* m, const char* what) {
    out_ << what << " ERR " << mysql_errno(m) << " (" << mysql_sqlstate(m) << ") " << mysql_error(m) << "\n";
  }

  void status(MYSQL* m) {
    unsigned st = 0;
    mariadb_get_infov(m, MARIADB_CONNECTION_SERVER_STATUS, &st);
    const char* info = mysql_info(m);
    out_ << "  affected=" << static_cast<long long>(mysql_affected_rows(m)) << " insert_id=" << mysql_insert_id(m)
         << " warnings=" << mysql_warning_count(m) << " status=0x" << std::hex << st << std::dec
         << " info=" << (info ? info : "-") << "\n";
    // Session-state tracking the client asked for (CLIENT_SESSION_TRACK is on by default).
    for (int t = SESSION_TRACK_SYSTEM_VARIABLES; t <= SESSION_TRACK_STATE_CHANGE; ++t) {
      const char* data = nullptr;
      size_t len = 0;
      if (mysql_session_track_get_first(m, static_cast<enum_session_state_type>(t), &data, &len) == 0) {
        out_ << "  track" << t << ":";
        do out_ << " " << show_bytes(data, len);
        while (mysql_session_track_get_next(m, static_cast<enum_session_state_type>(t), &data, &len) == 0);
        out_ << "\n";
      }
    }
  }

  static void fields(std::ostringstream& out, MYSQL_FIELD* f, unsigned n) {
    for (unsigned i = 0; i < n; ++i) {
      out << "  field " << f[i].name << "|" << f[i].org_name << "|" << f[i].table << "|" << f[i].org_table << "|"
          << f[i].db << "|" << f[i].catalog << "|len=" << f[i].length << "|flags=0x" << std::hex << f[i].flags
          << std::dec << "|dec=" << f[i].decimals << "|cs=" << f[i].charsetnr << "|type=" << f[i].type << "\n";
    }
  }

  void result(MYSQL_RES* r) {
    unsigned n = mysql_num_fields(r);
    fields(out_, mysql_fetch_fields(r), n);
    size_t rows = 0;
    while (MYSQL_ROW row = mysql_fetch_row(r)) {
      unsigned long* len = mysql_fetch_lengths(r);
      out_ << "  row";
      for (unsigned i = 0; i < n; ++i) out_ << " " << show_bytes(row[i], row[i] ? len[i] : 0);
      out_ << "\n";
      ++rows;
    }
    out_ << "  rows=" << rows << "\n";
  }

  // Runs a text query (possibly several statements) and records every result.
  // Returns false if any statement failed.
  bool query(MYSQL* m, const std::string& sql, bool use_result = false) {
    out_ << "QUERY " << (sql.size() > 200 ? show_bytes(sql.data(), sql.size()) : sql) << "\n";
    if (mysql_real_query(m, sql.data(), sql.size()) != 0) {
      error(m, "  query");
      return false;
    }
    for (;;) {
      MYSQL_RES* r = use_result ? mysql_use_result(m) : mysql_store_result(m);
      if (r) {
        result(r);
        mysql_free_result(r);
      } else if (mysql_field_count(m) != 0) {
        error(m, "  store_result");
        return false;
      }
      status(m);
      int next = mysql_next_result(m);
      if (next == -1) return true;
      if (next > 0) {
        error(m, "  next_result");
        return false;
      }
    }
  }

  // Records one prepared-statement result set, fetching every column with its
  // native buffer type (strings and blobs through mysql_stmt_fetch_column).
  void stmt_result(MYSQL_STMT* st) {
    MYSQL_RES* meta = mysql_stmt_result_metadata(st);
    if (!meta) {
      out_ << "  no result metadata\n";
      return;
    }
    unsigned n = mysql_num_fields(meta);
    MYSQL_FIELD* f = mysql_fetch_fields(meta);
    fields(out_, f, n);
    std::vector<MYSQL_BIND> b(n);
    std::vector<std::array<char, 64>> fixed(n);
    std::vector<unsigned long> len(n);
    std::vector<my_bool> isnull(n), err(n);
    std::vector<bool> var(n);
    for (unsigned i = 0; i < n; ++i) {
      std::memset(&b[i], 0, sizeof b[i]);
      switch (f[i].type) {
        case MYSQL_TYPE_TINY: case MYSQL_TYPE_SHORT: case MYSQL_TYPE_YEAR: case MYSQL_TYPE_INT24:
        case MYSQL_TYPE_LONG: case MYSQL_TYPE_LONGLONG: case MYSQL_TYPE_FLOAT: case MYSQL_TYPE_DOUBLE:
        case MYSQL_TYPE_DATE: case MYSQL_TYPE_TIME: case MYSQL_TYPE_DATETIME: case MYSQL_TYPE_TIMESTAMP:
          b[i].buffer_type = f[i].type;
          b[i].buffer = fixed[i].data();
          b[i].buffer_length = fixed[i].size();
          b[i].is_unsigned = (f[i].flags & UNSIGNED_FLAG) != 0;
          break;
        default:
          var[i] = true;
          b[i].buffer_type = MYSQL_TYPE_BLOB;
          b[i].buffer = nullptr;
          b[i].buffer_length = 0;
      }
      b[i].length = &len[i];
      b[i].is_null = &isnull[i];
      b[i].error = &err[i];
    }
    if (mysql_stmt_bind_result(st, b.data())) {
      out_ << "  bind_result ERR " << mysql_stmt_error(st) << "\n";
      mysql_free_result(meta);
      return;
    }
    size_t rows = 0;
    std::string buf;
    for (;;) {
      for (auto& fx : fixed) fx.fill(0);
      int rc = mysql_stmt_fetch(st);
      if (rc == MYSQL_NO_DATA) break;
      if (rc == 1) {
        out_ << "  fetch ERR " << mysql_stmt_errno(st) << " (" << mysql_stmt_sqlstate(st) << ") "
             << mysql_stmt_error(st) << "\n";
        break;
      }
      out_ << "  row";
      for (unsigned i = 0; i < n; ++i) {
        out_ << " ";
        if (isnull[i]) {
          out_ << "NULL";
          continue;
        }
        if (var[i]) {
          buf.assign(len[i], '\0');
          MYSQL_BIND one{};
          unsigned long got = 0;
          one.buffer_type = MYSQL_TYPE_BLOB;
          one.buffer = buf.data();
          one.buffer_length = buf.size();
          one.length = &got;
          if (len[i] && mysql_stmt_fetch_column(st, &one, i, 0)) {
            out_ << "<fetch_column ERR " << mysql_stmt_error(st) << ">";
            continue;
          }
          out_ << show_bytes(buf.data(), buf.size());
          continue;
        }
        out_ << native(f[i].type, (f[i].flags & UNSIGNED_FLAG) != 0, fixed[i].data());
      }
      out_ << "\n";
      ++rows;
    }
    out_ << "  rows=" << rows << "\n";
    mysql_free_result(meta);
  }

  static std::string native(enum_field_types t, bool uns, const char* p) {
    char buf[96];
    switch (t) {
      case MYSQL_TYPE_TINY:
        return uns ? std::to_string(*reinterpret_cast<const uint8_t*>(p)) : std::to_string(*reinterpret_cast<const int8_t*>(p));
      case MYSQL_TYPE_SHORT: case MYSQL_TYPE_YEAR:
        return uns ? std::to_string(*reinterpret_cast<const uint16_t*>(p)) : std::to_string(*reinterpret_cast<const int16_t*>(p));
      case MYSQL_TYPE_INT24: case MYSQL_TYPE_LONG:
        return uns ? std::to_string(*reinterpret_cast<const uint32_t*>(p)) : std::to_string(*reinterpret_cast<const int32_t*>(p));
      case MYSQL_TYPE_LONGLONG:
        return uns ? std::to_string(*reinterpret_cast<const uint64_t*>(p)) : std::to_string(*reinterpret_cast<const int64_t*>(p));
      case MYSQL_TYPE_FLOAT:
        std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(*reinterpret_cast<const float*>(p)));
        return buf;
      case MYSQL_TYPE_DOUBLE:
        std::snprintf(buf, sizeof buf, "%.17g", *reinterpret_cast<const double*>(p));
        return buf;
      default: {
        auto* tm = reinterpret_cast<const MYSQL_TIME*>(p);
        std::snprintf(buf, sizeof buf, "%s%04u-%02u-%02u %02u:%02u:%02u.%06lu/%d", tm->neg ? "-" : "", tm->year,
                      tm->month, tm->day, tm->hour, tm->minute, tm->second, tm->second_part,
                      static_cast<int>(tm->time_type));
        return buf;
      }
    }
  }

  void stmt_error(MYSQL_STMT* st, const char* what) {
    out_ << what << " ERR " << mysql_stmt_errno(st) << " (" << mysql_stmt_sqlstate(st) << ") " << mysql_stmt_error(st)
         << "\n";
  }

  // Executes a prepared statement and records all its result sets.
  bool execute(MYSQL_STMT* st) {
    if (mysql_stmt_execute(st)) {
      stmt_error(st, "  execute");
      return false;
    }
    for (;;) {
      if (mysql_stmt_field_count(st) > 0) stmt_result(st);
      out_ << "  affected=" << static_cast<long long>(mysql_stmt_affected_rows(st))
           << " insert_id=" << mysql_stmt_insert_id(st) << "\n";
      int next = mysql_stmt_next_result(st);
      if (next == -1) return true;
      if (next > 0) {
        stmt_error(st, "  next_result");
        return false;
      }
    }
  }

 private:
  unsigned port_;
  bool proxied_;
  std::ostringstream out_;
};

// Runs SQL as djroot directly against the server (setup and inspection).
inline void admin_sql(const std::string& sql) {
  ConnectOptions o;
  o.user = "djroot";
  o.password = "djroot";
  o.flags = CLIENT_MULTI_STATEMENTS;
  std::string err;
  auto m = open_mysql(db_port(), o, &err);
  if (!m) throw std::runtime_error("admin connect: " + err);
  if (mysql_real_query(m.get(), sql.data(), sql.size()))
    throw std::runtime_error("admin sql: " + std::string(mysql_error(m.get())) + " in " + sql.substr(0, 200));
  do {
    if (MYSQL_RES* r = mysql_store_result(m.get())) mysql_free_result(r);
  } while (mysql_next_result(m.get()) == 0);
  if (mysql_errno(m.get())) throw std::runtime_error("admin sql: " + std::string(mysql_error(m.get())));
}

// First scalar of a query run as djroot directly against the server; "NULL" for NULL.
inline std::string admin_scalar(const std::string& sql) {
  ConnectOptions o;
  o.user = "djroot";
  o.password = "djroot";
  auto m = open_mysql(db_port(), o);
  if (!m || mysql_real_query(m.get(), sql.data(), sql.size())) throw std::runtime_error("admin scalar failed: " + sql);
  MYSQL_RES* r = mysql_store_result(m.get());
  std::string v = "<no row>";
  if (r) {
    if (MYSQL_ROW row = mysql_fetch_row(r)) v = row[0] ? std::string(row[0], mysql_fetch_lengths(r)[0]) : "NULL";
    mysql_free_result(r);
  }
  return v;
}

}  // namespace djit
