#include "proxy/task.hpp"

#include <array>
#include <cstdlib>
#include <new>
#include <vector>

namespace djproxy::proxy {

namespace task_detail {

thread_local std::coroutine_handle<> next;

namespace {

// Frames by size, in steps of 64 bytes up to 4 KiB; a larger frame comes from malloc.
// Each step keeps up to 64 frames, so a thread holds at most about 8 MB of them after
// a burst of sessions (in practice a session keeps four or five frames alive).
constexpr std::size_t kStep = 64;
constexpr std::size_t kSteps = 64;
constexpr std::size_t kKept = 64;

struct FrameCache {
  std::array<std::vector<void*>, kSteps> free;
  ~FrameCache() {
    for (auto& list : free)
      for (void* p : list) ::operator delete(p);
  }
};

thread_local FrameCache cache;

std::size_t step_of(std::size_t size) { return (size + kStep - 1) / kStep; }

}  // namespace

void* allocate_frame(std::size_t size) {
  const std::size_t step = step_of(size);
  if (step < kSteps) {
    auto& list = cache.free[step];
    if (!list.empty()) {
      void* p = list.back();
      list.pop_back();
      return p;
    }
    return ::operator new(step * kStep);
  }
  return ::operator new(size);
}

void free_frame(void* frame, std::size_t size) noexcept {
  const std::size_t step = step_of(size);
  if (step < kSteps) {
    auto& list = cache.free[step];
    if (list.size() < kKept) {
      try {
        list.push_back(frame);
        return;
      } catch (...) {
      }
    }
  }
  ::operator delete(frame);
}

}  // namespace task_detail

void resume(std::coroutine_handle<> h) {
  // Nested runs (a coroutine that starts another one) keep the outer run's next.
  const auto outer = std::exchange(task_detail::next, {});
  h.resume();
  while (task_detail::next) std::exchange(task_detail::next, {}).resume();
  task_detail::next = outer;
}

}  // namespace djproxy::proxy
