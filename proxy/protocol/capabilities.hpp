#pragma once
// Capability negotiation in the connection phase. The proxy stands between two
// handshakes: it offers the client a greeting built from the server's, and answers the
// server with the client's choice, narrowed to what the proxy can read on the wire.
// Pure: flags and TLS settings in, flags out.
#include <cstdint>

#include "proxy/protocol/constants.hpp"

namespace djproxy::protocol {

namespace cap {
// Bits the server never sees from a client but which a client may set for itself.
inline constexpr std::uint64_t kClientSideOnly = kSslVerifyServerCert | kRememberOptions;
}  // namespace cap

// What the proxy offers the client, decided from the server's greeting.
struct CapabilityOffer {
  bool backend_tls = false;  // the backend leg becomes TLS
  bool client_tls = false;   // the client is offered TLS
  std::uint64_t to_client = 0;  // the capabilities of the greeting sent to the client
};

// `server`: the capabilities of the server's greeting. `client_leg_tls`,
// `backend_leg_tls`: TLS is configured for that leg. The backend leg is TLS when it is
// configured and the server offers it; the client is offered TLS only when the backend
// leg has it too, so a password a client sends in the clear inside TLS never crosses a
// plaintext leg.
CapabilityOffer offer_capabilities(std::uint64_t server, bool client_leg_tls, bool backend_leg_tls);

// The capabilities of each leg once the client has answered.
struct NegotiatedCapabilities {
  std::uint64_t client = 0;   // the client leg: what the client asked, of what it was offered
  std::uint64_t backend = 0;  // the backend leg: what the proxy's HandshakeResponse asks of the server
};

// `client_asked`: the capabilities of the client's HandshakeResponse. The backend leg
// also gets session tracking and connection attributes whenever the server has them
// (the proxy reads the session state and stamps the client's address), whatever the
// client asked.
NegotiatedCapabilities negotiate_capabilities(const CapabilityOffer& offer, std::uint64_t server,
                                              std::uint64_t client_asked);

}  // namespace djproxy::protocol
