// What a session tells the DBAs (the audit log) and the platform (the metrics).
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "policy/digest.hpp"
#include "policy/rules.hpp"
#include "proxy/session.hpp"

namespace djproxy::proxy {

audit::AuditEvent Session::audit_event(audit::Event event) const {
  audit::AuditEvent e(event);
  e.connection_id = id_;
  // With TLS to the backend, the greeting's id is not the server's word until the server
  // confirms it: a record says nothing rather than what the path may have forged.
  if (server_connection_id_ != 0 && connection_id_confirmed_) e.server_connection_id = server_connection_id_;
  e.host = client_address_;
  e.port = client_port_;
  e.user = user_;
  e.database = schema_;
  e.tls = client_.tls();
  return e;
}

void Session::audit_write(const audit::AuditEvent& event) const {
  if (runtime_ && runtime_->audit && runtime_->audit->wants(event.event)) runtime_->audit->write(event);
}

void Session::audit_migration(audit::Event event, std::string_view message, Whose whose) const {
  auto e = audit_event(event);
  if (whose == Whose::current) e.token_id = migration_token_id_;
  e.message = message;
  e.decision = event == audit::Event::migration_denied ? "reject" : "allow";
  e.rule = policy::to_string(policy::Rule::migration);
  audit_write(e);
}

namespace {

admin::Verdict counted_verdict(const policy::Decision& d) {
  switch (d.verdict) {
    case policy::Verdict::allow: return admin::Verdict::allow;
    case policy::Verdict::reject: return d.enforced ? admin::Verdict::reject : admin::Verdict::would_reject;
    case policy::Verdict::rewrite: return admin::Verdict::rewrite;
    case policy::Verdict::migration_token: return admin::Verdict::migration_token;
  }
  return admin::Verdict::reject;
}

audit::Event audit_kind(policy::AuditKind kind) {
  switch (kind) {
    case policy::AuditKind::reject: return audit::Event::reject;
    case policy::AuditKind::dry_run_violation: return audit::Event::dry_run_violation;
    case policy::AuditKind::rewrite: return audit::Event::rewrite;
    case policy::AuditKind::bookkeeping: return audit::Event::bookkeeping;
    case policy::AuditKind::schema_change: return audit::Event::schema_change;
    case policy::AuditKind::none:
    case policy::AuditKind::statement:
      break;
  }
  return audit::Event::statement;
}

bool wants(const PolicyRuntime& runtime, audit::Event event) { return runtime.audit && runtime.audit->wants(event); }

}  // namespace

void Session::record(const policy::CommandDecision& decided, std::string_view command, std::string_view text,
                     std::size_t full_length) {
  const auto& decision = decided.decision;
  auto& metrics = shared_.metrics;
  if (decided.counted) {
    const auto counted = counted_verdict(decision);
    metrics.decision(counted, decision.rule);
    if (counted == admin::Verdict::reject) {
      // Cached only once the server has accepted the name (a label is then its own).
      if (!authenticated_) {
        metrics.rejected_by_user(metrics.user_id(user_, false));
      } else {
        if (!user_metric_) user_metric_ = metrics.user_id(user_, true);
        metrics.rejected_by_user(*user_metric_);
      }
    }
  }
  if (decided.audit == policy::AuditKind::none) return;
  const audit::Event event = audit_kind(decided.audit);
  if (!wants(*runtime_, event)) return;

  const auto& statements = decided.analysis.statements;
  auto e = audit_event(event);
  e.command = command;
  if (!statements.empty()) e.statement_kind = policy::to_string(statements.front().kind);
  e.query_length = full_length;
  std::string digest;
  if (decided.withhold_text) {
    e.query_withheld = true;
  } else if (e.query = text; command == "COM_QUERY" || command == "COM_STMT_PREPARE") {
    // The digest reads at most its own bounded prefix of the text.
    digest = policy::digest_text(text, policy_state());
    e.digest = digest;
  }
  e.decision = policy::verdict_name(decision);
  e.rule = policy::to_string(decision.rule);
  if (decision.verdict == policy::Verdict::reject) e.error_code = decision.code;
  e.message = decided.withhold_text                                  ? policy::kWithheldText
              : decision.verdict == policy::Verdict::allow && decision.audit ? std::string_view(decision.audit_note)
                                                                             : std::string_view(decision.message);
  if (migration_.kind == policy::MigrationKind::by_token) e.token_id = migration_token_id_;
  audit_write(e);
}

void Session::record_execution(const policy::CommandDecision& decided, std::string_view command,
                               std::uint32_t statement_id) {
  if (decided.audit == policy::AuditKind::none || !wants(*runtime_, audit::Event::statement)) return;
  auto e = audit_event(audit::Event::statement);
  e.command = command;
  e.decision = policy::verdict_name(decided.decision);
  const auto it = std::find_if(prepared_.begin(), prepared_.end(),
                               [statement_id](const Prepared& p) { return p.id == statement_id; });
  std::string message;
  if (it != prepared_.end()) {
    e.digest = it->digest;
    e.statement_kind = it->kind;
    message = fmt::format("execution of prepared statement {}", statement_id);
  } else {
    // Prepared before statements were audited, or forgotten among more than kMaxPrepared.
    message = fmt::format("execution of prepared statement {} (its text was not kept)", statement_id);
  }
  e.message = message;
  if (migration_.kind == policy::MigrationKind::by_token) e.token_id = migration_token_id_;
  audit_write(e);
}

void Session::remember_prepare(const policy::CommandDecision& decided, std::string_view sql) {
  pending_prepare_.reset();
  if (!wants(*runtime_, audit::Event::statement)) return;
  Prepared p;
  p.digest = policy::digest_text(sql, policy_state());
  if (!decided.analysis.statements.empty()) p.kind = policy::to_string(decided.analysis.statements.front().kind);
  pending_prepare_ = std::move(p);
}

void Session::forget_prepared() {
  prepared_.clear();
  pending_prepare_.reset();
  migration_statements_.clear();
  migration_statements_overflow_ = false;
  statement_charsets_.clear();
  last_prepared_.reset();
}

void Session::forget_prepared(std::uint32_t statement_id) {
  std::erase_if(prepared_, [statement_id](const Prepared& p) { return p.id == statement_id; });
}

// Bytes are added to the metrics once per command, not per read: two relaxed adds.
void Session::meter_bytes() {
  const std::uint64_t from_client = client_.bytes_read();
  const std::uint64_t from_server = server_.bytes_read();
  shared_.metrics.bytes_client_to_server(from_client - metered_from_client_);
  shared_.metrics.bytes_server_to_client(from_server - metered_from_server_);
  metered_from_client_ = from_client;
  metered_from_server_ = from_server;
}

}  // namespace djproxy::proxy
