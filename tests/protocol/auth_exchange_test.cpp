#include "proxy/protocol/auth_exchange.hpp"

#include <gtest/gtest.h>

#include "tests/protocol/bytes.hpp"

namespace djproxy::protocol {
namespace {
using testing::hex;
using testing::view;

struct ReplyCase {
  const char* name;
  std::string payload;  // hex
  AuthReply expected;
};

class AuthReplyTest : public ::testing::TestWithParam<ReplyCase> {};

TEST_P(AuthReplyTest, Classifies) {
  const auto payload = hex(GetParam().payload);
  EXPECT_EQ(classify_auth_reply(view(payload)), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    ServerPackets, AuthReplyTest,
    ::testing::Values(ReplyCase{"Ok", "00 00 00 02 00 00 00", AuthReply::kOk},
                      ReplyCase{"Err", "ff 15 04 23 32 38 30 30 30 6e 6f", AuthReply::kErr},
                      // plugin name "p", nonce "abc" with its NUL
                      ReplyCase{"Switch", "fe 70 00 61 62 63 00", AuthReply::kSwitchRequest},
                      ReplyCase{"FastAuthSuccess", "01 03", AuthReply::kFastAuthSuccess},
                      ReplyCase{"PerformFullAuthentication", "01 04", AuthReply::kPerformFullAuthentication},
                      // a PEM key, or any plugin's data, is more than the one status byte
                      ReplyCase{"MoreData", "01 2d 2d 2d", AuthReply::kMoreData},
                      ReplyCase{"MoreDataThreeAndMore", "01 03 00", AuthReply::kMoreData},
                      ReplyCase{"Empty", "", AuthReply::kUnexpected},
                      ReplyCase{"Row", "03 64 65 66", AuthReply::kUnexpected}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(SwitchRequestNonce, IsTheBytesAfterThePluginNameWithoutTheNul) {
  const auto payload = hex("fe 70 00 61 62 63 00");
  EXPECT_EQ(switch_request_nonce(view(payload)), "abc");
}

TEST(SwitchRequestNonce, WithoutTrailingNulIsKept) {
  const auto payload = hex("fe 70 00 61 62");
  EXPECT_EQ(switch_request_nonce(view(payload)), "ab");
}

TEST(SwitchRequestNonce, AbsentWhenEmptyOrNotASwitch) {
  EXPECT_EQ(switch_request_nonce(view(hex("fe 70 00"))), std::nullopt);
  EXPECT_EQ(switch_request_nonce(view(hex("fe 70"))), std::nullopt);  // plugin name never ends
  EXPECT_EQ(switch_request_nonce(view(hex("01 61 62"))), std::nullopt);
}

TEST(PublicKeyRequest, IsTheOneByte02) {
  EXPECT_TRUE(is_public_key_request(view(hex("02"))));
  EXPECT_FALSE(is_public_key_request(view(hex("02 00"))));
  EXPECT_FALSE(is_public_key_request(view(hex("01"))));
  EXPECT_FALSE(is_public_key_request(view(hex(""))));
}

}  // namespace
}  // namespace djproxy::protocol
