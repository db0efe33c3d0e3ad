#pragma once
// One client connection and its backend connection: the handshake with pass-through
// authentication, then the command loop. One coroutine drives it, one direction at a
// time: a command is decided by the policy and goes to the server, then its response streams
// back, packet headers read on the way.
#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "proxy/asio.hpp"
#include "policy/analyser.hpp"
#include "policy/decide_command.hpp"
#include "policy/session_facts.hpp"
#include "proxy/leg.hpp"
#include "proxy/protocol/handshake.hpp"
#include "proxy/protocol/packet.hpp"
#include "proxy/protocol/response_editor.hpp"
#include "proxy/relay_buffer.hpp"
#include "proxy/shared_state.hpp"
#include "proxy/statement_charsets.hpp"

namespace djproxy::proxy {

class Worker;
using Clock = std::chrono::steady_clock;
using protocol::Command;

class Session : public std::enable_shared_from_this<Session> {
 public:
  // Takes the accepted descriptor `client`.
  Session(SharedState& shared, Worker& worker, int& client, const tcp::endpoint& peer,
          HandshakeSlots::Slot handshake);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  Task<void> run();
  // Called by the worker's janitor; closes both legs once the deadline has passed.
  void expire_if_due(Clock::time_point now);
  // Ends the session at once (shutdown after the grace period).
  void abort();
  // Shutdown (session_lifecycle.cpp): an idle session closes now; a busy one finishes
  // its command and closes instead of reading the next (see Worker::draining()).
  void drain();
  // Called by the janitor on each tick (session_lifecycle.cpp): a session that has been
  // idle since the previous tick gets its server leg watched.
  void watch_if_idle_since_last_tick();

 private:
  // The server leg while the client is idle (session_lifecycle.cpp): a backend that
  // closes the connection (KILL, its own shutdown, wait_timeout) closes the client's
  // at once, instead of at the client's next command.
  void watch_server_leg();
  void server_leg_readable(const ErrorCode& ec);
  void check_idle_server_leg();
  bool server_watched_ = false;     // a wait for readability is pending on the server leg
  bool server_check_due_ = false;   // the leg became readable during a command: look again when idle
  std::uint32_t commands_ = 0;      // commands read so far (wraps; only compared for equality)
  std::uint32_t idle_mark_ = 0;     // commands_ when a tick last saw the session idle and unwatched
  bool idle_marked_ = false;

 public:
  bool idle_between_commands() const { return phase_ == Phase::kIdle; }

 private:
  enum class Phase : std::uint8_t { kConnecting, kHandshake, kIdle, kBusy, kClosed };

  // What became of a client command at the decision point.
  enum class Outcome : std::uint8_t { kForwarded, kAnswered, kClosed };

  struct Packet {
    protocol::PacketHeader header;
    protocol::Bytes payload;
  };

  Task<bool> connect_backend();
  // The client handshake and TLS on each leg (session_handshake.cpp).
  Task<bool> handshake();
  // The authentication relay (session_auth.cpp). `change_user`: re-authentication by
  // COM_CHANGE_USER, which the server refuses without closing the connection (see
  // kept_after_failed_change_user()).
  Task<bool> relay_authentication(std::uint8_t client_seq, std::uint8_t server_seq, bool change_user = false);
  Task<bool> pass_buffered_packet(RelayBuffer& buffer, Leg& to, std::size_t payload_size, std::uint8_t seq);
  Task<bool> pass_authentication_ok(protocol::Bytes payload, std::uint8_t client_seq);
  bool authentication_refused(const std::optional<protocol::ErrPacket>& err, bool change_user);
  void kept_after_failed_change_user();
  // The command loop, the response relay and the proxy's own queries (session_relay.cpp).
  Task<void> command_loop();
  Task<bool> handle_command();
  Task<bool> relay_response(protocol::Command command, bool forward);
  void note_response_packet();
  Task<bool> internal_query(std::string_view sql);
  Task<bool> relay_local_infile();
  Task<bool> move_logical_packet(Leg& from, RelayBuffer& buffer, Leg* to, std::uint8_t* last_seq);
  Task<bool> drain_internal_responses();
  Task<bool> send_session_queries();
  void learn_server_version();
  // Shared by the state machines (session.cpp).
  Task<bool> fill(Leg& leg, RelayBuffer& buffer, std::size_t n);
  Task<std::optional<Packet>> read_packet(Leg& leg, RelayBuffer& buffer);
  Task<bool> send_client_error(std::uint8_t seq, std::uint16_t code, std::string_view state,
                                    std::string_view message);
  Task<bool> send_greeting_error(std::uint16_t code, std::string_view message);

  // Policy (session_policy.cpp): every command is decided by policy::decide_command
  // before any of it reaches the server; the session carries out the Action.
  void refresh_policy();
  policy::SessionState policy_state() const;
  policy::SessionFacts policy_facts() const;
  void set_migration_for_user();
  Task<Outcome> decide_and_forward(Command command, bool whole, std::size_t visible);
  protocol::Bytes command_payload(std::size_t visible) const;
  policy::Action decide(Command command, bool whole, std::size_t visible);
  void note_forwarded(Command command, std::size_t visible);
  void note_change_user(const protocol::ChangeUser& change);
  Task<Outcome> stream_statement(Command command);
  void note_state_changes(policy::Analysis& analysis);
  Task<Outcome> answer_existing_table(policy::CommandDecision asked, std::size_t visible);
  Task<Outcome> handle_migration_token(const std::optional<std::string>& token, std::size_t visible);
  Task<Outcome> reject_command(bool whole, std::size_t visible, const policy::Decision& decision);
  Task<Outcome> drop_command(bool whole, std::size_t visible);
  Task<Outcome> forward_whole(std::size_t visible);
  Task<Outcome> forward_change_user(const protocol::ChangeUser& requested, std::size_t visible);
  // At login and on COM_CHANGE_USER (defined in session_handshake.cpp).
  void stamp_client_address(std::vector<std::pair<std::string, std::string>>& attributes) const;
  void log_decision(const policy::Decision& decision, std::string_view what, bool withhold_text = false) const;

  // Audit log and metrics (session_audit.cpp).
  audit::AuditEvent audit_event(audit::Event event) const;
  void audit_write(const audit::AuditEvent& event) const;
  // One decision on a command: the audit line it deserves, and the metrics.
  void record(const policy::CommandDecision& decided, std::string_view command, std::string_view text,
              std::size_t full_length);
  // A COM_STMT_EXECUTE: a statement event naming what was prepared under that id.
  void record_execution(const policy::CommandDecision& decided, std::string_view command, std::uint32_t statement_id);
  // Prepared statements' digests, kept while statement events are audited, for
  // their executions (a bounded number: the oldest is forgotten first).
  void remember_prepare(const policy::CommandDecision& decided, std::string_view sql);
  void forget_prepared();
  void forget_prepared(std::uint32_t statement_id);
  Task<bool> close_migration_statements();
  // Ends the session's migration, of either kind; the statements prepared in it must have
  // been closed first (close_migration_statements).
  void end_migration(std::string_view how);
  bool migration_token_expired() const;
  Task<bool> recheck_migration();
  void leave_migration();
  // The account changes or the session ends: every migration open in the audit log ends.
  void end_migrations_in_log(std::string_view how);
  bool listed_for_migration() const;
  // `account`: the account's own migration, audited without the token the session may hold.
  enum class Whose : std::uint8_t { current, account };
  void audit_migration(audit::Event event, std::string_view message, Whose whose = Whose::current) const;
  void meter_bytes();

  // Shared by the state machines (session.cpp).
  void apply_ok(const protocol::OkPacket& ok);
  void set_deadline(std::chrono::milliseconds timeout);
  // While the session waits on its client in the middle of a command (the rest of a
  // packet, or room to write a result), the idle timeout runs too: a client that stops
  // half-way cannot hold its session and backend connection forever.
  void client_progress_deadline();
  void close_legs();

  SharedState& shared_;
  Worker& worker_;
  const std::shared_ptr<const ConnectionSettings> connection_;  // as when this session was accepted
  std::uint64_t id_;
  Leg client_;
  Leg server_;
  RelayBuffer client_buffer_;
  RelayBuffer server_buffer_;
  std::string client_address_;
  std::uint16_t client_port_ = 0;

  // Held from accept until the client is authenticated (limits.max_handshakes).
  HandshakeSlots::Slot handshake_slot_;
  Phase phase_ = Phase::kConnecting;
  Clock::time_point started_ = Clock::now();
  bool authenticated_ = false;
  std::uint64_t metered_from_client_ = 0;
  std::uint64_t metered_from_server_ = 0;
  std::string stream_head_;  // the start of a statement too long to hold, for the audit log
  Clock::time_point deadline_ = Clock::time_point::max();

  std::uint64_t server_capabilities_ = 0;
  std::uint64_t client_capabilities_ = 0;
  std::uint64_t backend_capabilities_ = 0;
  std::uint64_t server_connection_id_ = 0;  // the greeting's 32 bits, then CONNECTION_ID()
  std::string user_;
  // Who the session was before a COM_CHANGE_USER, which a refused one goes back to.
  std::string user_before_change_;
  bool account_migration_before_change_ = false;
  std::string schema_before_change_;
  std::optional<admin::Metrics::UserId> user_metric_;  // user_'s rejects_by_user label, once looked up
  std::string scramble_;  // the nonce the client's password proof answers (greeting or auth switch)
  protocol::ResponseEditor editor_{false, false, false};
  int internal_responses_ = 0;  // answers to the proxy's own queries, not forwarded

  // Session state read from the server's session tracking.
  std::string schema_;
  std::string sql_mode_;
  std::string character_set_client_;
  std::string character_set_connection_;
  // The server converts dynamic SQL's text between the two (policy::SessionState); true
  // while either is unknown, as same_charset() is false then.
  bool dynamic_text_converted_ = true;
  bool state_known_ = false;
  // The statement that turns tracking on is still to be sent: it goes out with the
  // first command that needs the state (see leaves_session_state in session_relay.cpp).
  bool tracking_pending_ = false;

  // Policy state of the session.
  std::shared_ptr<const PolicyRuntime> runtime_;
  std::uint64_t runtime_generation_ = 0;
  policy::SqlModeReading sql_mode_reading_;
  policy::CharsetClass charset_class_ = policy::CharsetClass::utf8;
  // How the server reads executable comments, once its answer to policy::version_question
  // confirmed the flavour and version its greeting announced; until then (and if it did not) not
  // known, and no versioned executable comment is read. The greeting comes before TLS, and
  // its version string is whatever the server's --version says (review rounds 34 and 35).
  std::optional<policy::ServerVersion> server_version_;
  std::optional<policy::ServerVersion> announced_version_;  // the greeting's
  std::string greeting_version_;  // the greeting's version text, for the log
  std::string version_expected_;  // the answer that confirms it (policy::VersionQuestion)
  bool version_pending_ = false;  // to be asked with the next state tracking statement
  bool version_asked_ = false;    // asked; its answer not yet read
  // The connection id came over TLS (or, without TLS, from wherever everything else did).
  bool connection_id_confirmed_ = false;
  policy::Migration migration_;
  std::int64_t migration_expires_at_ = 0;  // unix seconds: the token's, whose migration ends then
  std::string migration_token_id_;
  std::string migration_token_;  // kept to verify it again after a reload (recheck_migration)
  // The account's own migration (migration.users) is open in the audit log: begun at
  // login, it goes on under a token the session sets, and resumes when the token's ends.
  bool account_migration_ = false;
  // The configuration generation the session's migration was last checked under.
  std::uint64_t migration_generation_ = 0;
  std::vector<policy::PreparedName> prepared_names_;  // policy::SessionState::prepared_names
  std::optional<std::vector<policy::PreparedName>> pending_prepared_names_;  // once the answer is not an ERR
  bool multi_statements_ = false;
  std::optional<bool> pending_multi_statements_;  // COM_SET_OPTION waiting for its OK
  std::uint16_t server_status_ = protocol::status::kAutocommit;
  struct Prepared {
    std::uint32_t id = 0;
    std::string digest;
    std::string_view kind;  // statement kind, a static name
  };
  static constexpr std::size_t kMaxPrepared = 64;
  // Every statement the session prepared over the binary protocol, with the client
  // character set it was read in.
  static constexpr std::uint32_t kLastPrepared = 0xFFFFFFFF;  // MariaDB: the statement prepared last
  StatementCharsets statement_charsets_;
  // The decision on the command being carried out (decide_and_forward), with the
  // COM_CHANGE_USER it read.
  struct Decided {
    policy::CommandDecision command;
    std::optional<protocol::ChangeUser> change;
  };
  Decided decided_;
  // The statement the server would run for id 0xFFFFFFFF: the one prepared last, none
  // after a prepare that failed or was refused, or after it was closed (review round 15).
  std::optional<std::pair<std::uint32_t, policy::CharsetClass>> last_prepared_;
  std::vector<Prepared> prepared_;
  std::optional<Prepared> pending_prepare_;  // its id comes with the server's answer
  // Statements prepared over the binary protocol in a token's migration: closed on the
  // server when it ends, so what the token allowed cannot run after it.
  static constexpr std::size_t kMaxMigrationStatements = 4096;
  std::vector<std::uint32_t> migration_statements_;
  // A migration user's session prepared more than kMaxMigrationStatements: if its migration
  // is revoked, the session closes, since not all of them can be closed.
  bool migration_statements_overflow_ = false;

  // Gathered output of relay_response: runs of the server buffer and replaced packets.
  static constexpr std::size_t kMaxSegments = 32;
  std::array<asio::const_buffer, kMaxSegments> segments_;
  std::size_t segment_count_ = 0;
  std::string rewritten_;
  std::string local_packet_;

  friend class Worker;
  Session* next_ = nullptr;
  Session* prev_ = nullptr;
};

}  // namespace djproxy::proxy
