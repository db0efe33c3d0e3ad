#pragma once
// A non-blocking TCP socket on a worker's event loop, registered once, edge-triggered.
//
// A read is tried at once only while the socket may hold bytes: a read that comes back
// short has drained it, so the next one waits for the next edge instead of finding
// nothing, as HAProxy's poller does and Asio's reactor does not (1.5 empty reads per
// query). Once the peer has shut its side, every read is tried: the end of file can sit
// behind the last bytes, announced by the same edge, and would otherwise never be read
// (bench/reactor/check_end_of_file.py, Faults.EndOfFileInTheSameSegmentAsTheLastBytes).
//
// Closing the socket completes what waits on it with operation_aborted, as Asio did.
#include <sys/types.h>

#include <coroutine>
#include <cstdint>
#include <functional>
#include <span>
#include <tuple>

#include "proxy/asio.hpp"

namespace djproxy::proxy {

class EventLoop;

class Socket {
 public:
  explicit Socket(EventLoop& loop) : loop_(loop) {}
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  ~Socket() { close(); }

  EventLoop& loop() const { return loop_; }
  int fd() const { return fd_; }
  bool is_open() const { return fd_ >= 0; }
  // Takes a connected or listening descriptor (non-blocking) and watches it; throws
  // std::system_error if it cannot, and the descriptor stays the caller's.
  void adopt(int fd);
  void close();

  // The next bytes: {error, count}; asio::error::eof at the end of the stream.
  struct Read {
    Socket& socket;
    char* data;
    std::size_t size;
    ErrorCode error;
    std::size_t count = 0;
    std::coroutine_handle<> waiting;

    bool await_ready();
    void await_suspend(std::coroutine_handle<> h) {
      waiting = h;
      socket.reader_ = this;
    }
    std::tuple<ErrorCode, std::size_t> await_resume() const { return {error, count}; }
    bool attempt();  // false: nothing there yet
  };
  Read read_some(asio::mutable_buffer buffer) {
    return Read{*this, static_cast<char*>(buffer.data()), buffer.size(), {}, 0, {}};
  }

  // Waits for the next edge of one side: after an accept or a write that found nothing
  // to do, or for a connect to complete. Gives operation_aborted if the socket closes.
  struct Edge {
    Socket& socket;
    bool write;
    ErrorCode error;
    std::coroutine_handle<> waiting;

    bool await_ready() {
      if (socket.fd_ < 0) error = asio::error::operation_aborted;
      return socket.fd_ < 0;
    }
    void await_suspend(std::coroutine_handle<> h) {
      waiting = h;
      (write ? socket.write_edge_ : socket.read_edge_) = this;
    }
    ErrorCode await_resume() const { return error; }
  };
  Edge next_read_edge() { return Edge{*this, false, {}, {}}; }
  Edge next_write_edge() { return Edge{*this, true, {}, {}}; }

  // What the kernel takes now, with sendmsg(2); would_block is not an error (0 written).
  std::size_t write_some(std::span<const asio::const_buffer> buffers, ErrorCode& error);

  // Calls `f` once, on the loop, when the socket may have something to read (at once if
  // it may have now), or with operation_aborted when it closes first.
  void watch_readable(std::function<void(const ErrorCode&)> f);
  // A byte's look without taking it: > 0 there is one, 0 end of file, < 0 nothing yet
  // (errno EAGAIN, and the next watch waits for an edge) or an error.
  ssize_t peek();

  void on_event(std::uint32_t events);

 private:
  EventLoop& loop_;
  int fd_ = -1;
  bool readable_ = false;
  bool hung_up_ = false;  // or sent urgent data: every read is tried from then on
  Read* reader_ = nullptr;
  Edge* read_edge_ = nullptr;
  Edge* write_edge_ = nullptr;
  std::function<void(const ErrorCode&)> watch_;
};

}  // namespace djproxy::proxy
