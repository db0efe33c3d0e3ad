// The one decision point: what the proxy does with a client command, from the
// command and the session's facts. The session carries out the Action and nothing
// else; `djproxy explain` calls the same function, so a DBA sees what the proxy does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "policy/analyser.hpp"
#include "policy/protocol_command.hpp"
#include "policy/rule.hpp"
#include "policy/types.hpp"

namespace djproxy::policy {

struct CommandRequest {
  std::uint8_t command = static_cast<std::uint8_t>(ProtocolCommand::query);  // the protocol's command byte
  // COM_QUERY / COM_STMT_PREPARE: the SQL (streamed: its leading part); COM_INIT_DB: the schema; COM_FIELD_LIST:
  // the table; COM_CHANGE_USER: the schema it names (empty: none).
  std::string_view text;
  std::string_view user;  // COM_CHANGE_USER: the account it switches to
  // Larger than the proxy's buffer. A statement is then analysed while it streams and
  // decided at its end from `streamed_analysis` (moved from); any other command is
  // decided from its command byte alone.
  bool streamed = false;
  Analysis* streamed_analysis = nullptr;
  bool malformed = false;        // the session could not read the packet's fields
  // COM_STMT_EXECUTE / COM_STMT_BULK_EXECUTE: the client character set the statement's
  // text was read in when it was prepared; none when the session did not see it prepared.
  std::optional<CharsetClass> prepared_charset;
  // The command names id 0xFFFFFFFF, the statement prepared last, and the last prepare
  // failed or was refused: the server would act on the statement prepared before it.
  bool unknown_last_statement = false;
  std::size_t buffer_bytes = 0;  // the proxy's buffer, for the message on an oversized command
};

struct SessionFacts {
  SessionState state;  // current schema, sql_mode flags, charset, server, multi-statements, migration
  // The server reported the session's sql_mode (session tracking); until it has, no
  // statement can be read with certainty.
  bool state_known = true;
  // read_sql_mode()'s reason when the sql_mode changes the grammar (ORACLE, MSSQL, an
  // unknown name): statements are then refused.
  std::string sql_mode_unsupported;
};

enum class Action : std::uint8_t {
  forward,           // to the server as sent (a streamed command: as it arrives)
  reject,            // answer the client with the ERR in `decision`; nothing reaches the server
  answer_ok,         // answer OK with a warning, as the server would (see after_table_check)
  intercept_token,   // SET @djproxy_migration: verify the token, answer, never forward
  ask_table_exists,  // ask the server whether decision.rewrite_schema.rewrite_table exists,
                     // then decide again with after_table_check
  drop,              // a command the server does not answer: read, neither forwarded nor answered
};

// The audit record a decision deserves (none: nothing now).
enum class AuditKind : std::uint8_t { none, statement, reject, dry_run_violation, rewrite, bookkeeping, schema_change };

struct CommandDecision {
  Action action = Action::forward;
  Decision decision;  // verdict (as production decides), enforced, rule, ERR code/state/message ...
  Analysis analysis;  // the statements read (COM_QUERY / COM_STMT_PREPARE)
  AuditKind audit = AuditKind::none;
  bool counted = false;  // counted in djproxy_decisions_total{verdict,rule}
  // The statement was not forwarded and may carry a migration token (a malformed
  // SET @djproxy_migration): its text and digest stay out of the audit log.
  bool withhold_text = false;
};

// The logs' reason for a command whose text is withheld (the reason can quote the text).
inline constexpr std::string_view kWithheldText =
    "refused; the statement may carry a migration token, so neither its text nor the reason, which can quote it, "
    "is logged";

CommandDecision decide_command(const CommandRequest& request, const SessionFacts& facts, const PolicyConfig& config,
                               std::span<const std::string> migration_users = {});

// The schema a client names at login (the handshake's database).
CommandDecision decide_login(std::string_view schema, const SessionFacts& facts, const PolicyConfig& config);

// The question behind Action::ask_table_exists, one statement for the server: whether
// the table `schema`.`table` of a CREATE TABLE IF NOT EXISTS exists, as the server
// would find it. The names are the statement's bytes in the client's character set
// (`character_set_client`, as the server reports it), compared byte for byte, or lower-
// cased first when lower_case_table_names is not 0. nullopt: a character set name that
// cannot be written into the question.
std::optional<std::string> table_exists_question(std::string_view schema, std::string_view table,
                                                 std::string_view character_set_client, int lower_case_table_names,
                                                 ServerFlavour flavour);

// What the question found: a row, no row, or an error (the server's answer says nothing).
enum class TableCheck : std::uint8_t { exists, missing, failed };

// The answer to Action::ask_table_exists: the table exists (answer OK, a rewrite) or
// not (the schema change it looks like: reject); a check that failed refuses it too. A
// dry run forwards either way and audits what production would have done.
CommandDecision after_table_check(CommandDecision asked, TableCheck answer);

// The audit log's and the metrics' `verdict`: allow, reject, rewrite, migration_token,
// or would_reject (dry run: production would reject, the command went on).
std::string_view verdict_name(const Decision& decision) noexcept;

std::string_view to_string(Action action) noexcept;

}  // namespace djproxy::policy
