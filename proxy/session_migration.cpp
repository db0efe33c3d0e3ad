// A session's migration: the token that opens one (SET @djproxy_migration), its end
// (expiry, NULL, another token, a reset), the statements prepared in it that end with
// it, and the migration account's own sessions.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "proxy/migration/token.hpp"
#include "proxy/protocol/constants.hpp"
#include "proxy/protocol/generic_packets.hpp"
#include "proxy/session.hpp"

namespace djproxy::proxy {

bool Session::listed_for_migration() const {
  const auto& users = runtime_->migration_users;
  return std::find(users.begin(), users.end(), user_) != users.end();
}

// At login and when the account changes: the session's migration is its account's own, if
// the account is a migration user. Its migration_begin is written once the server has
// accepted the account (relay_authentication).
void Session::set_migration_for_user() {
  migration_generation_ = runtime_generation_;
  leave_migration();
  if (listed_for_migration()) migration_ = {policy::MigrationKind::by_user, {}};
}

void Session::end_migrations_in_log(std::string_view how) {
  if (migration_.kind == policy::MigrationKind::by_token) audit_migration(audit::Event::migration_end, how);
  leave_migration();
  if (account_migration_) audit_migration(audit::Event::migration_end, how);
  account_migration_ = false;
}

void Session::leave_migration() {
  migration_ = {};
  migration_token_id_.clear();
  migration_token_.clear();
}

// A reload that revokes a migration reaches the sessions that hold it (review round 28:
// an account removed from migration.users, and a token whose key was rotated out, went
// on making schema changes in the sessions already open). Checked once per generation
// of the configuration: a token's signature is not verified again on every command.
Task<bool> Session::recheck_migration() {
  migration_generation_ = runtime_generation_;
  // The account's own migration, whether or not a token is held on top of it: a statement
  // prepared in it runs at any later execution (review round 30).
  const bool account_revoked = account_migration_ && !listed_for_migration();
  std::string token_revoked;
  if (migration_.kind == policy::MigrationKind::by_token) {
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    const migration::TokenKeys keys{runtime_->migration_key, runtime_->migration_public_key.get()};
    const auto check =
        migration::verify(migration_token_, keys, now, runtime_->config.schema_prefix, runtime_->max_token_ttl);
    if (check.status != migration::TokenStatus::ok)
      token_revoked = "ended: the token no longer verifies (configuration reloaded): " + check.message;
  }
  if (!account_revoked && token_revoked.empty()) co_return true;
  static constexpr std::string_view kAccount = "ended: the account is no longer in migration.users (configuration reloaded)";
  if (migration_statements_overflow_) {
    // Not every statement prepared in it can be closed: the session closes instead. Each
    // migration's end says why it ended (review round 31: both had the revoked one's reason).
    static constexpr std::string_view kClosed =
        "; the session is closed: it prepared more statements in its migrations than djproxy keeps to close";
    if (migration_.kind == policy::MigrationKind::by_token) {
      const std::string how =
          (token_revoked.empty() ? std::string("ended with the session: the account's migration was revoked")
                                 : token_revoked) +
          std::string(kClosed);
      audit_migration(audit::Event::migration_end, how);
    }
    if (account_migration_) {
      const std::string how =
          std::string(account_revoked ? kAccount : "ended with the session: the token's migration was revoked") +
          std::string(kClosed);
      audit_migration(audit::Event::migration_end, how, Whose::account);
    }
    leave_migration();
    account_migration_ = false;
    co_return false;
  }
  // The statements of both migrations go: they are not told apart.
  if (!co_await close_migration_statements()) co_return false;
  if (account_revoked) {
    spdlog::info("session {} user '{}': migration session {}", id_, user_, kAccount);
    audit_migration(audit::Event::migration_end, kAccount, Whose::account);
    account_migration_ = false;
    prepared_names_.clear();
    pending_prepared_names_.reset();
    if (migration_.kind == policy::MigrationKind::by_user) leave_migration();
  }
  if (!token_revoked.empty()) end_migration(token_revoked);
  co_return true;
}

Task<Session::Outcome> Session::handle_migration_token(const std::optional<std::string>& token, std::size_t visible) {
  const std::uint8_t seq = static_cast<std::uint8_t>(client_buffer_.data()[3] + 1);
  client_buffer_.consume(visible);
  auto answer_ok = [this, seq]() -> Task<Outcome> {
    local_packet_.clear();
    const auto status = static_cast<std::uint16_t>(server_status_ & (protocol::status::kAutocommit | protocol::status::kInTrans));
    protocol::append_ok_packet(local_packet_, seq, status, 0);
    const auto write_error = co_await client_.write(asio::buffer(local_packet_));
    co_return write_error ? Outcome::kClosed : Outcome::kAnswered;
  };
  if (!token) {
    if (migration_.kind == policy::MigrationKind::by_token) {
      if (!co_await close_migration_statements()) co_return Outcome::kClosed;
      end_migration("SET @djproxy_migration = NULL");
    }
    co_return co_await answer_ok();
  }
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  const migration::TokenKeys keys{runtime_->migration_key, runtime_->migration_public_key.get()};
  const auto check =
      migration::verify(*token, keys, now, runtime_->config.schema_prefix, runtime_->max_token_ttl);
  if (check.status != migration::TokenStatus::ok) {
    spdlog::info("session {} user '{}': migration token refused: {}", id_, user_, check.message);
    const std::string previous_id = migration_token_id_;
    migration_token_id_ = check.token ? check.token->id : std::string();
    audit_migration(audit::Event::migration_denied, check.message);
    migration_token_id_ = previous_id;
    const bool sent = co_await send_client_error(seq, protocol::err::kSpecificAccessDenied, "42000", check.message);
    co_return sent ? Outcome::kAnswered : Outcome::kClosed;
  }
  if (migration_.kind == policy::MigrationKind::by_token) {
    // A new token's scope replaces the old one's, and so do the statements it allows.
    if (!co_await close_migration_statements()) co_return Outcome::kClosed;
    end_migration("replaced by another token");
  }
  migration_ = {policy::MigrationKind::by_token, check.token->scope};
  migration_token_id_ = check.token->id;
  migration_token_ = *token;
  migration_generation_ = runtime_generation_;
  migration_expires_at_ = check.token->expires_at;
  spdlog::info("session {} user '{}': migration session begun with token {}", id_, user_, migration_token_id_);
  shared_.metrics.migration_begun(admin::MigrationVia::token);
  audit_migration(audit::Event::migration_begin, check.token->note);
  co_return co_await answer_ok();
}

bool Session::migration_token_expired() const {
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  return now >= migration_expires_at_;  // verify() reads expires_at the same way
}

void Session::end_migration(std::string_view how) {
  const bool token = migration_.kind == policy::MigrationKind::by_token;
  if (token) {
    spdlog::info("session {} user '{}': migration session {} (token {})", id_, user_, how, migration_token_id_);
  } else {
    spdlog::info("session {} user '{}': migration session {}", id_, user_, how);
  }
  audit_migration(audit::Event::migration_end, how);
  // A statement PREPAREd in the migration would run its schema change at any later
  // EXECUTE (review round 6: one ran after the token expired). Names prepared before it
  // go too: an EXECUTE of any of them is refused until it is prepared again.
  prepared_names_.clear();
  pending_prepared_names_.reset();
  leave_migration();
  if (!token || !account_migration_) {
    account_migration_ = false;
    return;
  }
  // A token's migration ended: the account's own goes on, unless a reload has revoked it
  // meanwhile. An account listed only after login gains none here (review round 29).
  if (listed_for_migration()) {
    migration_ = {policy::MigrationKind::by_user, {}};
  } else {
    audit_migration(audit::Event::migration_end,
                    "ended: the account is no longer in migration.users (configuration reloaded)");
    account_migration_ = false;
  }
}

// COM_STMT_CLOSE has no answer, so the server leg stays in step with the client's
// command; a client that executes one of these ids later gets the server's own
// "unknown prepared statement handler".
Task<bool> Session::close_migration_statements() {
  if (migration_statements_.empty()) co_return true;
  local_packet_.clear();
  for (const std::uint32_t id : migration_statements_) {
    protocol::PacketBuilder builder(local_packet_);
    auto writer = builder.writer();
    writer.u8(static_cast<std::uint8_t>(Command::kStmtClose));
    writer.u32(id);
    builder.finish(0);
    forget_prepared(id);
  }
  spdlog::info("session {}: closed the {} statement(s) prepared in the migration", id_, migration_statements_.size());
  migration_statements_.clear();
  const auto write_error = co_await server_.write(asio::buffer(local_packet_));
  co_return !write_error;
}

}  // namespace djproxy::proxy
