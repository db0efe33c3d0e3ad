#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <set>
#include <string>

#include "proxy/migration/token.hpp"

namespace djproxy::migration {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

const std::string kKey = "0123456789abcdef0123456789abcdef-proxy-key";
const std::string kOtherKey = "fedcba9876543210fedcba9876543210-other-key";
constexpr std::int64_t kNow = 1795600800;  // 2026-11-25T10:00:00Z
constexpr std::string_view kPrefix = "myproject_";
constexpr std::chrono::seconds kMaxTtl = 24h;

MigrationToken make(std::vector<std::string> scope = {"myproject_*"}, std::int64_t issued_at = kNow,
                    std::int64_t expires_at = kNow + 3600, std::string note = "ALTER ephys for release 2.1") {
  return {"00112233445566778899aabbccddeeff", std::move(scope), issued_at, expires_at, std::move(note)};
}

TokenCheck check(std::string_view text, std::int64_t now = kNow, std::string_view key = kKey,
                 std::string_view prefix = kPrefix, std::chrono::seconds max_ttl = kMaxTtl) {
  return verify(text, key, now, prefix, max_ttl);
}

bool all_of_chars(std::string_view text, std::string_view allowed) {
  return !text.empty() && text.find_first_not_of(allowed) == std::string_view::npos;
}

// An independent encoder, so the tests can forge tokens with arbitrary payloads
// and still sign them correctly: they then reach the payload checks.
std::string b64url(std::string_view bytes) {
  static constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += alphabet[(acc >> bits) & 63];
    }
  }
  if (bits > 0) out += alphabet[(acc << (6 - bits)) & 63];
  return out;
}

std::string sign_raw(std::string_view payload_json, std::string_view key = kKey) {
  std::string text = "djm1." + b64url(payload_json);
  std::array<unsigned char, 32> mac{};
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), int(key.size()), reinterpret_cast<const unsigned char*>(text.data()), text.size(),
       mac.data(), &length);
  return text + "." + b64url(std::string_view(reinterpret_cast<const char*>(mac.data()), length));
}

TEST(MigrationToken, RoundTripAcrossTwoProxies) {
  const auto original = make({"myproject_ephys", "myproject_lab_*"});
  const std::string text = issue(original, kKey);
  // Two proxies share nothing but the key; their clocks differ a little.
  auto proxy_a = verify(text, kKey, kNow + 5, kPrefix, kMaxTtl);
  auto proxy_b = verify(text, kKey, kNow + 1800, kPrefix, kMaxTtl);
  ASSERT_TRUE(proxy_a.ok()) << proxy_a.message;
  ASSERT_TRUE(proxy_b.ok()) << proxy_b.message;
  EXPECT_EQ(*proxy_a.token, original);
  EXPECT_EQ(*proxy_b.token, original);
  EXPECT_THAT(proxy_a.message, HasSubstr(original.id));
}

TEST(MigrationToken, TextNeedsNoEscapingInASqlLiteral) {
  const std::string text = issue(make({"myproject_*"}, kNow, kNow + 60, "quotes ' \" \\ and ümlauts"), kKey);
  static constexpr std::string_view b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  ASSERT_TRUE(text.starts_with("djm1.")) << text;
  const auto dot = text.rfind('.');
  ASSERT_GT(dot, 5u) << text;
  EXPECT_TRUE(all_of_chars(text.substr(5, dot - 5), b64)) << text;
  EXPECT_EQ(text.size() - dot - 1, 43u) << text;  // 32 bytes, unpadded
  EXPECT_TRUE(all_of_chars(text.substr(dot + 1), b64)) << text;
  EXPECT_TRUE(check(text).ok());
  EXPECT_EQ(check(text).token->note, "quotes ' \" \\ and ümlauts");
}

TEST(MigrationToken, Expired) {
  const std::string text = issue(make({"myproject_*"}, kNow - 3600, kNow), kKey);
  auto r = check(text);
  EXPECT_EQ(r.status, TokenStatus::expired);
  EXPECT_EQ(r.message, "djproxy: migration token expired at 2026-11-25T10:00:00Z");
  ASSERT_TRUE(r.token.has_value());  // the audit log names the token
  EXPECT_TRUE(check(text, kNow - 1).ok());
}

TEST(MigrationToken, NotYetValidBeyondClockSkew) {
  const std::string text = issue(make({"myproject_*"}, kNow + 61, kNow + 3600), kKey);
  auto r = check(text);
  EXPECT_EQ(r.status, TokenStatus::not_yet_valid);
  EXPECT_THAT(r.message, HasSubstr("2026-11-25T10:01:01Z"));
  EXPECT_THAT(r.message, HasSubstr("check the clocks"));
  // Within the tolerated skew the token is good.
  EXPECT_TRUE(check(issue(make({"myproject_*"}, kNow + 60, kNow + 3600), kKey)).ok());
}

TEST(MigrationToken, WrongKeyIsBadSignature) {
  const std::string text = issue(make(), kOtherKey);
  auto r = check(text);
  EXPECT_EQ(r.status, TokenStatus::bad_signature);
  EXPECT_FALSE(r.token.has_value());
  EXPECT_THAT(r.message, HasSubstr("another key"));
}

TEST(MigrationToken, KeyRotationRevokes) {
  const std::string text = issue(make(), kKey);
  EXPECT_TRUE(check(text, kNow, kKey).ok());
  EXPECT_EQ(check(text, kNow, kOtherKey).status, TokenStatus::bad_signature);
}

TEST(MigrationToken, EveryFlippedByteIsRejected) {
  const std::string text = issue(make(), kKey);
  for (std::size_t i = 0; i < text.size(); ++i) {
    for (unsigned char mask : {0x01, 0x02, 0x04, 0x20, 0x80}) {
      std::string tampered = text;
      tampered[i] = static_cast<char>(tampered[i] ^ mask);
      auto r = check(tampered);
      EXPECT_TRUE(r.status == TokenStatus::malformed || r.status == TokenStatus::bad_signature)
          << "byte " << i << " mask " << int(mask) << ": " << to_string(r.status);
      EXPECT_FALSE(r.token.has_value());
    }
  }
}

TEST(MigrationToken, EverySignatureCharacterReplacedIsRejected) {
  const std::string text = issue(make(), kKey);
  const auto dot = text.rfind('.');
  static constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  for (std::size_t i = dot + 1; i < text.size(); ++i) {
    for (char c : alphabet) {
      if (c == text[i]) continue;
      std::string tampered = text;
      tampered[i] = c;
      // The last character carries 4 unused bits: a lenient decoder would accept
      // 15 of these replacements as the same MAC.
      EXPECT_FALSE(check(tampered).ok()) << "position " << i << " replaced by " << c;
    }
  }
}

TEST(MigrationToken, PayloadReplacedUnderOldSignatureIsBadSignature) {
  const std::string text = issue(make({"myproject_ephys"}), kKey);
  const std::string wider = issue(make({"myproject_*"}, kNow, kNow + 3600), kOtherKey);
  const std::string forged = wider.substr(0, wider.rfind('.')) + text.substr(text.rfind('.'));
  EXPECT_EQ(check(forged).status, TokenStatus::bad_signature);
}

TEST(MigrationToken, EveryTruncationIsRejected) {
  const std::string text = issue(make(), kKey);
  for (std::size_t n = 0; n < text.size(); ++n) {
    auto r = check(text.substr(0, n));
    EXPECT_TRUE(r.status == TokenStatus::malformed || r.status == TokenStatus::bad_signature) << n;
  }
}

TEST(MigrationToken, MalformedText) {
  const std::string good = issue(make(), kKey);
  const std::vector<std::string> cases = {
      "",
      "djm1",
      "djm1.",
      "djm1..",
      "djm2" + good.substr(4),
      "DJM1" + good.substr(4),
      good + ".extra",
      " " + good,
      good + "\n",
      good + "=",
      "djm1.e30.@@@@",
      "djm1.e30=.AAAA",
      "djm1.e30.A",
      std::string(kMaxTokenChars + 1, 'a'),
      std::string("djm1.e30\0.AAAA", 14),
  };
  for (const auto& text : cases) {
    auto r = check(text);
    EXPECT_EQ(r.status, TokenStatus::malformed) << "'" << text << "': " << r.message;
    EXPECT_THAT(r.message, HasSubstr("djproxy: migration token is malformed: "));
  }
  EXPECT_THAT(check(good + "\n").message, HasSubstr("whitespace"));
}

TEST(MigrationToken, SignedButMalformedPayload) {
  struct Case {
    std::string payload;
    std::string says;
  };
  const std::vector<Case> cases = {
      {"not json", "not a JSON object"},
      {"[1,2]", "not a JSON object"},
      {"{\"id\":\"00112233445566778899aabbccddeeff\",\"scope\":[\"myproject_*\"],\"iat\":1795600800,\"note\":\"\"}",
       "lacks the field 'exp'"},
      {"{\"exp\":1795604400,\"scope\":[\"myproject_*\"],\"iat\":1795600800,\"note\":\"\"}", "lacks the field 'id'"},
      {"{\"id\":\"00112233445566778899aabbccddeeff\",\"scope\":[\"myproject_*\"],\"iat\":\"1795600800\",\"exp\":"
       "1795604400,\"note\":\"\"}",
       "'iat'"},
      {"{\"id\":\"00112233445566778899aabbccddeeff\",\"scope\":[\"myproject_*\"],\"iat\":1795600800.5,\"exp\":"
       "1795604400,\"note\":\"\"}",
       "'iat'"},
      {"{\"id\":\"00112233445566778899aabbccddeeff\",\"scope\":[\"myproject_*\"],\"iat\":1795600800,\"exp\":"
       "18446744073709551615,\"note\":\"\"}",
       "'exp'"},
      {"{\"id\":\"00112233445566778899aabbccddeeff\",\"scope\":\"myproject_*\",\"iat\":1795600800,\"exp\":"
       "1795604400,\"note\":\"\"}",
       "'scope' is not a list"},
      {"{\"id\":\"00112233445566778899aabbccddeeff\",\"scope\":[7],\"iat\":1795600800,\"exp\":1795604400,\"note\":\"\"}",
       "other than schema names"},
      {"{\"id\":\"00112233445566778899aabbccddeeff\",\"scope\":[],\"iat\":1795600800,\"exp\":1795604400,\"note\":\"\"}",
       "names no schema"},
      {"{\"id\":\"00112233445566778899aabbccddeeff\",\"scope\":[\"my*project\"],\"iat\":1795600800,\"exp\":"
       "1795604400,\"note\":\"\"}",
       "'my*project'"},
      {"{\"id\":\"xyz\",\"scope\":[\"myproject_*\"],\"iat\":1795600800,\"exp\":1795604400,\"note\":\"\"}",
       "32 hexadecimal digits"},
      {"{\"id\":\"00112233445566778899aabbccddeeff\",\"scope\":[\"myproject_*\"],\"iat\":1795604400,\"exp\":"
       "1795600800,\"note\":\"\"}",
       "expires before it was issued"},
      {"{\"id\":\"00112233445566778899aabbccddeeff\",\"scope\":[\"myproject_*\"],\"iat\":-5,\"exp\":1795600800,"
       "\"note\":\"\"}",
       "outside 1970..9999"},
      {"{\"id\":\"00112233445566778899aabbccddeeff\",\"scope\":[\"myproject_*\"],\"iat\":1795600800,\"exp\":"
       "1795604400,\"note\":\"\",\"only_from\":\"10.0.0.0/8\"}",
       "'only_from'"},
  };
  for (const auto& c : cases) {
    auto r = check(sign_raw(c.payload));
    EXPECT_EQ(r.status, TokenStatus::malformed) << c.payload;
    EXPECT_THAT(r.message, HasSubstr(c.says)) << c.payload;
    EXPECT_FALSE(r.token.has_value());
  }
  // The forging helper itself produces tokens the verifier accepts.
  EXPECT_TRUE(check(sign_raw("{\"id\":\"00112233445566778899aabbccddeeff\",\"scope\":[\"myproject_*\"],\"iat\":"
                             "1795600800,\"exp\":1795604400,\"note\":\"\"}"))
                  .ok());
}

TEST(MigrationToken, MalformedPayloadIsNotReadBeforeTheSignature) {
  // Garbage under a wrong signature says "bad signature", not what is in the payload.
  EXPECT_EQ(check(sign_raw("not json", kOtherKey)).status, TokenStatus::bad_signature);
}

TEST(MigrationToken, ScopeOutsideThePrefix) {
  for (const auto& pattern : {"*", "other_*", "other", "myproject*", "myproject", "MYPROJECT_x"}) {
    auto r = check(issue(make({"myproject_ephys", pattern}), kKey));
    EXPECT_EQ(r.status, TokenStatus::scope_outside_prefix) << pattern;
    EXPECT_EQ(r.message, std::string("djproxy: migration token scope '") + pattern +
                             "' is outside the schema prefix 'myproject_'");
  }
  for (const auto& pattern : {"myproject_*", "myproject_x", "myproject_x*", "myproject_"}) {
    EXPECT_TRUE(check(issue(make({pattern}), kKey)).ok()) << pattern;
  }
  // Without a configured prefix every pattern is inside it.
  EXPECT_TRUE(check(issue(make({"*"}), kKey), kNow, kKey, "").ok());
}

TEST(MigrationToken, TooLongLived) {
  auto r = check(issue(make({"myproject_*"}, kNow, kNow + 24 * 3600 + 1), kKey));
  EXPECT_EQ(r.status, TokenStatus::too_long_lived);
  EXPECT_THAT(r.message, HasSubstr("lives 24h1s"));
  EXPECT_THAT(r.message, HasSubstr("migration.max_token_ttl (24h)"));
  EXPECT_TRUE(check(issue(make({"myproject_*"}, kNow, kNow + 24 * 3600), kKey)).ok());
  // A proxy with a shorter limit refuses what another accepts.
  EXPECT_EQ(check(issue(make({"myproject_*"}, kNow, kNow + 7200), kKey), kNow, kKey, kPrefix, 1h).status,
            TokenStatus::too_long_lived);
}

TEST(MigrationToken, WeakKey) {
  const std::string text = issue(make(), kKey);
  auto r = check(text, kNow, kKey.substr(0, kMinKeyBytes - 1));
  EXPECT_EQ(r.status, TokenStatus::weak_key);
  EXPECT_THAT(r.message, HasSubstr("shorter than 32 bytes"));
  EXPECT_EQ(check(text, kNow, "").status, TokenStatus::weak_key);
  EXPECT_THAT(check(text, kNow, "").message, HasSubstr("no migration key"));
  EXPECT_THROW(issue(make(), kKey.substr(0, kMinKeyBytes - 1)), std::invalid_argument);
  EXPECT_NO_THROW(issue(make(), kKey.substr(0, kMinKeyBytes)));
}

TEST(MigrationToken, IssueRefusesWhatNoProxyWouldAccept) {
  auto bad_id = make();
  bad_id.id = "nothex";
  EXPECT_THROW(issue(bad_id, kKey), std::invalid_argument);
  EXPECT_THROW(issue(make({}), kKey), std::invalid_argument);
  EXPECT_THROW(issue(make({"a*b"}), kKey), std::invalid_argument);
  EXPECT_THROW(issue(make({"myproject_*"}, kNow, kNow), kKey), std::invalid_argument);
  EXPECT_THROW(issue(make({"myproject_*"}, kNow, kNow + 60, std::string(kMaxNoteBytes + 1, 'x')), kKey),
               std::invalid_argument);
  EXPECT_THROW(issue(make({"myproject_*"}, kNow, kNow + 60, "\xff\xfe"), kKey), std::invalid_argument);
}

TEST(MigrationToken, ScopeCovers) {
  const std::vector<std::string> scope = {"myproject_ephys", "myproject_lab_*"};
  EXPECT_TRUE(scope_covers(scope, "myproject_ephys"));
  EXPECT_TRUE(scope_covers(scope, "myproject_lab_"));
  EXPECT_TRUE(scope_covers(scope, "myproject_lab_imaging"));
  EXPECT_FALSE(scope_covers(scope, "myproject_ephys2"));
  EXPECT_FALSE(scope_covers(scope, "myproject_ephy"));
  EXPECT_FALSE(scope_covers(scope, "myproject_lab"));
  EXPECT_FALSE(scope_covers(scope, "myproject_other"));
  EXPECT_FALSE(scope_covers(scope, "MYPROJECT_EPHYS"));
  EXPECT_FALSE(scope_covers(scope, ""));
  EXPECT_FALSE(scope_covers({}, "myproject_ephys"));
  EXPECT_TRUE(scope_covers({"*"}, "anything"));
}

TEST(MigrationToken, ValidPatterns) {
  for (const std::string p : {"*", "a", "a*", "myproject_*", "my-project.x"}) EXPECT_TRUE(valid_pattern(p)) << p;
  EXPECT_TRUE(valid_pattern(std::string(64, 'a') + "*"));
  for (const std::string p : {"", "**", "a**", "*a", "a*b", "a`b", "a\nb", "a\x7f"}) EXPECT_FALSE(valid_pattern(p)) << p;
  EXPECT_FALSE(valid_pattern(std::string(65, 'a')));
}

TEST(MigrationToken, NewIdsAreRandomHex) {
  std::set<std::string> ids;
  for (int i = 0; i < 100; ++i) {
    auto id = new_token_id();
    EXPECT_EQ(id.size(), 32u);
    EXPECT_TRUE(all_of_chars(id, "0123456789abcdef")) << id;
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 100u);
}

TEST(MigrationToken, DecodeUnverifiedShowsClaimsOnly) {
  const auto original = make();
  const std::string text = issue(original, kOtherKey);
  auto claimed = decode_unverified(text);
  ASSERT_TRUE(claimed.has_value());
  EXPECT_EQ(*claimed, original);
  EXPECT_FALSE(decode_unverified("djm1.bm90IGpzb24.AAAA").has_value());
  EXPECT_FALSE(decode_unverified("garbage").has_value());
}

TEST(MigrationToken, Formatting) {
  EXPECT_EQ(format_time(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_time(kNow), "2026-11-25T10:00:00Z");
  EXPECT_EQ(format_seconds(0), "0s");
  EXPECT_EQ(format_seconds(90), "1m30s");
  EXPECT_EQ(format_seconds(26 * 3600), "26h");
  EXPECT_EQ(to_string(TokenStatus::scope_outside_prefix), "scope_outside_prefix");
}

}  // namespace
}  // namespace djproxy::migration
