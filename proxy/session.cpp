#include "proxy/session.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "proxy/audit/audit_log.hpp"
#include "proxy/protocol/constants.hpp"
#include "proxy/protocol/generic_packets.hpp"
#include "proxy/protocol/handshake.hpp"
#include "proxy/worker.hpp"

#include <openssl/crypto.h>

namespace djproxy::proxy {

namespace cap = protocol::cap;
using protocol::Bytes;
using protocol::Command;
using protocol::kHeaderSize;
using protocol::kMaxPayload;

namespace {

// Sized so that every packet the proxy must see whole (handshake, OK, EOF, ERR) fits,
// and large enough that big rows and blobs move in few system calls. Both legs' buffers
// together bound the memory of a session, whatever passes through it.
constexpr std::size_t kBufferSize = 64 * 1024;

// Enables tracking of the state the policy depends on and, in the same statement,
// makes the server report its current value (assigning a tracked variable reports it).
constexpr std::string_view kStateTrackingQuery =
    "SET @@session.session_track_schema=ON, "
    "@@session.session_track_system_variables=CONCAT_WS(',', "
    "NULLIF(@@session.session_track_system_variables,''), 'sql_mode,character_set_client'), "
    "@@session.sql_mode=@@session.sql_mode, "
    "@@session.character_set_client=@@session.character_set_client";

// Bits the server never sees from a client but which a client may set for itself.
constexpr std::uint64_t kClientSideOnly = cap::kSslVerifyServerCert | cap::kRememberOptions;

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

bool is_ip_literal(const std::string& host) {
  ErrorCode ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

}  // namespace

Session::Session(SharedState& shared, Worker& worker, tcp::socket client, const tcp::endpoint& peer,
                 HandshakeSlots::Slot handshake)
    : shared_(shared),
      worker_(worker),
      connection_(shared.connection.get()),
      id_(shared.next_session_id.fetch_add(1, std::memory_order_relaxed)),
      client_(std::move(client)),
      server_(tcp::socket(worker.context())),
      client_buffer_(kBufferSize),
      server_buffer_(kBufferSize),
      client_address_(peer.address().to_string()),
      client_port_(peer.port()),
      handshake_slot_(std::move(handshake)) {
  ErrorCode ec;
  client_.socket().set_option(tcp::no_delay(true), ec);
  rewritten_.reserve(kBufferSize);
  worker_.attach(this);
}

Session::~Session() {
  worker_.detach(this);
  shared_.metrics.connection_closed();
  shared_.open_connections.fetch_sub(1, std::memory_order_relaxed);
}

void Session::set_deadline(std::chrono::milliseconds timeout) {
  deadline_ = timeout.count() > 0 ? Clock::now() + timeout : Clock::time_point::max();
}

void Session::client_progress_deadline() {
  if (phase_ == Phase::kBusy) set_deadline(connection_->options.idle_timeout);
}

void Session::close_legs() {
  phase_ = Phase::kClosed;
  client_.close();
  server_.close();
}

void Session::abort() { close_legs(); }

void Session::expire_if_due(Clock::time_point now) {
  if (phase_ == Phase::kIdle && server_check_due_) check_idle_server_leg();
  if (phase_ == Phase::kClosed || now < deadline_) return;
  const char* what = phase_ == Phase::kIdle ? "idle timeout" : phase_ == Phase::kConnecting ? "backend connect timeout"
                                                                                             : "handshake timeout";
  spdlog::info("session {} from {}:{}: {}, closing", id_, client_address_, client_port_, what);
  close_legs();
}

Awaitable<void> Session::run() {
  auto self = shared_from_this();
  set_deadline(connection_->options.connect_timeout);
  const auto connected = co_await connect_backend();
  if (!connected) {
    // Named, not a temporary in the co_await: GCC 12 may destroy such temporaries twice.
    const std::string message = fmt::format("djproxy: cannot connect to the backend {}:{}",
                                            connection_->options.backend.host, connection_->options.backend.port);
    co_await send_greeting_error(protocol::err::kCannotConnect, message);
    close_legs();
    co_return;
  }
  phase_ = Phase::kHandshake;
  set_deadline(connection_->options.handshake_timeout);
  const auto authenticated = co_await handshake();
  if (authenticated) co_await command_loop();
  close_legs();
  if (authenticated_) {
    meter_bytes();
    auto e = audit_event(audit::Event::disconnect);
    e.duration_ms = std::chrono::duration<double, std::milli>(Clock::now() - started_).count();
    e.bytes_in = client_.bytes_read();
    e.bytes_out = client_.bytes_written();
    audit_write(e);
  }
  spdlog::debug("session {} closed", id_);
}

Awaitable<bool> Session::connect_backend() {
  const auto& backend = connection_->options.backend;
  ErrorCode ec;
  if (is_ip_literal(backend.host)) {
    const tcp::endpoint endpoint(asio::ip::make_address(backend.host), backend.port);
    ec = co_await server_.connect(endpoint);
  } else {
    tcp::resolver resolver(worker_.context());
    const std::string port = std::to_string(backend.port);  // named: see the GCC 12 note in asio.hpp
    auto [resolve_error, endpoints] = co_await resolver.async_resolve(backend.host, port, use_tuple);
    ec = resolve_error ? resolve_error : ErrorCode(asio::error::host_not_found);
    for (const auto& entry : endpoints) {  // each address in turn, as the resolver ordered them
      const tcp::endpoint endpoint = entry.endpoint();
      ec = co_await server_.connect(endpoint);
      // Connected, or the session was closed meanwhile (connect timeout, shutdown):
      // the next address must not reopen the leg.
      if (!ec || phase_ == Phase::kClosed) break;
    }
  }
  if (!ec && phase_ == Phase::kClosed) ec = asio::error::operation_aborted;
  if (ec) {
    shared_.metrics.backend_connect_error();
    spdlog::warn("session {} from {}:{}: backend {}:{} unreachable: {}", id_, client_address_, client_port_,
                 backend.host, backend.port, ec.message());
    co_return false;
  }
  co_return true;
}

Awaitable<bool> Session::fill(Leg& leg, RelayBuffer& buffer, std::size_t n) {
  if (buffer.size() + buffer.space_size() < n) buffer.compact();
  while (buffer.size() < n) {
    if (&leg == &client_) client_progress_deadline();
    auto [ec, got] = co_await leg.read_some(asio::buffer(buffer.space(), buffer.space_size()));
    if (ec) co_return false;
    buffer.commit(got);
  }
  if (&leg == &client_ && phase_ == Phase::kBusy) deadline_ = Clock::time_point::max();
  co_return true;
}

Awaitable<std::optional<Session::Packet>> Session::read_packet(Leg& leg, RelayBuffer& buffer) {
  const bool have_header = co_await fill(leg, buffer, kHeaderSize);
  if (!have_header) co_return std::nullopt;
  const auto header = protocol::read_header(buffer.data());
  if (header.length + kHeaderSize > buffer.capacity()) {
    spdlog::warn("session {}: {}-byte packet during the handshake is too large", id_, header.length);
    co_return std::nullopt;
  }
  const bool filled = co_await fill(leg, buffer, kHeaderSize + header.length);
  if (!filled) co_return std::nullopt;
  co_return Packet{header, Bytes(buffer.data() + kHeaderSize, header.length)};
}

Awaitable<bool> Session::send_client_error(std::uint8_t seq, std::uint16_t code, std::string_view state,
                                           std::string_view message) {
  local_packet_.clear();
  protocol::append_err_packet(local_packet_, seq, code, state, message);
  co_return !co_await client_.write(asio::buffer(local_packet_));
}

// Before the client has a greeting: the pre-handshake layout (no SQLSTATE marker).
Awaitable<bool> Session::send_greeting_error(std::uint16_t code, std::string_view message) {
  local_packet_.clear();
  protocol::append_greeting_err_packet(local_packet_, code, message);
  co_return !co_await client_.write(asio::buffer(local_packet_));
}

Awaitable<bool> Session::handshake() {
  auto greeting_packet = co_await read_packet(server_, server_buffer_);
  if (!greeting_packet) {
    co_await send_greeting_error(protocol::err::kHandshake,
                                 "djproxy: the backend closed the connection before its greeting");
    co_return false;
  }
  if (protocol::is_err(greeting_packet->payload)) {
    // The server refused us (too many connections, host blocked): the client hears it.
    co_await client_.write(asio::buffer(server_buffer_.data(), kHeaderSize + greeting_packet->header.length));
    co_return false;
  }
  auto greeting = protocol::Greeting::parse(greeting_packet->payload);
  server_buffer_.consume(kHeaderSize + greeting_packet->header.length);
  if (!greeting) {
    co_await send_greeting_error(protocol::err::kHandshake,
                                 "djproxy: the backend's greeting is not a protocol 4.1 handshake");
    co_return false;
  }
  server_capabilities_ = greeting->capabilities;
  server_connection_id_ = greeting->connection_id;
  server_version_ = policy::read_server_version(greeting->server_version);
  scramble_ = greeting->auth_data_1 + greeting->auth_data_2;
  if (!scramble_.empty() && scramble_.back() == '\0') scramble_.pop_back();

  const auto& options = connection_->options;
  const bool backend_tls = connection_->tls.backend_leg && (server_capabilities_ & cap::kSsl);
  if (options.backend_tls >= BackendTlsMode::kRequired && !backend_tls) {
    spdlog::error("session {}: backend offers no TLS but backend_tls.mode requires it", id_);
    co_await send_greeting_error(protocol::err::kHandshake,
                                 "djproxy: the backend does not offer TLS, which backend_tls.mode requires");
    co_return false;
  }
  // TLS on the client leg only when the backend leg has it too: passwords that a
  // client sends in the clear inside TLS must not cross a plaintext leg.
  const bool offer_tls = connection_->tls.client_leg && backend_tls;

  protocol::Greeting to_client = *greeting;
  to_client.capabilities &= cap::kUnderstood;
  if (offer_tls) {
    to_client.capabilities |= cap::kSsl;
  } else {
    to_client.capabilities &= ~cap::kSsl;
  }
  const std::uint64_t offered = to_client.capabilities;
  local_packet_.clear();
  {
    protocol::PacketBuilder builder(local_packet_);
    std::string payload;
    to_client.encode(payload);
    local_packet_.append(payload);
    builder.finish(0);
  }
  const auto write_error = co_await client_.write(asio::buffer(local_packet_));
  if (write_error) co_return false;

  auto first = co_await read_packet(client_, client_buffer_);
  if (!first) co_return false;
  std::uint8_t client_seq = first->header.sequence;
  if (client_seq != 1) {
    co_await send_client_error(client_seq + 1, protocol::err::kNetPacketsOutOfOrder, "08S01",
                               "djproxy: packets out of order in the handshake");
    co_return false;
  }
  if (auto ssl_request = protocol::HandshakeResponse::parse_ssl_request(first->payload)) {
    client_buffer_.consume(kHeaderSize + first->header.length);
    if (!offer_tls) co_return false;  // asked for TLS that was not offered: nothing safe to say in clear
    const ErrorCode tls_error = co_await client_.start_tls_server(
        *connection_->tls.client_leg, asio::buffer(client_buffer_.data(), client_buffer_.size()));
    client_buffer_.consume(client_buffer_.size());
    if (tls_error) {
      const auto& ec = tls_error;
      spdlog::info("session {} from {}:{}: client TLS handshake failed: {}", id_, client_address_, client_port_,
                   ec.message());
      co_return false;
    }
    first = co_await read_packet(client_, client_buffer_);
    if (!first) co_return false;
    client_seq = first->header.sequence;
    if (client_seq != 2) co_return false;
  } else if (options.client_tls == ClientTlsMode::kRequired) {
    co_await send_client_error(client_seq + 1, 3159, "08004",
                               "djproxy: connections using insecure transport are prohibited (client_tls.mode=required)");
    co_return false;
  }

  auto response = protocol::HandshakeResponse::parse(first->payload);
  client_buffer_.consume(kHeaderSize + first->header.length);
  if (!response) {
    co_await send_client_error(client_seq + 1, protocol::err::kHandshake, "08S01",
                               "djproxy: bad handshake (only protocol 4.1 clients are supported)");
    co_return false;
  }
  client_capabilities_ = response->capabilities & (offered | kClientSideOnly);
  user_ = response->user;
  multi_statements_ = (client_capabilities_ & cap::kMultiStatements) != 0;
  refresh_policy();
  set_migration_for_user();
  if ((client_capabilities_ & cap::kConnectWithDb) && !response->database.empty()) {
    const auto decided = policy::decide_login(response->database, policy_facts(), runtime_->config);
    const auto& decision = decided.decision;
    log_decision(decision, "login schema");
    if (decision.verdict == policy::Verdict::reject) {
      record(decided, "login", response->database, response->database.size());
    }
    if (decided.action == policy::Action::reject) {
      co_await send_client_error(client_seq + 1, decision.code, decision.sqlstate, decision.message);
      co_return false;
    }
  }

  backend_capabilities_ = (client_capabilities_ & (server_capabilities_ | kClientSideOnly) & cap::kUnderstood) |
                          (server_capabilities_ & (cap::kSessionTrack | cap::kConnectAttrs));
  backend_capabilities_ &= ~cap::kSsl;
  if (backend_tls) backend_capabilities_ |= cap::kSsl;
  response->capabilities = backend_capabilities_;
  if (backend_capabilities_ & cap::kConnectAttrs) stamp_client_address(response->attributes);
  schema_ = (client_capabilities_ & cap::kConnectWithDb) ? response->database : std::string();

  std::uint8_t server_seq = 1;
  if (backend_tls) {
    local_packet_.clear();
    protocol::PacketBuilder builder(local_packet_);
    std::string payload;
    response->encode_ssl_request(payload);
    local_packet_.append(payload);
    builder.finish(server_seq++);
    const auto write_error = co_await server_.write(asio::buffer(local_packet_));
    if (write_error) co_return false;
    const bool verify_host = options.backend_tls == BackendTlsMode::kVerifyIdentity;
    const ErrorCode tls_error =
        co_await server_.start_tls_client(*connection_->tls.backend_leg, options.backend.host, verify_host);
    if (tls_error) {
      const auto& ec = tls_error;
      spdlog::error("session {}: backend TLS handshake failed: {}", id_, ec.message());
      const std::string message = "djproxy: TLS to the backend failed: " + ec.message();
      co_await send_client_error(client_seq + 1, protocol::err::kHandshake, "08S01", message);
      co_return false;
    }
  }
  local_packet_.clear();
  {
    protocol::PacketBuilder builder(local_packet_);
    std::string payload;
    response->encode(payload);
    local_packet_.append(payload);
    builder.finish(server_seq++);
  }
  const auto response_write_error = co_await server_.write(asio::buffer(local_packet_));
  if (response_write_error) co_return false;

  tracker_ = protocol::ResponseTracker((backend_capabilities_ & cap::kDeprecateEof) != 0,
                                       (backend_capabilities_ & cap::kSessionTrack) != 0);
  co_return co_await relay_authentication(static_cast<std::uint8_t>(client_seq + 1), server_seq);
}

// The real client's address, where the server and DBAs look for it; a client cannot
// forge these two since the proxy replaces them.
void Session::stamp_client_address(std::vector<std::pair<std::string, std::string>>& attributes) const {
  std::erase_if(attributes, [](const auto& kv) { return kv.first == "_client_ip" || kv.first == "_client_port"; });
  attributes.emplace_back("_client_ip", client_address_);
  attributes.emplace_back("_client_port", std::to_string(client_port_));
}

// Pass-through authentication: the server and the client talk; the proxy renumbers
// each packet for the other leg and watches for the end. The proxy never sees a
// password it could use.
Awaitable<bool> Session::relay_authentication(std::uint8_t client_seq, std::uint8_t server_seq, bool change_user) {
  for (;;) {
    auto from_server = co_await read_packet(server_, server_buffer_);
    if (!from_server) {
      co_await send_client_error(client_seq, 2013, "HY000", "djproxy: lost the backend during authentication");
      co_return false;
    }
    if (from_server->header.sequence != server_seq) {
      spdlog::warn("session {}: backend sent sequence {} (expected {}) during authentication", id_,
                   from_server->header.sequence, server_seq);
      co_return false;
    }
    ++server_seq;
    const Bytes payload = from_server->payload;
    const std::size_t packet_size = kHeaderSize + payload.size();
    if (payload.empty()) co_return false;
    const std::uint8_t kind = payload[0];

    if (kind == 0x00) {
      auto ok = protocol::OkPacket::parse(payload, backend_capabilities_ & cap::kSessionTrack);
      if (!ok) co_return false;
      apply_ok(*ok);
      tracking_pending_ = true;
      if (client_needs_ok_rewrite(*ok)) {
        rewritten_.clear();
        protocol::PacketBuilder builder(rewritten_);
        std::string body;
        ok->encode(body, false);
        rewritten_.append(body);
        builder.finish(client_seq);
        server_buffer_.consume(packet_size);
        const auto write_error = co_await client_.write(asio::buffer(rewritten_));
        if (write_error) co_return false;
      } else {
        server_buffer_.data()[3] = client_seq;
        const bool failed = static_cast<bool>(co_await client_.write(asio::buffer(server_buffer_.data(), packet_size)));
        server_buffer_.consume(packet_size);
        if (failed) co_return false;
      }
      phase_ = Phase::kIdle;
      authenticated_ = true;
      handshake_slot_.release();
      audit_write(audit_event(audit::Event::connect));
      if (migration_.kind == policy::MigrationKind::by_user) {
        shared_.metrics.migration_begun(admin::MigrationVia::user);
        audit_migration(audit::Event::migration_begin, "migration user (migration.users)");
      }
      spdlog::debug("session {} from {}:{}: user '{}' authenticated (backend connection {})", id_, client_address_,
                    client_port_, user_, server_connection_id_);
      co_return true;
    }

    server_buffer_.data()[3] = client_seq++;
    const bool failed = static_cast<bool>(co_await client_.write(asio::buffer(server_buffer_.data(), packet_size)));
    server_buffer_.consume(packet_size);
    if (failed) co_return false;
    if (kind == 0xFF) {
      spdlog::info("session {} from {}:{}: authentication of '{}' failed", id_, client_address_, client_port_, user_);
      refresh_policy();
      auto e = audit_event(audit::Event::auth_failed);
      const auto err = protocol::ErrPacket::parse(payload);
      if (err) {
        e.error_code = err->code;
        e.message = err->message;
      }
      audit_write(e);
      if (change_user) {
        kept_after_failed_change_user();
        co_return true;
      }
      co_return false;
    }
    // caching_sha2_password's "fast auth success" (0x01 0x03): the server's OK follows
    // without a client turn.
    if (kind == 0x01 && payload.size() == 2 && payload[1] == 0x03) continue;
    if (kind != 0xFE && kind != 0x01) {
      spdlog::warn("session {}: unexpected packet 0x{:02x} from the backend during authentication", id_, kind);
      co_return false;
    }
    if (kind == 0xFE) {
      // Auth switch: plugin name, then the new nonce (with a trailing NUL).
      protocol::Reader r(payload.subspan(1));
      r.nul_terminated();
      std::string nonce(protocol::as_chars(r.rest()));
      if (!nonce.empty() && nonce.back() == '\0') nonce.pop_back();
      if (r.ok() && !nonce.empty()) scramble_ = std::move(nonce);
    }
    // caching_sha2_password "perform full authentication" (0x01 0x04) where only the
    // backend leg has TLS: the client will ask for a public key (0x02), which the
    // proxy answers itself (see rsa_exchange.hpp).
    const bool proxy_rsa = kind == 0x01 && payload.size() == 2 && payload[1] == 0x04 && server_.tls() &&
                           !client_.tls() && connection_->rsa;

    auto from_client = co_await read_packet(client_, client_buffer_);
    if (!from_client || from_client->header.sequence != client_seq) co_return false;
    ++client_seq;
    if (proxy_rsa && from_client->payload.size() == 1 && from_client->payload[0] == 0x02) {
      client_buffer_.consume(kHeaderSize + 1);
      local_packet_.clear();
      {
        protocol::PacketBuilder builder(local_packet_);
        auto w = builder.writer();
        w.u8(0x01);
        w.bytes(connection_->rsa->public_key_pem());
        builder.finish(client_seq++);
      }
      const auto key_write_error = co_await client_.write(asio::buffer(local_packet_));
      if (key_write_error) co_return false;
      auto encrypted = co_await read_packet(client_, client_buffer_);
      if (!encrypted || encrypted->header.sequence != client_seq) co_return false;
      ++client_seq;
      const auto password = connection_->rsa->decrypt_password(protocol::as_chars(encrypted->payload), scramble_);
      client_buffer_.consume(kHeaderSize + encrypted->header.length);
      if (!password) {
        co_await send_client_error(client_seq, 1045, "28000", "djproxy: the RSA-encrypted password does not decrypt");
        co_return false;
      }
      local_packet_.clear();
      {
        protocol::PacketBuilder builder(local_packet_);
        builder.writer().bytes(*password);
        builder.finish(server_seq++);
      }
      const auto password_write_error = co_await server_.write(asio::buffer(local_packet_));
      OPENSSL_cleanse(local_packet_.data(), local_packet_.size());
      if (password_write_error) co_return false;
      continue;
    }
    const std::size_t client_packet_size = kHeaderSize + from_client->header.length;
    client_buffer_.data()[3] = server_seq++;
    const bool write_failed =
        static_cast<bool>(co_await server_.write(asio::buffer(client_buffer_.data(), client_packet_size)));
    client_buffer_.consume(client_packet_size);
    if (write_failed) co_return false;
  }
}

// A refused COM_CHANGE_USER leaves the connection open: the server puts the previous
// account and schema back (sql_parse.cc, COM_CHANGE_USER), though it has already reset
// the session (variables, temporary tables, and so the state tracking the proxy asked
// for). The session goes on as that account, as it does directly; a token's migration
// stays ended.
void Session::kept_after_failed_change_user() {
  user_ = user_before_change_;
  schema_ = schema_before_change_;
  migration_ = {};
  migration_token_id_.clear();
  set_migration_for_user();
  tracking_pending_ = true;
}

// Asks the server something on the proxy's own account; the answer is read, not
// forwarded (internal_rows_ counts its rows).
Awaitable<bool> Session::internal_query(std::string_view sql) {
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

Awaitable<bool> Session::send_state_tracking_query() {
  if (!(backend_capabilities_ & cap::kSessionTrack)) {
    spdlog::warn("session {}: the backend has no session tracking; schema and sql_mode are not known", id_);
    co_return true;
  }
  local_packet_.clear();
  protocol::PacketBuilder builder(local_packet_);
  auto writer = builder.writer();
  writer.u8(static_cast<std::uint8_t>(Command::kQuery));
  writer.bytes(kStateTrackingQuery);
  builder.finish(0);
  const auto write_error = co_await server_.write(asio::buffer(local_packet_));
  if (write_error) co_return false;
  ++internal_responses_;
  co_return true;
}

void Session::apply_ok(const protocol::OkPacket& ok) {
  server_status_ = ok.status;
  if (ok.session_state.empty()) return;
  const auto changes = protocol::parse_session_state(ok.session_state);
  if (changes.malformed) spdlog::warn("session {}: malformed session state from the backend", id_);
  if (changes.schema) schema_ = *changes.schema;
  if (changes.sql_mode) {
    sql_mode_ = *changes.sql_mode;
    sql_mode_reading_ = policy::read_sql_mode(sql_mode_);
    state_known_ = true;
  }
  if (changes.character_set_client) {
    character_set_client_ = *changes.character_set_client;
    charset_class_ = policy::charset_class(character_set_client_);
  }
}

bool Session::client_needs_ok_rewrite(const protocol::OkPacket& ok) const {
  // The backend leg always tracks session state; a client that did not ask for it
  // must get OK packets in the older encoding (info as the rest of the packet).
  if (client_capabilities_ & cap::kSessionTrack) return false;
  if (!(backend_capabilities_ & cap::kSessionTrack)) return false;
  return !ok.info.empty() || !ok.session_state.empty() || (ok.status & protocol::status::kSessionStateChanged);
}

Awaitable<void> Session::command_loop() {
  // Not `while (co_await …)`: GCC 12 miscompiles co_await in a loop condition.
  for (;;) {
    const bool more = co_await handle_command();
    if (!more) co_return;
  }
}

Awaitable<bool> Session::drain_internal_responses() {
  while (internal_responses_ > 0) {
    --internal_responses_;
    const bool relayed = co_await relay_response(Command::kQuery, false);
    if (!relayed) co_return false;
  }
  co_return true;
}

Awaitable<bool> Session::handle_command() {
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
  const bool have_command = co_await fill(client_, client_buffer_, whole ? visible : kHeaderSize + 1);
  if (!have_command) co_return false;
  const auto command = static_cast<Command>(client_buffer_.data()[kHeaderSize]);
  if (tracking_pending_ && !leaves_session_state(command)) {
    // Its answer is read before the command is decided: the policy reads statements
    // under the sql_mode that answer reports.
    tracking_pending_ = false;
    const bool tracking_sent = co_await send_state_tracking_query();
    if (!tracking_sent) co_return false;
  }
  if (internal_responses_ > 0) {  // a coroutine call costs even when there is nothing to read
    const bool drained = co_await drain_internal_responses();
    if (!drained) co_return false;
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
      if (migration_.kind == policy::MigrationKind::by_token) {
        audit_migration(audit::Event::migration_end, "COM_RESET_CONNECTION");
        migration_ = {};
        migration_token_id_.clear();
        set_migration_for_user();
      }
      tracking_pending_ = true;
      co_return true;
    }
    default:
      co_return co_await relay_response(command, true);
  }
}

// Forwards one logical packet (a packet and its 16 MiB continuations) from one leg to
// the other as it arrives, without holding more than the buffer.
Awaitable<bool> Session::stream_logical_packet(Leg& from, RelayBuffer& buffer, Leg& to, std::uint8_t* last_seq) {
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
      const auto write_error = co_await to.write(asio::buffer(buffer.data(), n));
      if (write_error) co_return false;
      buffer.consume(n);
      left -= n;
    }
    if (header.length < kMaxPayload) co_return true;
  }
}

Awaitable<bool> Session::discard_logical_packet(std::uint8_t* last_seq) {
  for (;;) {
    const bool filled = co_await fill(client_, client_buffer_, kHeaderSize);
    if (!filled) co_return false;
    const auto header = protocol::read_header(client_buffer_.data());
    *last_seq = header.sequence;
    std::uint64_t left = kHeaderSize + header.length;
    while (left > 0) {
      if (client_buffer_.empty()) {
        const bool filled = co_await fill(client_, client_buffer_, 1);
        if (!filled) co_return false;
      }
      const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(left, client_buffer_.size()));
      client_buffer_.consume(n);
      left -= n;
    }
    if (header.length < kMaxPayload) co_return true;
  }
}

// LOCAL INFILE: the client sends the file as packets ending with an empty one.
Awaitable<bool> Session::relay_local_infile() {
  for (;;) {
    const bool filled = co_await fill(client_, client_buffer_, kHeaderSize);
    if (!filled) co_return false;
    const bool last = protocol::read_header(client_buffer_.data()).length == 0;
    std::uint8_t seq = 0;
    const bool streamed = co_await stream_logical_packet(client_, client_buffer_, server_, &seq);
    if (!streamed) co_return false;
    if (last) co_return true;
  }
}

// Streams the server's answer to the client. Runs of unchanged packets go out in one
// gathered write per read; only OK packets a client cannot read as they are get
// re-encoded. With `forward` false the answer is the proxy's own and only read.
Awaitable<bool> Session::relay_response(Command command, bool forward) {
  tracker_.start(command);
  const bool client_tracks = (client_capabilities_ & cap::kSessionTrack) != 0;
  std::size_t parsed = 0;       // bytes of the buffer already classified
  std::uint64_t stream_left = 0;  // bytes of the current packet not yet in the buffer
  bool done = false;
  bool infile = false;
  bool failed = false;          // the response is an ERR
  internal_rows_ = 0;
  segment_count_ = 0;
  rewritten_.clear();

  auto add_segment = [&](const void* data, std::size_t n) {
    if (!forward || n == 0) return;
    auto* bytes = static_cast<const std::uint8_t*>(data);
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
      const std::size_t available = server_buffer_.size() - parsed;
      if (stream_left > 0) {
        const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(stream_left, available));
        if (n == 0) break;
        add_segment(at, n);
        parsed += n;
        stream_left -= n;
        continue;
      }
      if (done || infile || available < kHeaderSize) break;
      const auto header = protocol::read_header(at);
      if (header.length > 0 && available < kHeaderSize + 1) break;
      const std::uint32_t needed = tracker_.bytes_needed(header.length > 0 ? at[kHeaderSize] : 0, header.length);
      if (kHeaderSize + needed > server_buffer_.capacity()) {
        spdlog::warn("session {}: {}-byte status packet from the backend exceeds the buffer", id_, header.length);
        co_return false;
      }
      if (available < kHeaderSize + needed) break;
      const auto packet = tracker_.on_packet(header.length, Bytes(at + kHeaderSize, needed));
      if (packet.verdict == protocol::ResponseTracker::Verdict::kProtocolError) {
        spdlog::warn("session {}: unexpected packet from the backend in the answer to {} (length {}, first byte 0x{:02x})",
                     id_, protocol::command_name(static_cast<std::uint8_t>(command)), header.length,
                     header.length > 0 ? at[kHeaderSize] : 0);
        co_return false;
      }
      const std::size_t packet_size = kHeaderSize + header.length;
      failed = failed || packet.is_err;
      if (packet.is_row) ++internal_rows_;
      if (packet.statement_id && pending_prepare_) {
        pending_prepare_->id = *packet.statement_id;
        if (prepared_.size() >= kMaxPrepared) prepared_.erase(prepared_.begin());
        prepared_.push_back(std::move(*pending_prepare_));
        pending_prepare_.reset();
      }
      if (packet.ok) {
        apply_ok(*packet.ok);
        if (forward && client_needs_ok_rewrite(*packet.ok)) {
          const std::size_t start = rewritten_.size();
          protocol::PacketBuilder builder(rewritten_);
          std::string body;
          packet.ok->encode(body, false);
          rewritten_.append(body);
          builder.finish(at[3]);
          add_segment(rewritten_.data() + start, rewritten_.size() - start);
          parsed += packet_size;
          done = packet.verdict == protocol::ResponseTracker::Verdict::kDone;
          continue;
        }
      }
      if (packet.is_eof && !client_tracks && header.length >= 5) {
        at[kHeaderSize + 4] &= static_cast<std::uint8_t>(~(protocol::status::kSessionStateChanged >> 8));
      }
      const std::size_t take = std::min(available, packet_size);
      add_segment(at, take);
      parsed += take;
      stream_left = packet_size - take;
      done = packet.verdict == protocol::ResponseTracker::Verdict::kDone;
      infile = packet.verdict == protocol::ResponseTracker::Verdict::kLocalInfile;
    }

    if (segment_count_ > 0) {
      client_progress_deadline();
      const auto write_error = co_await client_.write(std::span(segments_.data(), segment_count_));
      deadline_ = Clock::time_point::max();  // the server may take its time; the client may not
      if (write_error) co_return false;
      segment_count_ = 0;
    }
    server_buffer_.consume(parsed);
    parsed = 0;
    rewritten_.clear();
    if (done && stream_left == 0) {
      if (command == Command::kSetOption && pending_multi_statements_ && !failed) {
        multi_statements_ = *pending_multi_statements_;
      }
      pending_multi_statements_.reset();
      if (pending_prepared_names_ && !failed) prepared_names_ = std::move(*pending_prepared_names_);
      pending_prepared_names_.reset();
      co_return true;
    }
    if (infile && stream_left == 0) {
      const bool relayed_infile = co_await relay_local_infile();
      if (!relayed_infile) co_return false;
      tracker_.infile_sent();
      infile = false;
      continue;
    }
    // A partial packet near the end of the buffer moves to the front, so a status
    // packet that must be seen whole always finds room.
    if (server_buffer_.space_size() < kBufferSize / 4) server_buffer_.compact();
    auto [ec, got] = co_await server_.read_some(asio::buffer(server_buffer_.space(), server_buffer_.space_size()));
    if (ec) {
      spdlog::info("session {}: backend connection lost in the answer to {}: {}", id_,
                   protocol::command_name(static_cast<std::uint8_t>(command)), ec.message());
      co_return false;
    }
    server_buffer_.commit(got);
  }
}

}  // namespace djproxy::proxy
