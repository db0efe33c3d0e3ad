#pragma once
// Packet framing: a 3-byte payload length and a 1-byte sequence id before each
// payload. Payloads of kMaxPayload bytes continue in the next packet.
#include <cstdint>
#include <string>
#include <string_view>

#include "proxy/protocol/constants.hpp"
#include "proxy/protocol/wire.hpp"

namespace djproxy::protocol {

struct PacketHeader {
  std::uint32_t length = 0;
  std::uint8_t sequence = 0;
};

inline PacketHeader read_header(const std::uint8_t* p) {
  return {static_cast<std::uint32_t>(p[0] | (p[1] << 8) | (p[2] << 16)), p[3]};
}

inline void write_header(std::uint8_t* p, std::uint32_t length, std::uint8_t sequence) {
  p[0] = static_cast<std::uint8_t>(length);
  p[1] = static_cast<std::uint8_t>(length >> 8);
  p[2] = static_cast<std::uint8_t>(length >> 16);
  p[3] = sequence;
}

// Renumbers a packet in place for the other leg (sequence ids are owned per leg).
inline void set_sequence(std::uint8_t* p, std::uint8_t sequence) { p[3] = sequence; }

// Builds one packet (payload < 16 MiB) in a byte string: start() reserves the header,
// finish() fills it in once the payload is known.
class PacketBuilder {
 public:
  explicit PacketBuilder(std::string& out) : out_(out), start_(out.size()) { out_.append(kHeaderSize, '\0'); }
  Writer writer() { return Writer(out_); }
  void finish(std::uint8_t sequence) {
    const std::size_t length = out_.size() - start_ - kHeaderSize;
    write_header(reinterpret_cast<std::uint8_t*>(out_.data() + start_), static_cast<std::uint32_t>(length),
                 sequence);
  }

 private:
  std::string& out_;
  std::size_t start_;
};

}  // namespace djproxy::protocol
