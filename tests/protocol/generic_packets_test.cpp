#include "proxy/protocol/generic_packets.hpp"

#include <gtest/gtest.h>

#include "proxy/protocol/constants.hpp"
#include "tests/protocol/bytes.hpp"

namespace djproxy::protocol {
namespace {
using testing::hex;
using testing::view;

TEST(OkPacket, SessionTrackEncodingCarriesInfoAsLenenc) {
  // UPDATE's OK from MariaDB under CLIENT_SESSION_TRACK: info "Rows matched: 1" as lenenc.
  std::string info = "Rows matched: 1";
  std::string payload = std::string("\x00\x01\x00\x02\x00\x00\x00", 7) + char(info.size()) + info;
  const auto ok = OkPacket::parse(view(payload), true);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->affected_rows, 1u);
  EXPECT_EQ(as_chars(ok->info), info);
  // Re-encoded for a client without session tracking: MariaDB keeps the length prefix
  // (net_send_ok), and PHP's mysqlnd reads it so (issue 17).
  std::string plain;
  ok->encode(plain, false);
  EXPECT_EQ(plain, std::string("\x00\x01\x00\x02\x00\x00\x00", 7) + char(info.size()) + info);
  const auto back = OkPacket::parse(view(plain), false);
  ASSERT_TRUE(back);
  EXPECT_EQ(as_chars(back->info), info);
}

TEST(OkPacket, SessionStateIsReadAndStrippedForOldClients) {
  // USE myproject_a: schema tracker entry (type 1).
  const std::string schema = "myproject_a";
  std::string entry = std::string(1, char(schema.size())) + schema;
  std::string state = std::string(1, '\x01') + char(entry.size()) + entry;
  std::string payload = std::string("\x00\x00\x00\x02\x40\x00\x00", 7) + '\x00' + char(state.size()) + state;
  const auto ok = OkPacket::parse(view(payload), true);
  ASSERT_TRUE(ok);
  EXPECT_TRUE(ok->status & status::kSessionStateChanged);
  const auto changes = parse_session_state(ok->session_state);
  EXPECT_FALSE(changes.malformed);
  EXPECT_EQ(changes.schema, schema);
  std::string plain;
  ok->encode(plain, false);
  EXPECT_EQ(plain, std::string("\x00\x00\x00\x02\x00\x00\x00", 7));  // flag cleared, state gone
}

TEST(SessionState, SystemVariablesAndMalformed) {
  auto lenenc = [](const std::string& s) { return std::string(1, char(s.size())) + s; };
  std::string vars = lenenc("sql_mode") + lenenc("ANSI_QUOTES") + lenenc("character_set_client") + lenenc("sjis");
  std::string state = std::string(1, '\x00') + lenenc(vars);
  auto changes = parse_session_state(view(state));
  EXPECT_FALSE(changes.malformed);
  EXPECT_EQ(changes.sql_mode, "ANSI_QUOTES");
  EXPECT_EQ(changes.character_set_client, "sjis");
  state.pop_back();  // cut inside the entry
  EXPECT_TRUE(parse_session_state(view(state)).malformed);
}

TEST(OkPacket, RejectsOtherHeadersAndTruncation) {
  EXPECT_FALSE(OkPacket::parse(view(hex("ff")), true));
  EXPECT_FALSE(OkPacket::parse(view(hex("00 01")), true));
  EXPECT_FALSE(OkPacket::parse(view(hex("00 00 00 02 40 00 00 00 09 01")), true));  // state longer than packet
}

TEST(ErrPacket, BuildAndParse) {
  std::string out;
  append_err_packet(out, 1, err::kTableAccessDenied, "42000", "djproxy: no");
  ASSERT_GE(out.size(), 4u);
  EXPECT_EQ(out[3], 1);
  const auto e = ErrPacket::parse(view(out.substr(4)));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, 1142);
  EXPECT_EQ(e->sql_state, "42000");
  EXPECT_EQ(e->message, "djproxy: no");
}

// In place of the greeting: sequence 0, no '#' + SQLSTATE (the layout of a server's
// "too many connections"), so clients that have not negotiated protocol 4.1 read it.
TEST(ErrPacket, GreetingLayoutHasNoSqlStateMarker) {
  std::string out;
  append_greeting_err_packet(out, err::kConCount, "djproxy: full");
  EXPECT_EQ(out, std::string("\x10\x00\x00\x00\xff\x10\x04" "djproxy: full", 20));
}

TEST(OkPacketBuilder, MinimalOk) {
  std::string out;
  append_ok_packet(out, 2, status::kAutocommit, 1);
  EXPECT_EQ(out, std::string("\x07\x00\x00\x02\x00\x00\x00\x02\x00\x01\x00", 11));
}

TEST(Terminator, EofAndDeprecateEofRules) {
  EXPECT_TRUE(is_result_terminator(0xFE, 5, false));
  EXPECT_FALSE(is_result_terminator(0xFE, 9, false));  // a row, not an EOF
  EXPECT_TRUE(is_result_terminator(0xFE, 40, true));
  EXPECT_FALSE(is_result_terminator(0xFE, kMaxPayload, true));
  EXPECT_FALSE(is_result_terminator(0x00, 5, false));
}

}  // namespace
}  // namespace djproxy::protocol
