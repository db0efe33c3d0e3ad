#pragma once
// What the session's translation units (session*.cpp) share and nothing else needs.
#include <cstddef>

#include "proxy/protocol/constants.hpp"

namespace djproxy::proxy::session_internal {

// The capacity of each leg's relay buffer. Sized so that every packet the proxy must
// see whole (handshake, OK, EOF, ERR) fits, and large enough that big rows and blobs
// move in few system calls. Both legs' buffers together bound the memory of a session,
// whatever passes through it.
inline constexpr std::size_t kBufferSize = 64 * 1024;

// Commands whose four bytes after the command byte name a prepared statement: the id is
// read before such a command is decided, however large it is.
inline bool names_statement(protocol::Command command) {
  switch (command) {
    case protocol::Command::kStmtExecute:
    case protocol::Command::kStmtBulkExecute:
    case protocol::Command::kStmtClose:
    case protocol::Command::kStmtSendLongData:
    case protocol::Command::kStmtReset:
    case protocol::Command::kStmtFetch:
      return true;
    default:
      return false;
  }
}

}  // namespace djproxy::proxy::session_internal
