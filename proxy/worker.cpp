#include "proxy/worker.hpp"

#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstring>

#include <spdlog/spdlog.h>

#include "proxy/protocol/constants.hpp"
#include "proxy/leg.hpp"
#include "proxy/protocol/generic_packets.hpp"
#include "proxy/session.hpp"

namespace djproxy::proxy {

namespace {
// A descriptor on its way to another worker: closed unless it arrives.
class Descriptor {
 public:
  explicit Descriptor(int fd) : fd_(fd) {}
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  ~Descriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};
}  // namespace

Worker::Worker(SharedState& shared) : shared_(shared) {}

// As Asio's acceptor did: SO_REUSEADDR, and errors thrown, with the same messages.
void Worker::listen(const tcp::endpoint& endpoint, std::vector<Worker*> workers) {
  const int fd = ::socket(endpoint.protocol().family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
  if (fd < 0) throw boost::system::system_error(ErrorCode(errno, boost::system::system_category()), "open");
  auto fail = [fd](const char* what) {
    const int e = errno;
    ::close(fd);
    throw boost::system::system_error(ErrorCode(e, boost::system::system_category()), what);
  };
  const int one = 1;
  if (::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) fail("set_option");
  if (::bind(fd, endpoint.data(), static_cast<socklen_t>(endpoint.size())) != 0) fail("bind");
  if (::listen(fd, SOMAXCONN) != 0) fail("listen");
  try {
    listener_.adopt(fd);
  } catch (const std::system_error&) {
    ::close(fd);
    throw;
  }
  peers_ = std::move(workers);
}

void Worker::start() {
  if (listener_.is_open()) loop_.spawn(accept_loop());
  loop_.spawn(janitor());
  // The process's signals go to the control thread (proxy/server.cpp), never here: a
  // signal pending on a worker makes a read at TCP's urgent mark fail with EAGAIN
  // although bytes follow, and the socket would wait for an edge that never comes
  // (review round 33). The thread is born with them blocked (a thread inherits its
  // creator's mask), so no signal lands on it before it could block them itself; the
  // resolver thread, started from it, inherits the mask too.
  sigset_t asynchronous;
  sigset_t before;
  sigemptyset(&asynchronous);
  for (const int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGCHLD, SIGPIPE, SIGWINCH})
    sigaddset(&asynchronous, s);
  pthread_sigmask(SIG_BLOCK, &asynchronous, &before);
  try {
    thread_ = std::thread([this] { loop_.run(); });
  } catch (...) {
    pthread_sigmask(SIG_SETMASK, &before, nullptr);
    throw;
  }
  pthread_sigmask(SIG_SETMASK, &before, nullptr);
}

void Worker::stop_accepting() {
  loop_.post([this] { listener_.close(); });
}

void Worker::drain_sessions() {
  loop_.post([this] {
    draining_ = true;
    for (Session* s = sessions_; s != nullptr;) {
      Session* next = s->next_;  // drain() may close s, never free it here (its coroutine holds it)
      s->drain();
      s = next;
    }
  });
}

void Worker::abort_sessions() {
  loop_.post([this] {
    for (Session* s = sessions_; s != nullptr; s = s->next_) s->abort();
  });
}

void Worker::stop() { loop_.stop(); }

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::attach(Session* session) {
  session->next_ = sessions_;
  if (sessions_ != nullptr) sessions_->prev_ = session;
  sessions_ = session;
}

void Worker::detach(Session* session) {
  if (session->prev_ != nullptr) session->prev_->next_ = session->next_;
  if (session->next_ != nullptr) session->next_->prev_ = session->prev_;
  if (sessions_ == session) sessions_ = session->next_;
  session_count_.fetch_sub(1, std::memory_order_relaxed);
}

Worker& Worker::least_loaded() {
  Worker* best = this;
  std::size_t fewest = session_count();
  for (Worker* w : peers_) {
    const std::size_t n = w->session_count();
    if (n < fewest) {
      best = w;
      fewest = n;
    }
  }
  return *best;
}

// Accepted on this worker's own loop, then placed: the worker with the fewest
// sessions runs it, this one on a tie. Counts are read with the connection in hand, so
// a connect-and-go client (whose previous session has just ended here) stays on this
// thread, and long-lived connections spread over the workers.
Task<void> Worker::accept_loop() {
  for (;;) {
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    // The peer's address comes with the accept, not from another system call.
    const int fd = ::accept4(listener_.fd(), reinterpret_cast<sockaddr*>(&address), &length,
                             SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      const int e = errno;
      if (!listener_.is_open()) co_return;
      if (e == EAGAIN || e == EWOULDBLOCK) {
        const ErrorCode closed = co_await listener_.next_read_edge();
        if (closed) co_return;
        continue;
      }
      // A client that reset its connection while it was queued: nothing to do.
      if (e == EINTR || e == ECONNABORTED) continue;
      // Out of descriptors and the like: keep serving the sessions we have.
      spdlog::warn("accept failed: {}", ErrorCode(e, boost::system::system_category()).message());
      co_await loop_.sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    tcp::endpoint peer;
    std::memcpy(peer.data(), &address, std::min<std::size_t>(length, peer.capacity()));
    peer.resize(std::min<std::size_t>(length, peer.capacity()));
    const auto settings = shared_.connection.get();
    const std::size_t open = shared_.open_connections.fetch_add(1, std::memory_order_relaxed) + 1;
    const std::size_t limit = settings->options.max_connections;
    if (open > limit) {
      shared_.open_connections.fetch_sub(1, std::memory_order_relaxed);
      shared_.metrics.connection_rejected();
      spdlog::warn("connection limit {} reached, refusing a client", limit);
      loop_.spawn(refuse(fd, "djproxy: too many connections (limits.max_connections)"));
      continue;
    }
    // Before any backend connection is opened: a refused client costs the server nothing.
    auto slot = shared_.handshakes.try_acquire(settings->options.max_handshakes);
    if (!slot) {
      shared_.open_connections.fetch_sub(1, std::memory_order_relaxed);
      spdlog::warn("{} handshakes in progress (limits.max_handshakes), refusing a client",
                   settings->options.max_handshakes);
      loop_.spawn(refuse(fd, "djproxy: too many connections in their handshake (limits.max_handshakes)"));
      continue;
    }
    Worker& target = least_loaded();
    // Counted before it starts, so that the next accept already sees it; a connection
    // that cannot be placed gives both counts back.
    target.session_count_.fetch_add(1, std::memory_order_relaxed);
    if (&target == this) {
      start_session(fd, peer, std::move(*slot));
      continue;
    }
    // The descriptor and the handshake slot travel in the function, so they are closed
    // and given back whatever becomes of it.
    auto owned = std::make_unique<Descriptor>(fd);
    try {
      target.loop().post([&target, d = std::shared_ptr<Descriptor>(std::move(owned)), peer,
                          h = std::make_shared<HandshakeSlots::Slot>(std::move(*slot))]() mutable {
        target.start_session(d->release(), peer, std::move(*h));
      });
    } catch (const std::exception& e) {
      target.session_count_.fetch_sub(1, std::memory_order_relaxed);
      shared_.open_connections.fetch_sub(1, std::memory_order_relaxed);
      spdlog::warn("cannot hand a connection to another worker: {}", e.what());
    }
  }
}

namespace {
Task<void> run_session(std::shared_ptr<Session> session) { co_await session->run(); }
}  // namespace

// Never throws: a session that cannot be made (out of memory) costs that connection
// only, not the accept loop or the worker.
void Worker::start_session(int fd, const tcp::endpoint& peer, HandshakeSlots::Slot handshake) noexcept {
  std::shared_ptr<Session> session;
  try {
    session = std::make_shared<Session>(shared_, *this, fd, peer, std::move(handshake));
  } catch (const std::exception& e) {
    // Not constructed, so its destructor will not give the counts back. The client leg
    // took the descriptor (and closed it) if it was made; if not, as when the memory for
    // the session could not be had, `fd` is still ours.
    if (fd >= 0) ::close(fd);
    session_count_.fetch_sub(1, std::memory_order_relaxed);
    shared_.open_connections.fetch_sub(1, std::memory_order_relaxed);
    spdlog::error("cannot start a session: {}", e.what());
    return;
  }
  shared_.metrics.connection_opened();
  try {
    loop_.spawn(run_session(std::move(session)));
  } catch (const std::exception& e) {
    spdlog::error("cannot start a session: {}", e.what());  // its destructor gives the counts back
  }
}

// Like the server itself: ER_CON_COUNT_ERROR in place of the greeting.
Task<void> Worker::refuse(int fd, std::string_view message) {
  Leg leg(loop_);
  try {
    leg.socket().adopt(fd);
  } catch (const std::exception&) {
    ::close(fd);
    co_return;
  }
  std::string packet;
  protocol::append_greeting_err_packet(packet, protocol::err::kConCount, message);
  [[maybe_unused]] const ErrorCode ignored = co_await leg.write(asio::buffer(packet));
  ::shutdown(leg.socket().fd(), SHUT_RDWR);
}

// Timeouts without a timer per operation: sessions record a deadline, and one sweep
// closes the expired ones. Re-arming a timer on every command would cost a system call
// per round trip. The same sweep arms the server-leg watch of sessions that stayed idle
// between two sweeps, which is why it comes every 100 ms: a backend that closes under
// an idle client is told within about 0.2 s. (Ten wake-ups a second cost each worker
// well under a millisecond of CPU.)
Task<void> Worker::janitor() {
  for (;;) {
    co_await loop_.sleep_for(std::chrono::milliseconds(100));
    const auto now = Clock::now();
    for (Session* s = sessions_; s != nullptr;) {
      Session* next = s->next_;
      s->expire_if_due(now);  // may close s, never free it here (its coroutine holds it)
      s->watch_if_idle_since_last_tick();
      s = next;
    }
  }
}

}  // namespace djproxy::proxy
