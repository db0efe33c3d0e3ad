#pragma once
// What a connection is set up with: the backend, TLS on both legs, timeouts. A session
// takes the snapshot current when it is accepted and keeps it; a reload (SIGHUP)
// replaces the snapshot, so changes apply to new connections.
#include <memory>
#include <stdexcept>

#include "proxy/options.hpp"
#include "proxy/rsa_exchange.hpp"
#include "proxy/tls.hpp"

namespace djproxy::proxy {

struct ConnectionSettings {
  ServerOptions options;
  TlsContexts tls;
  // For caching_sha2_password with a plaintext client leg and a TLS backend leg.
  std::shared_ptr<const RsaExchange> rsa;

  // Throws std::runtime_error naming the TLS file or step that failed. `previous`
  // lends its RSA key, which is costly to generate and has nothing to rotate.
  static std::shared_ptr<const ConnectionSettings> make(ServerOptions options,
                                                        const ConnectionSettings* previous = nullptr) {
    auto s = std::make_shared<ConnectionSettings>();
    s->tls = make_tls_contexts(options);
    if (s->tls.backend_leg && options.client_tls != ClientTlsMode::kRequired) {
      s->rsa = previous && previous->rsa ? previous->rsa : std::make_shared<const RsaExchange>();
    }
    s->options = std::move(options);
    return s;
  }
};

}  // namespace djproxy::proxy
