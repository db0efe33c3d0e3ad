#pragma once
// What the relay needs to know to run, independent of where the values came from
// (config/ builds it from the layered settings).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace djproxy::proxy {

enum class ClientTlsMode { kOff, kPreferred, kRequired };
enum class BackendTlsMode { kOff, kPreferred, kRequired, kVerifyCa, kVerifyIdentity };

struct Endpoint {
  std::string host;
  std::uint16_t port = 0;
};

struct ServerOptions {
  Endpoint listen{"127.0.0.1", 6033};
  Endpoint backend{"127.0.0.1", 3306};
  Endpoint admin_listen{"127.0.0.1", 9033};  // port 0: no admin listener
  unsigned threads = 0;  // 0: one per core

  ClientTlsMode client_tls = ClientTlsMode::kPreferred;
  std::string client_tls_cert;  // empty: a self-signed certificate is generated at start
  std::string client_tls_key;
  BackendTlsMode backend_tls = BackendTlsMode::kPreferred;
  std::string backend_tls_ca;
  std::string backend_tls_cert;
  std::string backend_tls_key;

  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds handshake_timeout{10000};
  std::chrono::milliseconds idle_timeout{8 * 3600 * 1000};  // zero: none
  std::chrono::milliseconds shutdown_grace{30000};
  std::size_t max_connections = 1000;
  std::size_t max_handshakes = 64;
};

}  // namespace djproxy::proxy
