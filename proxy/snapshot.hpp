#pragma once
// An immutable value shared by every session and replaced as a whole on reload.
// Readers check a generation number (one acquire load) and take the lock only when
// it changed; a session keeps the snapshot it took, so a reload never changes the
// rules under a statement or a connection already running.
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

namespace djproxy::proxy {

template <typename T>
class Snapshot {
 public:
  explicit Snapshot(std::shared_ptr<const T> initial) : current_(std::move(initial)) {}

  void replace(std::shared_ptr<const T> next) {
    std::lock_guard lock(mutex_);
    current_ = std::move(next);
    generation_.fetch_add(1, std::memory_order_release);
  }
  std::uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
  std::shared_ptr<const T> get() const {
    std::lock_guard lock(mutex_);
    return current_;
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const T> current_;
  std::atomic<std::uint64_t> generation_{1};
};

}  // namespace djproxy::proxy
