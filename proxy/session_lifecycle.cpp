// How a session ends when nobody asked it to: the proxy shutting down.
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

}  // namespace djproxy::proxy
