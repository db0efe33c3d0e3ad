// Reactor prototype for issue 19, the third relay: relay_epoll.cpp's event loop under
// C++20 coroutines, the shape a replacement of Asio's reactor in djproxy's workers would
// take (the session is written as coroutines). A coroutine per direction awaits reads and
// writes; a read is tried at once only while its socket may hold bytes, since a short
// read has drained it, and otherwise waits for the next edge. Its cost against
// relay_epoll is what the coroutines add; against relay_asio, what the replacement
// would save.
//
// Usage: djproxy_relay_task LISTEN_PORT BACKEND_PORT THREADS   (127.0.0.1 on both)
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <coroutine>
#include <exception>
#include <memory>
#include <utility>
#include <vector>

#include "relay_common.hpp"

namespace {

using namespace relay;


// A coroutine that runs on its own once started and frees its frame at the end.
struct Detached {
  struct promise_type {
    Detached get_return_object() { return {}; }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() {}
    void unhandled_exception() { std::terminate(); }
  };
};

// A socket registered once, edge-triggered, with what the edges said so far and the
// coroutine waiting on each side.
struct Socket {
  int fd = -1;
  bool readable = true;
  bool writable = true;
  // The peer shut its side: a short read no longer means drained, since the end of file
  // behind it raises no further edge (relay_epoll.cpp).
  bool hung_up = false;
  std::coroutine_handle<> reader, writer;

  void on_event(std::uint32_t events) {
    if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) hung_up = true;
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
      readable = true;
      if (reader) std::exchange(reader, {}).resume();
    }
    if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) {
      writable = true;
      if (writer) std::exchange(writer, {}).resume();
    }
  }
};

// recv(2) as an awaitable, tried at once while the socket may hold bytes. Gives the
// byte count, 0 at end of file, -1 on an error, or kAgain when an edge came but the
// read still found nothing (the caller awaits again).
constexpr ssize_t kAgain = -2;
struct Read {
  Socket& s;
  char* data;
  std::size_t size;
  ssize_t n = kAgain;

  bool attempt() {
    n = ::recv(s.fd, data, size, 0);
    if (n < 0 && errno == EAGAIN) {
      s.readable = false;
      n = kAgain;
      return false;
    }
    if (n > 0 && static_cast<std::size_t>(n) < size && !s.hung_up) s.readable = false;  // drained
    return true;
  }
  bool await_ready() { return s.readable && attempt(); }
  void await_suspend(std::coroutine_handle<> h) { s.reader = h; }
  ssize_t await_resume() {
    if (n == kAgain) attempt();
    return n;
  }
};

// Waits until the socket takes more bytes.
struct Writable {
  Socket& s;
  bool await_ready() const { return s.writable; }
  void await_suspend(std::coroutine_handle<> h) { s.writer = h; }
  void await_resume() const {}
};

struct Pair {
  Socket client, server;
  int directions = 2;  // the last one to end frees the pair
};

// Pairs that ended during a batch of events, freed after it: a later event of the
// same batch may still name one of their sockets.
thread_local std::vector<Pair*> ended;

Detached relay(Pair* p, Socket& from, Socket& to) {
  auto buffer = std::make_unique<char[]>(kBuffer);
  for (;;) {
    Read read{from, buffer.get(), kBuffer};
    const ssize_t n = co_await read;
    if (n == kAgain) continue;
    if (n <= 0) break;
    std::size_t sent = 0;
    bool failed = false;
    while (sent < static_cast<std::size_t>(n)) {
      co_await Writable{to};
      const ssize_t w = ::send(to.fd, buffer.get() + sent, static_cast<std::size_t>(n) - sent, MSG_NOSIGNAL);
      if (w < 0 && errno == EAGAIN) {
        to.writable = false;
        continue;
      }
      if (w < 0) {
        failed = true;
        break;
      }
      sent += static_cast<std::size_t>(w);
      if (sent < static_cast<std::size_t>(n)) to.writable = false;
    }
    if (failed) break;
  }
  // Wakes the other direction, which then sees the closed socket and ends too.
  ::shutdown(from.fd, SHUT_RDWR);
  ::shutdown(to.fd, SHUT_RDWR);
  if (--p->directions == 0) {
    ::close(p->client.fd);
    ::close(p->server.fd);
    p->client.fd = p->server.fd = -1;
    ended.push_back(p);
  }
}

void run(int listen_port, int backend_port) {
  const int listener = open_listener(listen_port);
  const int ep = ::epoll_create1(0);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = nullptr;  // the listener
  ::epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev);
  epoll_event events[64];
  for (;;) {
    const int n = ::epoll_wait(ep, events, 64, -1);
    for (int i = 0; i < n; ++i) {
      if (events[i].data.ptr != nullptr) {
        auto* socket = static_cast<Socket*>(events[i].data.ptr);
        if (socket->fd >= 0) socket->on_event(events[i].events);
        continue;
      }
      for (;;) {
        const int c = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK);
        if (c < 0) break;
        const int s = connect_backend(backend_port);
        if (s < 0) {
          ::close(c);
          continue;
        }
        set_nodelay_nonblocking(c);
        auto* p = new Pair;
        p->client.fd = c;
        p->server.fd = s;
        epoll_event e{};
        e.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
        e.data.ptr = &p->client;
        ::epoll_ctl(ep, EPOLL_CTL_ADD, c, &e);
        e.data.ptr = &p->server;
        ::epoll_ctl(ep, EPOLL_CTL_ADD, s, &e);
        relay(p, p->client, p->server);
        relay(p, p->server, p->client);
      }
    }
    for (Pair* p : ended) delete p;
    ended.clear();
  }
}

}  // namespace

int main(int argc, char** argv) { return relay::main(argc, argv, run); }
