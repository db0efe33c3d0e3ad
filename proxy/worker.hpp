#pragma once
// One thread, one event loop, and the sessions it runs. Nothing a worker owns is
// touched by another thread. The first worker also accepts (one listening socket, so a
// second proxy cannot silently share the port as it could with SO_REUSEPORT) and gives
// each new connection to the worker with the fewest sessions, itself on a tie: a
// connection it keeps starts without a hand-over to another thread, which on a
// connect-and-go workload is a wake-up of another thread per connection.
#include <thread>
#include <vector>

#include "proxy/asio.hpp"
#include "proxy/event_loop.hpp"
#include "proxy/shared_state.hpp"
#include "proxy/socket.hpp"

namespace djproxy::proxy {

class Session;

class Worker {
 public:
  explicit Worker(SharedState& shared);
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  EventLoop& loop() { return loop_; }
  // `workers` are this one and its peers; only the accepting worker listens.
  void listen(const tcp::endpoint& endpoint, std::vector<Worker*> workers);
  void start();
  // Stops accepting; sessions go on. Thread-safe.
  void stop_accepting();
  // Shutdown: closes idle sessions now and every other one as soon as its command is
  // answered; sessions still in their handshake close when it ends. Thread-safe.
  void drain_sessions();
  // Set by drain_sessions(); read by the worker's own sessions, on its thread.
  bool draining() const { return draining_; }
  // Closes every session now. Thread-safe.
  void abort_sessions();
  void stop();
  void join();
  // Sessions this worker runs or has been given and not yet started.
  std::size_t session_count() const { return session_count_.load(std::memory_order_relaxed); }

  void attach(Session* session);
  void detach(Session* session);

 private:
  Task<void> accept_loop();
  Worker& least_loaded();
  // Takes `fd` (closed if the session cannot be made).
  void start_session(int fd, const tcp::endpoint& peer, HandshakeSlots::Slot handshake) noexcept;
  Task<void> janitor();
  // `message` must outlive the coroutine (a literal).
  Task<void> refuse(int fd, std::string_view message);

  SharedState& shared_;
  EventLoop loop_;
  Socket listener_{loop_};
  std::vector<Worker*> peers_;
  std::thread thread_;
  Session* sessions_ = nullptr;
  bool draining_ = false;
  std::atomic<std::size_t> session_count_{0};
};

}  // namespace djproxy::proxy
