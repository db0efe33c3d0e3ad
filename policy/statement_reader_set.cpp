// SET: the variables that change how later statements are read, the migration
// token (SET @djproxy_migration = '<token>'), and the SET forms that are not
// assignments (GLOBAL, PASSWORD, TRANSACTION, NAMES, ROLE, DEFAULT ROLE).
#include "policy/statement_reader.hpp"

#include "policy/statement_reader_words.hpp"

namespace djproxy::policy {
using namespace reader_words;

void StatementReader::note_set_target(std::string_view name) {
  // NAMES and CHARACTER SET may be any item of the list, not only the first. The
  // connection's character set decides how the server reads dynamic SQL's text
  // (SessionState::dynamic_text_converted): a statement after it in the packet would be
  // read with the set the packet started with (review round 12).
  if (ieq(name, "sql_mode") || ieq(name, "character_set_client") || ieq(name, "names") || ieq(name, "charset") ||
      ieq(name, "character") || ieq(name, "character_set_connection") || ieq(name, "collation_connection"))
    info_.changes_lexing = true;
  // GLOBAL x = ..., PERSIST x = ..., @@global.x = ... as any item of the list (review of
  // 2026-12-06: `SET @a = 1, GLOBAL general_log_file = '...'` was read as a user variable's).
  // The word is looked for anywhere in the statement: no SET assignment needs it as a name.
  if (ieq(name, "global") || ieq(name, "persist") || ieq(name, "persist_only")) {
    info_.kind = StatementKind::administrative;
    info_.verb = "SET GLOBAL";
    phase_ = Phase::ignore;
  }
  constexpr std::string_view kTracking = "session_track_";
  if (name.size() >= kTracking.size() && ieq(name.substr(0, kTracking.size()), kTracking)) {
    info_.changes_tracking = true;
  }
}

void StatementReader::set_head(const Token& t) {
  if (set_step_ == SetStep::first) {
    if (t.kind == TokenKind::user_var && ieq(t.text, "djproxy_migration")) {
      info_.migration_token = true;
      info_.verb = "SET @djproxy_migration";
      set_step_ = SetStep::token;
      return;
    }
    if (t.kind == TokenKind::word && !t.after_dot) {
      switch (t.kw) {
        case Kw::GLOBAL: case Kw::PERSIST: case Kw::PERSIST_ONLY:
          info_.kind = StatementKind::administrative;
          info_.verb = "SET GLOBAL";
          phase_ = Phase::ignore;
          return;
        case Kw::PASSWORD:
          set_step_ = SetStep::password;
          return;
        case Kw::TRANSACTION:
          info_.kind = StatementKind::transaction;
          info_.verb = "SET TRANSACTION";
          phase_ = Phase::ignore;
          return;
        case Kw::NAMES: case Kw::CHARACTER: case Kw::CHARSET:
          info_.changes_lexing = true;
          phase_ = Phase::ignore;
          return;
        case Kw::ROLE:
          phase_ = Phase::ignore;
          return;
        case Kw::DEFAULT:
          set_step_ = SetStep::after_default;
          return;
        case Kw::STATEMENT:
          return reject("SET STATEMENT ... FOR is not supported");
        default:
          break;
      }
    }
    set_step_ = SetStep::assignments;
    to_body();
    return body(t);
  }
  if (set_step_ >= SetStep::token && set_step_ <= SetStep::token_value) {  // SET @djproxy_migration = '<token>' | NULL
    if (set_step_ == SetStep::token && is_punct(t, ':')) {
      set_step_ = SetStep::token_colon;
      return;
    }
    if ((set_step_ == SetStep::token || set_step_ == SetStep::token_colon) && is_punct(t, '=')) {
      set_step_ = SetStep::token_equals;
      return;
    }
    if (set_step_ == SetStep::token_equals && t.kind == TokenKind::string && !t.truncated) {
      literal_.assign(t.text);
      set_step_ = SetStep::token_value;
      return;
    }
    if (set_step_ == SetStep::token_equals && is_word(t, Kw::NULL_)) {
      token_null_ = true;
      set_step_ = SetStep::token_value;
      return;
    }
    return reject("malformed SET @djproxy_migration: expected SET @djproxy_migration = '<token>' or = NULL");
  }
  if (set_step_ == SetStep::password) {  // SET PASSWORD [FOR user]: account management, whose ever the account
    info_.kind = StatementKind::ddl;
    info_.object = ObjectKind::user;
    info_.verb = is_word(t, Kw::FOR) ? "SET PASSWORD FOR" : "SET PASSWORD";
    info_.global_scope = true;
    phase_ = Phase::ignore;
    return;
  }
  if (set_step_ == SetStep::after_default) {
    if (is_word(t, Kw::ROLE)) {
      info_.kind = StatementKind::ddl;
      info_.object = ObjectKind::role;
      info_.verb = "SET DEFAULT ROLE";
      info_.global_scope = true;
      phase_ = Phase::ignore;
      return;
    }
    return reject("cannot read SET DEFAULT ...");
  }
}

}  // namespace djproxy::policy
