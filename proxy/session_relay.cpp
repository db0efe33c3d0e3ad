// The command loop and the response relay: each command is read from the client,
// decided (session_policy.cpp), and its answer streams back from the server as the
// response editor (protocol/response_editor.hpp) decides packet by packet; the relay
// carries out its steps, the client's LOCAL INFILE data, and what an answer settles
// (COM_SET_OPTION, prepared names). Also the proxy's own queries.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>

#include "proxy/protocol/constants.hpp"
#include "proxy/protocol/generic_packets.hpp"
#include "proxy/session.hpp"
#include "proxy/session_internal.hpp"
#include "proxy/worker.hpp"

namespace djproxy::proxy {

namespace cap = protocol::cap;
using protocol::Bytes;
using protocol::Command;
using protocol::kHeaderSize;
using protocol::kMaxPayload;
using session_internal::kBufferSize;

namespace {

// Enables tracking of the state the policy depends on and, in the same statement,
// makes the server report its current value (assigning a tracked variable reports it).
constexpr std::string_view kStateTrackingQuery =
    "SET @@session.session_track_schema=ON, "
    "@@session.session_track_system_variables=CONCAT_WS(',', "
    "NULLIF(@@session.session_track_system_variables,''), "
    "'sql_mode,character_set_client,character_set_connection,collation_connection'), "
    "@@session.sql_mode=@@session.sql_mode, "
    "@@session.character_set_client=@@session.character_set_client, "
    "@@session.collation_connection=@@session.collation_connection";

// Commands that neither read nor change the session state the server tracks for the
// proxy: they may go before the tracking statement, which a connection that only pings
// (a pool's health check, a liveness probe) then never costs the server. COM_CHANGE_USER
// and COM_RESET_CONNECTION reset the session, and tracking is asked for after them.
bool leaves_session_state(Command command) {
  switch (command) {
    case Command::kPing:
    case Command::kQuit:
    case Command::kStatistics:
    case Command::kChangeUser:
    case Command::kResetConnection:
      return true;
    default:
      return false;
  }
}

}  // namespace

Task<void> Session::command_loop() {
  // Not `while (co_await …)`: GCC 12 miscompiles co_await in a loop condition.
  for (;;) {
    const bool more = co_await handle_command();
    if (!more) co_return;
  }
}

Task<bool> Session::drain_internal_responses() {
  while (internal_responses_ > 0) {
    --internal_responses_;
    const bool relayed = co_await relay_response(Command::kQuery, false);
    if (!relayed) co_return false;
    // The tracking statement's answer has no rows; the version's has one.
    if (version_asked_ && editor_.rows() > 0) learn_server_version();
  }
  co_return true;
}

// The answer to policy::version_question: whether the server reads executable comments as
// its greeting's flavour and version do, its connection id and its version string. Unless it says
// so, the version stays unknown: the session goes on, and no executable comment with a
// version is read (policy::SessionState::server_version 0).
void Session::learn_server_version() {
  version_asked_ = false;
  protocol::Reader row(protocol::Bytes(reinterpret_cast<const std::uint8_t*>(editor_.first_row().data()),
                                       editor_.first_row().size()));
  const auto confirms = protocol::as_chars(row.lenenc_bytes());  // the sum of the comments that ran
  const auto id_text = protocol::as_chars(row.lenenc_bytes());
  const auto version_text = protocol::as_chars(row.lenenc_bytes());
  std::uint64_t id = 0;
  const auto [end, ec] = std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
  if (!row.ok() || !row.at_end() || ec != std::errc() || end != id_text.data() + id_text.size()) {
    spdlog::warn("session {}: the backend's answer to the version question is not three values; its version is not "
                 "known, and executable comments with a version are refused",
                 id_);
    return;
  }
  if (!version_expected_.empty() && confirms == version_expected_ && announced_version_) {
    server_version_ = announced_version_;
  } else {
    spdlog::warn("session {}: the backend announced version '{}' but does not read executable comments as that "
                 "version does (it says it is '{}'); executable comments with a version are refused",
                 id_, greeting_version_, version_text);
  }
  if (static_cast<std::uint32_t>(id) != server_connection_id_) {
    spdlog::warn("session {}: the backend's greeting said connection {}; over the connection it says {}", id_,
                 server_connection_id_, id);
  }
  server_connection_id_ = id;
  connection_id_confirmed_ = true;
}

// Asks the server something on the proxy's own account; the answer is read, not
// forwarded (editor_.rows() counts its rows).
Task<bool> Session::internal_query(std::string_view sql) {
  const bool drained = co_await drain_internal_responses();
  if (!drained) co_return false;
  local_packet_.clear();
  protocol::PacketBuilder builder(local_packet_);
  auto writer = builder.writer();
  writer.u8(static_cast<std::uint8_t>(Command::kQuery));
  writer.bytes(sql);
  builder.finish(0);
  const auto write_error = co_await server_.write(asio::buffer(local_packet_));
  if (write_error) co_return false;
  co_return co_await relay_response(Command::kQuery, false);
}

// The statement that turns state tracking on and, once, the version question, in one write.
Task<bool> Session::send_session_queries() {
  local_packet_.clear();
  auto append_query = [&](std::string_view sql) {
    protocol::PacketBuilder builder(local_packet_);
    auto writer = builder.writer();
    writer.u8(static_cast<std::uint8_t>(Command::kQuery));
    writer.bytes(sql);
    builder.finish(0);
    ++internal_responses_;
  };
  // The question first: the client's first statement then follows a SET, as it did
  // without the question, and ROW_COUNT() says what it would directly (0; -1 after a SELECT).
  if (version_pending_) {
    auto question = policy::version_question(announced_version_);
    append_query(question.sql);
    version_expected_ = question.expected;
    version_pending_ = false;
    version_asked_ = true;
  }
  if (backend_capabilities_ & cap::kSessionTrack) {
    append_query(kStateTrackingQuery);
  } else {
    spdlog::warn("session {}: the backend has no session tracking; schema and sql_mode are not known", id_);
  }
  if (local_packet_.empty()) co_return true;
  const auto write_error = co_await server_.write(asio::buffer(local_packet_));
  co_return !write_error;
}

Task<bool> Session::handle_command() {
  phase_ = Phase::kIdle;
  if (worker_.draining()) co_return false;  // shutdown: the last command is answered
  set_deadline(connection_->options.idle_timeout);
  const bool filled = co_await fill(client_, client_buffer_, kHeaderSize);
  if (!filled) co_return false;
  phase_ = Phase::kBusy;
  ++commands_;
  deadline_ = Clock::time_point::max();
  const auto header = protocol::read_header(client_buffer_.data());
  if (header.sequence != 0) {
    co_await send_client_error(header.sequence + 1, protocol::err::kNetPacketsOutOfOrder, "08S01",
                               "djproxy: got packets out of order");
    co_return false;
  }
  if (header.length == 0) {
    co_await send_client_error(1, protocol::err::kUnknownCommand, "08S01", "djproxy: empty command packet");
    co_return false;
  }
  const bool whole = header.length < kMaxPayload && kHeaderSize + header.length <= client_buffer_.capacity();
  const std::size_t visible = whole ? kHeaderSize + header.length : client_buffer_.capacity();
  // The first read almost always brought the whole command: a coroutine call costs even
  // when there is nothing to read.
  if (const std::size_t needed = whole ? visible : kHeaderSize + 1; client_buffer_.size() < needed) {
    const bool have_command = co_await fill(client_, client_buffer_, needed);
    if (!have_command) co_return false;
  }
  const auto command = static_cast<Command>(client_buffer_.data()[kHeaderSize]);
  if (!whole && session_internal::names_statement(command)) {
    // The statement's id decides too (0xFFFFFFFF: the one prepared last), and a packet
    // larger than the buffer may have arrived only up to its command byte (review round 16).
    const bool have_id = co_await fill(client_, client_buffer_, kHeaderSize + 5);
    if (!have_id) co_return false;
  }
  if (tracking_pending_ && !leaves_session_state(command)) {
    // Its answer is read before the command is decided: the policy reads statements
    // under the sql_mode that answer reports.
    tracking_pending_ = false;
    const bool tracking_sent = co_await send_session_queries();
    if (!tracking_sent) co_return false;
  }
  if (internal_responses_ > 0) {  // a coroutine call costs even when there is nothing to read
    const bool drained = co_await drain_internal_responses();
    if (!drained) co_return false;
    if (version_asked_) {  // no row: an ERR
      version_asked_ = false;
      spdlog::warn("session {}: the backend did not answer the version question; executable comments with a "
                   "version are refused",
                   id_);
    }
  }

  // A token's migration ends when the token does, not only when the session says so
  // (review of 2026-12-06: a 4-second token's session still made schema changes after it).
  if (migration_.kind == policy::MigrationKind::by_token && migration_token_expired()) {
    if (!co_await close_migration_statements()) co_return false;
    end_migration("ended: the token expired");
  }

  // Every command is decided under the configuration in force, and a reload that revokes
  // the session's migration ends it first (after the expiry, so that an expired token's
  // end says so: review round 31).
  refresh_policy();
  if (migration_.kind != policy::MigrationKind::none && migration_generation_ != runtime_generation_) {
    const bool rechecked = co_await recheck_migration();
    if (!rechecked) co_return false;
  }

  const Bytes payload(client_buffer_.data() + kHeaderSize,
                      std::min<std::size_t>(client_buffer_.size(), visible) - kHeaderSize);
  shared_.metrics.command(payload[0]);

  // Every command goes through the policy; a rejected command is answered and the
  // session goes on.
  const Outcome outcome = co_await decide_and_forward(command, whole, visible);
  meter_bytes();
  if (outcome == Outcome::kClosed) co_return false;
  if (outcome == Outcome::kAnswered) co_return true;

  switch (command) {
    case Command::kQuit:
      co_return false;
    case Command::kStmtClose:
    case Command::kStmtSendLongData:
      co_return true;  // no response
    case Command::kChangeUser:
      // The server resets the session: tracking settings too, so they are asked for again.
      state_known_ = false;
      co_return co_await relay_authentication(1, 1, true);
    case Command::kResetConnection: {
      const bool relayed = co_await relay_response(command, true);
      if (!relayed) co_return false;
      state_known_ = false;
      forget_prepared();  // the server closes the session's prepared statements
      // A pool resets a connection between borrowers: a token's migration ends with it.
      // (The server has closed its statements; a migration user's own migration goes on.)
      if (migration_.kind == policy::MigrationKind::by_token) end_migration("COM_RESET_CONNECTION");
      tracking_pending_ = true;
      co_return true;
    }
    default:
      co_return co_await relay_response(command, true);
  }
}

// Moves one logical packet (a packet and its 16 MiB continuations) off `from` as it
// arrives, to `to`, or nowhere without one (a refused statement read to its end),
// holding no more than the buffer.
Task<bool> Session::move_logical_packet(Leg& from, RelayBuffer& buffer, Leg* to, std::uint8_t* last_seq) {
  for (;;) {
    const bool filled = co_await fill(from, buffer, kHeaderSize);
    if (!filled) co_return false;
    const auto header = protocol::read_header(buffer.data());
    *last_seq = header.sequence;
    std::uint64_t left = kHeaderSize + header.length;
    while (left > 0) {
      if (buffer.empty()) {
        const bool filled = co_await fill(from, buffer, 1);
        if (!filled) co_return false;
      }
      const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(left, buffer.size()));
      if (to != nullptr) {
        const auto write_error = co_await to->write(asio::buffer(buffer.data(), n));
        if (write_error) co_return false;
      }
      buffer.consume(n);
      left -= n;
    }
    if (header.length < kMaxPayload) co_return true;
  }
}

// LOCAL INFILE: the client sends the file as packets ending with an empty one.
Task<bool> Session::relay_local_infile() {
  for (;;) {
    const bool filled = co_await fill(client_, client_buffer_, kHeaderSize);
    if (!filled) co_return false;
    const bool last = protocol::read_header(client_buffer_.data()).length == 0;
    std::uint8_t seq = 0;
    const bool streamed = co_await move_logical_packet(client_, client_buffer_, &server_, &seq);
    if (!streamed) co_return false;
    if (last) co_return true;
  }
}

// Streams the server's answer to the client as the response editor steps through it
// (protocol/response_editor.hpp): runs of passed packets go out in one gathered write
// per read. With `forward` false the answer is the proxy's own and only read.
Task<bool> Session::relay_response(Command command, bool forward) {
  editor_.start(command, forward);
  std::size_t parsed = 0;  // bytes of the buffer already stepped over
  segment_count_ = 0;
  rewritten_.clear();

  auto add_segment = [&](const std::uint8_t* bytes, std::size_t n) {
    if (segment_count_ > 0) {
      auto& last = segments_[segment_count_ - 1];
      if (static_cast<const std::uint8_t*>(last.data()) + last.size() == bytes) {
        last = asio::const_buffer(last.data(), last.size() + n);
        return;
      }
    }
    segments_[segment_count_++] = asio::const_buffer(bytes, n);
  };

  for (;;) {
    while (segment_count_ < kMaxSegments - 1) {
      std::uint8_t* at = server_buffer_.data() + parsed;
      const auto step = editor_.next(at, server_buffer_.size() - parsed, server_buffer_.capacity(), rewritten_);
      using Edit = protocol::ResponseEditor::Edit;
      if (step.edit == Edit::kNeedMore) break;
      if (step.edit == Edit::kTooLarge) {
        spdlog::warn("session {}: {}-byte status packet from the backend exceeds the buffer", id_, step.length);
        co_return false;
      }
      if (step.edit == Edit::kProtocolError) {
        spdlog::warn("session {}: unexpected packet from the backend in the answer to {} (length {}, first byte 0x{:02x})",
                     id_, protocol::command_name(static_cast<std::uint8_t>(command)), step.length,
                     step.length > 0 ? at[kHeaderSize] : 0);
        co_return false;
      }
      if (step.head && (editor_.ok() || editor_.statement_id())) note_response_packet();
      switch (step.edit) {
        case Edit::kPass:
        case Edit::kPatchedStatus:
          add_segment(at, step.size);
          break;
        case Edit::kReplace:
          add_segment(editor_.replacement().data(), editor_.replacement().size());
          break;
        default:  // kDrop
          break;
      }
      parsed += step.size;
    }

    if (segment_count_ > 0) {
      client_progress_deadline();
      const std::span<const asio::const_buffer> out(segments_.data(), segment_count_);
      ErrorCode write_error;
      std::size_t written = 0;
      if (!client_.try_write(out, write_error, written)) write_error = co_await client_.write_rest(out, written);
      deadline_ = Clock::time_point::max();  // the server may take its time; the client may not
      if (write_error) co_return false;
      segment_count_ = 0;
    }
    server_buffer_.consume(parsed);
    parsed = 0;
    rewritten_.clear();
    if (editor_.finished()) {
      const bool failed = editor_.failed();
      if (command == Command::kSetOption && pending_multi_statements_ && !failed) {
        multi_statements_ = *pending_multi_statements_;
      }
      pending_multi_statements_.reset();
      if (pending_prepared_names_ && !failed) prepared_names_ = std::move(*pending_prepared_names_);
      pending_prepared_names_.reset();
      co_return true;
    }
    if (editor_.wants_infile()) {
      const bool relayed_infile = co_await relay_local_infile();
      if (!relayed_infile) co_return false;
      editor_.infile_sent();
      continue;
    }
    // A partial packet near the end of the buffer moves to the front, so a status
    // packet that must be seen whole always finds room.
    if (server_buffer_.space_size() < kBufferSize / 4) server_buffer_.compact();
    auto [ec, got] = co_await server_.read_some(asio::buffer(server_buffer_.space(), server_buffer_.space_size()));
    server_.count_read(got);
    if (ec) {
      spdlog::info("session {}: backend connection lost in the answer to {}: {}", id_,
                   protocol::command_name(static_cast<std::uint8_t>(command)), ec.message());
      co_return false;
    }
    server_buffer_.commit(got);
  }
}

// What a packet of the answer tells the session: state reported in OK packets, the id
// of a statement just prepared.
void Session::note_response_packet() {
  // Closed when the migration ends. A token's migration ends at the bound (decide_and_forward);
  // a migration user's cannot, and past it the session closes if the migration is revoked.
  if (editor_.statement_id() && migration_.kind != policy::MigrationKind::none) {
    if (migration_statements_.size() < kMaxMigrationStatements) {
      migration_statements_.push_back(*editor_.statement_id());
    } else {
      migration_statements_overflow_ = true;
    }
  }
  if (editor_.statement_id()) {
    // The answer follows its COM_STMT_PREPARE at once: the character set is the prepare's.
    statement_charsets_.add(*editor_.statement_id(), charset_class_);
    last_prepared_.emplace(*editor_.statement_id(), charset_class_);
  }
  if (editor_.statement_id() && pending_prepare_) {
    pending_prepare_->id = *editor_.statement_id();
    if (prepared_.size() >= kMaxPrepared) prepared_.erase(prepared_.begin());
    prepared_.push_back(std::move(*pending_prepare_));
    pending_prepare_.reset();
  }
  if (editor_.ok()) apply_ok(*editor_.ok());
}

}  // namespace djproxy::proxy
