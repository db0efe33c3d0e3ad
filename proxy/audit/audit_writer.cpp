#include "proxy/audit/audit_writer.hpp"

#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <chrono>

namespace djproxy::audit {

namespace {

// How long the writer gathers lines after the first one wakes it: under load one
// wake-up and one write(2) per window, and a line never waits longer than this.
constexpr auto kGatherWindow = std::chrono::milliseconds(20);
constexpr auto kFlushWait = std::chrono::seconds(5);

}  // namespace

AuditWriter::AuditWriter(std::size_t capacity, std::unique_ptr<GuardedSink> sink, std::shared_ptr<AuditShared> shared)
    : capacity_(std::max<std::size_t>(capacity, 1)),
      gather_limit_(std::max<std::size_t>(capacity_ / 2, 1)),
      sink_(std::move(sink)),
      shared_(std::move(shared)),
      thread_([this] { run(); }) {}

AuditWriter::~AuditWriter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void AuditWriter::post(std::string line) {
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

bool AuditWriter::flush() {
  std::unique_lock lock(mutex_);
  const std::uint64_t ticket = ++flush_requests_;
  state_ = State::kWriting;
  wake_.notify_one();
  return flushed_.wait_for(lock, kFlushWait, [&] { return flushes_done_ >= ticket; });
}

void AuditWriter::run() {
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

}  // namespace djproxy::audit
