#include "proxy/worker.hpp"

#include <unistd.h>

#include <spdlog/spdlog.h>

#include "proxy/protocol/constants.hpp"
#include "proxy/protocol/generic_packets.hpp"
#include "proxy/session.hpp"

namespace djproxy::proxy {

Worker::Worker(SharedState& shared) : shared_(shared), acceptor_(context_), janitor_timer_(context_) {}

void Worker::listen(const tcp::endpoint& endpoint, std::vector<Worker*> workers) {
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(tcp::acceptor::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen(asio::socket_base::max_listen_connections);
  peers_ = std::move(workers);
}

void Worker::start() {
  if (acceptor_.is_open()) asio::co_spawn(context_, accept_loop(), asio::detached);
  asio::co_spawn(context_, janitor(), asio::detached);
  thread_ = std::thread([this] { context_.run(); });
}

void Worker::stop_accepting() {
  asio::post(context_, [this] {
    ErrorCode ignored;
    acceptor_.close(ignored);
  });
}

void Worker::drain_sessions() {
  asio::post(context_, [this] {
    draining_ = true;
    for (Session* s = sessions_; s != nullptr;) {
      Session* next = s->next_;  // drain() may close s, never free it here (its coroutine holds it)
      s->drain();
      s = next;
    }
  });
}

void Worker::abort_sessions() {
  asio::post(context_, [this] {
    for (Session* s = sessions_; s != nullptr; s = s->next_) s->abort();
  });
}

void Worker::stop() { context_.stop(); }

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

// Accepted onto this worker's own io_context, then placed: the worker with the fewest
// sessions runs it, this one on a tie. Counts are read with the connection in hand, so
// a connect-and-go client (whose previous session has just ended here) stays on this
// thread, and long-lived connections spread over the workers.
Awaitable<void> Worker::accept_loop() {
  for (;;) {
    tcp::endpoint peer;
    // The peer's address comes with the accept, not from another system call.
    auto [ec, socket] = co_await acceptor_.async_accept(peer, use_tuple);
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
    // A client that reset its connection while it was queued: nothing to do.
    if (ec == asio::error::connection_aborted) continue;
    if (ec) {
      // Out of descriptors and the like: keep serving the sessions we have.
      spdlog::warn("accept failed: {}", ec.message());
      asio::steady_timer pause(context_, std::chrono::milliseconds(100));
      co_await pause.async_wait(use_tuple);
      continue;
    }
    const auto settings = shared_.connection.get();
    const std::size_t open = shared_.open_connections.fetch_add(1, std::memory_order_relaxed) + 1;
    const std::size_t limit = settings->options.max_connections;
    if (open > limit) {
      shared_.open_connections.fetch_sub(1, std::memory_order_relaxed);
      shared_.metrics.connection_rejected();
      spdlog::warn("connection limit {} reached, refusing a client", limit);
      asio::co_spawn(context_, refuse(std::move(socket), "djproxy: too many connections (limits.max_connections)"),
                     asio::detached);
      continue;
    }
    // Before any backend connection is opened: a refused client costs the server nothing.
    auto slot = shared_.handshakes.try_acquire(settings->options.max_handshakes);
    if (!slot) {
      shared_.open_connections.fetch_sub(1, std::memory_order_relaxed);
      spdlog::warn("{} handshakes in progress (limits.max_handshakes), refusing a client",
                   settings->options.max_handshakes);
      asio::co_spawn(context_,
                     refuse(std::move(socket), "djproxy: too many connections in their handshake (limits.max_handshakes)"),
                     asio::detached);
      continue;
    }
    Worker& target = least_loaded();
    // Counted before it starts, so that the next accept already sees it; a connection
    // that cannot be placed gives both counts back.
    target.session_count_.fetch_add(1, std::memory_order_relaxed);
    if (&target == this) {
      start_session(std::move(socket), peer, std::move(*slot));
      continue;
    }
    auto give_back = [&](std::string_view why) {
      target.session_count_.fetch_sub(1, std::memory_order_relaxed);
      shared_.open_connections.fetch_sub(1, std::memory_order_relaxed);
      spdlog::warn("cannot hand a connection to another worker: {}", why);
    };
    // Onto the other thread's reactor here (registration is thread-safe); the socket
    // and the handshake slot then travel in the handler, so they are closed and given
    // back whatever becomes of the handler.
    ErrorCode release_error;
    const auto fd = socket.release(release_error);
    if (release_error) {
      give_back(release_error.message());
      continue;
    }
    tcp::socket moved(target.context());
    ErrorCode assign_error;
    moved.assign(peer.protocol(), fd, assign_error);
    if (assign_error) {
      ::close(fd);
      give_back(assign_error.message());
      continue;
    }
    try {
      asio::post(target.context(), [&target, s = std::move(moved), peer, h = std::move(*slot)]() mutable {
        target.start_session(std::move(s), peer, std::move(h));
      });
    } catch (const std::exception& e) {
      give_back(e.what());
    }
  }
}

// Never throws: a session that cannot be made (out of memory) costs that connection
// only, not the accept loop or the worker.
void Worker::start_session(tcp::socket socket, const tcp::endpoint& peer, HandshakeSlots::Slot handshake) noexcept {
  std::shared_ptr<Session> session;
  try {
    session = std::make_shared<Session>(shared_, *this, std::move(socket), peer, std::move(handshake));
  } catch (const std::exception& e) {
    // Not constructed, so its destructor will not give the counts back.
    session_count_.fetch_sub(1, std::memory_order_relaxed);
    shared_.open_connections.fetch_sub(1, std::memory_order_relaxed);
    spdlog::error("cannot start a session: {}", e.what());
    return;
  }
  shared_.metrics.connection_opened();
  try {
    asio::co_spawn(context_, [session]() -> Awaitable<void> { co_await session->run(); }, asio::detached);
  } catch (const std::exception& e) {
    spdlog::error("cannot start a session: {}", e.what());  // its destructor gives the counts back
  }
}

// Like the server itself: ER_CON_COUNT_ERROR in place of the greeting.
Awaitable<void> Worker::refuse(tcp::socket socket, std::string_view message) {
  std::string packet;
  protocol::append_greeting_err_packet(packet, protocol::err::kConCount, message);
  co_await asio::async_write(socket, asio::buffer(packet), use_tuple);
  ErrorCode ignored;
  socket.shutdown(tcp::socket::shutdown_both, ignored);
}

// Timeouts without a timer per operation: sessions record a deadline, and one sweep
// closes the expired ones. Re-arming a timer on every command would cost a system call
// per round trip. The same sweep arms the server-leg watch of sessions that stayed idle
// between two sweeps, which is why it comes every 100 ms: a backend that closes under
// an idle client is told within about 0.2 s. (Ten wake-ups a second cost each worker
// well under a millisecond of CPU.)
Awaitable<void> Worker::janitor() {
  for (;;) {
    janitor_timer_.expires_after(std::chrono::milliseconds(100));
    auto [ec] = co_await janitor_timer_.async_wait(use_tuple);
    if (ec) co_return;
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
