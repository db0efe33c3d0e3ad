// Benchmark client on libmysqlclient (Connector/C), so the client is not the bottleneck.
//   djproxy_bench_client blob  PORT SIZE_MB   insert one SIZE_MB LONGBLOB (MB = 10^6 bytes:
//                                             1000 is the 1 GB row the RSS target names,
//                                             and still fits the server's 1 GiB
//                                             max_allowed_packet once escaped) as an escaped
//                                             literal in COM_QUERY, then fetch it back
//   djproxy_bench_client churn PORT COUNT     COUNT x (connect, COM_PING, COM_QUIT)
// Always 127.0.0.1, user djroot, database myproject_bench (table blobs prepared by
// bench/run.sh). Prints key=value lines.
#include <mysql.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

MYSQL* connect_or_die(unsigned port) {
  MYSQL* m = mysql_init(nullptr);
  unsigned long max_packet = 1024UL * 1024 * 1024;
  mysql_options(m, MYSQL_OPT_MAX_ALLOWED_PACKET, &max_packet);
  my_bool no = 0;
  mysql_options(m, MYSQL_OPT_SSL_ENFORCE, &no);
  unsigned timeout = 600;
  mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &timeout);
  mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &timeout);
  if (!mysql_real_connect(m, "127.0.0.1", "djroot", "djroot", "myproject_bench", port, nullptr, 0)) {
    std::fprintf(stderr, "connect to 127.0.0.1:%u failed: %s\n", port, mysql_error(m));
    std::exit(1);
  }
  return m;
}

int blob(unsigned port, unsigned long mb) {
  const size_t n = mb * 1'000'000;
  std::string data(n, '\0');
  std::mt19937_64 rng(12345);
  for (size_t i = 0; i + 8 <= n; i += 8) {
    uint64_t v = rng();
    std::memcpy(&data[i], &v, 8);
  }
  MYSQL* m = connect_or_die(port);
  if (mysql_query(m, "DELETE FROM blobs")) {
    std::fprintf(stderr, "delete: %s\n", mysql_error(m));
    return 1;
  }
  const std::string head = "INSERT INTO blobs (id, b) VALUES (1, '";
  std::string sql(head.size() + 2 * n + 4, '\0');
  std::memcpy(sql.data(), head.data(), head.size());
  unsigned long esc = mysql_real_escape_string(m, sql.data() + head.size(), data.data(), n);
  size_t len = head.size() + esc;
  sql[len++] = '\'';
  sql[len++] = ')';

  auto t0 = Clock::now();
  if (mysql_real_query(m, sql.data(), len)) {
    std::fprintf(stderr, "insert: %s\n", mysql_error(m));
    return 1;
  }
  double insert_s = seconds_since(t0);
  sql.clear();
  sql.shrink_to_fit();

  t0 = Clock::now();
  if (mysql_query(m, "SELECT b FROM blobs WHERE id = 1")) {
    std::fprintf(stderr, "select: %s\n", mysql_error(m));
    return 1;
  }
  MYSQL_RES* r = mysql_use_result(m);
  MYSQL_ROW row = r ? mysql_fetch_row(r) : nullptr;
  if (!row) {
    std::fprintf(stderr, "fetch: %s\n", mysql_error(m));
    return 1;
  }
  unsigned long got = mysql_fetch_lengths(r)[0];
  bool same = got == n && std::memcmp(row[0], data.data(), n) == 0;
  while (mysql_fetch_row(r)) {
  }
  double fetch_s = seconds_since(t0);
  mysql_free_result(r);
  mysql_close(m);
  if (!same) {
    std::fprintf(stderr, "fetched blob differs from the inserted one (%lu bytes)\n", got);
    return 1;
  }
  std::printf("insert_s=%.3f\ninsert_mb_s=%.1f\nfetch_s=%.3f\nfetch_mb_s=%.1f\n", insert_s, mb / insert_s, fetch_s,
              mb / fetch_s);
  return 0;
}

int churn(unsigned port, unsigned long count) {
  auto t0 = Clock::now();
  for (unsigned long i = 0; i < count; ++i) {
    MYSQL* m = connect_or_die(port);
    if (mysql_ping(m)) {
      std::fprintf(stderr, "ping: %s\n", mysql_error(m));
      return 1;
    }
    mysql_close(m);
  }
  double s = seconds_since(t0);
  std::printf("churn_s=%.3f\nconn_per_s=%.1f\n", s, count / s);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s blob PORT SIZE_MB | churn PORT COUNT\n", argv[0]);
    return 2;
  }
  std::string mode = argv[1];
  unsigned port = static_cast<unsigned>(std::strtoul(argv[2], nullptr, 10));
  unsigned long n = std::strtoul(argv[3], nullptr, 10);
  if (mysql_library_init(0, nullptr, nullptr)) return 1;
  int rc = 2;
  if (mode == "blob" && n >= 1 && n <= 1024) rc = blob(port, n);
  else if (mode == "churn" && n >= 1 && n <= 100000) rc = churn(port, n);
  else std::fprintf(stderr, "bad arguments (blob: 1..1024 MB, churn: 1..100000)\n");
  mysql_library_end();
  return rc;
}
