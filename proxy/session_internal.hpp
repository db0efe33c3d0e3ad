#pragma once
// What the session's translation units (session*.cpp) share and nothing else needs.
#include <cstddef>

namespace djproxy::proxy::session_internal {

// The capacity of each leg's relay buffer. Sized so that every packet the proxy must
// see whole (handshake, OK, EOF, ERR) fits, and large enough that big rows and blobs
// move in few system calls. Both legs' buffers together bound the memory of a session,
// whatever passes through it.
inline constexpr std::size_t kBufferSize = 64 * 1024;

}  // namespace djproxy::proxy::session_internal
