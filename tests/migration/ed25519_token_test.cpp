// Ed25519 tokens (dje1) as a public-key sidecar sees them, and the scheme split:
// a token is checked only with the key of the scheme its tag names.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "proxy/migration/ed25519.hpp"
#include "proxy/migration/token.hpp"

namespace djproxy::migration {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using namespace std::chrono_literals;

constexpr std::int64_t kNow = 1795600800;  // 2026-11-25T10:00:00Z
constexpr std::string_view kPrefix = "myproject_";
const std::string kHmacKey = "0123456789abcdef0123456789abcdef-proxy-key";

MigrationToken make(std::int64_t issued_at = kNow, std::int64_t expires_at = kNow + 3600) {
  return {"00112233445566778899aabbccddeeff", {"myproject_*"}, issued_at, expires_at, "release 2.1"};
}

// What a sidecar holds: the public half only, read back from its PEM.
struct Pair {
  Ed25519Key private_key = Ed25519Key::generate();
  Ed25519Key public_key = Ed25519Key::from_public_pem(private_key.public_pem());
};

TokenCheck check(std::string_view text, const Ed25519Key& public_key, std::int64_t now = kNow) {
  return verify(text, TokenKeys{{}, &public_key}, now, kPrefix, 24h);
}

TEST(Ed25519Token, RoundTripThroughPemOnAPublicKeyOnlyProxy) {
  Pair pair;
  EXPECT_FALSE(pair.public_key.has_private());
  auto reloaded = Ed25519Key::from_private_pem(pair.private_key.private_pem());
  const std::string text = issue(make(), reloaded);
  EXPECT_THAT(text, StartsWith("dje1."));
  auto result = check(text, pair.public_key);
  ASSERT_TRUE(result.ok()) << result.message;
  EXPECT_EQ(*result.token, make());
}

TEST(Ed25519Token, EveryTamperedCharacterIsRefused) {
  Pair pair;
  const std::string text = issue(make(), pair.private_key);
  // Each position, flipped to another alphabet character, must not verify.
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '.') continue;
    std::string forged = text;
    forged[i] = text[i] == 'A' ? 'B' : 'A';
    auto result = check(forged, pair.public_key);
    EXPECT_FALSE(result.ok()) << "position " << i;
    EXPECT_FALSE(result.token.has_value()) << "position " << i;
  }
}

TEST(Ed25519Token, ATokenSignedByAnotherKeyIsRefused) {
  Pair ours;
  Pair theirs;
  auto result = check(issue(make(), theirs.private_key), ours.public_key);
  EXPECT_EQ(result.status, TokenStatus::bad_signature);
  EXPECT_THAT(result.message, HasSubstr("migration.public_key"));
}

TEST(Ed25519Token, ExpiredAndNotYetValidAreRefused) {
  Pair pair;
  const std::string text = issue(make(), pair.private_key);
  EXPECT_EQ(check(text, pair.public_key, kNow + 3600).status, TokenStatus::expired);
  EXPECT_TRUE(check(text, pair.public_key, kNow + 3599).ok());
  EXPECT_EQ(check(text, pair.public_key, kNow - kClockSkewSeconds - 1).status, TokenStatus::not_yet_valid);
}

TEST(Ed25519Token, APublicKeyCannotSign) {
  Pair pair;
  EXPECT_THROW(issue(make(), pair.public_key), std::invalid_argument);
}

TEST(Ed25519Token, AnHmacTokenIsRefusedByAPublicKeyOnlyProxy) {
  Pair pair;
  const std::string hmac = issue(make(), kHmacKey);
  auto result = check(hmac, pair.public_key);
  EXPECT_EQ(result.status, TokenStatus::weak_key);
  EXPECT_THAT(result.message, HasSubstr("accepts only Ed25519 tokens"));
}

TEST(Ed25519Token, AnEd25519TokenIsRefusedByAnHmacOnlyProxy) {
  Pair pair;
  auto result = verify(issue(make(), pair.private_key), kHmacKey, kNow, kPrefix, 24h);
  EXPECT_EQ(result.status, TokenStatus::weak_key);
  EXPECT_THAT(result.message, HasSubstr("no public key"));
}

TEST(Ed25519Token, RetaggingAnHmacTokenAsEd25519DoesNotVerify) {
  Pair pair;
  std::string text = issue(make(), kHmacKey);
  text.replace(0, 4, "dje1");
  // A 32-byte MAC where 64 signature bytes belong: malformed, never accepted.
  auto result = verify(text, TokenKeys{kHmacKey, &pair.public_key}, kNow, kPrefix, 24h);
  EXPECT_FALSE(result.ok());
  EXPECT_FALSE(result.token.has_value());
}

TEST(Ed25519Token, AProxyWithBothKeysAcceptsEachSchemeWithItsOwnKey) {
  Pair pair;
  const TokenKeys both{kHmacKey, &pair.public_key};
  EXPECT_TRUE(verify(issue(make(), pair.private_key), both, kNow, kPrefix, 24h).ok());
  EXPECT_TRUE(verify(issue(make(), kHmacKey), both, kNow, kPrefix, 24h).ok());
}

TEST(Ed25519Key, MalformedPemIsRefusedWithAClearError) {
  Pair pair;
  const std::string pub = pair.public_key.public_pem();
  const std::string priv = pair.private_key.private_pem();
  for (const std::string& text : {std::string(), std::string("not a key"), pub.substr(0, pub.size() / 2),
                                  priv /* a private key where a public one belongs */}) {
    try {
      Ed25519Key::from_public_pem(text);
      ADD_FAILURE() << "accepted as a public key: " << text;
    } catch (const std::invalid_argument& e) {
      EXPECT_THAT(e.what(), HasSubstr("public key"));
    }
  }
  EXPECT_THROW(Ed25519Key::from_private_pem(pub), std::invalid_argument);
  EXPECT_THROW(Ed25519Key::from_private_pem(priv.substr(0, priv.size() - 40)), std::invalid_argument);
}

TEST(Ed25519Key, AnRsaKeyIsRefusedAsNotEd25519) {
  // openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:512 | openssl pkey -pubout
  const std::string rsa_public =
      "-----BEGIN PUBLIC KEY-----\n"
      "MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBAKra2HANlTucJAhDrGPa+CdVxyBuH784\n"
      "O20QpkEIkptLY2mVoQCIJy0Hh7e3thg0vBXkQTkWc66DwktvDbpp3KECAwEAAQ==\n"
      "-----END PUBLIC KEY-----\n";
  try {
    Ed25519Key::from_public_pem(rsa_public);
    ADD_FAILURE() << "an RSA key was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), HasSubstr("not an Ed25519"));
  }
}

}  // namespace
}  // namespace djproxy::migration
