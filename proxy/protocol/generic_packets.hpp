#pragma once
// OK, ERR and EOF: the packets that end responses and report session state.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "proxy/protocol/wire.hpp"

namespace djproxy::protocol {

struct OkPacket {
  std::uint8_t header = 0x00;  // 0xFE when it ends a result set under CLIENT_DEPRECATE_EOF
  std::uint64_t affected_rows = 0;
  std::uint64_t last_insert_id = 0;
  std::uint16_t status = 0;
  std::uint16_t warnings = 0;
  Bytes info;
  Bytes session_state;  // present only with SERVER_SESSION_STATE_CHANGED under CLIENT_SESSION_TRACK

  // `session_track` says whether the leg the packet came from negotiated CLIENT_SESSION_TRACK,
  // which changes how `info` is encoded.
  static std::optional<OkPacket> parse(Bytes payload, bool session_track);
  void encode(std::string& payload, bool session_track) const;
};

struct ErrPacket {
  std::uint16_t code = 0;
  std::string sql_state = "HY000";
  std::string message;

  static std::optional<ErrPacket> parse(Bytes payload);
  void encode(std::string& payload) const;
};

// The state changes the server reports in an OK packet's session-state block.
struct SessionStateChanges {
  std::optional<std::string> schema;
  std::optional<std::string> sql_mode;
  std::optional<std::string> character_set_client;
  // The connection's character set, or its collation (SET collation_connection reports
  // only the collation): whichever the server reported.
  std::optional<std::string> character_set_connection;
  std::optional<std::string> collation_connection;
  bool malformed = false;
};
SessionStateChanges parse_session_state(Bytes session_state);

// Appends a complete ERR packet (header included) to `out`.
void append_err_packet(std::string& out, std::uint8_t sequence, std::uint16_t code, std::string_view sql_state,
                       std::string_view message);
// Appends a complete ERR packet sent in place of the server's greeting (sequence 0):
// 0xFF, the code, the message, and no '#' + SQLSTATE marker, the layout servers use
// for "too many connections". Before the greeting the client has not agreed on
// protocol 4.1, and clients (libmariadb, the mariadb CLI) read a marker there as a
// malformed packet (CR_MALFORMED_PACKET, 2027) instead of the error.
void append_greeting_err_packet(std::string& out, std::uint16_t code, std::string_view message);
// Appends a complete OK packet (header included) to `out`.
void append_ok_packet(std::string& out, std::uint8_t sequence, std::uint16_t status, std::uint16_t warnings,
                      std::uint64_t affected_rows = 0);

// The backend leg always tracks session state; a client that did not ask for it must
// get OK packets in the older encoding (info as the rest of the packet, no state).
bool ok_needs_reencoding(const OkPacket& ok, bool client_tracks, bool backend_tracks);
// Appends `ok` as a complete packet in the encoding of a client without
// CLIENT_SESSION_TRACK.
void append_untracked_ok_packet(std::string& out, const OkPacket& ok, std::uint8_t sequence);

inline bool is_err(Bytes payload) { return !payload.empty() && payload[0] == 0xFF; }
// A short 0xFE packet ends a result set: the classic EOF (under 9 bytes), or an OK
// packet under CLIENT_DEPRECATE_EOF (any length below a full 16 MiB packet).
inline bool is_result_terminator(std::uint8_t first, std::uint32_t length, bool deprecate_eof) {
  return first == 0xFE && (deprecate_eof ? length < 0xFFFFFF : length < 9);
}

}  // namespace djproxy::protocol
