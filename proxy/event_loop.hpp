#pragma once
// A worker's event loop: edge-triggered epoll, the coroutines it resumes, a few timers,
// and functions posted from other threads. It replaced Asio's io_context in the
// workers because Asio's reactor tries every read before it waits and cannot be told
// that a short read drained the socket, and its scheduler costs about 2,900
// instructions per query; a prototype of this loop cut the CPU per query by 16-19 % at
// eight threads (bench/RESULTS.md, "The reactor question"). The admin server and the
// signal handling keep Asio, on threads of their own.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <coroutine>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "proxy/asio.hpp"
#include "proxy/task.hpp"

namespace djproxy::proxy {

class Socket;

class EventLoop {
 public:
  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Runs until stop(), then ends the coroutines that are still waiting (their frames
  // are destroyed, which frees their sessions).
  void run();
  // Thread-safe.
  void stop();
  // Runs `f` on the loop's thread. Thread-safe.
  void post(std::function<void()> f);

  // Starts `task` on the loop (at once if called on the loop's thread from a running
  // coroutine, else when the loop next turns). An exception that escapes it is logged.
  void spawn(Task<void> task);

  // Waits `delay`. A worker has a few timers (the janitor's sweep); they share one
  // timerfd, so that a turn of the loop reads no clock.
  struct Sleep {
    EventLoop& loop;
    std::chrono::steady_clock::time_point deadline;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) { loop.add_timer(deadline, h); }
    void await_resume() const noexcept {}
  };
  Sleep sleep_for(std::chrono::milliseconds delay) { return {*this, std::chrono::steady_clock::now() + delay}; }

  // A backend's name to its addresses, on a resolver thread of the loop's own, since
  // getaddrinfo blocks.
  struct Resolved {
    ErrorCode error;
    std::vector<tcp::endpoint> endpoints;
  };
  Task<Resolved> resolve(const std::string& host, const std::string& port);

  // For Socket: the descriptors this loop watches, and what their events make ready.
  void add(int fd, Socket& socket);
  void remove(int fd);
  void ready(std::coroutine_handle<> h) { ready_.push_back(h); }
  void call(std::function<void()> f) { calls_.push_back(std::move(f)); }

 private:
  struct Root;
  // A started coroutine's place in the list of those not finished.
  struct RootLink {
    EventLoop* loop = nullptr;
    RootLink* prev = nullptr;
    RootLink* next = nullptr;
    std::coroutine_handle<> handle;
    ~RootLink();
  };
  static Root run_root(Task<void> task);
  struct Timer {
    std::chrono::steady_clock::time_point deadline;
    std::coroutine_handle<> h;
  };
  struct Resolution;

  void run_ready();
  void run_posted();
  void add_timer(std::chrono::steady_clock::time_point deadline, std::coroutine_handle<> h);
  void run_timers();
  void arm_timer();
  void end_roots();
  void resolver_main();

  int epoll_ = -1;
  int wake_ = -1;   // eventfd: post() and stop() from other threads
  int timer_ = -1;  // timerfd, armed for the earliest of timers_
  std::chrono::steady_clock::time_point armed_ = std::chrono::steady_clock::time_point::max();
  std::vector<Socket*> sockets_;  // by descriptor
  std::vector<std::coroutine_handle<>> ready_;
  std::vector<std::function<void()>> calls_;
  std::vector<Timer> timers_;
  RootLink* roots_ = nullptr;  // coroutines started by spawn() and not finished

  std::mutex posted_mutex_;
  std::vector<std::function<void()>> posted_;
  std::atomic<bool> has_posted_{false};
  std::atomic<bool> stopped_{false};

  std::mutex resolver_mutex_;
  std::condition_variable resolver_wake_;
  std::deque<std::shared_ptr<Resolution>> resolver_queue_;
  bool resolver_stop_ = false;
  std::thread resolver_;
};

}  // namespace djproxy::proxy
