// How a session ends when its client did not ask: the proxy shutting down, the
// backend closing the connection under an idle client.
#include <sys/socket.h>

#include <cerrno>

#include <spdlog/spdlog.h>

#include "proxy/session.hpp"

namespace djproxy::proxy {

// An idle session waits on its client's next command, which would hold the shutdown
// for the whole grace period: it closes now. A busy one answers its command first and
// then stops at the top of handle_command() (Worker::draining()). One in its handshake
// goes on to the command loop and stops there.
void Session::drain() {
  if (phase_ != Phase::kIdle) return;
  spdlog::debug("session {}: idle at shutdown, closing", id_);
  close_legs();
}

// While the client is idle the server has nothing to say, so a server leg that becomes
// readable is ending: EOF after a KILL, the server's shutdown or wait_timeout, or a
// last word before that (MySQL 8's ER_CLIENT_INTERACTION_TIMEOUT, a TLS alert). The
// client leg is closed at once, so a pool or a worker learns it now and not at its
// next statement. The wait stays pending through a command: it then completes when the
// answer arrives, which costs a handler and no system call (and the first read of the
// answer waits behind it instead of trying, and failing, a read first).
// Armed at every idle moment, the watch would cost a system call per command: Asio
// registers a wait that may not be tried first with epoll_ctl, and a client that sends
// its next statement within microseconds never needed it. So the janitor arms it for a
// session that has read no command between two of its ticks: a backend that goes away
// under an idle client is noticed within two ticks, and busy sessions pay nothing. (An
// end that came while nothing was armed is still seen: the registration reports a
// socket that is already readable.)
void Session::watch_if_idle_since_last_tick() {
  if (phase_ != Phase::kIdle || server_watched_) {
    idle_marked_ = false;
  } else if (idle_marked_ && idle_mark_ == commands_) {
    idle_marked_ = false;
    watch_server_leg();
  } else {
    idle_mark_ = commands_;
    idle_marked_ = true;
  }
}

void Session::watch_server_leg() {
  if (server_watched_ || phase_ != Phase::kIdle || !server_.socket().is_open()) return;
  server_watched_ = true;
  server_.socket().watch_readable([self = shared_from_this()](const ErrorCode& ec) { self->server_leg_readable(ec); });
}

void Session::server_leg_readable(const ErrorCode& ec) {
  server_watched_ = false;
  if (ec || phase_ == Phase::kClosed) return;
  if (phase_ != Phase::kIdle) {
    // The answer to a command, most likely, which the command's own reads take. An end
    // that came right behind it would raise no new readiness once the session is idle
    // again: the worker's sweep looks once (check_idle_server_leg).
    server_check_due_ = true;
    return;
  }
  check_idle_server_leg();
}

void Session::check_idle_server_leg() {
  server_check_due_ = false;
  if (phase_ != Phase::kIdle || !server_.socket().is_open()) return;
  const ssize_t n = server_.socket().peek();
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
    watch_server_leg();  // nothing there after all
    return;
  }
  if (n > 0) {
    spdlog::info("session {} from {}:{}: the backend spoke while the client was idle (it ends the connection); "
                 "closing",
                 id_, client_address_, client_port_);
  } else {
    spdlog::info("session {} from {}:{}: the backend closed the connection while the client was idle; closing",
                 id_, client_address_, client_port_);
  }
  close_legs();
}

}  // namespace djproxy::proxy
