#pragma once
// The response relay's per-packet decisions, apart from any socket: given the bytes the
// relay holds of the server's answer, it frames the next packet (or the next run of a
// packet too long to hold) and says what becomes of it on its way to the client:
// passed as it is, passed with its status edited in place, replaced by a re-encoded
// packet, or dropped (the answer to the proxy's own query). The relay carries out each
// step and reads more when told that more is needed. The grammar of the answer is the
// ResponseTracker's; this adds the edits the legs' capabilities call for.
#include <cstddef>
#include <cstdint>
#include <string>

#include "proxy/protocol/constants.hpp"
#include "proxy/protocol/response_tracker.hpp"
#include "proxy/protocol/wire.hpp"

namespace djproxy::protocol {

class ResponseEditor {
 public:
  enum class Edit : std::uint8_t {
    kNeedMore,       // the next decision needs more bytes than are held (or the answer is over)
    kPass,           // `size` bytes go to the client as they are
    kPatchedStatus,  // the same, after a classic EOF's status was edited in place
    kReplace,        // `size` bytes are replaced by `replacement`
    kDrop,           // `size` bytes go nowhere
    kTooLarge,       // a packet that must be read whole does not fit the relay's buffer
    kProtocolError,  // the server sent something no grammar allows
  };

  struct Step {
    Edit edit = Edit::kNeedMore;
    std::size_t size = 0;  // bytes of the input this step covers
    Bytes replacement;     // kReplace: the packet to send, appended to the caller's string
    // A packet's head (kPass … kDrop from a packet's first byte): what the tracker read
    // in it, for the session's state (OK packets, prepared statement ids, rows, ERR).
    bool head = false;
    ResponseTracker::Packet packet;
    std::uint32_t length = 0;  // the packet's payload length (a head, kTooLarge, kProtocolError)
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
  Step next(std::uint8_t* data, std::size_t available, std::size_t capacity, std::string& out);

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

 private:
  enum class Ended : std::uint8_t { kNo, kAnswer, kInfileRequest };

  ResponseTracker tracker_;
  bool backend_tracks_;
  bool client_tracks_;
  bool forward_ = true;
  Ended ended_ = Ended::kNo;
  bool failed_ = false;
  std::size_t rows_ = 0;
  std::uint64_t left_ = 0;  // bytes of the current packet beyond the steps so far
};

}  // namespace djproxy::protocol
