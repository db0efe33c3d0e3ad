// Reactor prototype for issue 19, the third relay: relay_epoll.cpp's event loop under
// C++20 coroutines, the shape a replacement of Asio's reactor in djproxy's workers would
// take (the session is written as coroutines). A coroutine per direction awaits reads and
// writes; a read is tried at once only while its socket may hold bytes, since a short
// read has drained it, and otherwise waits for the next edge. Its cost against
// relay_epoll is what the coroutines add; against relay_asio, what the replacement
// would save.
//
// Usage: djproxy_relay_task LISTEN_PORT BACKEND_PORT THREADS   (127.0.0.1 on both)
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <coroutine>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

namespace {

constexpr std::size_t kBuffer = 64 * 1024;

[[noreturn]] void die(const char* what) {
  std::perror(what);
  std::exit(1);
}

sockaddr_in loopback(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

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
  std::coroutine_handle<> reader, writer;

  void on_event(std::uint32_t events) {
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
    if (n > 0 && static_cast<std::size_t>(n) < size) s.readable = false;  // drained
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

void set_nodelay_nonblocking(int fd) {
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
}

void run(int listen_port, int backend_port) {
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  const int one = 1;
  ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  ::setsockopt(listener, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  sockaddr_in a = loopback(listen_port);
  if (::bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) die("bind");
  if (::listen(listener, 1024) != 0) die("listen");
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
        const int s = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in b = loopback(backend_port);
        if (::connect(s, reinterpret_cast<sockaddr*>(&b), sizeof b) != 0) {  // loopback: at once
          ::close(c);
          ::close(s);
          continue;
        }
        set_nodelay_nonblocking(c);
        set_nodelay_nonblocking(s);
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

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s LISTEN_PORT BACKEND_PORT THREADS\n", argv[0]);
    return 2;
  }
  const int listen_port = std::atoi(argv[1]), backend_port = std::atoi(argv[2]), threads = std::atoi(argv[3]);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) workers.emplace_back(run, listen_port, backend_port);
  for (auto& w : workers) w.join();
}
