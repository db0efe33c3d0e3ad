#pragma once
// Follows the server's answer to one command, packet by packet, from the packet
// headers and a few leading payload bytes only, and says when the answer is over.
// It never buffers rows: the relay streams them and shows the tracker each packet's
// first bytes. It knows every response grammar of the commands the proxy forwards.
#include <cstdint>
#include <optional>

#include "proxy/protocol/constants.hpp"
#include "proxy/protocol/generic_packets.hpp"
#include "proxy/protocol/wire.hpp"

namespace djproxy::protocol {

class ResponseTracker {
 public:
  enum class Verdict : std::uint8_t {
    kMore,           // the response goes on
    kDone,           // this packet ended the response
    kLocalInfile,    // the server asks the client for a file: client data flows until an empty packet
    kProtocolError,  // the server sent something no grammar allows
  };

  struct Packet {
    Verdict verdict = Verdict::kMore;
    // Set when the packet is a generic OK (including the 0xFE result terminator
    // under CLIENT_DEPRECATE_EOF): it may carry session state, and a client without
    // CLIENT_SESSION_TRACK needs it re-encoded.
    std::optional<OkPacket> ok;
    bool is_err = false;
    bool is_eof = false;  // classic EOF; its status may need editing in place
    bool is_row = false;  // a result-set row (text or binary), not a terminator
    // COM_STMT_PREPARE's OK: the id the server gave the statement.
    std::optional<std::uint32_t> statement_id = std::nullopt;
  };

  ResponseTracker(bool deprecate_eof, bool session_track)
      : deprecate_eof_(deprecate_eof), session_track_(session_track) {}

  // Starts following the response to `command`. Commands without a response
  // (COM_QUIT, COM_STMT_CLOSE, COM_STMT_SEND_LONG_DATA) must not be started.
  void start(Command command);
  // The local-infile data has been sent; the server now answers with a result.
  void infile_sent() { phase_ = Phase::kFirst; }
  bool idle() const { return phase_ == Phase::kIdle; }
  // The next packet starts a message and may be a row: the editor may then step over
  // rows without the tracker (ResponseEditor::whole_rows).
  bool in_rows() const { return (phase_ == Phase::kRows || phase_ == Phase::kFetchRows) && !continuing_; }

  // How many leading payload bytes (at most `length`) the tracker must see to classify
  // the next packet: the whole payload for packets that may be OK packets, else a few.
  std::uint32_t bytes_needed(std::uint8_t first_byte, std::uint32_t length) const;

  // Shows the tracker the next packet: its total payload length and its leading bytes
  // (at least bytes_needed()). A packet of kMaxPayload bytes continues in the next
  // packet, which the tracker then takes as payload, not as a new message.
  Packet on_packet(std::uint32_t length, Bytes leading);

  static constexpr std::uint32_t kPeekBytes = 9;

 private:
  enum class Phase : std::uint8_t {
    kIdle,
    kFirst,            // OK | ERR | LOCAL INFILE request | column count
    kColumnDefs,       // `remaining_` column definitions
    kColumnsEof,       // classic EOF after the column definitions
    kRows,             // rows until a terminator or ERR
    kPrepareOk,        // COM_STMT_PREPARE: OK with counts | ERR
    kPrepareParams,
    kPrepareParamsEof,
    kPrepareColumns,
    kPrepareColumnsEof,
    kFieldList,        // column definitions until a terminator | ERR
    kSimple,           // one OK | ERR | EOF packet
    kSinglePacket,     // one packet of any shape (COM_STATISTICS)
    kFetchRows,        // COM_STMT_FETCH: rows until a terminator | ERR
  };

  bool ok_possible() const;
  Packet after_result(std::uint16_t status);
  Packet finish_prepare_columns();

  Phase phase_ = Phase::kIdle;
  bool text_protocol_ = true;
  bool continuing_ = false;  // the previous packet was a full 16 MiB one
  std::uint64_t remaining_ = 0;
  std::uint16_t prepare_columns_ = 0;
  bool deprecate_eof_;
  bool session_track_;
};

}  // namespace djproxy::protocol
