#pragma once
// The coroutine type of the workers' sessions. A Task starts when it is awaited and
// hands its result to the coroutine that awaited it.
//
// Every resumption goes through one loop per thread (resume()): a coroutine that is
// awaited, or that finishes, leaves the next one to run there instead of calling it. A
// task that completes at once therefore costs no stack, whatever the optimisation level:
// a relay that reads a thousand buffered packets in a row does not grow the stack by a
// thousand frames, as it would with symmetric transfer where GCC emits no tail call (-O0,
// the sanitizer build). Frames come from a per-thread cache, since every round trip
// makes and frees a few (bench/RESULTS.md, "The reactor question").
//
// GCC 12 miscompiles coroutine patterns, seen here as SIGILL and double frees: co_await
// inside an if/while condition or a ?: expression, and a temporary with a destructor
// inside a co_await full-expression (an aggregate built in the expression, such as
// `co_await Awaiter{..., shared_ptr}`, is destroyed twice; review round 32). Await into
// a named local first, and pass named values, never temporaries, to coroutines.
#include <coroutine>
#include <cstddef>
#include <exception>
#include <optional>
#include <utility>

namespace djproxy::proxy {

namespace task_detail {

void* allocate_frame(std::size_t size);
void free_frame(void* frame, std::size_t size) noexcept;

// The coroutine to run next on this thread, set by an await or a finish.
extern thread_local std::coroutine_handle<> next;

struct PromiseBase {
  std::coroutine_handle<> continuation;
  std::exception_ptr error;

  static void* operator new(std::size_t size) { return allocate_frame(size); }
  static void operator delete(void* frame, std::size_t size) noexcept { free_frame(frame, size); }

  std::suspend_always initial_suspend() noexcept { return {}; }
  struct Finish {
    bool await_ready() const noexcept { return false; }
    template <typename P>
    void await_suspend(std::coroutine_handle<P> self) noexcept {
      next = self.promise().continuation;
    }
    void await_resume() const noexcept {}
  };
  Finish final_suspend() noexcept { return {}; }
  void unhandled_exception() noexcept { error = std::current_exception(); }
};

}  // namespace task_detail

// Runs `h` and whatever it hands on to, until every coroutine it led to has suspended
// on something outside (a socket, a timer) or finished.
void resume(std::coroutine_handle<> h);

template <typename T>
class [[nodiscard]] Task;

namespace task_detail {

template <typename Promise>
class TaskBase {
 public:
  using Handle = std::coroutine_handle<Promise>;
  TaskBase() = default;
  explicit TaskBase(Handle h) : h_(h) {}
  TaskBase(TaskBase&& other) noexcept : h_(std::exchange(other.h_, {})) {}
  TaskBase& operator=(TaskBase&& other) noexcept {
    if (this != &other) {
      if (h_) h_.destroy();
      h_ = std::exchange(other.h_, {});
    }
    return *this;
  }
  ~TaskBase() {
    if (h_) h_.destroy();
  }

  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> caller) noexcept {
    h_.promise().continuation = caller;
    next = h_;
  }

  // The frame, for a caller that owns the task (spawn): it runs it with resume().
  Handle release() { return std::exchange(h_, {}); }

 protected:
  Handle h_;
};

}  // namespace task_detail

namespace task_detail {

template <typename T>
struct Promise : PromiseBase {
  std::optional<T> value;
  Task<T> get_return_object() { return Task<T>(std::coroutine_handle<Promise>::from_promise(*this)); }
  template <typename U>
  void return_value(U&& v) {
    value.emplace(std::forward<U>(v));
  }
};

template <>
struct Promise<void> : PromiseBase {
  Task<void> get_return_object();
  void return_void() {}
};

}  // namespace task_detail

template <typename T>
class [[nodiscard]] Task : public task_detail::TaskBase<task_detail::Promise<T>> {
 public:
  using promise_type = task_detail::Promise<T>;
  using task_detail::TaskBase<promise_type>::TaskBase;

  T await_resume() {
    auto& p = this->h_.promise();
    if (p.error) std::rethrow_exception(p.error);
    return std::move(*p.value);
  }
};

template <>
class [[nodiscard]] Task<void> : public task_detail::TaskBase<task_detail::Promise<void>> {
 public:
  using promise_type = task_detail::Promise<void>;
  using task_detail::TaskBase<promise_type>::TaskBase;

  void await_resume() {
    auto& p = this->h_.promise();
    if (p.error) std::rethrow_exception(p.error);
  }
};

inline Task<void> task_detail::Promise<void>::get_return_object() {
  return Task<void>(std::coroutine_handle<Promise>::from_promise(*this));
}

}  // namespace djproxy::proxy
