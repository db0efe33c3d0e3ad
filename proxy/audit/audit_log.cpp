#include "proxy/audit/audit_log.hpp"

#include <cstring>

#include "proxy/audit/audit_file.hpp"

#include <pthread.h>
#include <signal.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <cstdio>
#include <ctime>
#include <functional>
#include <iterator>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>
#include <spdlog/details/log_msg.h>
#include <spdlog/details/null_mutex.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/sink.h>
#include <spdlog/spdlog.h>

namespace djproxy::audit {

namespace {

using Clock = std::chrono::steady_clock;

// A broken destination fails on every line; the operator needs to hear about it, not
// thousands of times a second.
constexpr auto kWarningInterval = std::chrono::seconds(10);
constexpr auto kReopenInterval = std::chrono::seconds(1);
// How long the writer gathers lines after the first one wakes it: under load one
// wake-up and one write(2) per window, and a line never waits longer than this.
constexpr auto kGatherWindow = std::chrono::milliseconds(20);
constexpr auto kFlushWait = std::chrono::seconds(5);

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

// True for one caller per interval.
bool due(std::atomic<std::int64_t>& next) {
  const std::int64_t now = now_ns();
  std::int64_t expected = next.load(std::memory_order_relaxed);
  if (now < expected) return false;
  const auto interval = std::chrono::duration_cast<std::chrono::nanoseconds>(kWarningInterval).count();
  return next.compare_exchange_strong(expected, now + interval, std::memory_order_relaxed);
}

// ------------------------------------------------------------------ JSON text

// Length of the well-formed UTF-8 sequence at `p` (Unicode 15, table 3-7: no
// overlongs, no surrogates, nothing past U+10FFFF), or 0.
std::size_t utf8_sequence(const unsigned char* p, std::size_t n) {
  const unsigned char b0 = p[0];
  auto cont = [&](std::size_t i, unsigned char lo = 0x80, unsigned char hi = 0xBF) {
    return i < n && p[i] >= lo && p[i] <= hi;
  };
  if (b0 >= 0xC2 && b0 <= 0xDF) return cont(1) ? 2 : 0;
  if (b0 == 0xE0) return cont(1, 0xA0) && cont(2) ? 3 : 0;
  if ((b0 >= 0xE1 && b0 <= 0xEC) || b0 == 0xEE || b0 == 0xEF) return cont(1) && cont(2) ? 3 : 0;
  if (b0 == 0xED) return cont(1, 0x80, 0x9F) && cont(2) ? 3 : 0;
  if (b0 == 0xF0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (b0 >= 0xF1 && b0 <= 0xF3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (b0 == 0xF4) return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

void append_u_escape(std::string& out, unsigned value) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += "\\u00";
  out += kHex[(value >> 4) & 0xF];
  out += kHex[value & 0xF];
}

void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  append_escaped(out, text);
  out += '"';
}

}  // namespace

// Statements are bytes in whatever character set the client uses, and blobs arrive
// as escaped literals, so the text is often not UTF-8. A byte that does not start a
// well-formed sequence is written as the code point of the same value (as latin1
// reads it): the line stays valid JSON and the byte stays visible, where U+FFFD would
// hide it.
void append_escaped(std::string& out, std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    const unsigned char c = p[i];
    if (c < 0x80) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default:
          if (c < 0x20 || c == 0x7F) {
            append_u_escape(out, c);
          } else {
            out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    const std::size_t len = utf8_sequence(p + i, n - i);
    if (len == 0) {
      append_u_escape(out, c);
      ++i;
    } else {
      out.append(text.data() + i, len);
      i += len;
    }
  }
}

namespace {

// Cuts at `max` bytes, moving back to the start of a UTF-8 sequence so a character
// that fits only in part is left out instead of turning into stray bytes.
std::string_view cut(std::string_view text, std::uint32_t max) {
  if (max == 0 || text.size() <= max) return text;
  std::size_t end = max;
  for (int back = 0; back < 3 && end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80; ++back) --end;
  const auto* lead = reinterpret_cast<const unsigned char*>(text.data()) + end;
  // Step back only over a well-formed character that the cut actually splits;
  // binary bytes are cut where they are.
  if (end < max && utf8_sequence(lead, text.size() - end) <= max - end) end = max;
  return text.substr(0, end);
}

// RFC 3339, UTC, microseconds: what MariaDB's and Percona's JSON formats parse into.
void append_timestamp(std::string& out) {
  const auto now = std::chrono::system_clock::now();
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(us / 1'000'000);
  const auto frac = static_cast<long>(us % 1'000'000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  fmt::format_to(std::back_inserter(out), "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

class LineBuilder {
 public:
  explicit LineBuilder(std::string& out) : out_(out) { out_ += '{'; }
  void finish() { out_ += '}'; }

  void key(std::string_view name) {
    if (!first_) out_ += ',';
    first_ = false;
    out_ += '"';
    out_ += name;  // our own names: plain ASCII
    out_ += "\":";
  }
  void text(std::string_view name, std::string_view value) {
    if (value.empty()) return;
    key(name);
    append_json_string(out_, value);
  }
  template <typename Int>
  void number(std::string_view name, const std::optional<Int>& value) {
    if (!value) return;
    key(name);
    fmt::format_to(std::back_inserter(out_), "{}", *value);
  }

  std::string& out() { return out_; }

 private:
  std::string& out_;
  bool first_ = true;
};

// ------------------------------------------------------------------ names

constexpr std::string_view kEventNames[] = {
    "connect",       "disconnect",       "auth_failed",       "reject",      "schema_change",
    "rewrite",       "migration_begin",  "migration_end",     "migration_denied",
    "dry_run_violation", "bookkeeping",  "statement",         "config_reload",
    "startup",       "shutdown",
};

constexpr std::string_view kClassNames[] = {
    "connect", "disconnect", "auth", "reject", "rewrite", "migration", "ddl", "bookkeeping", "statement",
};

}  // namespace

std::string_view to_string(Event event) noexcept {
  const auto i = static_cast<std::size_t>(event);
  return i < std::size(kEventNames) ? kEventNames[i] : std::string_view("unknown");
}

EventClass class_of(Event event) noexcept {
  switch (event) {
    case Event::connect: return EventClass::connect;
    case Event::disconnect: return EventClass::disconnect;
    case Event::auth_failed: return EventClass::auth;
    // A dry-run violation is the rejection production would make.
    case Event::reject:
    case Event::dry_run_violation: return EventClass::reject;
    case Event::schema_change: return EventClass::ddl;
    case Event::rewrite: return EventClass::rewrite;
    case Event::migration_begin:
    case Event::migration_end:
    case Event::migration_denied: return EventClass::migration;
    case Event::bookkeeping: return EventClass::bookkeeping;
    case Event::statement: return EventClass::statement;
    case Event::config_reload:
    case Event::startup:
    case Event::shutdown: return EventClass::lifecycle;
  }
  return EventClass::lifecycle;
}

std::optional<EventClass> parse_event_class(std::string_view name) noexcept {
  for (std::size_t i = 0; i < std::size(kClassNames); ++i) {
    if (kClassNames[i] == name) return static_cast<EventClass>(i);
  }
  return std::nullopt;
}

std::string format_line(const AuditEvent& e, std::uint32_t statement_max_length) {
  std::size_t query_room = e.query ? e.query->size() : 0;
  if (statement_max_length != 0) query_room = std::min<std::size_t>(query_room, statement_max_length);
  std::string line;
  line.reserve(256 + query_room + query_room / 8);
  LineBuilder b(line);
  b.key("timestamp");
  line += '"';
  append_timestamp(line);
  line += '"';
  b.text("event", to_string(e.event));
  b.number("connection_id", e.connection_id);
  b.number("server_connection_id", e.server_connection_id);
  b.text("host", e.host);
  b.number("port", e.port);
  b.text("user", e.user);
  b.text("database", e.database);
  if (e.tls) {
    b.key("tls");
    line += *e.tls ? "true" : "false";
  }
  b.text("command", e.command);
  b.text("statement_kind", e.statement_kind);
  if (e.query) {
    b.key("query");
    append_json_string(line, cut(*e.query, statement_max_length));
    b.number("query_length", std::optional<std::uint64_t>(e.query_length.value_or(e.query->size())));
  } else if (e.query_withheld) {
    b.key("query_withheld");
    line += "true";
    b.number("query_length", e.query_length);
  }
  b.text("digest", cut(e.digest, statement_max_length));
  b.text("decision", e.decision);
  b.text("rule", e.rule);
  b.number("error_code", e.error_code);
  b.text("message", e.message);
  b.text("token_id", e.token_id);
  if (e.duration_ms && std::isfinite(*e.duration_ms)) {
    b.key("duration_ms");
    fmt::format_to(std::back_inserter(line), "{:.3f}", *e.duration_ms);
  }
  b.number("bytes_in", e.bytes_in);
  b.number("bytes_out", e.bytes_out);
  b.finish();
  return line;
}

// ------------------------------------------------------------------ the writer

// Counters shared by the sessions, the writer thread and the destination guard.
struct AuditShared {
  std::atomic<std::uint64_t> written{0};
  std::atomic<std::uint64_t> write_errors{0};
  std::atomic<std::uint64_t> overruns{0};  // pushed out of a full queue by newer lines
  std::atomic<std::uint64_t> lost{0};      // never reached the queue
  std::atomic<std::uint64_t> unwritten{0}; // the destination refused them
  std::atomic<std::uint64_t> gap_records{0};  // audit_gap lines written
  std::atomic<bool> failing{false};        // the last write to the destination failed
  std::mutex problem_mutex;
  std::string problem;  // why it failed, for /readyz
  std::atomic<std::int64_t> next_error_warning{0};
  std::atomic<std::int64_t> next_drop_warning{0};

  std::uint64_t dropped() const {
    return overruns.load(std::memory_order_relaxed) + lost.load(std::memory_order_relaxed) +
           unwritten.load(std::memory_order_relaxed);
  }

  void write_failed(std::string_view what, std::uint64_t events = 1) {
    {
      std::lock_guard lock(problem_mutex);
      problem.assign(what);
    }
    failing.store(true, std::memory_order_relaxed);
    const auto n = write_errors.fetch_add(events, std::memory_order_relaxed) + events;
    if (due(next_error_warning)) {
      spdlog::warn("audit log: cannot write ({}); {} audit write error(s) so far, traffic goes on", what, n);
    }
  }

  void note_drops() {
    if (now_ns() < next_drop_warning.load(std::memory_order_relaxed)) return;
    const auto n = dropped();
    if (n > 0 && due(next_drop_warning)) {
      spdlog::warn("audit log: {} audit event(s) dropped so far: the destination does not keep up", n);
    }
  }
};

namespace {

// The record that tells a DBA reading the log that events are missing before it.
std::string gap_line(std::uint64_t lost) {
  std::string line;
  LineBuilder b(line);
  b.key("timestamp");
  line += '"';
  append_timestamp(line);
  line += '"';
  b.text("event", "audit_gap");
  b.number("events_lost", std::optional<std::uint64_t>(lost));
  b.text("message", "audit events were lost here (destination failed or did not keep up)");
  b.finish();
  return line;
}

// In front of the real destination: opens it (again, after a failure), turns every
// failure into a counted, rate-limited warning, counts every event it loses and, once
// writing works again, first writes an audit_gap record saying how many were lost.
// Only the writer thread calls it.
class GuardedSink {
 public:
  GuardedSink(std::function<spdlog::sink_ptr()> make, std::shared_ptr<AuditShared> shared)
      : make_(std::move(make)), shared_(std::move(shared)) {}
  GuardedSink(std::unique_ptr<AppendFile> file, std::shared_ptr<AuditShared> shared)
      : file_(std::move(file)), shared_(std::move(shared)) {}

  void write(std::string_view line) {
    const auto dropped = shared_->dropped();
    if (dropped > covered_) {
      gaps_.push_back({lines_, covered_});
      covered_ = dropped;
      put(gap_line(dropped - gaps_.back().covered_before), true);
    }
    put(line, false);
  }

  void flush() {
    if (file_ != nullptr) {
      write_file();
      return;
    }
    try {
      if (inner_ != nullptr) inner_->flush();
    } catch (const std::exception& e) {
      shared_->write_failed(e.what(), 0);
    }
  }

 private:
  struct Gap {
    std::size_t line;  // its index in the batch
    std::uint64_t covered_before;
  };
  // Beyond this a batch goes to the file before the writer's flush.
  static constexpr std::size_t kFileBatchBytes = 64 * 1024;

  void put(std::string_view line, bool gap) {
    if (file_ != nullptr) {
      buffer_.append(line);
      buffer_ += '\n';
      ++lines_;
      if (buffer_.size() >= kFileBatchBytes) write_file();
      return;
    }
    try {
      open();
      const spdlog::details::log_msg msg(spdlog::source_loc{}, "djproxy-audit", spdlog::level::info,
                                         spdlog::string_view_t(line.data(), line.size()));
      inner_->log(msg);
      (gap ? shared_->gap_records : shared_->written).fetch_add(1, std::memory_order_relaxed);
      shared_->failing.store(false, std::memory_order_relaxed);
    } catch (const std::exception& e) {
      if (gap) {
        covered_ = gaps_.back().covered_before;  // said again with the next line
      } else {
        shared_->unwritten.fetch_add(1, std::memory_order_relaxed);
        shared_->write_failed(e.what());
      }
    }
    gaps_.clear();
  }

  // The batch goes out whole lines only; the lines that did not fit are counted lost,
  // and a gap record among them is written again before the next line.
  void write_file() {
    if (buffer_.empty()) return;
    const auto r = file_->append(buffer_);
    std::size_t kept_lines = 0;
    for (std::size_t i = 0; i < r.kept; ++i) kept_lines += buffer_[i] == '\n' ? 1 : 0;
    std::size_t lost_gaps = 0;
    for (const Gap& g : gaps_) {
      if (g.line < kept_lines) continue;
      if (lost_gaps++ == 0) covered_ = g.covered_before;
    }
    const std::size_t kept_gaps = gaps_.size() - lost_gaps;
    shared_->written.fetch_add(kept_lines - kept_gaps, std::memory_order_relaxed);
    shared_->gap_records.fetch_add(kept_gaps, std::memory_order_relaxed);
    const std::uint64_t lost_events = (lines_ - kept_lines) - lost_gaps;
    buffer_.clear();
    lines_ = 0;
    gaps_.clear();
    if (r.error == 0) {
      shared_->failing.store(false, std::memory_order_relaxed);
      return;
    }
    shared_->unwritten.fetch_add(lost_events, std::memory_order_relaxed);
    shared_->write_failed(std::strerror(r.error), lost_events);
  }

  void open() {
    if (inner_ != nullptr) return;
    const auto now = Clock::now();
    if (now < next_open_) throw std::runtime_error(open_error_);
    next_open_ = now + kReopenInterval;
    try {
      inner_ = make_();
    } catch (const std::exception& e) {
      open_error_ = e.what();
      throw;
    }
    // The line format is fixed: the payload is the finished JSON line.
    inner_->set_formatter(
        std::make_unique<spdlog::pattern_formatter>("%v", spdlog::pattern_time_type::utc, std::string("\n")));
  }

  std::function<spdlog::sink_ptr()> make_;
  std::unique_ptr<AppendFile> file_;
  std::shared_ptr<AuditShared> shared_;
  spdlog::sink_ptr inner_;
  Clock::time_point next_open_{};
  std::string open_error_;
  // Lost events already announced by a gap record (written, or in the batch).
  std::uint64_t covered_ = 0;
  std::string buffer_;  // the file's batch
  std::size_t lines_ = 0;
  std::vector<Gap> gaps_;
};

// spdlog's stdout sink ignores write errors; a log shipper that went away must show
// up in write_errors() like a full disk does.
class StdoutSink final : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    if (std::fwrite(formatted.data(), 1, formatted.size(), stdout) != formatted.size()) {
      throw spdlog::spdlog_ex("cannot write to stdout", errno);
    }
  }
  void flush_() override {
    if (std::fflush(stdout) != 0) throw spdlog::spdlog_ex("cannot flush stdout", errno);
  }
};


}  // namespace

// The queue between the sessions and the writer thread. spdlog's asynchronous logger
// wakes its thread for every line: on a 2-core machine, two extra context switches per
// connection. Here the first line after a quiet spell wakes the writer, which then
// gathers for a few milliseconds and writes the batch with one flush; sessions that
// queue lines meanwhile make no system call at all. A DBA's `tail -f` sees a line
// within the gathering window.
class AuditWriter {
 public:
  AuditWriter(std::size_t capacity, std::unique_ptr<GuardedSink> sink, std::shared_ptr<AuditShared> shared)
      : capacity_(std::max<std::size_t>(capacity, 1)),
        gather_limit_(std::max<std::size_t>(capacity_ / 2, 1)),
        sink_(std::move(sink)),
        shared_(std::move(shared)),
        thread_([this] { run(); }) {}

  ~AuditWriter() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }

  AuditWriter(const AuditWriter&) = delete;
  AuditWriter& operator=(const AuditWriter&) = delete;

  // Never waits for the destination; a full queue loses its oldest line.
  void post(std::string line) {
    std::unique_lock lock(mutex_);
    if (queue_.size() >= capacity_) {
      queue_.pop_front();
      shared_->overruns.fetch_add(1, std::memory_order_relaxed);
    }
    queue_.push_back(std::move(line));
    const bool wake = state_ == State::kIdle || (state_ == State::kGathering && queue_.size() >= gather_limit_);
    if (wake) state_ = State::kWriting;
    lock.unlock();
    if (wake) wake_.notify_one();
  }

  // Waits (bounded) until what was queued before the call is written and flushed.
  bool flush() {
    std::unique_lock lock(mutex_);
    const std::uint64_t ticket = ++flush_requests_;
    state_ = State::kWriting;
    wake_.notify_one();
    return flushed_.wait_for(lock, kFlushWait, [&] { return flushes_done_ >= ticket; });
  }

 private:
  enum class State : std::uint8_t {
    kWriting,    // awake: no session needs to wake it
    kIdle,       // asleep until a line arrives
    kGathering,  // asleep for the window, unless the queue fills up
  };

  void run() {
    pthread_setname_np(pthread_self(), "djproxy-audit");
    // A write to a pipe whose reader is gone (stdout into a dead log shipper) raises
    // SIGPIPE in the writing thread, and by default that ends the process. Blocked
    // here, the write fails with EPIPE instead and is counted like any other failure.
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, nullptr);

    std::unique_lock lock(mutex_);
    for (;;) {
      // One line at a time off the queue: what waits for the destination is in the
      // queue, so the queue's capacity bounds the memory. A batch ends with the queue
      // or after gather_limit_ lines, so a destination that never catches up is still
      // flushed (whole lines) and its drops are still reported.
      std::size_t wrote = 0;
      while (!queue_.empty() && wrote < gather_limit_) {
        std::string line = std::move(queue_.front());
        queue_.pop_front();
        lock.unlock();
        sink_->write(line);
        ++wrote;
        lock.lock();
      }
      const std::uint64_t requested = queue_.empty() ? flush_requests_ : flushes_done_;
      if (wrote > 0 || requested != flushes_done_) {
        lock.unlock();
        sink_->flush();
        shared_->note_drops();
        lock.lock();
        flushes_done_ = requested;
        flushed_.notify_all();
      }
      if (!queue_.empty() || flush_requests_ != flushes_done_) continue;
      if (stopping_) return;
      state_ = State::kIdle;
      wake_.wait(lock, [&] { return state_ == State::kWriting || stopping_; });
      if (!stopping_ && flush_requests_ == flushes_done_) {
        state_ = State::kGathering;
        wake_.wait_for(lock, kGatherWindow, [&] { return state_ == State::kWriting || stopping_; });
      }
      state_ = State::kWriting;
    }
  }

  const std::size_t capacity_;
  const std::size_t gather_limit_;
  const std::unique_ptr<GuardedSink> sink_;
  const std::shared_ptr<AuditShared> shared_;
  std::mutex mutex_;
  std::condition_variable wake_;     // the writer sleeps on it
  std::condition_variable flushed_;  // flush() waits on it
  std::deque<std::string> queue_;
  State state_ = State::kWriting;
  bool stopping_ = false;
  std::uint64_t flush_requests_ = 0;
  std::uint64_t flushes_done_ = 0;
  std::thread thread_;  // last: it starts once everything above is ready
};

std::unique_ptr<AuditLog> AuditLog::open(const AuditOptions& options) {
  return std::unique_ptr<AuditLog>(new AuditLog(options, nullptr));
}

std::unique_ptr<AuditLog> AuditLog::open(const AuditOptions& options, spdlog::sink_ptr sink) {
  if (sink == nullptr) throw std::invalid_argument("audit log: no sink");
  return std::unique_ptr<AuditLog>(new AuditLog(options, std::move(sink)));
}

AuditLog::AuditLog(const AuditOptions& options, spdlog::sink_ptr sink)
    : statement_max_length_(options.statement_max_length), shared_(std::make_shared<AuditShared>()) {
  mask_ = 1U << static_cast<unsigned>(EventClass::lifecycle);
  for (const auto& name : options.events) {
    const auto c = parse_event_class(name);
    if (!c) throw std::invalid_argument("audit log: unknown event class '" + name + "'");
    mask_ |= 1U << static_cast<unsigned>(*c);
  }
  if (options.all_statements) mask_ |= 1U << static_cast<unsigned>(EventClass::statement);

  std::unique_ptr<GuardedSink> guarded;
  if (sink != nullptr) {
    guarded = std::make_unique<GuardedSink>([sink] { return sink; }, shared_);
  } else if (options.path == "-") {
    guarded = std::make_unique<GuardedSink>([] { return std::make_shared<StdoutSink>(); }, shared_);
  } else {
    guarded = std::make_unique<GuardedSink>(
        std::make_unique<AppendFile>(options.path, options.rotate_size, options.rotate_count), shared_);
  }
  writer_ = std::make_unique<AuditWriter>(options.queue_size, std::move(guarded), shared_);
}

AuditLog::~AuditLog() {
  flush();
  // The writer's destructor writes out the rest of the queue, then joins its thread.
  writer_.reset();
}

void AuditLog::write(const AuditEvent& event) noexcept {
  try {
    writer_->post(format_line(event, statement_max_length_));
  } catch (...) {
    shared_->lost.fetch_add(1, std::memory_order_relaxed);
    if (due(shared_->next_drop_warning)) spdlog::warn("audit log: an event was lost (out of memory)");
  }
}

std::uint64_t AuditLog::dropped() const noexcept { return shared_->dropped(); }

std::uint64_t AuditLog::write_errors() const noexcept { return shared_->write_errors.load(std::memory_order_relaxed); }

std::uint64_t AuditLog::gap_records() const noexcept {
  return shared_->gap_records.load(std::memory_order_relaxed);
}

std::string AuditLog::problem() const {
  if (!shared_->failing.load(std::memory_order_relaxed)) return {};
  std::string why;
  {
    std::lock_guard lock(shared_->problem_mutex);
    why = shared_->problem;
  }
  return fmt::format("cannot write ({}), {} event(s) lost so far", why, shared_->dropped());
}

std::uint64_t AuditLog::written() const noexcept { return shared_->written.load(std::memory_order_relaxed); }

void AuditLog::flush() noexcept {
  try {
    writer_->flush();
  } catch (...) {
    // A lock that cannot be taken: nothing more to do at shutdown.
  }
}

}  // namespace djproxy::audit
