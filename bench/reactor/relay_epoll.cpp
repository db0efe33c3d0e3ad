// Reactor prototype for issue 19: a TCP relay on a reactor of its own (edge-triggered
// epoll, one per thread), to measure what replacing Asio's reactor could save per query.
// It relays bytes only, as HAProxy does in TCP mode; its twin relay_asio.cpp relays
// them the way djproxy's legs do. PROTOTYPES=1 bench/run.sh runs them under sysbench.
//
// What it does differently from Asio's reactor (the two savings worth measuring):
// - a read that returns less than it asked for drained the socket, so the next read
//   waits for the next edge instead of trying first and getting EAGAIN (HAProxy does
//   the same); Asio always tries first. Not once the peer has shut its side
//   (EPOLLRDHUP): a short read then leaves the end of file behind it, and no edge will
//   announce it again;
// - no scheduler: an event is handled where epoll_wait returns it, with no operation
//   queued, no completion posted, no coroutine frame and no lock.
//
// Usage: djproxy_relay_epoll LISTEN_PORT BACKEND_PORT THREADS   (127.0.0.1 on both)
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <vector>

#include "relay_common.hpp"

namespace {

using namespace relay;


// One direction of a connection: bytes read from `from`, not yet written to `to`.
struct Direction {
  int from = -1;
  int to = -1;
  std::unique_ptr<char[]> buffer = std::make_unique<char[]>(kBuffer);
  std::size_t begin = 0, end = 0;
};

struct Pair;

// What epoll hands back: a socket and the pair it belongs to.
struct Side {
  Pair* pair = nullptr;
  int fd = -1;
  bool readable = true;  // until a read comes back short
  bool writable = true;  // until a write comes back short
  bool hung_up = false;  // the peer shut its side: read until the end, whatever the size
};

struct Pair {
  Side client, server;
  Direction up, down;  // client to server, server to client
  bool closed = false;
};

Side& side_of(Pair& p, int fd) { return p.client.fd == fd ? p.client : p.server; }

// Moves what it can from one socket to the other. False when the connection ends.
bool pump(Pair& p, Direction& d) {
  Side& in = side_of(p, d.from);
  Side& out = side_of(p, d.to);
  for (;;) {
    while (d.begin < d.end && out.writable) {
      const ssize_t n = ::send(d.to, d.buffer.get() + d.begin, d.end - d.begin, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EAGAIN) {
          out.writable = false;
          break;
        }
        return false;
      }
      d.begin += static_cast<std::size_t>(n);
      if (d.begin < d.end) out.writable = false;  // short: wait for EPOLLOUT
    }
    if (d.begin < d.end) return true;  // blocked on the writer
    d.begin = d.end = 0;
    if (!in.readable) return true;
    const ssize_t n = ::recv(d.from, d.buffer.get(), kBuffer, 0);
    if (n == 0) return false;
    if (n < 0) {
      if (errno == EAGAIN) {
        in.readable = false;
        return true;
      }
      return false;
    }
    d.end = static_cast<std::size_t>(n);
    if (static_cast<std::size_t>(n) < kBuffer && !in.hung_up) in.readable = false;  // drained: wait for the edge
  }
}

void close_pair(Pair* p) {
  if (p->closed) return;
  p->closed = true;
  ::close(p->client.fd);
  ::close(p->server.fd);
}

void run(int listen_port, int backend_port) {
  const int listener = open_listener(listen_port);
  const int ep = ::epoll_create1(0);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = nullptr;  // the listener
  ::epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev);
  std::vector<Pair*> dead;  // freed after the batch that closed them: a later event may name them
  epoll_event events[64];
  for (;;) {
    const int n = ::epoll_wait(ep, events, 64, -1);
    for (int i = 0; i < n; ++i) {
      if (events[i].data.ptr == nullptr) {
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
          p->client = {p, c};
          p->server = {p, s};
          p->up.from = c, p->up.to = s;
          p->down.from = s, p->down.to = c;
          epoll_event e{};
          e.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
          e.data.ptr = &p->client;
          ::epoll_ctl(ep, EPOLL_CTL_ADD, c, &e);
          e.data.ptr = &p->server;
          ::epoll_ctl(ep, EPOLL_CTL_ADD, s, &e);
        }
        continue;
      }
      auto* side = static_cast<Side*>(events[i].data.ptr);
      Pair* p = side->pair;
      if (p->closed) continue;
      if (events[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) side->readable = true;
      if (events[i].events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) side->hung_up = true;
      if (events[i].events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) side->writable = true;
      if (!pump(*p, p->up) || !pump(*p, p->down)) {
        close_pair(p);
        dead.push_back(p);
      }
    }
    for (Pair* p : dead) delete p;
    dead.clear();
  }
}

}  // namespace

int main(int argc, char** argv) { return relay::main(argc, argv, run); }
