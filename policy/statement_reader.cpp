// The token-by-token reader's frame: construction, the references it records,
// dispatch of each token to the head of its verb or to the body, the heads of
// the short verbs (GRANT, LOAD, START, BEGIN, LOCK, the maintenance statements,
// EXPLAIN / DESCRIBE), and finish(). The longer heads and the body each have a
// file of their own (statement_reader_*.cpp).
#include "policy/statement_reader.hpp"

#include "policy/statement_reader_words.hpp"

namespace djproxy::policy {
using namespace reader_words;

StatementReader::StatementReader(const SessionState& state, const PolicyConfig& config,
                                 const std::optional<std::string>& current_schema, int nesting,
                                 NestedAnalysis analyse_nested, StatementInfo& out)
    : state_(state),
      config_(config),
      current_(current_schema),
      nesting_(nesting),
      analyse_nested_(analyse_nested),
      info_(out) {
  frames_.push_back(Frame{});
}

void StatementReader::reject(std::string why, std::uint16_t code) {
  if (info_.unsupported.empty()) {
    info_.unsupported = std::move(why);
    info_.unsupported_code = code;
  }
  phase_ = Phase::ignore;
}

void StatementReader::expect(Pos pos, Access access, bool list) {
  Frame& f = top();
  f.expect = pos;
  f.access = access;
  if (list) {
    f.list = true;
    f.list_pos = pos;
  }
}

void StatementReader::add_schema(std::string_view name, Access access) {
  for (const auto& s : info_.schemas)
    if (s.name == name && s.access == access) return;
  if (info_.schemas.size() >= kMaxRefs) return reject("too many schema references in one statement");
  info_.schemas.push_back(SchemaUse{std::string(name), access});
}

void StatementReader::add_object(std::optional<std::string_view> schema, std::string_view name, Access access) {
  if (schema) add_schema(*schema, access);
  const std::string_view in = schema.value_or(std::string_view());
  // Compared before anything is copied: most references repeat one already kept.
  for (const auto& o : info_.objects)
    if (o.schema == in && o.name == name && o.access == access) return;
  if (info_.objects.size() >= kMaxRefs) return reject("too many object references in one statement");
  info_.objects.push_back(ObjectRef{std::string(in), std::string(name), access});
}

bool StatementReader::migration_variable(std::string_view user_variable) {
  return ieq(user_variable, "djproxy_migration");
}

// ------------------------------------------------------------------ heads

void StatementReader::start_verb(const Token& t) {
  if (t.kind == TokenKind::punct && t.punct == '(') {
    info_.kind = StatementKind::query;
    if (info_.verb.empty()) info_.verb = "SELECT";
    to_body();
    top().stmt = true;
    return body(t);
  }
  if (t.kind != TokenKind::word) return reject("a statement must start with a keyword");
  verb_ = t.kw;
  const auto append_verb = [&](std::string_view v) {
    if (!info_.verb.empty()) info_.verb += ' ';
    info_.verb += v;
  };
  Frame& f = top();
  switch (t.kw) {
    case Kw::SELECT: case Kw::VALUES:
      info_.kind = StatementKind::query;
      append_verb(keyword_name(t.kw));
      to_body();
      return body(t);
    case Kw::WITH:
      info_.kind = StatementKind::query;
      append_verb("WITH");
      f.cte = true;
      f.stmt = true;
      return to_body();
    case Kw::TABLE:
      info_.kind = StatementKind::query;
      append_verb("TABLE");
      f.stmt = true;
      expect(Pos::table, Access::read);
      return to_body();
    case Kw::DO:
      info_.kind = StatementKind::query;
      append_verb("DO");
      return to_body();
    case Kw::INSERT: case Kw::REPLACE:
      info_.kind = StatementKind::dml;
      append_verb(keyword_name(t.kw));
      expect(Pos::table, Access::write);
      return to_body();
    case Kw::UPDATE:
      info_.kind = StatementKind::dml;
      append_verb("UPDATE");
      update_stmt_ = true;
      f.stmt = true;
      expect(Pos::table, Access::write, true);
      return to_body();
    case Kw::DELETE:
      info_.kind = StatementKind::dml;
      append_verb("DELETE");
      f.stmt = true;
      delete_stmt_ = true;
      expect(Pos::table, Access::write, true);
      return to_body();
    case Kw::LOAD:
      append_verb("LOAD");
      return;
    case Kw::CALL:
      info_.kind = StatementKind::dml;
      info_.object = ObjectKind::procedure;
      append_verb("CALL");
      expect(Pos::routine, Access::write);
      return to_body();
    case Kw::HANDLER:
      info_.kind = StatementKind::dml;
      append_verb("HANDLER");
      expect(Pos::table, Access::read);
      return to_body();
    case Kw::USE:
      info_.kind = StatementKind::use;
      append_verb("USE");
      expect(Pos::use_schema, Access::read);
      return to_body();
    case Kw::CREATE: case Kw::ALTER: case Kw::DROP: case Kw::RENAME: case Kw::TRUNCATE:
      info_.kind = StatementKind::ddl;
      append_verb(keyword_name(t.kw));
      return;
    case Kw::GRANT: case Kw::REVOKE:
      info_.kind = StatementKind::ddl;
      info_.object = ObjectKind::privilege;
      append_verb(keyword_name(t.kw));
      return;
    case Kw::SET:
      info_.kind = StatementKind::set;
      append_verb("SET");
      set_stmt_ = true;
      return;
    case Kw::SHOW:
      info_.kind = StatementKind::show;
      append_verb("SHOW");
      return;
    case Kw::DESCRIBE: case Kw::DESC: case Kw::EXPLAIN:
      info_.kind = StatementKind::describe;
      append_verb(keyword_name(t.kw));
      return;
    case Kw::ANALYZE:
      append_verb("ANALYZE");
      return;
    case Kw::OPTIMIZE: case Kw::CHECK: case Kw::CHECKSUM: case Kw::REPAIR:
      info_.kind = StatementKind::maintenance;
      append_verb(keyword_name(t.kw));
      return;
    case Kw::LOCK: case Kw::UNLOCK:
      info_.kind = StatementKind::transaction;
      append_verb(keyword_name(t.kw));
      return;
    case Kw::START:
      append_verb("START");
      return;
    case Kw::BEGIN:
      info_.kind = StatementKind::transaction;
      append_verb("BEGIN");
      return;
    case Kw::COMMIT: case Kw::ROLLBACK: case Kw::SAVEPOINT: case Kw::RELEASE: case Kw::XA:
      info_.kind = StatementKind::transaction;
      append_verb(keyword_name(t.kw));
      phase_ = Phase::ignore;
      return;
    case Kw::PREPARE:
      info_.kind = StatementKind::dynamic_sql;
      append_verb("PREPARE");
      return;
    case Kw::EXECUTE:
      info_.kind = StatementKind::dynamic_sql;
      append_verb("EXECUTE");
      return;
    case Kw::DEALLOCATE:
      info_.kind = StatementKind::dynamic_sql;
      append_verb("DEALLOCATE");
      phase_ = Phase::ignore;
      return;
    case Kw::KILL: case Kw::HELP:
      info_.kind = StatementKind::administrative;
      append_verb(keyword_name(t.kw));
      phase_ = Phase::ignore;
      return;
    case Kw::SIGNAL: case Kw::RESIGNAL: case Kw::GET:
      info_.kind = StatementKind::query;
      append_verb(keyword_name(t.kw));
      phase_ = Phase::ignore;
      return;
    case Kw::FLUSH: case Kw::RESET: case Kw::PURGE: case Kw::CHANGE: case Kw::STOP: case Kw::SHUTDOWN:
    case Kw::INSTALL: case Kw::UNINSTALL: case Kw::BINLOG: case Kw::CACHE: case Kw::IMPORT:
    case Kw::CLONE: case Kw::RESTART: case Kw::BACKUP:
      info_.kind = StatementKind::administrative;
      append_verb(keyword_name(t.kw));
      phase_ = Phase::ignore;
      return;
    default:
      return reject("unknown statement `" + std::string(t.text.substr(0, 64)) + "`");
  }
}

void StatementReader::head(const Token& t) {
  if (verb_ == Kw::none) return start_verb(t);
  switch (verb_) {
    case Kw::CREATE: case Kw::ALTER: case Kw::DROP: case Kw::RENAME: case Kw::TRUNCATE:
      return ddl_head(t);
    case Kw::SHOW:
      return show_head(t);
    case Kw::SET:
      return set_head(t);
    case Kw::PREPARE: case Kw::EXECUTE:
      return dynamic_head(t);
    case Kw::GRANT: case Kw::REVOKE:
      if (is_punct(t, '(')) ++grant_depth_;
      else if (is_punct(t, ')')) --grant_depth_;
      else if (grant_depth_ != 0) return;
      else if (grant_step_ == GrantStep::privileges && (is_word(t, Kw::TO) || is_word(t, Kw::FROM))) {
        // GRANT role TO accounts, REVOKE ... FROM accounts with no ON: the accounts follow,
        // read as after a target (review of 2026-12-06: `GRANT r1 TO dj IDENTIFIED BY` set a password).
        info_.global_scope = true;
        phase_ = Phase::grant_tail;
        grant_tail_ = GrantTail::account;
      } else if (grant_step_ == GrantStep::privileges && is_word(t, Kw::ON)) {
        grant_step_ = GrantStep::target;
        if (grant_proxy_) {
          // GRANT | REVOKE PROXY ON account: the target is an account, however written
          // (review round 8: `GRANT PROXY ON djroot TO dj` was read as a table's grant).
          info_.global_scope = true;
          phase_ = Phase::grant_tail;
          grant_tail_ = GrantTail::proxied_account;
        }
      } else if (grant_step_ == GrantStep::privileges && t.kind == TokenKind::word && !t.after_dot &&
                 ieq(t.text, "PROXY")) {
        grant_proxy_ = true;
      } else if (grant_step_ == GrantStep::target) {
        if (is_word(t, Kw::TABLE) || is_word(t, Kw::FUNCTION) || is_word(t, Kw::PROCEDURE)) return;
        on_is_target_ = true;
        expect(Pos::grant_target, Access::ddl);
        to_body();
        return body(t);
      }
      return;
    case Kw::LOAD:
      if (is_word(t, Kw::DATA) || is_word(t, Kw::XML)) {
        info_.kind = StatementKind::dml;
        info_.verb += t.kw == Kw::DATA ? " DATA" : " XML";
        top().access = Access::write;
        return to_body();
      }
      info_.kind = StatementKind::administrative;  // LOAD INDEX INTO CACHE
      phase_ = Phase::ignore;
      return;
    case Kw::START:
      if (is_word(t, Kw::TRANSACTION)) {
        info_.kind = StatementKind::transaction;
        info_.verb += " TRANSACTION";
      } else {
        info_.kind = StatementKind::administrative;
      }
      phase_ = Phase::ignore;
      return;
    case Kw::BEGIN:
      if (begin_step_ == BeginStep::verb && is_word(t, Kw::WORK)) {
        begin_step_ = BeginStep::work;
        return;
      }
      return reject("BEGIN ... END compound statements are not supported");
    case Kw::LOCK: case Kw::UNLOCK:
      if (is_word(t, Kw::TABLES) || is_word(t, Kw::TABLE)) {
        info_.verb += " TABLES";
        if (verb_ == Kw::UNLOCK) {
          phase_ = Phase::ignore;
          return;
        }
        top().stmt = false;
        expect(Pos::table, Access::read, true);
        return to_body();
      }
      info_.kind = StatementKind::administrative;  // LOCK INSTANCE FOR BACKUP
      phase_ = Phase::ignore;
      return;
    case Kw::OPTIMIZE: case Kw::CHECK: case Kw::CHECKSUM: case Kw::REPAIR: case Kw::ANALYZE:
    case Kw::DESCRIBE: case Kw::DESC: case Kw::EXPLAIN: {
      const bool explain = verb_ == Kw::DESCRIBE || verb_ == Kw::DESC || verb_ == Kw::EXPLAIN;
      if (explain_step_ == ExplainStep::format_value) {  // FORMAT = value
        if (is_punct(t, '=')) return;
        explain_step_ = ExplainStep::options;
        return;
      }
      if (is_word(t, Kw::NO_WRITE_TO_BINLOG) || is_word(t, Kw::LOCAL)) return;
      if (!explain && (is_word(t, Kw::TABLE) || is_word(t, Kw::TABLES))) {
        info_.kind = StatementKind::maintenance;
        info_.verb += " TABLE";
        const bool reads = verb_ == Kw::CHECK || verb_ == Kw::CHECKSUM;
        expect(Pos::table, reads ? Access::read : Access::write, true);
        return to_body();
      }
      if (verb_ != Kw::ANALYZE && !explain) return reject(info_.verb + " without TABLE");
      if (is_word(t, Kw::EXTENDED) || is_word(t, Kw::PARTITIONS) || (explain && is_word(t, Kw::ANALYZE)))
        return;
      if (is_word(t, Kw::FORMAT)) {
        explain_step_ = ExplainStep::format_value;
        return;
      }
      if (is_word(t, Kw::FOR)) {  // EXPLAIN FOR CONNECTION n
        info_.kind = StatementKind::describe;
        phase_ = Phase::ignore;
        return;
      }
      if (is_punct(t, '(') || is_word(t, Kw::SELECT) || is_word(t, Kw::WITH) || is_word(t, Kw::INSERT) ||
          is_word(t, Kw::REPLACE) || is_word(t, Kw::UPDATE) || is_word(t, Kw::DELETE) ||
          is_word(t, Kw::TABLE) || is_word(t, Kw::VALUES)) {
        verb_ = Kw::none;
        return start_verb(t);
      }
      if (verb_ == Kw::ANALYZE) return reject("ANALYZE of an unknown statement");
      info_.kind = StatementKind::describe;
      expect(Pos::table, Access::read);
      to_body();
      return body(t);
    }
    default:
      to_body();
      return body(t);
  }
}

StatementInfo& StatementReader::finish() {
  if (!failed() && phase_ != Phase::ignore) {
    if (pend_dot_) reject("name expected after '.'", codes::parse_error);
    if (!failed()) flush_name(nullptr);
    if (!failed() && frames_.size() != 1) reject("unbalanced parentheses", codes::parse_error);
    if (!failed() && phase_ == Phase::head && verb_ != Kw::none) {
      if (verb_ == Kw::GRANT || verb_ == Kw::REVOKE) info_.global_scope = true;  // GRANT role TO user
      const bool complete = (verb_ == Kw::BEGIN) || verb_ == Kw::GRANT || verb_ == Kw::REVOKE ||
                            (verb_ == Kw::SET && set_step_ == SetStep::token_value) ||
                            (verb_ == Kw::PREPARE && dynamic_step_ == DynamicStep::after_text) ||
                            (verb_ == Kw::EXECUTE && dynamic_step_ == DynamicStep::after_text);
      if (!complete) reject("incomplete " + info_.verb + " statement");
    }
  }
  if (!failed() && info_.migration_token && set_step_ != SetStep::token_value)
    reject("malformed SET @djproxy_migration");
  if (!failed() && info_.migration_token) {
    if (token_null_) info_.token_value.reset();
    else info_.token_value = literal_;
  }
  if (!failed() && info_.kind == StatementKind::show) {
    if (!show_table_.empty()) {
      const std::optional<std::string>& schema =
          show_schema_ ? show_schema_ : show_table_schema_ ? show_table_schema_ : current_;
      add_object(view(schema), show_table_, Access::read);
    } else if (show_schema_) {
      add_schema(*show_schema_, Access::read);
    } else if (show_needs_schema_ && current_) {
      add_schema(*current_, Access::read);
    }
  }
  if (!failed()) {
    for (std::size_t i = 0; i < candidates_.size(); ++i)
      // In a schema change a qualified name the reader cannot place may be one it changes
      // (review round 6: ALTER TABLE ... EXCHANGE PARTITION ... WITH TABLE b.t).
      if (!declared_.contains(candidates_[i]))
        add_schema(candidates_[i], info_.kind == StatementKind::ddl ? Access::ddl : Access::read);
  }
  // Judged now: the caller moves info_ away before it asks for row_condition().
  one_table_condition_ =
      !failed() && (delete_stmt_ || update_stmt_) && info_.objects.size() == 1 && unusual_.capturing && !capture_overflow_;
  if (!failed() && unusual_.create_table) info_.create_plain = had_defs_ && !create_like_or_select_;
  if (!failed() && literal_seen_) nested(literal_, verb_ == Kw::PREPARE ? "PREPARE" : "EXECUTE IMMEDIATE");
  if (tokens_ == 0) info_.kind = StatementKind::empty;
  if (failed()) {
    info_.kind = info_.kind == StatementKind::empty ? StatementKind::unknown : info_.kind;
  }
  return info_;
}

}  // namespace djproxy::policy
