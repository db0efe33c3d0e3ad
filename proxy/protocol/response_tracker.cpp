#include "proxy/protocol/response_tracker.hpp"

namespace djproxy::protocol {

void ResponseTracker::start(Command command) {
  continuing_ = false;
  text_protocol_ = command == Command::kQuery;
  switch (command) {
    case Command::kQuery:
    case Command::kStmtExecute:
    case Command::kStmtBulkExecute:
      phase_ = Phase::kFirst;
      break;
    case Command::kStmtFetch:
      phase_ = Phase::kFetchRows;
      break;
    case Command::kStmtPrepare:
      phase_ = Phase::kPrepareOk;
      break;
    case Command::kFieldList:
      phase_ = Phase::kFieldList;
      break;
    case Command::kStatistics:
      phase_ = Phase::kSinglePacket;
      break;
    default:
      phase_ = Phase::kSimple;
      break;
  }
}

bool ResponseTracker::ok_possible() const {
  switch (phase_) {
    case Phase::kFirst:
    case Phase::kSimple:
    case Phase::kRows:
    case Phase::kFetchRows:
    case Phase::kFieldList:
    case Phase::kColumnsEof:
      return true;
    default:
      return false;
  }
}

std::uint32_t ResponseTracker::bytes_needed(std::uint8_t first_byte, std::uint32_t length) const {
  if (continuing_ || length == 0) return 0;
  // Only packets that can be OK packets or terminators are read whole; a row is never.
  const bool maybe_ok = ok_possible() && length < kMaxPayload &&
                        ((first_byte == 0x00 && (phase_ == Phase::kFirst || phase_ == Phase::kSimple)) ||
                         (first_byte == 0xFE && (deprecate_eof_ || length < 9)));
  if (maybe_ok) return length;
  return std::min(length, kPeekBytes);
}

ResponseTracker::Packet ResponseTracker::after_result(std::uint16_t status) {
  Packet p;
  if (status & status::kMoreResultsExist) {
    phase_ = Phase::kFirst;
    p.verdict = Verdict::kMore;
  } else {
    phase_ = Phase::kIdle;
    p.verdict = Verdict::kDone;
  }
  return p;
}

ResponseTracker::Packet ResponseTracker::finish_prepare_columns() {
  if (prepare_columns_ > 0) {
    remaining_ = prepare_columns_;
    phase_ = Phase::kPrepareColumns;
    return {};
  }
  phase_ = Phase::kIdle;
  return {Verdict::kDone, std::nullopt, false, false};
}

ResponseTracker::Packet ResponseTracker::on_packet(std::uint32_t length, Bytes leading) {
  const bool was_continuing = continuing_;
  continuing_ = length == kMaxPayload;
  if (was_continuing) return {};  // the tail of a long packet is payload, whatever its bytes

  const std::uint8_t first = leading.empty() ? 0 : leading[0];
  auto protocol_error = [] { return Packet{Verdict::kProtocolError, std::nullopt, false, false}; };
  auto error_ends = [this] {
    phase_ = Phase::kIdle;
    return Packet{Verdict::kDone, std::nullopt, true, false};
  };
  auto parse_ok = [&](Packet& p) {
    p.ok = OkPacket::parse(leading, session_track_);
    return p.ok.has_value();
  };
  const bool terminator = length > 0 && is_result_terminator(first, length, deprecate_eof_);

  switch (phase_) {
    case Phase::kIdle:
      return protocol_error();

    case Phase::kFirst: {
      if (length == 0) return protocol_error();
      if (first == 0xFF) return error_ends();
      if (first == 0x00) {
        Packet p;
        if (!parse_ok(p)) return protocol_error();
        Packet next = after_result(p.ok->status);
        next.ok = p.ok;
        return next;
      }
      if (first == 0xFB && text_protocol_) {
        phase_ = Phase::kIdle;
        return {Verdict::kLocalInfile, std::nullopt, false, false};
      }
      Reader r(leading);
      const std::uint64_t columns = r.lenenc();
      if (!r.ok() || columns == 0) return protocol_error();
      remaining_ = columns;
      phase_ = Phase::kColumnDefs;
      return {};
    }

    case Phase::kColumnDefs:
      if (length == 0 || first == 0xFF) return protocol_error();
      if (--remaining_ == 0) phase_ = deprecate_eof_ ? Phase::kRows : Phase::kColumnsEof;
      return {};

    case Phase::kColumnsEof: {
      if (first == 0xFF) return error_ends();
      if (!terminator) return protocol_error();
      Packet p;
      p.is_eof = !deprecate_eof_;
      Reader r(leading);
      r.skip(3);
      const std::uint16_t status = r.u16();
      // An opened cursor ends the execute response here; rows come with COM_STMT_FETCH.
      // A text-protocol result carries the flag too when a stored procedure has a cursor
      // open (MariaDB's RESIGNAL in a NOT FOUND handler): its rows follow as usual.
      if (!text_protocol_ && r.ok() && (status & status::kCursorExists)) {
        phase_ = Phase::kIdle;
        p.verdict = Verdict::kDone;
        return p;
      }
      phase_ = Phase::kRows;
      return p;
    }

    case Phase::kRows:
    case Phase::kFetchRows: {
      if (length > 0 && first == 0xFF) return error_ends();
      if (!terminator) {
        Packet row;
        row.is_row = true;
        return row;
      }
      Packet p;
      std::uint16_t status = 0;
      if (deprecate_eof_) {
        if (!parse_ok(p)) return protocol_error();
        status = p.ok->status;
      } else {
        Reader r(leading);
        r.skip(3);
        status = r.u16();
        if (!r.ok()) return protocol_error();
        p.is_eof = true;
      }
      Packet next = phase_ == Phase::kFetchRows ? Packet{Verdict::kDone, std::nullopt, false, false}
                                                : after_result(status);
      if (phase_ == Phase::kFetchRows) phase_ = Phase::kIdle;
      next.ok = p.ok;
      next.is_eof = p.is_eof;
      return next;
    }

    case Phase::kPrepareOk: {
      if (first == 0xFF) return error_ends();
      Reader r(leading);
      if (r.u8() != 0x00) return protocol_error();
      const std::uint32_t statement_id = r.u32();
      prepare_columns_ = r.u16();
      const std::uint16_t params = r.u16();
      if (!r.ok()) return protocol_error();
      Packet next;
      if (params > 0) {
        remaining_ = params;
        phase_ = Phase::kPrepareParams;
      } else {
        next = finish_prepare_columns();
      }
      next.statement_id = statement_id;
      return next;
    }

    case Phase::kPrepareParams:
      if (length == 0) return protocol_error();
      if (--remaining_ == 0) {
        if (!deprecate_eof_) {
          phase_ = Phase::kPrepareParamsEof;
          return {};
        }
        return finish_prepare_columns();
      }
      return {};

    case Phase::kPrepareParamsEof: {
      if (!terminator) return protocol_error();
      Packet next = finish_prepare_columns();
      next.is_eof = true;
      return next;
    }

    case Phase::kPrepareColumns:
      if (length == 0) return protocol_error();
      if (--remaining_ == 0) {
        if (!deprecate_eof_) {
          phase_ = Phase::kPrepareColumnsEof;
          return {};
        }
        phase_ = Phase::kIdle;
        return {Verdict::kDone, std::nullopt, false, false};
      }
      return {};

    case Phase::kPrepareColumnsEof:
      if (!terminator) return protocol_error();
      phase_ = Phase::kIdle;
      return {Verdict::kDone, std::nullopt, false, true};

    case Phase::kFieldList: {
      if (length > 0 && first == 0xFF) return error_ends();
      if (!terminator) return {};
      Packet p;
      // Servers end COM_FIELD_LIST with an EOF even under CLIENT_DEPRECATE_EOF, or with an OK.
      if (!(deprecate_eof_ && length >= 7 && parse_ok(p))) {
        p.ok.reset();
        p.is_eof = true;
      }
      phase_ = Phase::kIdle;
      p.verdict = Verdict::kDone;
      return p;
    }

    case Phase::kSimple: {
      if (length == 0) return protocol_error();
      Packet p;
      if (first == 0xFF) return error_ends();
      if (first == 0x00) {
        if (!parse_ok(p)) return protocol_error();
      } else if (first == 0xFE) {
        // COM_SET_OPTION answers with an EOF, or an OK under CLIENT_DEPRECATE_EOF.
        if (!(deprecate_eof_ && length >= 7 && parse_ok(p))) {
          p.ok.reset();
          p.is_eof = true;
        }
      } else {
        return protocol_error();
      }
      phase_ = Phase::kIdle;
      p.verdict = Verdict::kDone;
      return p;
    }

    case Phase::kSinglePacket:
      phase_ = Phase::kIdle;
      return {Verdict::kDone, std::nullopt, false, false};
  }
  return protocol_error();
}

}  // namespace djproxy::protocol
