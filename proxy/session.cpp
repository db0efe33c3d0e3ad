// A session's construction, its run from accept to close, and the helpers its state
// machines share: reading packets, sending errors, deadlines, the session state OK
// packets report. The state machines have files of their own: the client handshake
// (session_handshake.cpp), the authentication relay (session_auth.cpp), the command loop
// and response relay (session_relay.cpp).
#include "proxy/session.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <spdlog/spdlog.h>

#include "proxy/audit/audit_log.hpp"
#include "proxy/protocol/constants.hpp"
#include "proxy/protocol/generic_packets.hpp"
#include "proxy/session_internal.hpp"
#include "proxy/worker.hpp"

namespace djproxy::proxy {

namespace cap = protocol::cap;
using protocol::Bytes;
using protocol::kHeaderSize;
using session_internal::kBufferSize;

namespace {

bool is_ip_literal(const std::string& host) {
  ErrorCode ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

}  // namespace

Session::Session(SharedState& shared, Worker& worker, int& client, const tcp::endpoint& peer,
                 HandshakeSlots::Slot handshake)
    : shared_(shared),
      worker_(worker),
      connection_(shared.connection.get()),
      id_(shared.next_session_id.fetch_add(1, std::memory_order_relaxed)),
      client_(worker.loop(), client),
      server_(worker.loop()),
      client_buffer_(kBufferSize),
      server_buffer_(kBufferSize),
      client_address_(peer.address().to_string()),
      client_port_(peer.port()),
      handshake_slot_(std::move(handshake)) {
  const int one = 1;  // a latency setting: its failure does not fail the session
  ::setsockopt(client_.socket().fd(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
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

Task<void> Session::run() {
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
    // A migration ends with its session: every migration_begin gets its migration_end
    // (review round 27: a disconnect left it open in the log).
    end_migrations_in_log("session ended");
    auto e = audit_event(audit::Event::disconnect);
    e.duration_ms = std::chrono::duration<double, std::milli>(Clock::now() - started_).count();
    e.bytes_in = client_.bytes_read();
    e.bytes_out = client_.bytes_written();
    audit_write(e);
  }
  spdlog::debug("session {} closed", id_);
}

Task<bool> Session::connect_backend() {
  const auto& backend = connection_->options.backend;
  ErrorCode ec;
  if (phase_ == Phase::kClosed) {
    // Aborted before it ran (a shutdown's abort in the same turn as its hand-over):
    // no backend connection (review round 33).
    co_return false;
  } else if (is_ip_literal(backend.host)) {
    const tcp::endpoint endpoint(asio::ip::make_address(backend.host), backend.port);
    ec = co_await server_.connect(endpoint);
  } else {
    const std::string port = std::to_string(backend.port);  // named: see the GCC 12 note in task.hpp
    const auto resolved = co_await worker_.loop().resolve(backend.host, port);
    ec = resolved.error ? resolved.error : ErrorCode(asio::error::host_not_found);
    for (const auto& endpoint : resolved.endpoints) {  // each address in turn, as the resolver ordered them
      // A session closed meanwhile (the connect timeout ran out during a slow lookup,
      // shutdown) opens no backend connection (review round 32).
      if (phase_ == Phase::kClosed) break;
      ec = co_await server_.connect(endpoint);
      // Connected, or the session was closed meanwhile: the next address must not
      // reopen the leg.
      if (!ec) break;
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

Task<bool> Session::fill(Leg& leg, RelayBuffer& buffer, std::size_t n) {
  if (buffer.size() + buffer.space_size() < n) buffer.compact();
  while (buffer.size() < n) {
    if (&leg == &client_) client_progress_deadline();
    auto [ec, got] = co_await leg.read_some(asio::buffer(buffer.space(), buffer.space_size()));
    leg.count_read(got);
    if (ec) co_return false;
    buffer.commit(got);
  }
  if (&leg == &client_ && phase_ == Phase::kBusy) deadline_ = Clock::time_point::max();
  co_return true;
}

Task<std::optional<Session::Packet>> Session::read_packet(Leg& leg, RelayBuffer& buffer) {
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

Task<bool> Session::send_client_error(std::uint8_t seq, std::uint16_t code, std::string_view state,
                                           std::string_view message) {
  local_packet_.clear();
  protocol::append_err_packet(local_packet_, seq, code, state, message);
  co_return !co_await client_.write(asio::buffer(local_packet_));
}

// Before the client has a greeting: the pre-handshake layout (no SQLSTATE marker).
Task<bool> Session::send_greeting_error(std::uint16_t code, std::string_view message) {
  local_packet_.clear();
  protocol::append_greeting_err_packet(local_packet_, code, message);
  co_return !co_await client_.write(asio::buffer(local_packet_));
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
  if (changes.collation_connection)
    character_set_connection_ = std::string(policy::charset_of_collation(*changes.collation_connection));
  if (changes.character_set_connection) character_set_connection_ = *changes.character_set_connection;
  // Compared here, when either changes, not at every command (bench/RESULTS.md, CPU per query).
  dynamic_text_converted_ = !policy::same_charset(character_set_client_, character_set_connection_);
}

}  // namespace djproxy::proxy
