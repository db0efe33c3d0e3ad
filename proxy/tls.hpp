#pragma once
// The two TLS contexts: the proxy as a server towards clients, as a client towards
// the backend.
#include <memory>
#include <stdexcept>

#include "proxy/asio.hpp"
#include "proxy/options.hpp"

namespace djproxy::proxy {

struct TlsContexts {
  std::unique_ptr<asio::ssl::context> client_leg;   // null when client TLS is off
  std::unique_ptr<asio::ssl::context> backend_leg;  // null when backend TLS is off
};

// Throws std::runtime_error naming the file or step that failed.
TlsContexts make_tls_contexts(const ServerOptions& options);

}  // namespace djproxy::proxy
