#include "proxy/protocol/wire.hpp"

#include <gtest/gtest.h>

#include "proxy/protocol/packet.hpp"
#include "tests/protocol/bytes.hpp"

namespace djproxy::protocol {
namespace {
using testing::hex;
using testing::view;

struct LenencCase {
  std::string encoded;
  std::uint64_t value;
};

class LenencTest : public ::testing::TestWithParam<LenencCase> {};

TEST_P(LenencTest, ReadsAndWritesTheSameBytes) {
  const auto encoded = hex(GetParam().encoded);
  Reader r(view(encoded));
  EXPECT_EQ(r.lenenc(), GetParam().value);
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(r.at_end());
  std::string out;
  Writer(out).lenenc(GetParam().value);
  EXPECT_EQ(std::vector<std::uint8_t>(out.begin(), out.end()), encoded);
}

INSTANTIATE_TEST_SUITE_P(Boundaries, LenencTest,
                         ::testing::Values(LenencCase{"00", 0}, LenencCase{"fa", 250}, LenencCase{"fcfb00", 251},
                                           LenencCase{"fcffff", 0xFFFF}, LenencCase{"fd000001", 0x10000},
                                           LenencCase{"fdffffff", 0xFFFFFF},
                                           LenencCase{"fe0000000001000000", 0x100000000ULL}));

TEST(Reader, NullAndErrorMarkersAreNotIntegers) {
  for (const char* marker : {"fb", "ff"}) {
    const auto b = hex(marker);
    Reader r(view(b));
    r.lenenc();
    EXPECT_FALSE(r.ok()) << marker;
  }
}

TEST(Reader, ShortFieldsFailInsteadOfReadingPastTheEnd) {
  const auto b = hex("fc01");  // a 2-byte integer with one byte present
  Reader r(view(b));
  EXPECT_EQ(r.lenenc(), 0u);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.u32(), 0u);  // every later read stays failed
  EXPECT_TRUE(r.rest().empty());
}

TEST(Reader, LenencStringLongerThanThePacketFails) {
  const auto b = hex("05 61 62");
  Reader r(view(b));
  EXPECT_TRUE(r.lenenc_bytes().empty());
  EXPECT_FALSE(r.ok());
}

TEST(Reader, NulTerminatedWithoutNulFails) {
  const auto b = testing::bytes("abc");
  Reader r(view(b));
  r.nul_terminated();
  EXPECT_FALSE(r.ok());
}

TEST(Packet, HeaderRoundTrip) {
  std::uint8_t header[4];
  write_header(header, 0xFFFFFF, 7);
  const auto h = read_header(header);
  EXPECT_EQ(h.length, 0xFFFFFFu);
  EXPECT_EQ(h.sequence, 7);
}

TEST(Packet, BuilderFillsInTheLength) {
  std::string out = "xx";
  PacketBuilder builder(out);
  builder.writer().bytes(std::string_view("hello"));
  builder.finish(3);
  EXPECT_EQ(out.substr(2), std::string("\x05\x00\x00\x03hello", 9));
}

}  // namespace
}  // namespace djproxy::protocol
