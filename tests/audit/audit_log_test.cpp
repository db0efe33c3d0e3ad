#include "proxy/audit/audit_log.hpp"

#include <stdio_ext.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/null_sink.h>

namespace djproxy::audit {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr Event kAllEvents[] = {
    Event::connect,          Event::disconnect,    Event::auth_failed,       Event::reject,
    Event::schema_change,    Event::rewrite,       Event::migration_begin,   Event::migration_end,
    Event::migration_denied, Event::dry_run_violation, Event::bookkeeping,   Event::statement,
    Event::config_reload,    Event::startup,       Event::shutdown,
};

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "djproxy-audit-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::vector<std::string> read_lines(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Strict: nlohmann rejects invalid UTF-8 and stray control characters.
json parse(const std::string& line) { return json::parse(line); }

// A record with every field set, as a session would send for a rejection.
AuditEvent full_event(Event e, std::string_view query) {
  AuditEvent ev;
  ev.event = e;
  ev.connection_id = 42;
  ev.server_connection_id = 9001;
  ev.host = "10.0.0.7";
  ev.port = 51234;
  ev.user = "worker";
  ev.database = "myproject_lab";
  ev.tls = true;
  ev.command = "COM_QUERY";
  ev.statement_kind = "ddl";
  ev.query = query;
  ev.digest = "DROP TABLE `t`";
  ev.decision = "reject";
  ev.rule = "schema-change";
  ev.error_code = 1142;
  ev.message = "DROP command denied: use a migration session";
  ev.token_id = "tok-1";
  ev.duration_ms = 12.5;
  ev.bytes_in = 100;
  ev.bytes_out = 2000;
  return ev;
}

AuditOptions file_options(const fs::path& path) {
  AuditOptions o;
  o.path = path.string();
  o.rotate_size = 1 << 20;
  o.rotate_count = 2;
  o.events = {"connect", "disconnect", "auth", "reject", "rewrite", "migration", "ddl", "bookkeeping", "statement"};
  return o;
}

// ------------------------------------------------------------------ the line format

TEST(AuditFormat, EveryEventParsesWithItsFields) {
  for (const Event e : kAllEvents) {
    const json j = parse(format_line(full_event(e, "DROP TABLE t"), 0));
    EXPECT_EQ(j.at("event"), std::string(to_string(e)));
    EXPECT_EQ(j.at("connection_id"), 42);
    EXPECT_EQ(j.at("server_connection_id"), 9001);
    EXPECT_EQ(j.at("host"), "10.0.0.7");
    EXPECT_EQ(j.at("port"), 51234);
    EXPECT_EQ(j.at("user"), "worker");
    EXPECT_EQ(j.at("database"), "myproject_lab");
    EXPECT_EQ(j.at("tls"), true);
    EXPECT_EQ(j.at("command"), "COM_QUERY");
    EXPECT_EQ(j.at("statement_kind"), "ddl");
    EXPECT_EQ(j.at("query"), "DROP TABLE t");
    EXPECT_EQ(j.at("query_length"), 12);
    EXPECT_EQ(j.at("digest"), "DROP TABLE `t`");
    EXPECT_EQ(j.at("decision"), "reject");
    EXPECT_EQ(j.at("rule"), "schema-change");
    EXPECT_EQ(j.at("error_code"), 1142);
    EXPECT_EQ(j.at("message"), "DROP command denied: use a migration session");
    EXPECT_EQ(j.at("token_id"), "tok-1");
    EXPECT_DOUBLE_EQ(j.at("duration_ms").get<double>(), 12.5);
    EXPECT_EQ(j.at("bytes_in"), 100);
    EXPECT_EQ(j.at("bytes_out"), 2000);
  }
}

TEST(AuditFormat, EventNamesAreTheDocumentedOnes) {
  std::set<std::string> names;
  for (const Event e : kAllEvents) names.emplace(to_string(e));
  const std::set<std::string> expected = {
      "connect",       "disconnect",       "auth_failed", "reject",      "schema_change",
      "rewrite",       "migration_begin",  "migration_end", "migration_denied", "dry_run_violation",
      "bookkeeping",   "statement",        "config_reload", "startup",   "shutdown"};
  EXPECT_EQ(names, expected);
}

TEST(AuditFormat, AbsentFieldsAreOmitted) {
  AuditEvent ev;
  ev.event = Event::startup;
  ev.message = "djproxy 0.1.0 listening on 127.0.0.1:6033";
  const json j = parse(format_line(ev, 0));
  std::set<std::string> keys;
  for (const auto& [k, v] : j.items()) keys.insert(k);
  EXPECT_EQ(keys, (std::set<std::string>{"timestamp", "event", "message"}));
}

TEST(AuditFormat, EmptyStatementIsStillAStatement) {
  AuditEvent ev;
  ev.event = Event::statement;
  ev.query = "";
  const json j = parse(format_line(ev, 0));
  EXPECT_EQ(j.at("query"), "");
  EXPECT_EQ(j.at("query_length"), 0);
}

TEST(AuditFormat, TimestampIsRfc3339UtcWithMicroseconds) {
  AuditEvent ev;
  ev.event = Event::connect;
  const json j = parse(format_line(ev, 0));
  const std::string ts = j.at("timestamp");
  const std::string shape = "dddd-dd-ddTdd:dd:dd.ddddddZ";
  ASSERT_EQ(ts.size(), shape.size()) << ts;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 'd') {
      EXPECT_TRUE(ts[i] >= '0' && ts[i] <= '9') << ts;
    } else {
      EXPECT_EQ(ts[i], shape[i]) << ts;
    }
  }
}

TEST(AuditFormat, LineIsOneLineWhateverTheText) {
  const std::string text = "SELECT 'a\nb\r\tc\"d\\e\x01\x1f\x7f'";
  const std::string line = format_line(full_event(Event::statement, text), 0);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_EQ(line.find('\r'), std::string::npos);
  EXPECT_EQ(parse(line).at("query"), text);
}

TEST(AuditFormat, ValidUtf8IsKeptAsIs) {
  const std::string text = "SELECT 'h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x98\x80'";
  const std::string line = format_line(full_event(Event::statement, text), 0);
  EXPECT_NE(line.find(text.substr(8)), std::string::npos);
  EXPECT_EQ(parse(line).at("query"), text);
}

TEST(AuditFormat, InvalidBytesBecomeTheirLatin1CodePoint) {
  const json j = parse(format_line(full_event(Event::statement, "\xff\xe9"), 0));
  EXPECT_EQ(j.at("query"), "\xc3\xbf\xc3\xa9");  // U+00FF U+00E9
  EXPECT_EQ(j.at("query_length"), 2);
}

TEST(AuditFormat, MalformedSequencesStayValidJson) {
  const std::vector<std::string> cases = {
      std::string("\xc0\x80", 2),          // overlong NUL
      "\xe0\x80\xaf",                      // overlong '/'
      "\xed\xa0\x80",                      // surrogate
      "\xf4\x90\x80\x80",                  // past U+10FFFF
      "\xf5\x80\x80\x80", "\x80", "\xbf",  // never valid / lone continuation
      "\xe2\x9c",                          // truncated
      "a\xf0\x9f\x98",                     // truncated at the end
      std::string("\0\0x", 3),
  };
  for (const auto& c : cases) {
    const std::string line = format_line(full_event(Event::statement, c), 0);
    EXPECT_NO_THROW(parse(line)) << line;
  }
}

TEST(AuditFormat, BinaryBlobsStayValidJson) {
  std::string all;
  for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
  EXPECT_NO_THROW(parse(format_line(full_event(Event::statement, all), 0)));

  std::mt19937 rng(12345);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int round = 0; round < 500; ++round) {
    std::string blob = "INSERT INTO t VALUES ('";
    const int n = 1 + round * 7;
    for (int i = 0; i < n; ++i) blob += static_cast<char>(byte(rng));
    blob += "')";
    const std::string line = format_line(full_event(Event::statement, blob), 64 + round % 50);
    ASSERT_NO_THROW(parse(line)) << "round " << round;
    EXPECT_EQ(parse(line).at("query_length"), blob.size());
  }
}

TEST(AuditFormat, CutAtMaxLengthKeepsFullLength) {
  const std::string text(5000, 'x');
  const json j = parse(format_line(full_event(Event::statement, text), 100));
  EXPECT_EQ(j.at("query").get<std::string>().size(), 100U);
  EXPECT_EQ(j.at("query_length"), 5000);

  const json whole = parse(format_line(full_event(Event::statement, text), 0));
  EXPECT_EQ(whole.at("query").get<std::string>().size(), 5000U);
}

TEST(AuditFormat, CutDoesNotSplitACharacter) {
  // "a" then U+00E9 (2 bytes): a cut at 2 bytes would keep half of it.
  const json j = parse(format_line(full_event(Event::statement, "a\xc3\xa9z"), 2));
  EXPECT_EQ(j.at("query"), "a");
  EXPECT_EQ(j.at("query_length"), 4);
  // A character that fits whole is kept.
  const json k = parse(format_line(full_event(Event::statement, "\xc3\xa9\x80z"), 2));
  EXPECT_EQ(k.at("query"), "\xc3\xa9");
  // Binary bytes are cut where they are.
  const json b = parse(format_line(full_event(Event::statement, "\xff\xff\x80\x80"), 3));
  EXPECT_EQ(b.at("query"), "\xc3\xbf\xc3\xbf\xc2\x80");
}

// ------------------------------------------------------------------ classes

TEST(AuditClasses, ConfiguredClassesSelectEvents) {
  AuditOptions o;
  o.events = {"connect", "disconnect", "reject", "migration", "ddl"};  // the default
  const auto log = AuditLog::open(o, std::make_shared<spdlog::sinks::null_sink_mt>());
  EXPECT_TRUE(log->wants(Event::connect));
  EXPECT_TRUE(log->wants(Event::reject));
  EXPECT_TRUE(log->wants(Event::dry_run_violation));
  EXPECT_TRUE(log->wants(Event::schema_change));
  EXPECT_TRUE(log->wants(Event::migration_denied));
  EXPECT_FALSE(log->wants(Event::auth_failed));
  EXPECT_FALSE(log->wants(Event::rewrite));
  EXPECT_FALSE(log->wants(Event::bookkeeping));
  EXPECT_FALSE(log->wants(Event::statement));
  EXPECT_TRUE(log->wants(Event::startup));  // lifecycle: always
  EXPECT_TRUE(log->wants(Event::config_reload));
}

TEST(AuditClasses, AllStatementsAddsStatements) {
  AuditOptions o;
  o.all_statements = true;
  const auto log = AuditLog::open(o, std::make_shared<spdlog::sinks::null_sink_mt>());
  EXPECT_TRUE(log->wants(EventClass::statement));
  EXPECT_FALSE(log->wants(EventClass::connect));
}

TEST(AuditClasses, UnknownClassIsRefused) {
  AuditOptions o;
  o.events = {"connect", "conect"};
  EXPECT_THROW(AuditLog::open(o), std::invalid_argument);
}

// ------------------------------------------------------------------ the file

TEST(AuditLogFile, WritesOneParsableLinePerEvent) {
  TempDir dir;
  const fs::path file = dir.path() / "audit.log";
  {
    const auto log = AuditLog::open(file_options(file));
    for (const Event e : kAllEvents) log->write(full_event(e, "SELECT 1"));
    log->flush();
    EXPECT_EQ(log->written(), std::size(kAllEvents));
    EXPECT_EQ(log->dropped(), 0U);
    EXPECT_EQ(log->write_errors(), 0U);
  }
  const auto lines = read_lines(file);
  ASSERT_EQ(lines.size(), std::size(kAllEvents));
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const json j = parse(lines[i]);
    EXPECT_EQ(j.at("event"), std::string(to_string(kAllEvents[i])));
  }
}

TEST(AuditLogFile, DestructionWritesOutTheQueue) {
  TempDir dir;
  const fs::path file = dir.path() / "audit.log";
  {
    const auto log = AuditLog::open(file_options(file));
    for (int i = 0; i < 1000; ++i) log->write(full_event(Event::statement, "SELECT 1"));
  }
  EXPECT_EQ(read_lines(file).size(), 1000U);
}

// No flush() here: a DBA tailing the file must see a line soon after the event,
// without the proxy ever being asked to flush.
TEST(AuditLogFile, LineReachesTheFileWithoutAFlush) {
  TempDir dir;
  const fs::path file = dir.path() / "audit.log";
  const auto log = AuditLog::open(file_options(file));
  log->write(full_event(Event::reject, "DROP TABLE t"));
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (read_lines(file).empty() && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(read_lines(file).size(), 1U);
  EXPECT_EQ(parse(read_lines(file)[0]).at("event"), "reject");
}

TEST(AuditLogFile, AppendsToAnExistingFile) {
  TempDir dir;
  const fs::path file = dir.path() / "audit.log";
  for (int round = 0; round < 2; ++round) {
    const auto log = AuditLog::open(file_options(file));
    log->write(full_event(Event::startup, {}));
  }
  EXPECT_EQ(read_lines(file).size(), 2U);
}

TEST(AuditLogFile, RotatesAtTheSize) {
  TempDir dir;
  const fs::path file = dir.path() / "audit.log";
  AuditOptions o = file_options(file);
  o.rotate_size = 4096;
  o.rotate_count = 2;
  const std::string query(300, 'q');
  const std::size_t line_size = format_line(full_event(Event::statement, query), 0).size() + 1;
  {
    const auto log = AuditLog::open(o);
    for (int i = 0; i < 100; ++i) log->write(full_event(Event::statement, query));
    log->flush();
    EXPECT_EQ(log->write_errors(), 0U);
  }
  ASSERT_TRUE(fs::exists(file));
  ASSERT_TRUE(fs::exists(dir.path() / "audit.1.log"));
  ASSERT_TRUE(fs::exists(dir.path() / "audit.2.log"));
  EXPECT_FALSE(fs::exists(dir.path() / "audit.3.log"));
  for (const auto& f : {file, dir.path() / "audit.1.log", dir.path() / "audit.2.log"}) {
    EXPECT_LE(fs::file_size(f), o.rotate_size) << f;
    const auto lines = read_lines(f);
    EXPECT_FALSE(lines.empty());
    // Rotation happens between lines, never inside one.
    for (const auto& line : lines) EXPECT_NO_THROW(parse(line));
  }
  // Full rotated files hold as many whole lines as fit.
  EXPECT_EQ(read_lines(dir.path() / "audit.1.log").size(), o.rotate_size / line_size);
}

TEST(AuditLogFile, StdoutWhenPathIsDash) {
  testing::internal::CaptureStdout();
  {
    AuditOptions o;
    o.path = std::string("-");  // not = "-": GCC 12 -O3 reports a false -Wrestrict there
    const auto log = AuditLog::open(o);
    log->write(full_event(Event::connect, "x"));
    log->write(full_event(Event::disconnect, "y"));
    log->flush();
  }
  const std::string out = testing::internal::GetCapturedStdout();
  std::istringstream in(out);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 2U);
  EXPECT_EQ(parse(lines[0]).at("event"), "connect");
  EXPECT_EQ(parse(lines[1]).at("event"), "disconnect");
}

// ------------------------------------------------------------------ broken destinations

TEST(AuditLogBroken, FullDiskIsCountedAndWritesGoOn) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  AuditOptions o = file_options("/dev/full");
  const auto log = AuditLog::open(o);
  for (int i = 0; i < 200; ++i) log->write(full_event(Event::statement, std::string(100, 'x')));
  log->flush();
  EXPECT_GT(log->write_errors(), 0U);
  log->write(full_event(Event::shutdown, {}));  // still returns
  log->flush();
}

TEST(AuditLogBroken, UnopenablePathIsCountedAndWritesGoOn) {
  TempDir dir;
  const fs::path not_a_dir = dir.path() / "file";
  std::ofstream(not_a_dir) << "x";
  const auto log = AuditLog::open(file_options(not_a_dir / "audit.log"));  // ENOTDIR, even for root
  for (int i = 0; i < 10; ++i) log->write(full_event(Event::connect, {}));
  log->flush();
  EXPECT_EQ(log->write_errors(), 10U);
  EXPECT_EQ(log->written(), 0U);
  // Every event the destination refused is lost, and counted as such (issue 16).
  EXPECT_EQ(log->dropped(), 10U);
  EXPECT_NE(log->problem(), "");
}

TEST(AuditLogBroken, ReadOnlyDirectoryIsCountedAndWritesGoOn) {
  TempDir dir;
  const fs::path ro = dir.path() / "ro";
  fs::create_directory(ro);
  fs::permissions(ro, fs::perms::owner_read | fs::perms::owner_exec);
  if (::access(ro.c_str(), W_OK) == 0) GTEST_SKIP() << "running with privileges that ignore permissions";
  const auto log = AuditLog::open(file_options(ro / "audit.log"));
  for (int i = 0; i < 10; ++i) log->write(full_event(Event::connect, {}));
  log->flush();
  EXPECT_EQ(log->write_errors(), 10U);
}

TEST(AuditLogBroken, DeadStdoutReaderIsCountedNotFatal) {
  std::fflush(stdout);
  const int saved = ::dup(1);
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ::close(fds[0]);  // the log shipper is gone
  ::dup2(fds[1], 1);
  ::close(fds[1]);
  std::uint64_t errors = 0;
  {
    AuditOptions o;
    o.path = std::string("-");  // not = "-": GCC 12 -O3 reports a false -Wrestrict there
    const auto log = AuditLog::open(o);
    for (int i = 0; i < 10; ++i) log->write(full_event(Event::connect, {}));
    log->flush();
    errors = log->write_errors();
  }
  // What stdio still holds would go to the dead pipe from this thread: drop it.
  __fpurge(stdout);
  std::clearerr(stdout);
  ::dup2(saved, 1);
  ::close(saved);
  EXPECT_GT(errors, 0U);
}

TEST(AuditLogBroken, DestinationThatAppearsLaterIsPickedUp) {
  TempDir dir;
  // spdlog creates missing directories itself; a file in the way stops it.
  const fs::path sub = dir.path() / "later";
  std::ofstream(sub) << "x";
  const auto log = AuditLog::open(file_options(sub / "audit.log"));
  log->write(full_event(Event::connect, {}));
  log->flush();
  EXPECT_EQ(log->write_errors(), 1U);
  fs::remove(sub);
  // Reopening is retried at most once a second.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  log->write(full_event(Event::disconnect, {}));
  log->flush();
  EXPECT_EQ(log->written(), 1U);
  // The lost connect event is announced before the first line that got through.
  const auto lines = read_lines(sub / "audit.log");
  ASSERT_EQ(lines.size(), 2U);
  EXPECT_EQ(parse(lines[0]).at("event"), "audit_gap");
  EXPECT_EQ(parse(lines[0]).at("events_lost"), 1);
  EXPECT_EQ(parse(lines[1]).at("event"), "disconnect");
  EXPECT_EQ(log->problem(), "");
}

// ------------------------------------------------------------------ back-pressure

// A destination that lets nothing through until the test opens it.
class GatedSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  void open() {
    std::lock_guard lock(gate_mutex_);
    open_ = true;
    cv_.notify_all();
  }
  std::size_t count() const { return count_.load(); }

 protected:
  void sink_it_(const spdlog::details::log_msg&) override {
    std::unique_lock lock(gate_mutex_);
    cv_.wait(lock, [this] { return open_; });
    ++count_;
  }
  void flush_() override {}

 private:
  std::mutex gate_mutex_;
  std::condition_variable cv_;
  bool open_ = false;
  std::atomic<std::size_t> count_{0};
};

// Counts the destination's lines and flushes (a flush is a write(2) for a file); with a
// delay, a destination that is merely slow.
class CountingSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit CountingSink(std::chrono::microseconds per_line = {}) : per_line_(per_line) {}
  std::size_t lines() const { return lines_.load(); }
  std::size_t flushes() const { return flushes_.load(); }

 protected:
  void sink_it_(const spdlog::details::log_msg&) override {
    if (per_line_.count() > 0) std::this_thread::sleep_for(per_line_);
    ++lines_;
  }
  void flush_() override { ++flushes_; }

 private:
  const std::chrono::microseconds per_line_;
  std::atomic<std::size_t> lines_{0};
  std::atomic<std::size_t> flushes_{0};
};

// Lines that come one after another, a fraction of a millisecond apart (connections
// opening and closing, say), must not cost the writer thread a wake-up and a write(2)
// each: the writer gathers them.
TEST(AuditLogFlood, LinesArrivingCloseTogetherShareFlushes) {
  auto sink = std::make_shared<CountingSink>();
  AuditOptions o;
  o.all_statements = true;
  const auto log = AuditLog::open(o, sink);
  constexpr std::size_t kEvents = 200;
  for (std::size_t i = 0; i < kEvents; ++i) {
    log->write(full_event(Event::statement, "SELECT 1"));
    std::this_thread::sleep_for(std::chrono::microseconds(250));
  }
  log->flush();
  EXPECT_EQ(sink->lines(), kEvents);
  EXPECT_EQ(log->dropped(), 0U);
  // A flush per line would be 200; gathered over about 50 ms, a handful.
  EXPECT_LE(sink->flushes(), kEvents / 4) << "flushes: " << sink->flushes();
}

// A destination slower than the sessions: the queue never empties, and the writer must
// still flush as it goes (whole lines reach the file, drops get reported) instead of
// waiting for a quiet moment that does not come.
TEST(AuditLogFlood, DestinationThatNeverCatchesUpIsStillFlushed) {
  auto sink = std::make_shared<CountingSink>(std::chrono::microseconds(200));
  AuditOptions o;
  o.all_statements = true;
  o.queue_size = 64;
  const auto log = AuditLog::open(o, sink);
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
  std::size_t events = 0;
  while (std::chrono::steady_clock::now() < until) {
    log->write(full_event(Event::statement, "SELECT 1"));
    ++events;
  }
  const std::size_t flushed_during_flood = sink->flushes();
  EXPECT_GT(log->dropped(), 0U) << events << " events";
  EXPECT_GT(flushed_during_flood, 0U) << "no flush while the queue stayed full";
  log->flush();
  EXPECT_EQ(log->written() + log->dropped(), events);
}

TEST(AuditLogFlood, StuckDestinationCostsLinesNotWaits) {
  auto sink = std::make_shared<GatedSink>();
  AuditOptions o;
  o.all_statements = true;
  o.queue_size = 16;
  const auto log = AuditLog::open(o, sink);
  constexpr std::size_t kEvents = 5000;
  // If write() waited for room, this loop would never end: the sink lets nothing out.
  for (std::size_t i = 0; i < kEvents; ++i) log->write(full_event(Event::statement, "SELECT 1"));
  // The writer thread holds at most one line in the sink, the queue the rest.
  EXPECT_GE(log->dropped(), kEvents - o.queue_size - 1);
  EXPECT_LE(log->dropped(), kEvents - o.queue_size);
  sink->open();
  log->flush();
  EXPECT_EQ(log->written() + log->dropped(), kEvents);
  // Besides the events, the sink got the audit_gap records announcing the losses.
  EXPECT_GT(log->gap_records(), 0U);
  EXPECT_EQ(sink->count(), log->written() + log->gap_records());
}

TEST(AuditLogFlood, SlowDestinationCountsDrops) {
  auto sink = std::make_shared<CountingSink>(std::chrono::microseconds(500));
  AuditOptions o;
  o.all_statements = true;
  o.queue_size = 64;
  const auto log = AuditLog::open(o, sink);
  constexpr std::size_t kEvents = 20000;
  auto slowest = std::chrono::nanoseconds::zero();
  for (std::size_t i = 0; i < kEvents; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    log->write(full_event(Event::statement, "SELECT 1"));
    slowest = std::max(slowest, std::chrono::steady_clock::now() - t0);
  }
  // The flood outran the sink: had write() waited, the sink would have seen them all.
  const std::size_t seen_during_flood = sink->lines();
  EXPECT_LT(seen_during_flood, kEvents);
  EXPECT_GT(log->dropped(), 0U);
  RecordProperty("slowest_write_us",
                 std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(slowest).count()));
  log->flush();
  EXPECT_EQ(log->written() + log->dropped(), kEvents);
}

TEST(AuditLogFlood, ManyWritersAreAllAccountedFor) {
  auto sink = std::make_shared<CountingSink>(std::chrono::microseconds(500));
  AuditOptions o;
  o.all_statements = true;
  o.queue_size = 32;
  const auto log = AuditLog::open(o, sink);
  constexpr std::size_t kThreads = 4, kEach = 2000;
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (std::size_t i = 0; i < kEach; ++i) log->write(full_event(Event::statement, "SELECT 1"));
    });
  }
  for (auto& t : threads) t.join();
  log->flush();
  EXPECT_EQ(log->written() + log->dropped(), kThreads * kEach);
  EXPECT_GT(log->dropped(), 0U);
}

}  // namespace
}  // namespace djproxy::audit
