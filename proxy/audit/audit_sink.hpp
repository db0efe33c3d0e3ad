#pragma once
// Between the writer thread and the destination: the counters the sessions, the writer
// and the destination share, and the guard that turns every failure of the destination
// into a counted, rate-limited warning and a gap record once it works again.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/sinks/sink.h>

#include "proxy/audit/audit_file.hpp"

namespace djproxy::audit {

using Clock = std::chrono::steady_clock;

// True for one caller per warning interval: a broken destination fails on every line,
// and the operator needs to hear about it, not thousands of times a second.
bool due(std::atomic<std::int64_t>& next);

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
  void write_failed(std::string_view what, std::uint64_t events = 1);
  void note_drops();
};

// spdlog's stdout sink ignores write errors; a log shipper that went away must show
// up in write_errors() like a full disk does.
spdlog::sink_ptr make_stdout_sink();

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

  void write(std::string_view line);
  void flush();

 private:
  struct Gap {
    std::size_t line;  // its index in the batch
    std::uint64_t covered_before;
  };
  // Beyond this a batch goes to the file before the writer's flush.
  static constexpr std::size_t kFileBatchBytes = 64 * 1024;

  void put(std::string_view line, bool gap);
  // The batch goes out whole lines only; the lines that did not fit are counted lost,
  // and a gap record among them is written again before the next line.
  void write_file();
  void open();

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

}  // namespace djproxy::audit
