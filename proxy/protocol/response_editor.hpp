#pragma once
// The response relay's per-packet decisions, apart from any socket: given the bytes the
// relay holds of the server's answer, it frames the next packet (or the next run of a
// packet too long to hold) and says what becomes of it on its way to the client:
// passed as it is, passed with its status edited in place, replaced by a re-encoded
// packet, or dropped (the answer to the proxy's own query). The relay carries out each
// step and reads more when told that more is needed. The grammar of the answer is the
// ResponseTracker's; this adds the edits the legs' capabilities call for.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "proxy/protocol/constants.hpp"
#include "proxy/protocol/generic_packets.hpp"
#include "proxy/protocol/packet.hpp"
#include "proxy/protocol/response_tracker.hpp"
#include "proxy/protocol/wire.hpp"

namespace djproxy::protocol {

class ResponseEditor {
 public:
  enum class Edit : std::uint8_t {
    kNeedMore,       // the next decision needs more bytes than are held (or the answer is over)
    kPass,           // `size` bytes go to the client as they are
    kPatchedStatus,  // the same, after a classic EOF's status was edited in place
    kReplace,        // `size` bytes are replaced by replacement()
    kDrop,           // `size` bytes go nowhere
    kTooLarge,       // a packet that must be read whole does not fit the relay's buffer
    kProtocolError,  // the server sent something no grammar allows
  };

  // Small enough to come back in registers: a step is made for every packet.
  struct Step {
    Edit edit = Edit::kNeedMore;
    // A packet's head (kPass … kDrop from a packet's first byte; a run of whole rows is
    // one step): ok() and statement_id() say what it reports to the session.
    bool head = false;
    std::uint32_t length = 0;  // the packet's payload length (a head of one packet, kTooLarge, kProtocolError)
    std::size_t size = 0;      // bytes of the input this step covers
  };

  // `client_tracks` / `backend_tracks`: each leg negotiated CLIENT_SESSION_TRACK;
  // `deprecate_eof`: both did CLIENT_DEPRECATE_EOF (the proxy negotiates it for both).
  ResponseEditor(bool deprecate_eof, bool backend_tracks, bool client_tracks)
      : tracker_(deprecate_eof, backend_tracks), backend_tracks_(backend_tracks), client_tracks_(client_tracks) {}

  // Starts the answer to `command`; with `forward` false it is the proxy's own and
  // every byte of it is dropped.
  void start(Command command, bool forward);

  // The next step over `data`, the `available` bytes held of the answer from where the
  // previous steps left off; `capacity`: the most the relay can ever hold. May edit
  // `data` in place; appends a replacement to `out`, which must not reallocate while
  // earlier replacements are still to be sent (reserve it).
  Step next(std::uint8_t* data, std::size_t available, std::size_t capacity, std::string& out) {
    if (left_ > 0) return rest_of_packet(data, available);
    // After the end, bytes belong to what comes next (the client's file, or nothing).
    if (ended_ != Ended::kNo || available < kHeaderSize) return {};
    if (tracker_.in_rows())
      if (const std::size_t run = whole_rows(data, available); run > 0) return rows_step(run);
    return next_packet(data, available, capacity, out);
  }

  // What the last head reports: an OK packet (session state; its views point into the
  // input, valid until those bytes are consumed) and COM_STMT_PREPARE's statement id.
  const std::optional<OkPacket>& ok() const { return ok_; }
  std::optional<std::uint32_t> statement_id() const { return statement_id_; }
  // The last kReplace step's packet, appended to the caller's string.
  Bytes replacement() const { return replacement_; }

  // The answer's last packet has been stepped over whole.
  bool finished() const { return ended_ == Ended::kAnswer && left_ == 0; }
  // The server asked for a LOCAL INFILE and its request has been stepped over whole:
  // the client's file goes to the server, then infile_sent().
  bool wants_infile() const { return ended_ == Ended::kInfileRequest && left_ == 0; }
  void infile_sent();
  // The answer held an ERR (a statement of it failed).
  bool failed() const { return failed_; }
  // Rows in the answer so far.
  std::size_t rows() const { return rows_; }
  // The payload of the first row of an answer that is not forwarded (the proxy's own
  // question), once stepped over whole; empty if there is none or it is longer than
  // kFirstRowCap.
  std::string_view first_row() const { return first_row_left_ == 0 ? std::string_view(first_row_) : std::string_view(); }
  static constexpr std::uint32_t kFirstRowCap = 4096;

 private:
  enum class Ended : std::uint8_t { kNo, kAnswer, kInfileRequest };

  // The rest of a packet longer than what was held: it streams.
  Step rest_of_packet(const std::uint8_t* data, std::size_t available) {
    Step step;
    const std::size_t n = left_ < available ? static_cast<std::size_t>(left_) : available;
    if (n == 0) return step;
    left_ -= n;
    if (first_row_left_ > 0) {  // the first row of the proxy's own answer, arriving in pieces
      const std::size_t kept = std::min<std::size_t>(n, first_row_left_);
      first_row_.append(reinterpret_cast<const char*>(data), kept);
      first_row_left_ -= static_cast<std::uint32_t>(kept);
    }
    step.edit = forward_ ? Edit::kPass : Edit::kDrop;
    step.size = n;
    return step;
  }
  Step next_packet(std::uint8_t* data, std::size_t available, std::size_t capacity, std::string& out);

  // The bytes of the whole rows held from `data` on, counted. A row is passed (or
  // dropped) as it is, so the relay steps over every row it holds at once, reading only
  // each packet's header and first byte; a range query's hundred rows cost one step, not
  // a hundred trips through the tracker. Stops before any packet the tracker must read:
  // one that may end the rows (0xFE, 0xFF), an empty one, one of 16 MiB (a continuation
  // follows) and one not held whole. Those rows would leave the tracker as it is.
  std::size_t whole_rows(const std::uint8_t* data, std::size_t available) {
    std::size_t at = 0;
    while (available - at > kHeaderSize) {
      const std::uint32_t length = read_header(data + at).length;
      if (length == 0 || length >= kMaxPayload || data[at + kHeaderSize] >= 0xFE ||
          available - at - kHeaderSize < length)
        break;
      if (!forward_ && rows_ == 0) keep_first_row(data + at + kHeaderSize, length, length);
      at += kHeaderSize + length;
      ++rows_;
    }
    return at;
  }
  // One step over a run of whole rows, from a packet's first byte: none reports state.
  Step rows_step(std::size_t run) {
    ok_.reset();
    statement_id_.reset();
    Step step;
    step.edit = forward_ ? Edit::kPass : Edit::kDrop;
    step.head = true;
    step.size = run;
    return step;
  }

  // `held` of the row's `length` bytes are at `payload`; rest_of_packet() keeps the others.
  void keep_first_row(const std::uint8_t* payload, std::size_t held, std::uint32_t length) {
    if (length > kFirstRowCap) return;
    first_row_.assign(reinterpret_cast<const char*>(payload), held);
    first_row_left_ = length - static_cast<std::uint32_t>(held);
  }

  ResponseTracker tracker_;
  std::optional<OkPacket> ok_;
  std::optional<std::uint32_t> statement_id_;
  Bytes replacement_;
  bool backend_tracks_;
  bool client_tracks_;
  bool forward_ = true;
  Ended ended_ = Ended::kNo;
  bool failed_ = false;
  std::size_t rows_ = 0;
  std::string first_row_;
  std::uint32_t first_row_left_ = 0;  // bytes of the first row still to come
  std::uint64_t left_ = 0;  // bytes of the current packet beyond the steps so far
};

// Inline, as next(): it runs for every packet of every answer, and a call per packet
// cost about 1 % of the instructions of a point select (callgrind, bench/run.sh's workload).
inline ResponseEditor::Step ResponseEditor::next_packet(std::uint8_t* data, std::size_t available,
                                                        std::size_t capacity, std::string& out) {
  Step step;
  const PacketHeader header = read_header(data);
  if (header.length > 0 && available < kHeaderSize + 1) return step;
  std::uint8_t* payload = data + kHeaderSize;
  const std::uint32_t needed = tracker_.bytes_needed(header.length > 0 ? payload[0] : 0, header.length);
  step.length = header.length;
  if (kHeaderSize + needed > capacity) {
    step.edit = Edit::kTooLarge;
    return step;
  }
  if (available < kHeaderSize + needed) return step;

  const ResponseTracker::Packet packet = tracker_.on_packet(header.length, Bytes(payload, needed));
  if (packet.verdict == ResponseTracker::Verdict::kProtocolError) {
    step.edit = Edit::kProtocolError;
    return step;
  }
  step.head = true;
  ok_ = packet.ok;
  statement_id_ = packet.statement_id;
  failed_ = failed_ || packet.is_err;
  if (packet.is_row) {
    if (!forward_ && rows_ == 0)
      keep_first_row(payload, std::min<std::size_t>(available - kHeaderSize, header.length), header.length);
    ++rows_;
  }
  if (packet.verdict == ResponseTracker::Verdict::kDone) ended_ = Ended::kAnswer;
  if (packet.verdict == ResponseTracker::Verdict::kLocalInfile) ended_ = Ended::kInfileRequest;

  const std::uint64_t packet_size = kHeaderSize + std::uint64_t{header.length};
  // An OK packet is read whole (bytes_needed), so it is replaced whole.
  if (forward_ && ok_ && packet_size <= available &&
      ok_needs_reencoding(*ok_, client_tracks_, backend_tracks_)) {
    const std::size_t start = out.size();
    append_untracked_ok_packet(out, *ok_, header.sequence);
    replacement_ = Bytes(reinterpret_cast<const std::uint8_t*>(out.data()) + start, out.size() - start);
    step.edit = Edit::kReplace;
    step.size = static_cast<std::size_t>(packet_size);
    return step;
  }
  step.edit = forward_ ? Edit::kPass : Edit::kDrop;
  // A client without session tracking must not see the flag that says state follows.
  if (packet.is_eof && !client_tracks_ && header.length >= 5) {
    payload[4] &= static_cast<std::uint8_t>(~(status::kSessionStateChanged >> 8));
    if (forward_) step.edit = Edit::kPatchedStatus;
  }
  step.size = static_cast<std::size_t>(std::min<std::uint64_t>(available, packet_size));
  left_ = packet_size - step.size;
  return step;
}

}  // namespace djproxy::protocol
