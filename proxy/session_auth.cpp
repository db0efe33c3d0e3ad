// The authentication relay: pass-through authentication after the handshake and after
// COM_CHANGE_USER.
#include <spdlog/spdlog.h>

#include <openssl/crypto.h>

#include "proxy/audit/audit_log.hpp"
#include "proxy/protocol/constants.hpp"
#include "proxy/protocol/generic_packets.hpp"
#include "proxy/protocol/packet.hpp"
#include "proxy/session.hpp"

namespace djproxy::proxy {

namespace cap = protocol::cap;
namespace auth = protocol::auth;
using protocol::Bytes;
using protocol::kHeaderSize;

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

    if (kind == auth::kOk) {
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
        protocol::set_sequence(server_buffer_.data(), client_seq);
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

    protocol::set_sequence(server_buffer_.data(), client_seq++);
    const bool failed = static_cast<bool>(co_await client_.write(asio::buffer(server_buffer_.data(), packet_size)));
    server_buffer_.consume(packet_size);
    if (failed) co_return false;
    if (kind == auth::kErr) {
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
    // caching_sha2_password's "fast auth success": the server's OK follows without a
    // client turn.
    if (kind == auth::kMoreData && payload.size() == 2 && payload[1] == auth::kFastAuthSuccess) continue;
    if (kind != auth::kSwitchRequest && kind != auth::kMoreData) {
      spdlog::warn("session {}: unexpected packet 0x{:02x} from the backend during authentication", id_, kind);
      co_return false;
    }
    if (kind == auth::kSwitchRequest) {
      // Auth switch: plugin name, then the new nonce (with a trailing NUL).
      protocol::Reader r(payload.subspan(1));
      r.nul_terminated();
      std::string nonce(protocol::as_chars(r.rest()));
      if (!nonce.empty() && nonce.back() == '\0') nonce.pop_back();
      if (r.ok() && !nonce.empty()) scramble_ = std::move(nonce);
    }
    // caching_sha2_password's "perform full authentication" where only the backend leg
    // has TLS: the client will ask for a public key, which the proxy answers itself
    // (see rsa_exchange.hpp).
    const bool proxy_rsa = kind == auth::kMoreData && payload.size() == 2 &&
                           payload[1] == auth::kPerformFullAuthentication && server_.tls() && !client_.tls() &&
                           connection_->rsa;

    auto from_client = co_await read_packet(client_, client_buffer_);
    if (!from_client || from_client->header.sequence != client_seq) co_return false;
    ++client_seq;
    if (proxy_rsa && from_client->payload.size() == 1 && from_client->payload[0] == auth::kRequestPublicKey) {
      client_buffer_.consume(kHeaderSize + 1);
      local_packet_.clear();
      {
        protocol::PacketBuilder builder(local_packet_);
        auto w = builder.writer();
        w.u8(auth::kMoreData);
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
    protocol::set_sequence(client_buffer_.data(), server_seq++);
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

}  // namespace djproxy::proxy
