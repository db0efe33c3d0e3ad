#include "proxy/audit/audit_sink.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include <spdlog/details/log_msg.h>
#include <spdlog/details/null_mutex.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include "proxy/audit/audit_record.hpp"

namespace djproxy::audit {

namespace {

constexpr auto kWarningInterval = std::chrono::seconds(10);
constexpr auto kReopenInterval = std::chrono::seconds(1);

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

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

bool due(std::atomic<std::int64_t>& next) {
  const std::int64_t now = now_ns();
  std::int64_t expected = next.load(std::memory_order_relaxed);
  if (now < expected) return false;
  const auto interval = std::chrono::duration_cast<std::chrono::nanoseconds>(kWarningInterval).count();
  return next.compare_exchange_strong(expected, now + interval, std::memory_order_relaxed);
}

void AuditShared::write_failed(std::string_view what, std::uint64_t events) {
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

void AuditShared::note_drops() {
  if (now_ns() < next_drop_warning.load(std::memory_order_relaxed)) return;
  const auto n = dropped();
  if (n > 0 && due(next_drop_warning)) {
    spdlog::warn("audit log: {} audit event(s) dropped so far: the destination does not keep up", n);
  }
}

spdlog::sink_ptr make_stdout_sink() { return std::make_shared<StdoutSink>(); }

void GuardedSink::write(std::string_view line) {
  const auto dropped = shared_->dropped();
  if (dropped > covered_) {
    gaps_.push_back({lines_, covered_});
    covered_ = dropped;
    put(gap_line(dropped - gaps_.back().covered_before), true);
  }
  put(line, false);
}

void GuardedSink::flush() {
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

void GuardedSink::put(std::string_view line, bool gap) {
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

void GuardedSink::write_file() {
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

void GuardedSink::open() {
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

}  // namespace djproxy::audit
