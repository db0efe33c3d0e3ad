#include "proxy/protocol/response_editor.hpp"

#include <algorithm>

#include "proxy/protocol/generic_packets.hpp"
#include "proxy/protocol/packet.hpp"

namespace djproxy::protocol {

void ResponseEditor::start(Command command, bool forward) {
  tracker_.start(command);
  forward_ = forward;
  ended_ = Ended::kNo;
  failed_ = false;
  rows_ = 0;
  left_ = 0;
}

void ResponseEditor::infile_sent() {
  tracker_.infile_sent();
  ended_ = Ended::kNo;
}

ResponseEditor::Step ResponseEditor::next(std::uint8_t* data, std::size_t available, std::size_t capacity,
                                          std::string& out) {
  Step step;
  const Edit relayed = forward_ ? Edit::kPass : Edit::kDrop;
  if (left_ > 0) {  // the rest of a packet longer than what was held: it streams
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(left_, available));
    if (n == 0) return step;
    left_ -= n;
    step.edit = relayed;
    step.size = n;
    return step;
  }
  // After the end, bytes belong to what comes next (the client's file, or nothing).
  if (ended_ != Ended::kNo || available < kHeaderSize) return step;
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

  step.packet = tracker_.on_packet(header.length, Bytes(payload, needed));
  if (step.packet.verdict == ResponseTracker::Verdict::kProtocolError) {
    step.edit = Edit::kProtocolError;
    return step;
  }
  step.head = true;
  failed_ = failed_ || step.packet.is_err;
  if (step.packet.is_row) ++rows_;
  if (step.packet.verdict == ResponseTracker::Verdict::kDone) ended_ = Ended::kAnswer;
  if (step.packet.verdict == ResponseTracker::Verdict::kLocalInfile) ended_ = Ended::kInfileRequest;

  const std::uint64_t packet_size = kHeaderSize + std::uint64_t{header.length};
  // An OK packet is read whole (bytes_needed), so it is replaced whole.
  if (forward_ && step.packet.ok && packet_size <= available &&
      ok_needs_reencoding(*step.packet.ok, client_tracks_, backend_tracks_)) {
    const std::size_t start = out.size();
    append_untracked_ok_packet(out, *step.packet.ok, header.sequence);
    step.edit = Edit::kReplace;
    step.size = static_cast<std::size_t>(packet_size);
    step.replacement = Bytes(reinterpret_cast<const std::uint8_t*>(out.data()) + start, out.size() - start);
    return step;
  }
  step.edit = relayed;
  // A client without session tracking must not see the flag that says state follows.
  if (step.packet.is_eof && !client_tracks_ && header.length >= 5) {
    payload[4] &= static_cast<std::uint8_t>(~(status::kSessionStateChanged >> 8));
    if (forward_) step.edit = Edit::kPatchedStatus;
  }
  step.size = static_cast<std::size_t>(std::min<std::uint64_t>(available, packet_size));
  left_ = packet_size - step.size;
  return step;
}

}  // namespace djproxy::protocol
