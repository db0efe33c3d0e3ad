// The policy side of a session: what the session tells the policy engine, and what
// it does with each decision. The SQL itself is read only by policy/.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <new>

#include "policy/rules.hpp"
#include "proxy/migration/token.hpp"
#include "proxy/protocol/constants.hpp"
#include "proxy/protocol/generic_packets.hpp"
#include "proxy/protocol/handshake.hpp"
#include "proxy/session.hpp"
#include "proxy/session_internal.hpp"

namespace djproxy::proxy {

namespace cap = protocol::cap;
using protocol::Bytes;
using protocol::kHeaderSize;
using protocol::kMaxPayload;

namespace {

std::string_view text_of(Bytes b) { return protocol::as_chars(b); }

policy::Command policy_command(Command command) {
  return command == Command::kStmtPrepare ? policy::Command::stmt_prepare : policy::Command::query;
}

// The beginning of a streamed statement kept for the audit log (the rest is never held).
constexpr std::size_t kStreamHeadBytes = 4096;

bool is_statement(Command command) { return command == Command::kQuery || command == Command::kStmtPrepare; }

}  // namespace

void Session::refresh_policy() {
  const std::uint64_t generation = shared_.policy.generation();
  if (generation == runtime_generation_ && runtime_) return;
  runtime_ = shared_.policy.get();
  runtime_generation_ = generation;
}

policy::SessionState Session::policy_state() const {
  policy::SessionState state;
  if (!schema_.empty()) state.current_schema = schema_;
  state.sql_mode = sql_mode_reading_.flags;
  if (server_version_) {
    state.flavour = server_version_->flavour;
    state.server_version = server_version_->version;
  } else {
    state.server_version = 0;  // not known yet (or not readable): no versioned comment is read
  }
  state.charset = charset_class_;
  state.dynamic_text_converted = dynamic_text_converted_;
  state.multi_statements = multi_statements_;
  state.migration = migration_;
  state.prepared_names = prepared_names_;
  return state;
}

policy::SessionFacts Session::policy_facts() const {
  policy::SessionFacts facts;
  facts.state = policy_state();
  facts.state_known = state_known_;
  facts.sql_mode_unsupported = sql_mode_reading_.unsupported;
  return facts;
}

void Session::log_decision(const policy::Decision& decision, std::string_view what, bool withhold_text) const {
  if (decision.verdict == policy::Verdict::reject) {
    spdlog::info("session {} user '{}': {} {} ({}): {}", id_, user_, decision.enforced ? "rejected" : "would reject",
                 what, policy::to_string(decision.rule), withhold_text ? policy::kWithheldText : decision.message);
  }
}

// A command the policy refused: a command larger than the buffer is read to its end
// and dropped; the client gets the ERR and the session goes on.
Task<Session::Outcome> Session::reject_command(bool whole, std::size_t visible, const policy::Decision& decision) {
  std::uint8_t seq = static_cast<std::uint8_t>(client_buffer_.data()[3] + 1);
  if (whole) {
    client_buffer_.consume(visible);
  } else {
    std::uint8_t last_seq = 0;
    const bool discarded = co_await move_logical_packet(client_, client_buffer_, nullptr, &last_seq);
    if (!discarded) co_return Outcome::kClosed;
    seq = static_cast<std::uint8_t>(last_seq + 1);
  }
  const std::string_view state = decision.sqlstate.empty() ? std::string_view("42000") : decision.sqlstate;
  const bool sent = co_await send_client_error(seq, decision.code, state, decision.message);
  co_return sent ? Outcome::kAnswered : Outcome::kClosed;
}

// A command the server never answers, read to its end and dropped: the client expects nothing.
Task<Session::Outcome> Session::drop_command(bool whole, std::size_t visible) {
  if (whole) {
    client_buffer_.consume(visible);
    co_return Outcome::kAnswered;
  }
  std::uint8_t last_seq = 0;
  const bool discarded = co_await move_logical_packet(client_, client_buffer_, nullptr, &last_seq);
  co_return discarded ? Outcome::kAnswered : Outcome::kClosed;
}

Task<Session::Outcome> Session::forward_whole(std::size_t visible) {
  const asio::const_buffer command(client_buffer_.data(), visible);
  const std::span<const asio::const_buffer> out(&command, 1);
  ErrorCode write_error;
  std::size_t written = 0;
  if (!server_.try_write(out, write_error, written)) write_error = co_await server_.write_rest(out, written);
  client_buffer_.consume(visible);
  co_return write_error ? Outcome::kClosed : Outcome::kForwarded;
}

// The server replaces the session's connection attributes with those of
// COM_CHANGE_USER: the real client's address goes in, as at login, so that a client
// cannot put another address there.
Task<Session::Outcome> Session::forward_change_user(const protocol::ChangeUser& requested, std::size_t visible) {
  const bool fields_before_attributes =
      requested.charset && (!(backend_capabilities_ & cap::kPluginAuth) || requested.auth_plugin);
  if (!(backend_capabilities_ & cap::kConnectAttrs) || !fields_before_attributes) {
    co_return co_await forward_whole(visible);
  }
  protocol::ChangeUser change = requested;
  if (!change.attributes) change.attributes.emplace();
  stamp_client_address(*change.attributes);
  local_packet_.clear();
  {
    protocol::PacketBuilder builder(local_packet_);
    std::string payload;
    change.encode(payload, backend_capabilities_);
    local_packet_.append(payload);
    builder.finish(client_buffer_.data()[3]);
  }
  client_buffer_.consume(visible);
  const auto write_error = co_await server_.write(asio::buffer(local_packet_));
  co_return write_error ? Outcome::kClosed : Outcome::kForwarded;
}

// What has arrived of the command in the client buffer: all of it, or for a command
// larger than the buffer, its leading part.
protocol::Bytes Session::command_payload(std::size_t visible) const {
  return protocol::Bytes(client_buffer_.data() + kHeaderSize, std::min(client_buffer_.size(), visible) - kHeaderSize);
}

// The command is whole in the client buffer (`visible` bytes with its header), or,
// when `whole` is false, larger than the buffer (a statement is then analysed while it
// streams). policy::decide_command decides (decide()); this only carries its Action out.
// The decision and what carrying it out needs live in decided_, not in this coroutine's
// frame: a small frame is cheaper to make each command, and a frame over 4 KiB misses the
// task frame cache (proxy/task.cpp) and costs a heap allocation and a free.
// The command loop has refreshed the policy and rechecked the migration under it.
Task<Session::Outcome> Session::decide_and_forward(Command command, bool whole, std::size_t visible) {
  if (command == Command::kStmtPrepare && migration_.kind == policy::MigrationKind::by_token &&
      migration_statements_.size() >= kMaxMigrationStatements) {
    // Their ids are what closes them when the migration ends; rather than lose one, end it.
    if (!co_await close_migration_statements()) co_return Outcome::kClosed;
    end_migration("ended: more statements prepared in it than djproxy keeps to close when it ends");
  }
  // Whatever becomes of this prepare, the server no longer runs the one before it for id
  // 0xFFFFFFFF: refused, it never reaches the server, and one that fails clears it.
  if (command == Command::kStmtPrepare) last_prepared_.reset();
  if (!whole && is_statement(command)) co_return co_await stream_statement(command);
  switch (decide(command, whole, visible)) {
    case policy::Action::reject:
      co_return co_await reject_command(whole, visible, decided_.command.decision);
    case policy::Action::intercept_token:
      note_state_changes(decided_.command.analysis);
      co_return co_await handle_migration_token(decided_.command.decision.token, visible);
    case policy::Action::ask_table_exists:
      co_return co_await answer_existing_table(std::move(decided_.command), visible);
    case policy::Action::drop:
      co_return co_await drop_command(whole, visible);
    case policy::Action::answer_ok:  // only after the server was asked
    case policy::Action::forward:
      break;
  }
  note_forwarded(command, visible);
  if (!whole) {
    std::uint8_t last_seq = 0;
    const bool streamed = co_await move_logical_packet(client_, client_buffer_, &server_, &last_seq);
    co_return streamed ? Outcome::kForwarded : Outcome::kClosed;
  }
  if (command == Command::kChangeUser && decided_.change) {
    note_change_user(*decided_.change);
    co_return co_await forward_change_user(*decided_.change, visible);
  }
  if (command == Command::kSetOption) {
    protocol::Reader r(command_payload(visible).subspan(1));
    const std::uint16_t option = r.u16();
    if (r.ok() && option <= 1) pending_multi_statements_ = option == 0;  // MYSQL_OPTION_MULTI_STATEMENTS_ON = 0
  }
  co_return co_await forward_whole(visible);
}

policy::Action Session::decide(Command command, bool whole, std::size_t visible) {
  const protocol::Bytes payload = command_payload(visible);
  const auto byte = static_cast<std::uint8_t>(command);
  policy::CommandRequest request;
  request.command = byte;
  request.streamed = !whole;
  request.buffer_bytes = client_buffer_.capacity() - kHeaderSize;
  decided_.change.reset();
  std::uint32_t statement_id = 0;
  if (whole) {
    switch (command) {
      case Command::kQuery:
      case Command::kStmtPrepare:
      case Command::kInitDb:
        request.text = text_of(payload.subspan(1));
        break;
      case Command::kFieldList: {
        protocol::Reader r(payload.subspan(1));
        request.text = text_of(r.nul_terminated());
        request.malformed = !r.ok();
        break;
      }
      case Command::kSetOption:
        request.malformed = payload.size() < 3;  // the command byte and a 2-byte option
        break;
      case Command::kChangeUser:
        decided_.change = protocol::ChangeUser::parse(payload, client_capabilities_);
        request.malformed = !decided_.change;
        if (decided_.change) {
          request.text = decided_.change->database;
          request.user = decided_.change->user;
        }
        break;
      default:
        break;
    }
  }
  if (session_internal::names_statement(command) && payload.size() >= 5) {
    protocol::Reader r(payload.subspan(1, 4));
    statement_id = r.u32();
    request.unknown_last_statement = statement_id == kLastPrepared && !last_prepared_;
    // MariaDB reads id 0xFFFFFFFF as the statement prepared last: mariadb_stmt_execute_direct
    // sends its COM_STMT_PREPARE and COM_STMT_EXECUTE together, before the id is known.
    if (statement_id == kLastPrepared) {
      if (last_prepared_) request.prepared_charset = last_prepared_->second;
    } else {
      request.prepared_charset = statement_charsets_.find(statement_id);
    }
  }
  const auto begin = std::chrono::steady_clock::now();
  // Made where it lives: a move-assignment of the decision, its analysis and their eleven
  // strings cost about 2 % of a point select's instructions (bench/instructions.sh).
  std::destroy_at(&decided_.command);
  try {
    ::new (static_cast<void*>(&decided_.command)) policy::CommandDecision(
        policy::decide_command(request, policy_facts(), runtime_->config, runtime_->migration_users));
  } catch (...) {
    ::new (static_cast<void*>(&decided_.command)) policy::CommandDecision();
    throw;
  }
  const policy::CommandDecision& decided = decided_.command;
  if (is_statement(command)) shared_.metrics.analysis_latency(std::chrono::steady_clock::now() - begin);

  const char* what = protocol::command_name(byte);
  const std::string_view named = request.malformed || request.streamed ? text_of(payload.subspan(1)) : request.text;
  if (command == Command::kStmtExecute || command == Command::kStmtBulkExecute) {
    record_execution(decided, what, statement_id);
  } else {
    record(decided, what, named, named.size());
  }
  log_decision(decided.decision, what, decided.withhold_text);
  if (command == Command::kStmtPrepare && decided.action == policy::Action::forward) remember_prepare(decided, named);
  return decided.action;
}

// What the session notes of a command it forwards, before the command goes out.
void Session::note_forwarded(Command command, std::size_t visible) {
  // MariaDB applies the items of a SET list one after the other, and an item that fails
  // after sql_mode or the character set was assigned answers ERR without undoing it:
  // the OK that would report the change never comes. So after any forwarded statement
  // that may change how the server reads text, the state is read again before the next
  // command is decided.
  note_state_changes(decided_.command.analysis);
  const policy::Decision& decision = decided_.command.decision;
  if (decision.audit) spdlog::info("session {} user '{}': {}", id_, user_, decision.audit_note);
  // Before a streamed forward too: a close padded past the buffer closes it all the same
  // (review round 17).
  const protocol::Bytes payload = command_payload(visible);
  if (command == Command::kStmtClose && payload.size() >= 5) {
    protocol::Reader r(payload.subspan(1, 4));
    const std::uint32_t id = r.u32();
    // 0xFFFFFFFF closes the statement prepared last, which has an id of its own
    // (review round 22).
    const std::uint32_t closed = id == kLastPrepared && last_prepared_ ? last_prepared_->first : id;
    forget_prepared(closed);
    std::erase(migration_statements_, closed);  // gone: nothing to close when the migration ends
    if (id == kLastPrepared || (last_prepared_ && last_prepared_->first == id)) last_prepared_.reset();
    // Executed again, it is refused as not seen prepared. (The statements a migration
    // leaves are closed by the proxy and keep theirs: the server says they are gone.)
    statement_charsets_.erase(closed);
  }
}

void Session::note_change_user(const protocol::ChangeUser& change) {
  // The server resets the session, and a migration ends with it: a token's, as on
  // COM_RESET_CONNECTION, and a migration user's, whose next one begins (and is audited)
  // when the new account logs in. The audit log says so for each, in the name of the user
  // who held it (review rounds 26, 27 and 29: an end was missing).
  account_migration_before_change_ = account_migration_;
  end_migrations_in_log("COM_CHANGE_USER");
  user_before_change_ = user_;
  schema_before_change_ = schema_;
  user_ = change.user;
  user_metric_.reset();
  schema_ = change.database;  // the server switches to it; tracking may not say so
  set_migration_for_user();
  forget_prepared();
}

void Session::note_state_changes(policy::Analysis& analysis) {
  if (analysis.prepared_names_after) {
    // Until the server's answer shows that every statement ran (relay_response), the
    // names are those the policy left for a packet that stopped at an error.
    auto& after_error = analysis.prepared_names_after_error;
    if (!after_error || *after_error == *analysis.prepared_names_after) {
      prepared_names_ = std::move(*analysis.prepared_names_after);
      pending_prepared_names_.reset();
    } else {
      prepared_names_ = std::move(*after_error);
      pending_prepared_names_ = std::move(analysis.prepared_names_after);
    }
  }
  for (const auto& s : analysis.statements) {
    if (s.changes_lexing) {
      tracking_pending_ = true;
      return;
    }
  }
}

// CREATE TABLE IF NOT EXISTS of a table that exists: the server would answer OK with
// a warning and change nothing, so the proxy answers the same without forwarding a
// schema change. If the table does not exist, it is the schema change it looks like.
// A dry run asks too, forwards either way, and audits what production would have done.
Task<Session::Outcome> Session::answer_existing_table(policy::CommandDecision asked, std::size_t visible) {
  const auto question = policy::table_exists_question(
      asked.decision.rewrite_schema, asked.decision.rewrite_table, character_set_client_,
      runtime_->config.lower_case_table_names,
      server_version_ ? server_version_->flavour : policy::ServerFlavour::mariadb);
  auto answer = policy::TableCheck::failed;
  if (question) {
    const bool answered = co_await internal_query(*question);
    if (!answered) co_return Outcome::kClosed;
    answer = editor_.failed() ? policy::TableCheck::failed
             : editor_.rows() > 0 ? policy::TableCheck::exists
                                  : policy::TableCheck::missing;
  }
  const auto sql = text_of(Bytes(client_buffer_.data() + kHeaderSize + 1, visible - kHeaderSize - 1));
  decided_.command = policy::after_table_check(std::move(asked), answer);
  const policy::CommandDecision& decided = decided_.command;
  record(decided, "COM_QUERY", sql, sql.size());
  log_decision(decided.decision, "CREATE TABLE IF NOT EXISTS");
  if (decided.action == policy::Action::reject) co_return co_await reject_command(true, visible, decided.decision);
  if (decided.action == policy::Action::forward) {  // a dry run
    note_forwarded(Command::kQuery, visible);
    co_return co_await forward_whole(visible);
  }
  shared_.metrics.rewrite(admin::RewriteKind::create_if_not_exists_existing);
  spdlog::info("session {} user '{}': CREATE TABLE IF NOT EXISTS `{}`.`{}` answered by the proxy: the table exists",
               id_, user_, decided.decision.rewrite_schema, decided.decision.rewrite_table);
  const std::uint8_t seq = static_cast<std::uint8_t>(client_buffer_.data()[3] + 1);
  client_buffer_.consume(visible);
  local_packet_.clear();
  const auto status = static_cast<std::uint16_t>(server_status_ & ~(protocol::status::kMoreResultsExist |
                                                                    protocol::status::kSessionStateChanged));
  protocol::append_ok_packet(local_packet_, seq, status, 1);
  const auto write_error = co_await client_.write(asio::buffer(local_packet_));
  co_return write_error ? Outcome::kClosed : Outcome::kAnswered;
}

// A statement larger than the buffer: forwarded as it arrives and analysed on the
// way, except its last bytes, held back until the decision. The server executes
// nothing until a packet is complete, so a late rejection that drops the backend
// connection leaves nothing executed.
Task<Session::Outcome> Session::stream_statement(Command command) {
  const auto state = policy_state();
  policy::StreamingAnalyser analyser(state, runtime_->config, policy_command(command));
  const std::uint64_t limit = runtime_->max_statement_bytes;
  stream_head_.clear();
  std::uint64_t total = 0;
  bool first_packet = true;
  std::uint8_t expected_seq = 0;
  for (;;) {
    const bool have_header = co_await fill(client_, client_buffer_, kHeaderSize);
    if (!have_header) co_return Outcome::kClosed;
    const auto header = protocol::read_header(client_buffer_.data());
    if (header.sequence != expected_seq) {
      spdlog::warn("session {}: packets out of order in a long statement", id_);
      co_return Outcome::kClosed;
    }
    ++expected_seq;
    const bool final_packet = header.length < kMaxPayload;
    std::uint64_t left = header.length;
    std::size_t pending_header = kHeaderSize;  // header bytes not yet forwarded
    while (left > 0 || pending_header > 0) {
      if (left > 0 && client_buffer_.size() <= pending_header) {
        const bool filled = co_await fill(client_, client_buffer_, pending_header + 1);
        if (!filled) co_return Outcome::kClosed;
      }
      const std::size_t n =
          static_cast<std::size_t>(std::min<std::uint64_t>(left, client_buffer_.size() - pending_header));
      std::string_view chunk(reinterpret_cast<const char*>(client_buffer_.data()) + pending_header, n);
      if (first_packet && !chunk.empty()) {
        chunk.remove_prefix(1);  // the command byte
        first_packet = false;
      }
      analyser.feed(chunk);
      if (stream_head_.size() < kStreamHeadBytes) {
        stream_head_.append(chunk.substr(0, kStreamHeadBytes - stream_head_.size()));
      }
      total += n;
      left -= n;
      if (total > limit) {
        spdlog::warn("session {} user '{}': statement over {} bytes (limits.max_statement_bytes); closing", id_, user_,
                     limit);
        server_.close();
        co_await send_client_error(expected_seq, protocol::err::kNetPacketTooLarge, "08S01",
                                   "djproxy: statement larger than limits.max_statement_bytes");
        co_return Outcome::kClosed;
      }
      if (final_packet && left == 0) {
        auto analysis = analyser.finish();
        note_state_changes(analysis);
        policy::CommandRequest request;
        request.command = static_cast<std::uint8_t>(command);
        request.streamed = true;
        request.streamed_analysis = &analysis;
        request.text = stream_head_;
        const auto decided =
            policy::decide_command(request, policy_facts(), runtime_->config, runtime_->migration_users);
        record(decided, protocol::command_name(request.command), stream_head_, total);
        log_decision(decided.decision, "long statement", decided.withhold_text);
        if (decided.action != policy::Action::forward) {
          spdlog::warn("session {}: late rejection of a {}-byte statement: the backend connection is dropped", id_,
                       total);
          server_.close();
          const auto& d = decided.decision;
          const std::string_view state = d.sqlstate.empty() ? std::string_view("42000") : d.sqlstate;
          co_await send_client_error(expected_seq, d.code, state, d.message);
          co_return Outcome::kClosed;
        }
        if (command == Command::kStmtPrepare) remember_prepare(decided, stream_head_);
      }
      const auto write_error = co_await server_.write(asio::buffer(client_buffer_.data(), pending_header + n));
      if (write_error) co_return Outcome::kClosed;
      client_buffer_.consume(pending_header + n);
      pending_header = 0;
    }
    if (final_packet) co_return Outcome::kForwarded;
  }
}

}  // namespace djproxy::proxy
