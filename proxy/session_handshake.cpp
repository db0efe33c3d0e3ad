// The client handshake: the server's greeting, rewritten for the client; the client's
// answer, checked and passed on; TLS on each leg where it is configured and offered.
// Which capabilities each leg gets is decided by protocol::offer_capabilities and
// protocol::negotiate_capabilities.
#include <spdlog/spdlog.h>

#include "proxy/protocol/capabilities.hpp"
#include "proxy/protocol/constants.hpp"
#include "proxy/protocol/generic_packets.hpp"
#include "proxy/protocol/handshake.hpp"
#include "proxy/session.hpp"

namespace djproxy::proxy {

namespace cap = protocol::cap;
using protocol::kHeaderSize;

Task<bool> Session::handshake() {
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
  scramble_ = greeting->auth_data_1 + greeting->auth_data_2;
  if (!scramble_.empty() && scramble_.back() == '\0') scramble_.pop_back();

  const auto& options = connection_->options;
  const protocol::CapabilityOffer offer = protocol::offer_capabilities(
      server_capabilities_, connection_->tls.client_leg != nullptr, connection_->tls.backend_leg != nullptr);
  const bool backend_tls = offer.backend_tls;
  if (options.backend_tls >= BackendTlsMode::kRequired && !backend_tls) {
    spdlog::error("session {}: backend offers no TLS but backend_tls.mode requires it", id_);
    co_await send_greeting_error(protocol::err::kHandshake,
                                 "djproxy: the backend does not offer TLS, which backend_tls.mode requires");
    co_return false;
  }
  // TLS on the client leg only when the backend leg has it too (see offer_capabilities).
  const bool offer_tls = offer.client_tls;
  announced_version_ = policy::read_server_version(greeting->server_version);
  greeting_version_ = greeting->server_version;
  version_pending_ = true;
  connection_id_confirmed_ = !backend_tls;

  protocol::Greeting to_client = *greeting;
  to_client.capabilities = offer.to_client;
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
  const protocol::NegotiatedCapabilities negotiated =
      protocol::negotiate_capabilities(offer, server_capabilities_, response->capabilities);
  client_capabilities_ = negotiated.client;
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

  backend_capabilities_ = negotiated.backend;
  response->capabilities = backend_capabilities_;
  if (backend_capabilities_ & cap::kConnectAttrs) stamp_client_address(response->attributes);
  schema_ = (client_capabilities_ & cap::kConnectWithDb) ? response->database : std::string();

  std::uint8_t server_seq = 1;
  if (backend_tls && server_buffer_.size() > 0) {
    // The server says nothing between its greeting and TLS. Bytes there came from the
    // path, not from a server that TLS will vouch for, and would be read after the
    // handshake as if it had: a forged login answer (review round 33).
    spdlog::error("session {}: the backend sent {} bytes behind its greeting, before TLS; closing", id_,
                  server_buffer_.size());
    co_await send_client_error(client_seq + 1, protocol::err::kHandshake, "08S01",
                               "djproxy: the backend sent bytes before TLS; connection refused");
    co_return false;
  }
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

  editor_ = protocol::ResponseEditor((backend_capabilities_ & cap::kDeprecateEof) != 0,
                                     (backend_capabilities_ & cap::kSessionTrack) != 0,
                                     (client_capabilities_ & cap::kSessionTrack) != 0);
  co_return co_await relay_authentication(static_cast<std::uint8_t>(client_seq + 1), server_seq);
}

// The real client's address, where the server and DBAs look for it; a client cannot
// forge these two since the proxy replaces them.
void Session::stamp_client_address(std::vector<std::pair<std::string, std::string>>& attributes) const {
  std::erase_if(attributes, [](const auto& kv) { return kv.first == "_client_ip" || kv.first == "_client_port"; });
  attributes.emplace_back("_client_ip", client_address_);
  attributes.emplace_back("_client_port", std::to_string(client_port_));
}

}  // namespace djproxy::proxy
