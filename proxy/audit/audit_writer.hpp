#pragma once
// The queue between the sessions and the writer thread. spdlog's asynchronous logger
// wakes its thread for every line: on a 2-core machine, two extra context switches per
// connection. Here the first line after a quiet spell wakes the writer, which then
// gathers for a few milliseconds and writes the batch with one flush; sessions that
// queue lines meanwhile make no system call at all. A DBA's `tail -f` sees a line
// within the gathering window.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "proxy/audit/audit_sink.hpp"

namespace djproxy::audit {

class AuditWriter {
 public:
  AuditWriter(std::size_t capacity, std::unique_ptr<GuardedSink> sink, std::shared_ptr<AuditShared> shared);
  ~AuditWriter();  // writes out the rest of the queue, then joins the thread
  AuditWriter(const AuditWriter&) = delete;
  AuditWriter& operator=(const AuditWriter&) = delete;

  // Never waits for the destination; a full queue loses its oldest line.
  void post(std::string line);
  // Waits (bounded) until what was queued before the call is written and flushed.
  bool flush();

 private:
  enum class State : std::uint8_t {
    kWriting,    // awake: no session needs to wake it
    kIdle,       // asleep until a line arrives
    kGathering,  // asleep for the window, unless the queue fills up
  };

  void run();

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

}  // namespace djproxy::audit
