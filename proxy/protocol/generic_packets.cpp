#include "proxy/protocol/generic_packets.hpp"

#include "proxy/protocol/constants.hpp"
#include "proxy/protocol/packet.hpp"

namespace djproxy::protocol {

std::optional<OkPacket> OkPacket::parse(Bytes payload, bool session_track) {
  Reader r(payload);
  OkPacket ok;
  ok.header = r.u8();
  if (ok.header != 0x00 && ok.header != 0xFE) return std::nullopt;
  ok.affected_rows = r.lenenc();
  ok.last_insert_id = r.lenenc();
  ok.status = r.u16();
  ok.warnings = r.u16();
  if (!r.ok()) return std::nullopt;
  if (session_track) {
    if (!r.at_end()) ok.info = r.lenenc_bytes();
    if ((ok.status & status::kSessionStateChanged) && !r.at_end()) ok.session_state = r.lenenc_bytes();
  } else if (!r.at_end()) {
    // MariaDB writes the info text length-prefixed whatever the capabilities
    // (net_send_ok); only MySQL sends it as a string to the packet's end.
    ok.info = r.lenenc_bytes();
  }
  if (!r.ok()) return std::nullopt;
  return ok;
}

void OkPacket::encode(std::string& payload, bool session_track) const {
  Writer w(payload);
  w.u8(header);
  w.lenenc(affected_rows);
  w.lenenc(last_insert_id);
  w.u16(session_track ? status : static_cast<std::uint16_t>(status & ~status::kSessionStateChanged));
  w.u16(warnings);
  if (session_track) {
    if (!info.empty() || !session_state.empty()) w.lenenc_bytes(as_chars(info));
    if (!session_state.empty()) w.lenenc_bytes(as_chars(session_state));
  } else if (!info.empty()) {
    // As the server does for a client without CLIENT_SESSION_TRACK: the info
    // keeps its length prefix; mysqlnd (PHP) reads it that way.
    w.lenenc_bytes(as_chars(info));
  }
}

bool ok_needs_reencoding(const OkPacket& ok, bool client_tracks, bool backend_tracks) {
  if (client_tracks || !backend_tracks) return false;
  return !ok.info.empty() || !ok.session_state.empty() || (ok.status & status::kSessionStateChanged);
}

void append_untracked_ok_packet(std::string& out, const OkPacket& ok, std::uint8_t sequence) {
  PacketBuilder builder(out);
  ok.encode(out, false);
  builder.finish(sequence);
}

std::optional<ErrPacket> ErrPacket::parse(Bytes payload) {
  Reader r(payload);
  if (r.u8() != 0xFF) return std::nullopt;
  ErrPacket e;
  e.code = r.u16();
  if (!r.at_end() && r.remaining() >= 6 && payload[r.position()] == '#') {
    r.skip(1);
    e.sql_state = std::string(as_chars(r.bytes(5)));
  }
  e.message = std::string(as_chars(r.rest()));
  if (!r.ok()) return std::nullopt;
  return e;
}

void ErrPacket::encode(std::string& payload) const {
  Writer w(payload);
  w.u8(0xFF);
  w.u16(code);
  w.u8('#');
  std::string state = sql_state;
  state.resize(5, '0');
  w.bytes(state);
  w.bytes(message);
}

SessionStateChanges parse_session_state(Bytes session_state) {
  constexpr std::uint8_t kSystemVariables = 0;
  constexpr std::uint8_t kSchema = 1;
  SessionStateChanges changes;
  Reader r(session_state);
  while (r.ok() && !r.at_end()) {
    const std::uint8_t type = r.u8();
    Reader entry(r.lenenc_bytes());
    if (!r.ok()) break;
    if (type == kSystemVariables) {
      // One entry may carry several name/value pairs (MariaDB does this).
      while (entry.ok() && !entry.at_end()) {
        const std::string_view name = as_chars(entry.lenenc_bytes());
        const std::string_view value = as_chars(entry.lenenc_bytes());
        if (!entry.ok()) break;
        if (name == "sql_mode") changes.sql_mode = std::string(value);
        if (name == "character_set_client") changes.character_set_client = std::string(value);
        if (name == "character_set_connection") changes.character_set_connection = std::string(value);
        if (name == "collation_connection") changes.collation_connection = std::string(value);
      }
      if (!entry.ok()) changes.malformed = true;
    } else if (type == kSchema) {
      changes.schema = std::string(as_chars(entry.lenenc_bytes()));
      if (!entry.ok()) changes.malformed = true;
    }
  }
  if (!r.ok()) changes.malformed = true;
  return changes;
}

void append_err_packet(std::string& out, std::uint8_t sequence, std::uint16_t code, std::string_view sql_state,
                       std::string_view message) {
  PacketBuilder packet(out);
  ErrPacket err;
  err.code = code;
  err.sql_state = std::string(sql_state);
  // A message longer than the 16 MiB packet limit cannot occur from the proxy's own
  // texts; cut defensively so the packet always stays one packet.
  err.message = std::string(message.substr(0, 64 * 1024));
  std::string payload;
  err.encode(payload);
  out.append(payload);
  packet.finish(sequence);
}

void append_greeting_err_packet(std::string& out, std::uint16_t code, std::string_view message) {
  PacketBuilder packet(out);
  Writer w = packet.writer();
  w.u8(0xFF);
  w.u16(code);
  w.bytes(message.substr(0, 64 * 1024));
  packet.finish(0);
}

void append_ok_packet(std::string& out, std::uint8_t sequence, std::uint16_t status, std::uint16_t warnings,
                      std::uint64_t affected_rows) {
  PacketBuilder packet(out);
  Writer w = packet.writer();
  w.u8(0x00);
  w.lenenc(affected_rows);
  w.lenenc(0);
  w.u16(status);
  w.u16(warnings);
  packet.finish(sequence);
}

}  // namespace djproxy::protocol
