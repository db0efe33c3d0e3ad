#include "policy/decide_command.hpp"

#include <algorithm>

#include "policy/rules.hpp"

namespace djproxy::policy {
namespace {

using C = ProtocolCommand;

// ER_UNKNOWN_COM_ERROR and ER_NET_PACKET_TOO_LARGE, SQLSTATE 08S01 as the server sends them.
constexpr std::uint16_t kUnknownCommand = 1047;
constexpr std::uint16_t kPacketTooLarge = 1153;
constexpr std::uint16_t kMalformed = 1043;  // ER_HANDSHAKE_ERROR, what the server says of a bad packet
constexpr std::uint16_t kUnknownStatement = 1243;  // ER_UNKNOWN_STMT_HANDLER

bool forwardable(std::uint8_t command) {
  switch (static_cast<C>(command)) {
    case C::quit: case C::init_db: case C::query: case C::field_list: case C::statistics:
    case C::process_kill: case C::ping: case C::change_user: case C::stmt_prepare: case C::stmt_execute:
    case C::stmt_send_long_data: case C::stmt_close: case C::stmt_reset: case C::set_option:
    case C::stmt_fetch: case C::reset_connection: case C::stmt_bulk_execute:
      return true;
    default:
      return false;
  }
}

std::string hex_byte(std::uint8_t b) {
  static constexpr char kDigits[] = "0123456789abcdef";
  return {kDigits[b >> 4], kDigits[b & 15]};
}

// Refusals the proxy makes whatever the policy mode: it cannot follow what the
// command would switch the connection into, or cannot carry the verdict out.
CommandDecision refuse(std::uint16_t code, std::string message) {
  CommandDecision out;
  out.decision = reject(code, Rule::command, std::move(message));
  out.decision.sqlstate = "08S01";
  out.action = Action::reject;
  out.audit = AuditKind::reject;
  out.counted = true;
  return out;
}

bool has_ddl(const std::vector<StatementInfo>& statements) {
  return std::any_of(statements.begin(), statements.end(),
                     [](const StatementInfo& s) { return s.kind == StatementKind::ddl; });
}

// What the session does with a verdict, and what the DBAs read of it.
void conclude(CommandDecision& out) {
  const Decision& d = out.decision;
  out.counted = true;
  switch (d.verdict) {
    case Verdict::allow:
      out.action = Action::forward;
      out.audit = d.audit ? (d.rule == Rule::fail_closed ? AuditKind::statement : AuditKind::bookkeeping)
                          : has_ddl(out.analysis.statements) ? AuditKind::schema_change : AuditKind::statement;
      return;
    case Verdict::reject:
      out.action = d.enforced ? Action::reject : Action::forward;
      out.audit = d.enforced ? AuditKind::reject : AuditKind::dry_run_violation;
      return;
    case Verdict::rewrite:
      // The answer depends on the server, and so does what a dry run reports: only whether
      // the table exists tells the declare of an existing table (harmless) from the
      // creation of a new one, which production refuses (review round 26). Recorded once
      // it is known.
      out.action = Action::ask_table_exists;
      out.audit = AuditKind::none;
      out.counted = false;
      return;
    case Verdict::migration_token:
      // The token's check is audited as a migration event; the token stays out of the log.
      out.action = Action::intercept_token;
      out.audit = AuditKind::none;
      out.counted = false;
      return;
  }
}

// Development mode with no prefix has no rule that could refuse a statement it reads:
// refusing what it cannot read would only break what runs directly (stored-program
// bodies, SET STATEMENT, ODBC escapes: MariaDB's own test suite sends them all).
bool confines_nothing(const PolicyConfig& config) { return config.create_tables && config.schema_prefix.empty(); }

// A migration token is never to reach the server, not even in its log. Unread, the
// statement may still carry one: the variable's name in any letter case keeps it
// refused, and so does any user variable next to a backslash, since the server decodes
// escapes in a quoted name (@'djproxy_migr\ation' is @djproxy_migration; found by review).
bool may_carry_token(std::string_view text) {
  static constexpr std::string_view kName = "djproxy_migration";
  const auto hit = std::search(text.begin(), text.end(), kName.begin(), kName.end(), [](char a, char b) {
    return (a >= 'A' && a <= 'Z' ? static_cast<char>(a + 32) : a) == b;
  });
  if (hit != text.end()) return true;
  return text.find('@') != std::string_view::npos && text.find('\\') != std::string_view::npos;
}

void forward_unread(Analysis& analysis) {
  Decision& d = analysis.decision;
  // Whatever it set, the session reads sql_mode and the character set again before the
  // next statement is read.
  StatementInfo unread;
  unread.unsupported = d.message;
  unread.unsupported_code = d.code;
  unread.changes_lexing = true;
  analysis.statements.push_back(std::move(unread));
  d.verdict = Verdict::allow;
  d.code = 0;
  d.sqlstate.clear();
  d.audit = true;
  d.audit_note = "forwarded unread (development mode, no prefix); production would refuse: " + d.message;
}

CommandDecision decide_statement(const CommandRequest& request, const SessionFacts& facts,
                                 const PolicyConfig& config) {
  const bool prepare = request.command == static_cast<std::uint8_t>(C::stmt_prepare);
  CommandDecision out;
  if (request.streamed && request.streamed_analysis) out.analysis = std::move(*request.streamed_analysis);
  Decision& d = out.analysis.decision;
  if (!facts.state_known) {
    d = reject(codes::not_supported, Rule::fail_closed,
               "djproxy: the session's sql_mode is not known (no session tracking from the server), so statements "
               "cannot be analysed");
    apply_mode(d, config);
  } else if (!facts.sql_mode_unsupported.empty()) {
    d = reject(codes::not_supported, Rule::fail_closed, "djproxy: " + facts.sql_mode_unsupported);
    apply_mode(d, config);
  } else if (!request.streamed) {
    out.analysis = analyse(request.text, facts.state, config, prepare ? Command::stmt_prepare : Command::query);
  }
  // Verdicts the proxy carries out by answering itself need the whole statement as a
  // plain query: a prepared statement's answer comes at each execution, a streamed one
  // has partly reached the server.
  if (d.verdict == Verdict::rewrite && (prepare || request.streamed)) {
    d = reject(codes::not_supported, Rule::fail_closed,
               prepare ? "djproxy: this statement is answered by the proxy and cannot be prepared; send it as a "
                         "plain query"
                       : "djproxy: statement too large for the proxy to answer itself");
    apply_mode(d, config);
  } else if (d.verdict == Verdict::migration_token && request.streamed) {
    d = reject(codes::not_supported, Rule::fail_closed, "djproxy: statement too large for the proxy to answer itself");
    // A token is never forwarded, in a dry run either.
  }
  if (d.verdict == Verdict::reject && d.rule == Rule::fail_closed && confines_nothing(config) && !request.streamed &&
      !may_carry_token(request.text)) {
    forward_unread(out.analysis);
  }
  // A statement prepared inside a migration is not to run outside it, nor the reverse.
  if (d.verdict == Verdict::migration_token) {
    out.analysis.prepared_names_after.emplace();
    out.analysis.prepared_names_after_error.emplace();
  }
  // Refused, a token statement is audited; the server never had its text, nor may the log
  // (found by review: SET @djproxy_migration='...', @a=1 kept the token in `query`).
  // A streamed statement's text is only its head: the reader saw the rest.
  out.withhold_text = (d.verdict == Verdict::reject || d.verdict == Verdict::migration_token) &&
                      (may_carry_token(request.text) || out.analysis.names_token_variable);
  // Nor may the server have it in a dry run: what production refuses goes on there.
  if (out.withhold_text && d.verdict == Verdict::reject) d.enforced = true;
  out.decision = d;
  conclude(out);
  return out;
}

CommandDecision decide_schema_command(const CommandRequest& request, const SessionFacts& facts,
                                      const PolicyConfig& config, std::span<const std::string> migration_users) {
  const auto command = static_cast<C>(request.command);
  CommandDecision out;
  Decision& d = out.decision;
  if (request.malformed) {
    d = reject(kMalformed, Rule::fail_closed, std::string("djproxy: malformed ") + command_name(request.command));
  } else if (command == C::init_db) {
    d = check_schema(request.text, SchemaCommand::init_db, facts.state, config);
  } else if (command == C::field_list) {
    d = check_field_list(request.text, facts.state, config);
  } else if (!request.text.empty()) {
    // The new account's own migration status applies to the schema it names.
    SessionState as_new_user = facts.state;
    const bool migrator =
        std::find(migration_users.begin(), migration_users.end(), request.user) != migration_users.end();
    as_new_user.migration = migrator ? Migration{MigrationKind::by_user, {}} : Migration{};
    d = check_schema(request.text, SchemaCommand::change_user, as_new_user, config);
  }
  // The server deallocates the session's statements; the migration state changes too.
  if (command == C::change_user) {
    out.analysis.prepared_names_after.emplace();
    out.analysis.prepared_names_after_error.emplace();
  }
  conclude(out);
  return out;
}

}  // namespace

CommandDecision decide_command(const CommandRequest& request, const SessionFacts& facts, const PolicyConfig& config,
                               std::span<const std::string> migration_users) {
  const std::uint8_t byte = request.command;
  if (!forwardable(byte)) {
    // Replication, shutdown, the deprecated schema commands and anything unknown are
    // never forwarded: the proxy cannot follow what they would switch the connection into.
    return refuse(kUnknownCommand, std::string("djproxy: command ") + command_name(byte) + " (0x" + hex_byte(byte) +
                                       ") is not allowed through the proxy");
  }
  switch (static_cast<C>(byte)) {
    case C::query:
    case C::stmt_prepare:
      return decide_statement(request, facts, config);
    case C::init_db:
    case C::field_list:
    case C::change_user:
    case C::set_option:
      // No client sends one larger than the buffer: read to its end, dropped, answered with an ERR.
      if (request.streamed) {
        return refuse(kPacketTooLarge, std::string("djproxy: ") + command_name(byte) + " larger than " +
                                           std::to_string(request.buffer_bytes) + " bytes rejected");
      }
      // COM_SET_OPTION carries two bytes of option. With fewer the server reads past the
      // packet's end, so what it switches is unknown: refused as malformed (review round
      // 26).
      if (static_cast<C>(byte) == C::set_option && !request.malformed) return {};
      return decide_schema_command(request, facts, config, migration_users);
    case C::stmt_execute:
    case C::stmt_bulk_execute: {
      // An execution runs a statement decided when it was prepared; it is a statement
      // in the audit log all the same. A prepared CALL may prepare any name in SQL.
      CommandDecision out;
      out.audit = AuditKind::statement;
      if (!facts.state.prepared_names.empty()) {
        out.analysis.prepared_names_after.emplace();
        out.analysis.prepared_names_after_error.emplace();
      }
      // When a table it uses changed, the server prepares it again from its text, read in
      // the client character set of this execution (review round 13).
      if (!request.prepared_charset || *request.prepared_charset != facts.state.charset) {
        out.decision = reject(codes::not_supported, Rule::fail_closed,
                              std::string("djproxy: ") + command_name(byte) +
                                  " rejected: the statement was prepared in another client character set (or not "
                                  "seen prepared), and the server may read its text again in this one; prepare it "
                                  "again");
        apply_mode(out.decision, config);
        conclude(out);
      }
      return out;
    }
    case C::stmt_close:
    case C::stmt_send_long_data:
    case C::stmt_reset:
    case C::stmt_fetch: {
      if (!request.unknown_last_statement) return {};
      // Directly, the server has no statement prepared last after a failed prepare; through
      // the proxy it would still have the one before a refused prepare (review round 15).
      CommandDecision out = refuse(kUnknownStatement, std::string("djproxy: ") + command_name(byte) +
                                                          " of the statement prepared last, whose prepare failed or "
                                                          "was refused: there is none");
      out.decision.sqlstate = "HY000";
      const auto c = static_cast<C>(byte);
      if (c == C::stmt_close || c == C::stmt_send_long_data) out.action = Action::drop;  // never answered
      return out;
    }
    case C::reset_connection: {
      CommandDecision out;
      out.analysis.prepared_names_after.emplace();  // the server deallocates them all
      out.analysis.prepared_names_after_error.emplace();
      return out;
    }
    default:
      return {};
  }
}

CommandDecision decide_login(std::string_view schema, const SessionFacts& facts, const PolicyConfig& config) {
  CommandDecision out;
  out.decision = check_schema(schema, SchemaCommand::login, facts.state, config);
  conclude(out);
  return out;
}

std::optional<std::string> table_exists_question(std::string_view schema, std::string_view table,
                                                 std::string_view character_set_client, int lower_case_table_names,
                                                 ServerFlavour flavour) {
  const bool plain = !character_set_client.empty() && character_set_client.size() <= 32 &&
                     std::all_of(character_set_client.begin(), character_set_client.end(), [](char c) {
                       return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
                     });
  if (!plain) return std::nullopt;
  const std::string charset(character_set_client);
  // The name as the server reads it from the statement: its bytes, in the client's set.
  auto literal = [&](std::string_view name) {
    std::string out = "_" + charset + " X'";
    for (unsigned char c : name) out += hex_byte(c);
    return out + "'";
  };
  // Byte for byte, as the server compares names with lower_case_table_names = 0 (review
  // round 28: the column's collation took `Foo` for `foo` and `e` for `é`), or both sides
  // lower-cased first, as it does with 1 and 2.
  auto same = [&](std::string_view column, std::string_view name) {
    std::string left = "CONVERT(" + std::string(column) + " USING utf8mb4)";
    std::string right = "CONVERT(" + literal(name) + " USING utf8mb4)";
    if (lower_case_table_names != 0) {
      left = "LOWER(" + left + ")";
      right = "LOWER(" + right + ")";
    }
    return left + " COLLATE utf8mb4_bin = " + right + " COLLATE utf8mb4_bin";
  };
  // No session setting may change the answer (review rounds 28 and 29): LIMIT overrides
  // sql_select_limit, and the statement lifts max_statement_time and max_join_size
  // (max_execution_time on MySQL). The plain comparisons come first: with them the server
  // looks the one table up instead of listing every schema.
  std::string q = flavour == ServerFlavour::mariadb
                      ? "SET STATEMENT max_statement_time = 0, sql_big_selects = 1 FOR SELECT 1"
                                                    : "SELECT /*+ MAX_EXECUTION_TIME(0) */ 1";
  q += " FROM information_schema.TABLES WHERE TABLE_SCHEMA = " + literal(schema) + " AND TABLE_NAME = " +
       literal(table) + " AND " + same("TABLE_SCHEMA", schema) + " AND " + same("TABLE_NAME", table) + " LIMIT 1";
  return q;
}

CommandDecision after_table_check(CommandDecision asked, TableCheck answer) {
  CommandDecision out = std::move(asked);
  out.counted = true;
  const bool enforced = out.decision.enforced;
  if (answer == TableCheck::failed) {
    out.decision.code = codes::not_supported;
    out.decision.rule = Rule::fail_closed;
    out.decision.message = "djproxy: CREATE TABLE IF NOT EXISTS `" + out.decision.rewrite_schema + "`.`" +
                           out.decision.rewrite_table +
                           "` refused: the server did not answer whether the table exists";
  }
  if (answer != TableCheck::exists) {
    out.decision.verdict = Verdict::reject;
    out.action = enforced ? Action::reject : Action::forward;
    out.audit = enforced ? AuditKind::reject : AuditKind::dry_run_violation;
    return out;
  }
  // A dry run forwards it: the server answers OK with its warning and changes nothing.
  out.decision.message = enforced ? "the table exists: answered OK with a warning, not forwarded"
                                  : "the table exists: production answers OK with a warning itself; forwarded";
  out.action = enforced ? Action::answer_ok : Action::forward;
  out.audit = AuditKind::rewrite;
  return out;
}

std::string_view verdict_name(const Decision& d) noexcept {
  if (d.verdict == Verdict::reject && !d.enforced) return "would_reject";
  return to_string(d.verdict);
}

std::string_view to_string(Action action) noexcept {
  switch (action) {
    case Action::forward: return "forward";
    case Action::reject: return "reject";
    case Action::answer_ok: return "answer_ok";
    case Action::intercept_token: return "intercept_token";
    case Action::ask_table_exists: return "ask_table_exists";
    case Action::drop: return "drop";
  }
  return "reject";
}

}  // namespace djproxy::policy
