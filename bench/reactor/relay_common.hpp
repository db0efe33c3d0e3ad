#pragma once
// What the three reactor prototypes share, so that they differ only in their event loop:
// the loopback listener of each thread (SO_REUSEPORT, as many as threads), the backend
// connection, the socket options and the command line.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

namespace relay {

constexpr std::size_t kBuffer = 64 * 1024;  // per direction, as a djproxy session's buffers

[[noreturn]] inline void die(const char* what) {
  std::perror(what);
  std::exit(1);
}

inline sockaddr_in loopback(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

inline void set_nodelay_nonblocking(int fd) {
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
}

// A non-blocking listener of this thread's own on 127.0.0.1:port.
inline int open_listener(int port) {
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (listener < 0) die("socket");
  const int one = 1;
  ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  ::setsockopt(listener, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  sockaddr_in a = loopback(port);
  if (::bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) die("bind");
  if (::listen(listener, 1024) != 0) die("listen");
  return listener;
}

// Connected at once on loopback (the set-up is not what is measured), then made
// non-blocking with TCP_NODELAY; -1 if the backend refuses.
inline int connect_backend(int port) {
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  if (s < 0) return -1;
  sockaddr_in b = loopback(port);
  if (::connect(s, reinterpret_cast<sockaddr*>(&b), sizeof b) != 0) {
    ::close(s);
    return -1;
  }
  set_nodelay_nonblocking(s);
  return s;
}

// LISTEN_PORT BACKEND_PORT THREADS: `run` on each of THREADS threads.
inline int main(int argc, char** argv, void (*run)(int listen_port, int backend_port)) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s LISTEN_PORT BACKEND_PORT THREADS\n", argv[0]);
    return 2;
  }
  const int listen_port = std::atoi(argv[1]), backend_port = std::atoi(argv[2]), threads = std::atoi(argv[3]);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) workers.emplace_back(run, listen_port, backend_port);
  for (auto& w : workers) w.join();
  return 0;
}

}  // namespace relay
