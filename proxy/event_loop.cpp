#include "proxy/event_loop.hpp"

#include <netdb.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include <spdlog/spdlog.h>

#include "proxy/socket.hpp"

namespace djproxy::proxy {

// A coroutine started by spawn(): it runs its task to the end and frees itself. The loop
// keeps a list of them, so that those still waiting when it stops can be ended.
struct EventLoop::Root {
  struct promise_type : RootLink {
    Root get_return_object() { return Root{std::coroutine_handle<promise_type>::from_promise(*this)}; }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    void unhandled_exception() noexcept {}  // run_root catches what its task throws
  };
  std::coroutine_handle<promise_type> handle;
};

EventLoop::RootLink::~RootLink() {
  if (loop == nullptr) return;
  if (prev != nullptr) prev->next = next;
  if (next != nullptr) next->prev = prev;
  if (loop->roots_ == this) loop->roots_ = next;
}

EventLoop::Root EventLoop::run_root(Task<void> task) {
  try {
    co_await task;
  } catch (const std::exception& e) {
    spdlog::error("a worker's coroutine failed: {}", e.what());
  }
}

namespace {

std::system_error last_error(const char* what) { return std::system_error(errno, std::system_category(), what); }

}  // namespace

// The resolver's request and answer, shared with its thread.
struct EventLoop::Resolution {
  std::string host;
  std::string port;
  Resolved result;
  std::coroutine_handle<> waiting;
};

EventLoop::EventLoop() {
  epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_ < 0) throw last_error("epoll_create1");
  wake_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_ < 0) {
    ::close(epoll_);
    throw last_error("eventfd");
  }
  timer_ = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (timer_ < 0) {
    const auto error = last_error("timerfd_create");
    ::close(wake_);
    ::close(epoll_);
    throw error;
  }
  for (const int fd : {wake_, timer_}) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    if (::epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev) != 0) {
      const auto error = last_error("epoll_ctl");
      ::close(timer_);
      ::close(wake_);
      ::close(epoll_);
      throw error;
    }
  }
}

EventLoop::~EventLoop() {
  {
    std::lock_guard lock(resolver_mutex_);
    resolver_stop_ = true;
  }
  resolver_wake_.notify_all();
  if (resolver_.joinable()) resolver_.join();
  end_roots();
  ::close(timer_);
  ::close(wake_);
  ::close(epoll_);
}

void EventLoop::stop() {
  stopped_.store(true, std::memory_order_release);
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto n = ::write(wake_, &one, sizeof one);
}

void EventLoop::post(std::function<void()> f) {
  {
    std::lock_guard lock(posted_mutex_);
    posted_.push_back(std::move(f));
  }
  has_posted_.store(true, std::memory_order_release);
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto n = ::write(wake_, &one, sizeof one);
}

void EventLoop::spawn(Task<void> task) {
  Root root = run_root(std::move(task));
  RootLink& link = root.handle.promise();
  link.loop = this;
  link.handle = root.handle;
  link.next = roots_;
  if (roots_ != nullptr) roots_->prev = &link;
  roots_ = &link;
  ready(root.handle);
}

void EventLoop::add(int fd, Socket& socket) {
  if (static_cast<std::size_t>(fd) >= sockets_.size()) sockets_.resize(static_cast<std::size_t>(fd) + 64, nullptr);
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLPRI | EPOLLET;
  ev.data.fd = fd;
  if (::epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev) != 0) throw last_error("epoll_ctl");
  sockets_[static_cast<std::size_t>(fd)] = &socket;
}

void EventLoop::remove(int fd) {
  if (fd >= 0 && static_cast<std::size_t>(fd) < sockets_.size()) sockets_[static_cast<std::size_t>(fd)] = nullptr;
}

void EventLoop::run_ready() {
  // Resumed coroutines and calls can make more ready; run until none is.
  while (!ready_.empty() || !calls_.empty()) {
    for (std::size_t i = 0; i < ready_.size(); ++i) resume(ready_[i]);
    ready_.clear();
    if (!calls_.empty()) {
      auto calls = std::move(calls_);
      calls_.clear();
      for (auto& f : calls) f();
    }
  }
}

void EventLoop::run_posted() {
  if (!has_posted_.load(std::memory_order_acquire)) return;
  std::vector<std::function<void()>> posted;
  {
    std::lock_guard lock(posted_mutex_);
    posted.swap(posted_);
    has_posted_.store(false, std::memory_order_relaxed);
  }
  for (auto& f : posted) f();
}

void EventLoop::add_timer(std::chrono::steady_clock::time_point deadline, std::coroutine_handle<> h) {
  timers_.push_back({deadline, h});
  if (deadline < armed_) arm_timer();
}

// steady_clock is CLOCK_MONOTONIC on Linux, the timerfd's clock.
void EventLoop::arm_timer() {
  armed_ = std::chrono::steady_clock::time_point::max();
  for (const auto& t : timers_) armed_ = std::min(armed_, t.deadline);
  itimerspec spec{};
  if (armed_ != std::chrono::steady_clock::time_point::max()) {
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(armed_.time_since_epoch()).count();
    spec.it_value.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
    spec.it_value.tv_nsec = static_cast<long>(ns % 1'000'000'000);
    if (spec.it_value.tv_sec == 0 && spec.it_value.tv_nsec == 0) spec.it_value.tv_nsec = 1;  // 0 would disarm
  }
  if (::timerfd_settime(timer_, TFD_TIMER_ABSTIME, &spec, nullptr) != 0)
    spdlog::critical("timerfd_settime failed: {}", std::strerror(errno));
}

void EventLoop::run_timers() {
  std::uint64_t expirations = 0;
  [[maybe_unused]] const auto r = ::read(timer_, &expirations, sizeof expirations);
  const auto now = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < timers_.size();) {
    if (timers_[i].deadline <= now) {
      ready(timers_[i].h);
      timers_[i] = timers_.back();
      timers_.pop_back();
    } else {
      ++i;
    }
  }
  arm_timer();
}

void EventLoop::run() {
  constexpr int kEvents = 128;
  epoll_event events[kEvents];
  run_ready();
  while (!stopped_.load(std::memory_order_acquire)) {
    const int n = ::epoll_wait(epoll_, events, kEvents, ready_.empty() && calls_.empty() ? -1 : 0);
    if (n < 0 && errno != EINTR) {
      spdlog::critical("epoll_wait failed: {}", std::strerror(errno));
      break;
    }
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == wake_) {
        std::uint64_t count = 0;
        [[maybe_unused]] const auto r = ::read(wake_, &count, sizeof count);
        continue;
      }
      if (fd == timer_) {
        run_timers();
        continue;
      }
      if (static_cast<std::size_t>(fd) < sockets_.size() && sockets_[static_cast<std::size_t>(fd)] != nullptr)
        sockets_[static_cast<std::size_t>(fd)]->on_event(events[i].events);
    }
    run_ready();
    run_posted();
    run_ready();
  }
  end_roots();
}

// Every socket closes first, while the frames of what waits on them still exist: a
// waiter is told and its handle queued, and the queue is dropped. Only then are the
// roots destroyed; a session they free finds its sockets closed. (Destroying the roots
// first let a session's last owner, a frame's parameter, close a socket whose waiter
// lived in a frame already gone; review round 33.)
void EventLoop::end_roots() {
  auto drop_queued = [&] {
    while (!ready_.empty() || !calls_.empty()) {
      ready_.clear();
      auto calls = std::move(calls_);  // a watch's callback may own its session: freed here
      calls_.clear();
    }
  };
  timers_.clear();
  {
    std::lock_guard lock(posted_mutex_);
    posted_.clear();
  }
  for (std::size_t fd = 0; fd < sockets_.size(); ++fd)
    if (sockets_[fd] != nullptr) sockets_[fd]->close();
  drop_queued();
  while (roots_ != nullptr) {
    roots_->handle.destroy();  // unlinks itself
    drop_queued();
  }
}

Task<EventLoop::Resolved> EventLoop::resolve(const std::string& host, const std::string& port) {
  auto request = std::make_shared<Resolution>();
  request->host = host;
  request->port = port;
  struct Wait {
    EventLoop& loop;
    std::shared_ptr<Resolution> request;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) {
      request->waiting = h;
      {
        std::lock_guard lock(loop.resolver_mutex_);
        loop.resolver_queue_.push_back(request);
        if (!loop.resolver_.joinable()) loop.resolver_ = std::thread([l = &loop] { l->resolver_main(); });
      }
      loop.resolver_wake_.notify_one();
    }
    void await_resume() const noexcept {}
  };
  // Named: GCC 12 destroys an aggregate temporary in a co_await expression twice (a
  // double free of the request; review round 32). See the note in task.hpp.
  Wait wait{*this, request};
  co_await wait;
  co_return std::move(request->result);
}

void EventLoop::resolver_main() {
  for (;;) {
    std::shared_ptr<Resolution> request;
    {
      std::unique_lock lock(resolver_mutex_);
      resolver_wake_.wait(lock, [&] { return resolver_stop_ || !resolver_queue_.empty(); });
      if (resolver_stop_) return;
      request = std::move(resolver_queue_.front());
      resolver_queue_.pop_front();
    }
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_ADDRCONFIG;
    addrinfo* found = nullptr;
    const int rc = ::getaddrinfo(request->host.c_str(), request->port.c_str(), &hints, &found);
    if (rc == 0) {
      for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
        tcp::endpoint endpoint;
        if (a->ai_addrlen > endpoint.capacity()) continue;
        std::memcpy(endpoint.data(), a->ai_addr, a->ai_addrlen);
        endpoint.resize(a->ai_addrlen);
        request->result.endpoints.push_back(endpoint);
      }
      ::freeaddrinfo(found);
    } else if (rc == EAI_NONAME || rc == EAI_NODATA) {
      request->result.error = asio::error::host_not_found;
    } else if (rc == EAI_AGAIN) {
      request->result.error = asio::error::host_not_found_try_again;
    } else if (rc == EAI_SYSTEM) {
      request->result.error = ErrorCode(errno, boost::system::system_category());
    } else {
      request->result.error = asio::error::no_recovery;
    }
    post([this, request] { ready(request->waiting); });
  }
}

}  // namespace djproxy::proxy
