#include "proxy/protocol/capabilities.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <ostream>
#include <string>

#include "proxy/protocol/constants.hpp"

namespace djproxy::protocol {
namespace {
using namespace cap;

// A MariaDB server's greeting: what the proxy can read, and what it cannot
// (compression, progress reports, COM_MULTI, the metadata cache).
constexpr std::uint64_t kReadable = kLongFlag | kConnectWithDb | kProtocol41 | kTransactions |
                                    kSecureConnection | kMultiStatements | kMultiResults | kPsMultiResults |
                                    kPluginAuth | kConnectAttrs | kPluginAuthLenencData | kSessionTrack |
                                    kDeprecateEof | kMariaStmtBulkOperations | kMariaExtendedMetadata;
constexpr std::uint64_t kUnreadable = kCompress | kMariaProgress | kMariaComMulti | kMariaCacheMetadata;
constexpr std::uint64_t kMariaServer = kReadable | kUnreadable | kSsl;

// A client's HandshakeResponse without TLS, without session tracking or attributes.
constexpr std::uint64_t kPlainClient = kLongFlag | kProtocol41 | kTransactions | kSecureConnection |
                                       kMultiResults | kPluginAuth | kPluginAuthLenencData;

struct OfferCase {
  const char* name;
  std::uint64_t server;
  bool client_leg_tls;
  bool backend_leg_tls;
  bool backend_tls;
  bool client_tls;
  std::uint64_t to_client;
};
void PrintTo(const OfferCase& c, std::ostream* os) { *os << c.name; }

class OfferTest : public ::testing::TestWithParam<OfferCase> {};

TEST_P(OfferTest, Decides) {
  const auto& c = GetParam();
  const auto offer = offer_capabilities(c.server, c.client_leg_tls, c.backend_leg_tls);
  EXPECT_EQ(offer.backend_tls, c.backend_tls);
  EXPECT_EQ(offer.client_tls, c.client_tls);
  EXPECT_EQ(offer.to_client, c.to_client) << std::hex << (offer.to_client ^ c.to_client);
}

INSTANTIATE_TEST_SUITE_P(
    Capabilities, OfferTest,
    ::testing::Values(
        // name, server, client leg TLS, backend leg TLS → backend TLS, client TLS, greeting
        OfferCase{"NoTlsConfigured", kMariaServer, false, false, false, false, kReadable},
        OfferCase{"TlsOnBothLegs", kMariaServer, true, true, true, true, kReadable | kSsl},
        OfferCase{"TlsOnBackendLegOnly", kMariaServer, false, true, true, false, kReadable},
        // A client leg with TLS over a plaintext backend leg would carry passwords sent
        // in the clear inside TLS onto the plaintext leg: not offered.
        OfferCase{"TlsOnClientLegOnly", kMariaServer, true, false, false, false, kReadable},
        OfferCase{"ServerWithoutTls", kMariaServer & ~kSsl, true, true, false, false, kReadable},
        OfferCase{"ServerWithoutTlsBackendOnly", kMariaServer & ~kSsl, false, true, false, false, kReadable},
        OfferCase{"OnlyUnreadableBits", kUnreadable, true, true, false, false, 0},
        OfferCase{"NothingOffered", 0, false, false, false, false, 0}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(OfferCapabilities, NeverOffersWhatTheProxyCannotRead) {
  for (const std::uint64_t bit :
       {kCompress, kQueryAttributes, kOptionalResultsetMetadata, kZstdCompression, kMultiFactorAuth,
        kCapabilityExtension, kMariaProgress, kMariaComMulti, kMariaCacheMetadata, kMariaBulkUnitResults}) {
    EXPECT_EQ(offer_capabilities(bit, true, true).to_client, 0u) << std::hex << bit;
  }
}

TEST(OfferCapabilities, OffersEverythingItCanRead) {
  EXPECT_EQ(offer_capabilities(~std::uint64_t{0}, false, false).to_client, kUnderstood & ~kSsl);
  EXPECT_EQ(offer_capabilities(~std::uint64_t{0}, true, true).to_client, kUnderstood);
}

struct NegotiateCase {
  const char* name;
  std::uint64_t server;
  bool client_leg_tls;
  bool backend_leg_tls;
  std::uint64_t client_asked;
  std::uint64_t client;   // the client leg's capabilities
  std::uint64_t backend;  // what the proxy asks of the server
};
void PrintTo(const NegotiateCase& c, std::ostream* os) { *os << c.name; }

class NegotiateTest : public ::testing::TestWithParam<NegotiateCase> {};

TEST_P(NegotiateTest, Decides) {
  const auto& c = GetParam();
  const auto offer = offer_capabilities(c.server, c.client_leg_tls, c.backend_leg_tls);
  const auto negotiated = negotiate_capabilities(offer, c.server, c.client_asked);
  EXPECT_EQ(negotiated.client, c.client) << std::hex << (negotiated.client ^ c.client);
  EXPECT_EQ(negotiated.backend, c.backend) << std::hex << (negotiated.backend ^ c.backend);
}

INSTANTIATE_TEST_SUITE_P(
    Capabilities, NegotiateTest,
    ::testing::Values(
        // name, server, client leg TLS, backend leg TLS, client asked → client leg, backend leg
        NegotiateCase{"PlainClientPlainLegs", kMariaServer, false, false, kPlainClient, kPlainClient,
                      // The proxy reads the session state and stamps the client's address
                      // whether the client asked for them or not.
                      kPlainClient | kSessionTrack | kConnectAttrs},
        NegotiateCase{"ServerWithoutTrackingOrAttributes", kMariaServer & ~(kSessionTrack | kConnectAttrs), false,
                      false, kPlainClient | kSessionTrack | kConnectAttrs, kPlainClient, kPlainClient},
        NegotiateCase{"ClientAsksTrackingAndAttributes", kMariaServer, false, false,
                      kPlainClient | kSessionTrack | kConnectAttrs | kDeprecateEof,
                      kPlainClient | kSessionTrack | kConnectAttrs | kDeprecateEof,
                      kPlainClient | kSessionTrack | kConnectAttrs | kDeprecateEof},
        // What the proxy cannot read reaches neither leg, though both ends have it.
        NegotiateCase{"UnreadableBitsDropped", kMariaServer, false, false,
                      kPlainClient | kCompress | kMariaProgress | kMariaCacheMetadata | kMariaStmtBulkOperations,
                      kPlainClient | kMariaStmtBulkOperations,
                      kPlainClient | kMariaStmtBulkOperations | kSessionTrack | kConnectAttrs},
        // A client cannot get what the server lacks.
        NegotiateCase{"ServerLacksDeprecateEof", kMariaServer & ~kDeprecateEof, false, false,
                      kPlainClient | kDeprecateEof | kMultiStatements, kPlainClient | kMultiStatements,
                      kPlainClient | kMultiStatements | kSessionTrack | kConnectAttrs},
        // The client's own bits are kept on both legs as the client sent them.
        NegotiateCase{"ClientSideOnlyBitsKept", kMariaServer, false, false,
                      kPlainClient | kSslVerifyServerCert | kRememberOptions,
                      kPlainClient | kSslVerifyServerCert | kRememberOptions,
                      kPlainClient | kSslVerifyServerCert | kRememberOptions | kSessionTrack | kConnectAttrs},
        NegotiateCase{"TlsOnBothLegs", kMariaServer, true, true, kPlainClient | kSsl, kPlainClient | kSsl,
                      kPlainClient | kSsl | kSessionTrack | kConnectAttrs},
        // A plaintext client over a TLS backend leg: only the backend leg has TLS.
        NegotiateCase{"PlainClientTlsBackend", kMariaServer, true, true, kPlainClient, kPlainClient,
                      kPlainClient | kSsl | kSessionTrack | kConnectAttrs},
        NegotiateCase{"TlsOnBackendLegOnly", kMariaServer, false, true, kPlainClient | kSsl, kPlainClient,
                      kPlainClient | kSsl | kSessionTrack | kConnectAttrs},
        // TLS asked for but not offered: neither leg has it.
        NegotiateCase{"TlsNotConfigured", kMariaServer, false, false, kPlainClient | kSsl, kPlainClient,
                      kPlainClient | kSessionTrack | kConnectAttrs},
        NegotiateCase{"ServerWithoutTls", kMariaServer & ~kSsl, true, true, kPlainClient | kSsl, kPlainClient,
                      kPlainClient | kSessionTrack | kConnectAttrs},
        NegotiateCase{"ClientAsksNothing", kMariaServer, true, true, 0, 0, kSsl | kSessionTrack | kConnectAttrs}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace djproxy::protocol
