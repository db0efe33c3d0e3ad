#include "proxy/task.hpp"

#include <array>
#include <cstdlib>
#include <new>

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

// The free frames of each step, linked through their first bytes.
struct FreeFrame {
  FreeFrame* next;
};

struct FrameCache {
  std::array<FreeFrame*, kSteps> head{};
  std::array<std::size_t, kSteps> count{};
  ~FrameCache() {
    for (FreeFrame* f : head) {
      while (f != nullptr) ::operator delete(std::exchange(f, f->next));
    }
  }
};

thread_local FrameCache cache;

std::size_t step_of(std::size_t size) { return (size + kStep - 1) / kStep; }

}  // namespace


// Under AddressSanitizer every frame is the allocator's own, so that a frame used after
// its coroutine ended is reported rather than recycled (review round 32).
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kCache = false;
#else
constexpr bool kCache = true;
#endif

void* allocate_frame(std::size_t size) {
  if (!kCache) return ::operator new(size);
  const std::size_t step = step_of(size);
  if (step >= kSteps) return ::operator new(size);
  if (FreeFrame* f = cache.head[step]; f != nullptr) {
    cache.head[step] = f->next;
    --cache.count[step];
    return f;
  }
  return ::operator new(step * kStep);
}

void free_frame(void* frame, std::size_t size) noexcept {
  if (!kCache) {
    ::operator delete(frame);
    return;
  }
  const std::size_t step = step_of(size);
  if (step >= kSteps || cache.count[step] >= kKept) {
    ::operator delete(frame);
    return;
  }
  auto* f = static_cast<FreeFrame*>(frame);
  f->next = cache.head[step];
  cache.head[step] = f;
  ++cache.count[step];
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
