// The authentication relay: pass-through authentication after the handshake and after
// COM_CHANGE_USER, as a machine of named stages.
#include <spdlog/spdlog.h>

#include <openssl/crypto.h>

#include "proxy/audit/audit_log.hpp"
#include "proxy/protocol/auth_exchange.hpp"
#include "proxy/protocol/constants.hpp"
#include "proxy/protocol/generic_packets.hpp"
#include "proxy/protocol/packet.hpp"
#include "proxy/session.hpp"

namespace djproxy::proxy {

namespace cap = protocol::cap;
namespace auth = protocol::auth;
using protocol::AuthReply;
using protocol::Bytes;
using protocol::kHeaderSize;

namespace {

// Whose packet comes next. The server speaks first and last; the proxy speaks for
// itself only where it holds the RSA key the client must use (see rsa_exchange.hpp).
enum class AuthStage : std::uint8_t {
  kServerTurn,     // OK, ERR, or plugin data the client answers
  kClientTurn,     // the client's answer, renumbered for the server
  kRsaKeyRequest,  // the client's answer to "perform full authentication": perhaps a key request
  kRsaPassword,    // the password, encrypted with the proxy's key, sent on in clear over TLS
  kDone,
};

}  // namespace

// Pass-through authentication: the server and the client talk; the proxy renumbers
// each packet for the other leg and watches for the end. The proxy never sees a
// password it could use, but where only the backend leg has TLS: then the client's
// RSA-encrypted password is decrypted to go on over the backend's TLS.
Task<bool> Session::relay_authentication(std::uint8_t client_seq, std::uint8_t server_seq, bool change_user) {
  AuthStage stage = AuthStage::kServerTurn;
  bool goes_on = false;  // authenticated, or kept as before a refused COM_CHANGE_USER
  while (stage != AuthStage::kDone) {
    switch (stage) {
      case AuthStage::kServerTurn: {
        auto from_server = co_await read_packet(server_, server_buffer_);
        if (!from_server) {
          co_await send_client_error(client_seq, protocol::err::kServerLost, "HY000",
                                     "djproxy: lost the backend during authentication");
          co_return false;
        }
        if (from_server->header.sequence != server_seq) {
          spdlog::warn("session {}: backend sent sequence {} (expected {}) during authentication", id_,
                       from_server->header.sequence, server_seq);
          co_return false;
        }
        ++server_seq;
        const Bytes payload = from_server->payload;
        const AuthReply reply = protocol::classify_auth_reply(payload);
        if (reply == AuthReply::kOk) {
          goes_on = co_await pass_authentication_ok(payload, client_seq);
          stage = AuthStage::kDone;
          break;
        }
        if (reply == AuthReply::kUnexpected) {
          spdlog::warn("session {}: unexpected packet 0x{:02x} from the backend during authentication", id_,
                       payload.empty() ? 0 : payload[0]);
          co_return false;
        }
        std::optional<protocol::ErrPacket> refusal;
        if (reply == AuthReply::kErr) refusal = protocol::ErrPacket::parse(payload);
        if (reply == AuthReply::kSwitchRequest) {
          if (auto nonce = protocol::switch_request_nonce(payload)) scramble_ = std::move(*nonce);
        }
        const bool passed = co_await pass_buffered_packet(server_buffer_, client_, payload.size(), client_seq++);
        if (!passed) co_return false;
        switch (reply) {
          case AuthReply::kErr:
            goes_on = authentication_refused(refusal, change_user);
            stage = AuthStage::kDone;
            break;
          case AuthReply::kFastAuthSuccess:
            break;  // the server's OK follows
          case AuthReply::kPerformFullAuthentication:
            stage = server_.tls() && !client_.tls() && connection_->rsa ? AuthStage::kRsaKeyRequest
                                                                        : AuthStage::kClientTurn;
            break;
          default:
            stage = AuthStage::kClientTurn;
            break;
        }
        break;
      }

      case AuthStage::kClientTurn:
      case AuthStage::kRsaKeyRequest: {
        auto from_client = co_await read_packet(client_, client_buffer_);
        if (!from_client || from_client->header.sequence != client_seq) co_return false;
        ++client_seq;
        if (stage == AuthStage::kRsaKeyRequest && protocol::is_public_key_request(from_client->payload)) {
          client_buffer_.consume(kHeaderSize + from_client->payload.size());
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
          stage = AuthStage::kRsaPassword;
          break;
        }
        const bool passed =
            co_await pass_buffered_packet(client_buffer_, server_, from_client->payload.size(), server_seq++);
        if (!passed) co_return false;
        stage = AuthStage::kServerTurn;
        break;
      }

      case AuthStage::kRsaPassword: {
        auto encrypted = co_await read_packet(client_, client_buffer_);
        if (!encrypted || encrypted->header.sequence != client_seq) co_return false;
        ++client_seq;
        const auto password = connection_->rsa->decrypt_password(protocol::as_chars(encrypted->payload), scramble_);
        client_buffer_.consume(kHeaderSize + encrypted->header.length);
        if (!password) {
          co_await send_client_error(client_seq, protocol::err::kAccessDenied, "28000",
                                     "djproxy: the RSA-encrypted password does not decrypt");
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
        stage = AuthStage::kServerTurn;
        break;
      }

      case AuthStage::kDone:
        break;
    }
  }
  co_return goes_on;
}

// A whole packet at the front of `buffer`, renumbered for the other leg.
Task<bool> Session::pass_buffered_packet(RelayBuffer& buffer, Leg& to, std::size_t payload_size,
                                              std::uint8_t seq) {
  const std::size_t packet_size = kHeaderSize + payload_size;
  protocol::set_sequence(buffer.data(), seq);
  const auto write_error = co_await to.write(asio::buffer(buffer.data(), packet_size));
  buffer.consume(packet_size);
  co_return !write_error;
}

// The server's OK ends the exchange: the client gets it (in the encoding it reads) and
// the session is authenticated.
Task<bool> Session::pass_authentication_ok(protocol::Bytes payload, std::uint8_t client_seq) {
  auto ok = protocol::OkPacket::parse(payload, backend_capabilities_ & cap::kSessionTrack);
  if (!ok) co_return false;
  apply_ok(*ok);
  tracking_pending_ = true;
  if (protocol::ok_needs_reencoding(*ok, client_capabilities_ & cap::kSessionTrack,
                                    backend_capabilities_ & cap::kSessionTrack)) {
    rewritten_.clear();
    protocol::append_untracked_ok_packet(rewritten_, *ok, client_seq);
    server_buffer_.consume(kHeaderSize + payload.size());
    const auto write_error = co_await client_.write(asio::buffer(rewritten_));
    if (write_error) co_return false;
  } else {
    const bool passed = co_await pass_buffered_packet(server_buffer_, client_, payload.size(), client_seq);
    if (!passed) co_return false;
  }
  phase_ = Phase::kIdle;
  authenticated_ = true;
  handshake_slot_.release();
  audit_write(audit_event(audit::Event::connect));
  if (migration_.kind == policy::MigrationKind::by_user) {
    account_migration_ = true;
    shared_.metrics.migration_begun(admin::MigrationVia::user);
    audit_migration(audit::Event::migration_begin, "migration user (migration.users)");
  }
  spdlog::debug("session {} from {}:{}: user '{}' authenticated (backend connection {})", id_, client_address_,
                client_port_, user_, server_connection_id_);
  co_return true;
}

// The server's ERR, already passed to the client. True when the session goes on: a
// refused COM_CHANGE_USER leaves the connection open (kept_after_failed_change_user()).
bool Session::authentication_refused(const std::optional<protocol::ErrPacket>& err, bool change_user) {
  spdlog::info("session {} from {}:{}: authentication of '{}' failed", id_, client_address_, client_port_, user_);
  refresh_policy();
  auto e = audit_event(audit::Event::auth_failed);
  if (err) {
    e.error_code = err->code;
    e.message = err->message;
  }
  audit_write(e);
  if (!change_user) return false;
  kept_after_failed_change_user();
  return true;
}

// A refused COM_CHANGE_USER leaves the connection open: the server puts the previous
// account and schema back (sql_parse.cc, COM_CHANGE_USER), though it has already reset
// the session (variables, temporary tables, and so the state tracking the proxy asked
// for). The session goes on as that account, as it does directly; a token's migration
// stays ended.
void Session::kept_after_failed_change_user() {
  user_ = user_before_change_;
  schema_ = schema_before_change_;
  leave_migration();
  // The change ended the account's migration in the audit log (note_change_user): kept, the
  // account's migration begins again (review round 28: one begin, two ends), if it had one
  // and still may. An account listed only after login gains none (review round 30).
  if (account_migration_before_change_ && listed_for_migration()) {
    migration_ = {policy::MigrationKind::by_user, {}};
    account_migration_ = true;
    audit_migration(audit::Event::migration_begin, "migration user (migration.users), kept after a refused COM_CHANGE_USER");
  }
  migration_generation_ = runtime_generation_;
  tracking_pending_ = true;
}

}  // namespace djproxy::proxy
