#include "proxy/protocol/capabilities.hpp"

namespace djproxy::protocol {

CapabilityOffer offer_capabilities(std::uint64_t server, bool client_leg_tls, bool backend_leg_tls) {
  CapabilityOffer offer;
  offer.backend_tls = backend_leg_tls && (server & cap::kSsl) != 0;
  offer.client_tls = client_leg_tls && offer.backend_tls;
  offer.to_client = server & cap::kUnderstood;
  if (offer.client_tls) {
    offer.to_client |= cap::kSsl;
  } else {
    offer.to_client &= ~cap::kSsl;
  }
  return offer;
}

NegotiatedCapabilities negotiate_capabilities(const CapabilityOffer& offer, std::uint64_t server,
                                              std::uint64_t client_asked) {
  NegotiatedCapabilities negotiated;
  negotiated.client = client_asked & (offer.to_client | cap::kClientSideOnly);
  negotiated.backend = (negotiated.client & (server | cap::kClientSideOnly) & cap::kUnderstood) |
                       (server & (cap::kSessionTrack | cap::kConnectAttrs));
  negotiated.backend &= ~cap::kSsl;
  if (offer.backend_tls) negotiated.backend |= cap::kSsl;
  return negotiated;
}

}  // namespace djproxy::protocol
