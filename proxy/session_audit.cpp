// What a session tells the DBAs (the audit log) and the platform (the metrics).
#include <spdlog/spdlog.h>

#include "policy/digest.hpp"
#include "policy/rules.hpp"
#include "proxy/session.hpp"

namespace djproxy::proxy {

audit::AuditEvent Session::audit_event(audit::Event event) const {
  audit::AuditEvent e(event);
  e.connection_id = id_;
  if (server_connection_id_ != 0) e.server_connection_id = server_connection_id_;
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

void Session::audit_migration(audit::Event event, std::string_view message) const {
  auto e = audit_event(event);
  e.token_id = migration_token_id_;
  e.message = message;
  e.decision = event == audit::Event::migration_denied ? "reject" : "allow";
  e.rule = "migration";
  audit_write(e);
}

void Session::record_decision(std::string_view command, std::string_view text, std::size_t full_length,
                              const policy::Decision& decision,
                              const std::vector<policy::StatementInfo>* statements) {
  using policy::Verdict;
  auto& metrics = shared_.metrics;
  const bool would_reject = decision.verdict == Verdict::reject && !decision.enforced;
  admin::Verdict counted = admin::Verdict::allow;
  switch (decision.verdict) {
    case Verdict::allow: counted = admin::Verdict::allow; break;
    case Verdict::reject: counted = would_reject ? admin::Verdict::would_reject : admin::Verdict::reject; break;
    case Verdict::rewrite: counted = admin::Verdict::rewrite; break;
    case Verdict::migration_token: counted = admin::Verdict::migration_token; break;
  }
  metrics.decision(counted, metrics.rule_id(decision.rule));
  if (counted == admin::Verdict::reject) {
    // Cached only once the server has accepted the name (a label is then its own).
    if (!authenticated_) {
      metrics.rejected_by_user(metrics.user_id(user_, false));
    } else {
      if (!user_metric_) user_metric_ = metrics.user_id(user_, true);
      metrics.rejected_by_user(*user_metric_);
    }
  }

  bool ddl = false;
  if (statements) {
    for (const auto& s : *statements) ddl = ddl || s.kind == policy::StatementKind::ddl;
  }
  audit::Event event = audit::Event::statement;
  if (decision.verdict == Verdict::reject) {
    event = would_reject ? audit::Event::dry_run_violation : audit::Event::reject;
  } else if (decision.verdict == Verdict::rewrite) {
    event = audit::Event::rewrite;
  } else if (decision.audit) {
    event = audit::Event::bookkeeping;
  } else if (ddl) {
    event = audit::Event::schema_change;
  }
  if (!runtime_->audit || !runtime_->audit->wants(event)) return;

  auto e = audit_event(event);
  e.command = command;
  if (statements && !statements->empty()) e.statement_kind = policy::to_string(statements->front().kind);
  e.query = text;
  e.query_length = full_length;
  std::string digest;
  if (statements) {
    // The digest reads at most its own bounded prefix of the text.
    digest = policy::digest_text(text, policy_state());
    e.digest = digest;
  }
  e.decision = would_reject ? std::string_view("would_reject") : policy::to_string(decision.verdict);
  e.rule = decision.rule;
  if (decision.verdict == Verdict::reject) e.error_code = decision.code;
  e.message = decision.verdict == Verdict::allow && decision.audit ? std::string_view(decision.audit_note)
                                                                   : std::string_view(decision.message);
  if (migration_.kind == policy::MigrationKind::by_token) e.token_id = migration_token_id_;
  audit_write(e);
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
