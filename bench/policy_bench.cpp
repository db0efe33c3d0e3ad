// Benchmarks of the policy analyser: DataJoint's typical statements, and a 64 MB
// INSERT whose escaped blob literal arrives in 16 MB / 64 KB pieces; and of the
// audit log's statement digest on the same statements.
#include <benchmark/benchmark.h>

#include <string>

#include "policy/analyser.hpp"
#include "policy/digest.hpp"

namespace {
using namespace djproxy::policy;

SessionState session() {
  SessionState s;
  s.current_schema = "myproject_full";
  return s;
}

PolicyConfig config() {
  PolicyConfig c;
  c.schema_prefix = "myproject_";
  return c;
}

const char* const kStatements[] = {
    "SELECT `subject_id`,`session`,`trace` FROM `myproject_full`.`session` WHERE ( (`subject_id`=1)AND(`session`=1))",
    "INSERT INTO `myproject_full`.`__stats`(`subject_id`,`session`,`mean`) VALUES ('1','1','2.0')",
    "SELECT * FROM information_schema.tables WHERE table_schema = 'myproject_full' AND table_name = 'session'",
    "SHOW FULL COLUMNS FROM `session` IN `myproject_full`",
    "DELETE FROM `myproject_full`.`~lineage`         WHERE table_name = '~~summary'",
    "SELECT EXISTS(SELECT 1 FROM `myproject_full`.`__stats` WHERE ( (`subject_id`=1)AND(`session`=1)))",
    "COMMIT",
};

void BM_DataJointStatement(benchmark::State& st) {
  const auto s = session();
  const auto c = config();
  const std::string sql = kStatements[st.range(0)];
  for (auto _ : st) {
    auto a = analyse(sql, s, c);
    benchmark::DoNotOptimize(a);
  }
  st.SetLabel(sql.substr(0, 40));
  st.SetBytesProcessed(static_cast<int64_t>(st.iterations() * sql.size()));
}
BENCHMARK(BM_DataJointStatement)->DenseRange(0, 6);

// What sysbench's oltp_read_only sends over the text protocol (--db-ps-mode=disable):
// unquoted names, so every word is looked up as a possible keyword.
const char* const kSysbenchStatements[] = {
    "SELECT c FROM sbtest1 WHERE id=5017",
    "SELECT c FROM sbtest3 WHERE id BETWEEN 5012 AND 5111",
    "SELECT SUM(k) FROM sbtest2 WHERE id BETWEEN 4980 AND 5079",
    "SELECT c FROM sbtest1 WHERE id BETWEEN 3321 AND 3420 ORDER BY c",
    "SELECT DISTINCT c FROM sbtest4 WHERE id BETWEEN 7311 AND 7410 ORDER BY c",
    "BEGIN",
};

void BM_SysbenchStatement(benchmark::State& st) {
  SessionState s;
  s.current_schema = "myproject_bench";
  const auto c = config();
  const std::string sql = kSysbenchStatements[st.range(0)];
  for (auto _ : st) {
    auto a = analyse(sql, s, c);
    benchmark::DoNotOptimize(a);
  }
  st.SetLabel(sql.substr(0, 40));
}
BENCHMARK(BM_SysbenchStatement)->DenseRange(0, 5);

std::string escaped_blob(std::size_t n) {
  std::string b;
  b.reserve(n);
  const char pattern[] = "mYm\\0A\\x01\\0\\0\\0\\0abcdefgh\\\\\\'\\n1234567890";
  while (b.size() < n) b += pattern;
  b.resize(n);
  if (b.back() == '\\') b.back() = 'x';
  return b;
}

void BM_LargeBlobInsert(benchmark::State& st) {
  const auto s = session();
  const auto c = config();
  const std::size_t total = 64u << 20;
  const std::size_t chunk = static_cast<std::size_t>(st.range(0));
  const std::string blob = escaped_blob(chunk);
  const std::string head = "INSERT INTO `myproject_full`.`session`(`subject_id`,`session`,`trace`) VALUES ('1','1','";
  const std::string tail = "')";
  for (auto _ : st) {
    StreamingAnalyser a(s, c);
    a.feed(head);
    for (std::size_t done = 0; done < total; done += chunk) a.feed(blob);
    a.feed(tail);
    auto r = a.finish();
    if (r.decision.verdict != Verdict::allow) st.SkipWithError("blob insert not allowed");
    benchmark::DoNotOptimize(r);
  }
  st.SetBytesProcessed(static_cast<int64_t>(st.iterations() * total));
}
BENCHMARK(BM_LargeBlobInsert)->Arg(16 << 20)->Arg(64 << 10)->Unit(benchmark::kMillisecond);

void BM_Digest(benchmark::State& st) {
  const auto s = session();
  const std::string sql = kStatements[st.range(0)];
  for (auto _ : st) {
    auto d = digest_text(sql, s);
    benchmark::DoNotOptimize(d);
  }
  st.SetLabel(sql.substr(0, 40));
}
BENCHMARK(BM_Digest)->DenseRange(0, 6);

// The digest of a 64 MB blob INSERT reads a bounded prefix: its cost must not
// depend on the statement's size.
void BM_DigestLargeBlobInsert(benchmark::State& st) {
  const auto s = session();
  std::string sql = "INSERT INTO `myproject_full`.`session`(`subject_id`,`session`,`trace`) VALUES ('1','1','";
  sql += escaped_blob(64u << 20);
  sql += "')";
  for (auto _ : st) {
    auto d = digest_text(sql, s);
    benchmark::DoNotOptimize(d);
  }
}
BENCHMARK(BM_DigestLargeBlobInsert)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
