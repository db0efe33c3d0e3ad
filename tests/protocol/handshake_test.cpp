#include "proxy/protocol/handshake.hpp"

#include <gtest/gtest.h>

#include "proxy/protocol/constants.hpp"
#include "tests/protocol/bytes.hpp"

namespace djproxy::protocol {
namespace {
using testing::hex;
using testing::view;

// Captured from MariaDB 10.11.19 and its clients (payloads, headers removed).
const auto kMariaGreeting = hex(
    "0a352e352e352d31302e31312e31392d4d6172696144422d302b6465623132753100150000003d546d496645665300feff0802"
    "00ff81150000000000001d0000004a5a6469622f622323283d3c006d7973716c5f6e61746976655f70617373776f726400");
const auto kMariaCliResponse = hex(
    "8ca2bf000000100021000000000000000000000000000000000000001d000000646a00149068d8737f6c23c0e7d624de3e7bf1c5"
    "ee80eb646d7970726f6a6563745f61006d7973716c5f6e61746976655f70617373776f7264007f035f6f73054c696e75780c5f63"
    "6c69656e745f6e616d650a6c69626d617269616462045f7069640531343039340f5f636c69656e745f76657273696f6e06332e33"
    "2e3230095f706c6174666f726d067838365f36340c70726f6772616d5f6e616d65056d7973716c0c5f7365727665725f686f7374"
    "093132372e302e302e31");
const auto kPymysqlResponse = hex(
    "05a23a00ffffff002d0000000000000000000000000000000000000000000000646a00149068d8737f6c23c0e7d624de3e7bf1c5"
    "ee80eb646d7973716c5f6e61746976655f70617373776f726400360c5f636c69656e745f6e616d650770796d7973716c045f7069"
    "640531343039350f5f636c69656e745f76657273696f6e05312e302e32");

TEST(Greeting, ParsesMariaDb) {
  const auto g = Greeting::parse(view(kMariaGreeting));
  ASSERT_TRUE(g);
  EXPECT_EQ(g->server_version, "5.5.5-10.11.19-MariaDB-0+deb12u1");
  EXPECT_EQ(g->connection_id, 21u);
  EXPECT_TRUE(g->mariadb());
  EXPECT_EQ(g->auth_plugin, "mysql_native_password");
  EXPECT_EQ(g->auth_data_1.size() + g->auth_data_2.size(), 21u);  // 20-byte scramble and a NUL
  EXPECT_TRUE(g->capabilities & cap::kSsl);
  EXPECT_TRUE(g->capabilities & cap::kSessionTrack);
  EXPECT_TRUE(g->capabilities & cap::kMariaStmtBulkOperations);
}

TEST(Greeting, EncodesToTheSameBytes) {
  const auto g = Greeting::parse(view(kMariaGreeting));
  ASSERT_TRUE(g);
  std::string out;
  g->encode(out);
  EXPECT_EQ(std::vector<std::uint8_t>(out.begin(), out.end()), kMariaGreeting);
}

TEST(Greeting, RejectsMalformed) {
  EXPECT_FALSE(Greeting::parse(view(hex(""))));
  EXPECT_FALSE(Greeting::parse(view(hex("09"))));  // protocol 9
  for (std::size_t cut = 1; cut < 40; ++cut) {  // every truncation before the scramble ends
    std::vector<std::uint8_t> part(kMariaGreeting.begin(), kMariaGreeting.begin() + cut);
    EXPECT_FALSE(Greeting::parse(view(part))) << cut;
  }
}

struct ResponseCase {
  const char* name;
  const std::vector<std::uint8_t>* payload;
  const char* database;
  std::size_t attributes;
};

class HandshakeResponseTest : public ::testing::TestWithParam<ResponseCase> {};

TEST_P(HandshakeResponseTest, ParsesAndEncodesToTheSameBytes) {
  const auto& c = GetParam();
  const auto r = HandshakeResponse::parse(view(*c.payload));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->user, "dj");
  EXPECT_EQ(r->auth_response.size(), 20u);
  EXPECT_EQ(r->database, c.database);
  EXPECT_EQ(r->auth_plugin, "mysql_native_password");
  EXPECT_EQ(r->attributes.size(), c.attributes);
  std::string out;
  r->encode(out);
  EXPECT_EQ(std::vector<std::uint8_t>(out.begin(), out.end()), *c.payload);
}

INSTANTIATE_TEST_SUITE_P(RealClients, HandshakeResponseTest,
                         ::testing::Values(ResponseCase{"libmariadb", &kMariaCliResponse, "myproject_a", 7},
                                           ResponseCase{"pymysql", &kPymysqlResponse, "", 3}),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(HandshakeResponse, MariaDbExtendedCapabilitiesKept) {
  const auto r = HandshakeResponse::parse(view(kMariaCliResponse));
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->capabilities & cap::kLongPassword);  // CLIENT_MYSQL clear: extended set follows
  EXPECT_TRUE(r->capabilities & cap::kMariaStmtBulkOperations);
}

TEST(HandshakeResponse, AttributesCanBeReplaced) {
  auto r = HandshakeResponse::parse(view(kPymysqlResponse));
  ASSERT_TRUE(r);
  r->attributes.emplace_back("_client_ip", "10.1.2.3");
  std::string out;
  r->encode(out);
  const auto again = HandshakeResponse::parse(view(out));
  ASSERT_TRUE(again);
  ASSERT_EQ(again->attributes.size(), 4u);
  EXPECT_EQ(again->attributes.back().second, "10.1.2.3");
}

TEST(HandshakeResponse, RejectsPre41AndTruncated) {
  auto old = kPymysqlResponse;
  old[1] &= static_cast<std::uint8_t>(~0x02);  // clear CLIENT_PROTOCOL_41 (bit 9)
  EXPECT_FALSE(HandshakeResponse::parse(view(old)));
  for (std::size_t cut = 0; cut < 36; ++cut) {
    std::vector<std::uint8_t> part(kPymysqlResponse.begin(), kPymysqlResponse.begin() + cut);
    EXPECT_FALSE(HandshakeResponse::parse(view(part))) << cut;
  }
  // An attribute block that claims more than it holds.
  auto bad = kPymysqlResponse;
  bad[bad.size() - 0x37 + 0] = 0x7f;
  EXPECT_FALSE(HandshakeResponse::parse(view(bad)));
}

TEST(SslRequest, IsTheFirst32BytesWithSsl) {
  auto r = HandshakeResponse::parse(view(kMariaCliResponse));
  ASSERT_TRUE(r);
  r->capabilities |= cap::kSsl;
  std::string ssl;
  r->encode_ssl_request(ssl);
  ASSERT_EQ(ssl.size(), HandshakeResponse::kSslRequestSize);
  const auto parsed = HandshakeResponse::parse_ssl_request(view(ssl));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->capabilities, r->capabilities);
  r->capabilities &= ~cap::kSsl;
  ssl.clear();
  r->encode_ssl_request(ssl);
  EXPECT_FALSE(HandshakeResponse::parse_ssl_request(view(ssl)));
}

}  // namespace
}  // namespace djproxy::protocol

namespace djproxy::protocol {
namespace {

TEST(ChangeUser, ReadsUserAndSchema) {
  static constexpr char kPayload[] =
      "\x11" "djed\0" "\x14" "01234567890123456789" "myproject_b\0" "\x2d\x00" "client_ed25519\0";
  const std::string p(kPayload, sizeof kPayload - 1);
  const auto c = ChangeUser::parse(testing::view(p), cap::kSecureConnection | cap::kPluginAuth);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->user, "djed");
  EXPECT_EQ(c->database, "myproject_b");
  EXPECT_FALSE(ChangeUser::parse(testing::view(p.substr(0, 20)), cap::kSecureConnection));
  EXPECT_FALSE(ChangeUser::parse(testing::view(std::string("\x03select", 7)), cap::kSecureConnection));
}

// As libmariadb sends it: charset, plugin, then the connection attributes.
constexpr std::uint64_t kChangeUserCaps = cap::kSecureConnection | cap::kPluginAuth | cap::kConnectAttrs;
std::string change_user_with_attributes() {
  static constexpr char kPayload[] =
      "\x11" "dj\0" "\x14" "01234567890123456789" "myproject_it\0" "\x2d\x00" "mysql_native_password\0"
      "\x1d" "\x0a" "_client_ip" "\x07" "6.6.6.6" "\x03" "_os" "\x05" "Linux";
  return std::string(kPayload, sizeof kPayload - 1);
}

TEST(ChangeUser, ReadsEveryFieldAndEncodesToTheSameBytes) {
  const std::string p = change_user_with_attributes();
  const auto c = ChangeUser::parse(testing::view(p), kChangeUserCaps);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->user, "dj");
  EXPECT_EQ(c->auth_response, "01234567890123456789");
  EXPECT_EQ(c->database, "myproject_it");
  EXPECT_EQ(c->charset, 0x2d);
  EXPECT_EQ(c->auth_plugin, "mysql_native_password");
  ASSERT_TRUE(c->attributes);
  EXPECT_EQ(*c->attributes, (std::vector<std::pair<std::string, std::string>>{{"_client_ip", "6.6.6.6"}, {"_os", "Linux"}}));
  std::string encoded;
  c->encode(encoded, kChangeUserCaps);
  EXPECT_EQ(encoded, p);
}

TEST(ChangeUser, OptionalFieldsMayEndThePacket) {
  const std::string p = change_user_with_attributes();
  const std::size_t after_schema = p.find("myproject_it") + 13;
  for (const std::size_t end : {after_schema, after_schema + 2, after_schema + 2 + 22}) {
    const auto c = ChangeUser::parse(testing::view(p.substr(0, end)), kChangeUserCaps);
    ASSERT_TRUE(c) << end;
    EXPECT_EQ(c->database, "myproject_it");
    EXPECT_EQ(c->charset.has_value(), end > after_schema);
    EXPECT_EQ(c->auth_plugin.has_value(), end > after_schema + 2);
    EXPECT_FALSE(c->attributes);
    std::string encoded;
    c->encode(encoded, kChangeUserCaps);
    EXPECT_EQ(encoded, p.substr(0, end)) << end;
  }
}

TEST(ChangeUser, AttributesOverrunningThePacketAreMalformed) {
  std::string p = change_user_with_attributes();
  p[p.find("\x1d")] = '\x30';  // claims more attribute bytes than there are
  EXPECT_FALSE(ChangeUser::parse(testing::view(p), kChangeUserCaps));
  std::string q = change_user_with_attributes();
  q[q.find("\x07" "6.6")] = '\x40';  // a value longer than the attributes
  EXPECT_FALSE(ChangeUser::parse(testing::view(q), kChangeUserCaps));
}

// Without CLIENT_PLUGIN_AUTH the attributes follow the charset directly.
TEST(ChangeUser, AttributesWithoutPluginAuth) {
  ChangeUser c;
  c.user = "dj";
  c.auth_response = std::string(20, 'x');
  c.database = "myproject_it";
  c.charset = 8;
  c.attributes = {{{"_client_ip", "127.0.0.1"}}};
  const std::uint64_t caps = cap::kSecureConnection | cap::kConnectAttrs;
  std::string encoded;
  c.encode(encoded, caps);
  const auto back = ChangeUser::parse(testing::view(encoded), caps);
  ASSERT_TRUE(back);
  EXPECT_FALSE(back->auth_plugin);
  ASSERT_TRUE(back->attributes);
  EXPECT_EQ(back->attributes->at(0).second, "127.0.0.1");
}

}  // namespace
}  // namespace djproxy::protocol
